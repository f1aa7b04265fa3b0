/**
 * Tool pinning as the server page shows it (docs/console.md, "Tool pinning"). Pure.
 *
 * A quarantined tool is compared as the fingerprint sees it (src/catalogue/fingerprint.ts): only
 * the members the fingerprint covers, keys sorted, so the diff shows exactly what changed the
 * fingerprint and what an approval pins — never a reordering of keys, and never `_meta` or `icons`,
 * which are not pinned. Everything here is the upstream's text; the page renders it as JSX text.
 */
import { canonicalJson } from "../canonical-json";
import type { ToolDefinition } from "../catalogue/definition";
import { fingerprintedMembers } from "../catalogue/fingerprint";
import { TOOL_NAME } from "../policy/evaluate";
import { diffLines, type DiffLine } from "./diff";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The members of a definition the fingerprint covers; an odd definition (not an object) as it is. */
function covered(definition: unknown): unknown {
  return isObject(definition) ? fingerprintedMembers(definition as ToolDefinition) : definition;
}

/**
 * The text a definition is compared as: the members its fingerprint covers, keys sorted, indented
 * two spaces. "" for none (a tool that was never approved has no pinned definition).
 */
export function definitionText(definition: unknown): string {
  if (definition === null || definition === undefined) return "";
  return JSON.stringify(JSON.parse(canonicalJson(covered(definition))), null, 2);
}

/** The line diff from the approved definition to the one the upstream lists now. */
export const definitionDiff = (pinned: unknown, seen: unknown): DiffLine[] => diffLines(definitionText(pinned), definitionText(seen));

/** The fingerprinted members that differ (`description`, `inputSchema`, …), in the fingerprint's order. */
export function changedMembers(pinned: unknown, seen: unknown): string[] {
  if (!isObject(pinned) || !isObject(seen)) return [];
  const before = fingerprintedMembers(pinned as ToolDefinition) as Record<string, unknown>;
  const after = fingerprintedMembers(seen as ToolDefinition) as Record<string, unknown>;
  // A member left out is not a member set to null: the fingerprint tells them apart, so this does too.
  const text = (value: unknown): string => (value === undefined ? "" : canonicalJson(value));
  return Object.keys(before).filter((member) => text(before[member]) !== text(after[member]));
}

/**
 * Whether the admin API can approve a tool by name (POST …/tools/:tool/approve): an MCP tool name
 * that stays itself as a URL path segment ("." and ".." would be resolved away) and is not
 * "__proto__", which the API refuses as a name.
 */
export function approvableByName(name: string): boolean {
  return TOOL_NAME.test(name) && name !== "." && name !== ".." && name !== "__proto__";
}

/** A fingerprint as the page shows it: its first 12 hex digits are enough to tell two apart. */
export const shortFingerprint = (fingerprint: string | null): string => (fingerprint === null ? "none" : fingerprint.slice(0, 12));
