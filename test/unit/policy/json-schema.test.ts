import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { recommendedPolicy, recommendForTool } from "../../../src/catalogue/recommend";
import { policyJsonSchema } from "../../../src/policy/json-schema";
import { parsePolicy } from "../../../src/policy/schema";

const root = join(__dirname, "../../..");
const committed = JSON.parse(readFileSync(join(root, "docs/policy.schema.json"), "utf8"));
const validate = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }).compile(committed);

/** Every ```json block of a Markdown file that parses to a policy document (an object with "version"). */
function examplePolicies(file: string): { where: string; document: unknown }[] {
  const text = readFileSync(join(root, file), "utf8");
  const found: { where: string; document: unknown }[] = [];
  for (const match of text.matchAll(/```json\n([\s\S]*?)```/g)) {
    let value: unknown;
    try {
      value = JSON.parse(match[1]!);
    } catch {
      continue; // fragments and elided examples ("…") are not documents
    }
    if (typeof value === "object" && value !== null && "version" in value) {
      found.push({ where: `${file}:${text.slice(0, match.index).split("\n").length}`, document: value });
    }
  }
  return found;
}

describe("docs/policy.schema.json", () => {
  test("the committed file is exactly what the zod schema generates (npm run schema:policy)", () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
  });

  test("every example policy in docs/ and the README validates, and parsePolicy agrees", () => {
    const docs = readdirSync(join(root, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`);
    const examples = [...docs, "README.md"].flatMap(examplePolicies);
    examples.push({ where: "scripts/demo-policy.json", document: JSON.parse(readFileSync(join(root, "scripts/demo-policy.json"), "utf8")) });
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const { where, document } of examples) {
      expect(validate(document), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(parsePolicy(document).ok, where).toBe(true);
    }
  });

  test("a recommended policy validates", () => {
    const policy = recommendedPolicy([recommendForTool("run", "execute"), recommendForTool("list_runs", "read")]);
    expect(validate(policy)).toBe(true);
  });

  test('"$schema" is accepted at the top level only, and only as a string, by both the JSON Schema and parsePolicy', () => {
    const named = { $schema: "https://gw.example.com/schema/policy-v1.json", version: "1", default: "deny" };
    expect(validate(named)).toBe(true);
    expect(parsePolicy(named).ok).toBe(true);
    for (const bad of [
      { $schema: 1, version: "1", default: "deny" },
      { version: "1", default: "deny", tools: { run: { $schema: "x" } } },
      { version: "1", default: "deny", all_tools: { $schema: "x" } },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
      expect(parsePolicy(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });

  test("the documents it refuses include typos and unsupported extensions", () => {
    expect(validate({ version: "1", default: "deny", tools: { run: { limts: [] } } })).toBe(false);
    expect(validate({ version: "1", default: "deny", pin_tools: "yes" })).toBe(false);
    expect(validate({ version: "1", default: "deny", pin_tools: true })).toBe(true);
    expect(validate({ version: "2", default: "deny" })).toBe(false);
  });
});
