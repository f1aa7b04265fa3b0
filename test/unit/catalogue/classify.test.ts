import { describe, expect, test } from "vitest";
import { CATEGORIES, classifyTool, DEFAULT_RISK, overriddenClassification, type Category } from "../../../src/catalogue/classify";
import { nameWords } from "../../../src/catalogue/names";
import fixture from "./fixtures/tool-definitions.json";

interface LabelledTool {
  source: string;
  label: Category;
  definition: Parameters<typeof classifyTool>[0];
}
const labelled = fixture.tools as unknown as LabelledTool[];

describe("accuracy on the labelled fixture (real tool definitions of public MCP servers)", () => {
  test("at least 150 definitions, every category, every source recorded", () => {
    expect(labelled.length).toBeGreaterThanOrEqual(150);
    for (const category of CATEGORIES) expect(labelled.filter((t) => t.label === category).length).toBeGreaterThanOrEqual(10);
    for (const tool of labelled) expect(Object.keys(fixture.sources)).toContain(tool.source);
  });

  test("category accuracy is at least 95%; every miss is listed", () => {
    const misses = labelled
      .map((tool) => ({ tool, got: classifyTool(tool.definition) }))
      .filter(({ tool, got }) => got.category !== tool.label)
      .map(({ tool, got }) => `${tool.source}/${tool.definition.name}: labelled ${tool.label}, classified ${got.category} (${got.reasons.join("; ")})`);
    const accuracy = (labelled.length - misses.length) / labelled.length;
    console.log(`category accuracy ${(accuracy * 100).toFixed(1)}% (${labelled.length - misses.length}/${labelled.length}); misses:\n${misses.join("\n")}`);
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
  });

  test("classification is deterministic and every answer has reasons", () => {
    for (const tool of labelled) {
      const once = classifyTool(tool.definition);
      expect(classifyTool(structuredClone(tool.definition))).toEqual(once);
      expect(once.reasons.length).toBeGreaterThan(0);
    }
  });
});

describe("names", () => {
  test.each([
    ["list_runs", ["list", "runs"]],
    ["run-model", ["run", "model"]],
    ["getHTTPResponse", ["get", "http", "response"]],
    ["API-post-search", ["api", "post", "search"]],
    ["repo.delete", ["repo", "delete"]],
  ])("%s splits into words", (name, words) => {
    expect(nameWords(name)).toEqual(words);
  });

  test.each<[string, Category]>([
    ["list_runs", "read"],
    ["get_workflow_run", "read"],
    ["run", "execute"],
    ["run-model", "execute"],
    ["generate_image", "execute"],
    ["generate_typescript_types", "read"],
    ["create_prediction", "execute"],
    ["executeCommand", "execute"],
    ["deleteRepository", "destructive"],
    ["issue_create", "write"],
    ["create_refund", "financial"],
    ["list_refunds", "read"],
    ["start_search", "read"],
    ["API-post-search", "read"],
    ["API-post-page", "write"],
  ])("%s is %s: the verb and the object, not substrings", (name, category) => {
    expect(classifyTool({ name, inputSchema: { type: "object" } }).category).toBe(category);
  });
});

describe("evidence and explanations", () => {
  test("an annotation that claims read-only does not make delete_repo a read: conflict, both reasons", () => {
    const c = classifyTool({ name: "delete_repo", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } });
    expect(c.category).toBe("destructive");
    expect(c.risk).toBe("critical");
    expect(c.conflict).toBe(true);
    expect(c.reasons.join("\n")).toContain('name verb "delete"');
    expect(c.reasons.join("\n")).toContain("annotation readOnlyHint=true");
  });

  test("annotations decide when nothing else does", () => {
    expect(classifyTool({ name: "frobnicate", inputSchema: {}, annotations: { destructiveHint: true } })).toMatchObject({
      category: "destructive",
      conflict: false,
    });
    expect(classifyTool({ name: "frobnicate", inputSchema: {}, annotations: { readOnlyHint: true } }).category).toBe("read");
  });

  test("with no evidence at all, a tool is a write, and says so", () => {
    const c = classifyTool({ name: "frobnicate", inputSchema: {} });
    expect(c.category).toBe("write");
    expect(c.reasons[0]).toMatch(/treated as a write/);
  });

  test("an amount with a currency moves money", () => {
    const c = classifyTool({ name: "create_discount", inputSchema: { properties: { amount: {}, currency_code: {} } } });
    expect(c.category).toBe("financial");
    expect(c.reasons).toContain('financial: argument "amount" with "currency_code"');
  });

  test("a description that says it permanently deletes decides a tool whose name says nothing", () => {
    const c = classifyTool({ name: "tidy", description: "Permanently deletes every archived row.", inputSchema: {} });
    expect(c.category).toBe("destructive");
    expect(c.reasons).toContain('destructive: description says "permanently deletes"');
  });

  test("a command argument makes a vague tool an execute tool at critical risk", () => {
    const c = classifyTool({ name: "terminal_session", inputSchema: { properties: { command: { type: "string" } } } });
    expect(c.category).toBe("execute");
    expect(c.risk).toBe("critical");
    expect(c.reasons).toContain('risk raised to critical by argument "command" (a command)');
  });

  test("default risk per category, raised by open-world, a path or a URL, each raise a reason", () => {
    expect(DEFAULT_RISK).toEqual({ read: "low", write: "medium", execute: "high", destructive: "critical", financial: "critical" });
    expect(classifyTool({ name: "get_time", inputSchema: {} }).risk).toBe("low");
    const openWorld = classifyTool({ name: "search_web", inputSchema: {}, annotations: { openWorldHint: true } });
    expect(openWorld.risk).toBe("medium");
    expect(openWorld.reasons).toContain("risk raised to medium by annotation openWorldHint=true (it reaches outside systems)");
    const writesPath = classifyTool({ name: "write_file", inputSchema: { properties: { path: {}, content: {} } } });
    expect(writesPath).toMatchObject({ category: "write", risk: "high" });
    expect(writesPath.reasons).toContain('risk raised to high by argument "path" (a path)');
    expect(classifyTool({ name: "fetch", inputSchema: { properties: { url: {} } } }).risk).toBe("medium");
  });

  test("an override keeps the evidence of reach: a read with a path overridden to write is high", () => {
    const c = classifyTool({ name: "read_file", inputSchema: { properties: { path: {} } } });
    expect(c.risk).toBe("medium");
    expect(overriddenClassification(c, "write")).toEqual({ category: "write", risk: "high" });
    expect(overriddenClassification(c, "financial")).toEqual({ category: "financial", risk: "critical" });
  });
});
