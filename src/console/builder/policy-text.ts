/**
 * Policy JSON as the builder reads and writes it. Pure. Errors are the admin API's own: text goes
 * through the strict parser the API uses (src/mcp/json.ts) and documents through `parsePolicy`, so a
 * pointer shown in the console is the one a save would answer with.
 */
import { parseStrictJson } from "../../mcp/json";
import { parsePolicy, type PolicyDocument, type PolicyError } from "../../policy/schema";

/** A document as the JSON pane shows it. */
export const pretty = (document: unknown): string => JSON.stringify(document, null, 2);

/** parsePolicy's errors for a document the form produced (null: valid). */
export function documentErrors(document: unknown): PolicyError[] | null {
  const parsed = parsePolicy(document);
  return parsed.ok ? null : parsed.error;
}

export type ReadText = { ok: true; document: PolicyDocument; raw: unknown } | { ok: false; syntax: string | null; errors: PolicyError[] | null };

/** JSON text as the admin API reads a policy body: the strict parser, then parsePolicy. */
export function readPolicyText(text: string): ReadText {
  const json = parseStrictJson(text);
  if (!json.ok) {
    const at = json.error.offset === undefined ? "" : ` (at character ${json.error.offset})`;
    return { ok: false, syntax: `${json.error.message}${at}`, errors: null };
  }
  const parsed = parsePolicy(json.value);
  return parsed.ok ? { ok: true, document: parsed.value, raw: json.value } : { ok: false, syntax: null, errors: parsed.error };
}
