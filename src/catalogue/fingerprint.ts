/**
 * The fingerprint of a tool definition: SHA-256 (hex) over the canonical JSON (sorted keys, no
 * whitespace; src/canonical-json.ts) of exactly `{ name, title, description, inputSchema,
 * outputSchema, annotations }`. Members the upstream left out are left out; any other member of
 * the definition (`_meta`, `icons`, …) does not count.
 *
 * One function, because the catalogue's snapshot and tool pinning must agree on when a definition
 * "changed": a tool whose description was rewritten after approval has a new fingerprint.
 */
import { canonicalJson } from "../canonical-json";
import { sha256Hex } from "../digest";
import type { ToolDefinition } from "./definition";

export function toolFingerprint(tool: ToolDefinition): string {
  return sha256Hex(canonicalJson(fingerprintedMembers(tool)));
}

/** The part of a definition its fingerprint covers (the console shows an operator exactly this). */
export function fingerprintedMembers(
  tool: ToolDefinition,
): Pick<ToolDefinition, "name" | "title" | "description" | "inputSchema" | "outputSchema" | "annotations"> {
  const { name, title, description, inputSchema, outputSchema, annotations } = tool;
  return { name, title, description, inputSchema, outputSchema, annotations };
}
