/**
 * The policy document as a JSON Schema (draft 2020-12), generated from the zod schema with zod 4's
 * `z.toJSONSchema`, for editors: a policy.json whose `"$schema"` names it gets completion and
 * checking. Committed at docs/policy.schema.json (`npm run schema:policy` regenerates it) and
 * served at /schema/policy-v1.json.
 *
 * The JSON Schema describes the shape; `parsePolicy` stays the authority: it also compiles every
 * `regex` pattern and refuses a tool named "__proto__", which JSON Schema cannot say.
 */
import { z } from "zod";
import { policySchema } from "./schema";

export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(policySchema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return {
    ...generated,
    title: "mcp-policy-gateway policy document, version 1",
    description: "PolicyLayer's policy.json version \"1\" plus mcp-policy-gateway's extensions; see docs/policy.md.",
  };
}
