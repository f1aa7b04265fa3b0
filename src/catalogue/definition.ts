/**
 * A tool definition as an upstream lists it in `tools/list` (MCP "Tools": name, title,
 * description, inputSchema, outputSchema, annotations).
 *
 * Everything in it is the upstream's text and may be hostile. The schema keeps only the members
 * the catalogue uses, each with a size bound, and drops any other member: what is stored and
 * fingerprinted is exactly what was checked.
 */
import { z } from "zod";
import { TOOL_NAME } from "../policy/evaluate";

/** MCP 2025-11-25 tool names: only these may be named in a policy or an override. */
export const isSpecToolName = (name: string): boolean => TOOL_NAME.test(name);

const text = (max: number) => z.string().max(max);

/** A JSON Schema object; its inside is kept as the upstream sent it (bounded by the reply size). */
const jsonSchemaObject = z.record(z.string(), z.unknown());

// Loose: members the catalogue does not read are kept, so the fingerprint covers the annotations
// exactly as the upstream sent them.
export const ToolAnnotations = z.looseObject({
  title: text(1024).optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});
export type ToolAnnotations = z.infer<typeof ToolAnnotations>;

export const ToolDefinition = z.object({
  // Any 1–256 characters are stored, so an operator sees what the upstream really lists; names
  // outside TOOL_NAME are flagged and never recommended (see recommend.ts).
  name: z.string().min(1).max(256),
  title: text(1024).optional(),
  description: text(64 * 1024).optional(),
  inputSchema: jsonSchemaObject,
  outputSchema: jsonSchemaObject.optional(),
  annotations: ToolAnnotations.optional(),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;
