/**
 * A Content-Type value parsed by the grammar of RFC 9110 §8.3.1, never matched as raw text:
 *   media-type = type "/" subtype *( OWS ";" OWS parameter )
 *   parameter  = token "=" ( token / quoted-string )
 * Type, subtype and parameter names are case-insensitive and returned lowercase; values are
 * returned as sent (a quoted-string unquoted). Anything else, including a repeated parameter, is
 * null: the gateway refuses what it cannot read exactly.
 */
export interface MediaType {
  /** "type/subtype", lowercase. */
  type: string;
  parameters: [name: string, value: string][];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const QDTEXT = /^(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*/;

export function parseMediaType(value: string | null): MediaType | null {
  if (value === null) return null;
  let rest = value.trim();
  const take = (pattern: RegExp): string | null => {
    const match = pattern.exec(rest);
    if (match === null) return null;
    rest = rest.slice(match[0].length);
    return match[0];
  };
  const type = take(TOKEN);
  if (type === null || !rest.startsWith("/")) return null;
  rest = rest.slice(1);
  const subtype = take(TOKEN);
  if (subtype === null) return null;
  const parameters: [string, string][] = [];
  for (;;) {
    rest = rest.replace(/^[\t ]*/, "");
    if (rest === "") break;
    if (!rest.startsWith(";")) return null;
    rest = rest.slice(1).replace(/^[\t ]*/, "");
    if (rest === "") break; // a trailing ";" is allowed by the grammar's empty parameter
    const name = take(TOKEN);
    if (name === null || !rest.startsWith("=")) return null;
    rest = rest.slice(1);
    let parameterValue: string | null;
    if (rest.startsWith('"')) {
      rest = rest.slice(1);
      const quoted = take(QDTEXT);
      if (quoted === null || !rest.startsWith('"')) return null;
      rest = rest.slice(1);
      parameterValue = quoted.replace(/\\(.)/g, "$1");
    } else {
      parameterValue = take(TOKEN);
      if (parameterValue === null) return null;
    }
    const lower = name.toLowerCase();
    if (parameters.some(([existing]) => existing === lower)) return null;
    parameters.push([lower, parameterValue]);
  }
  return { type: `${type.toLowerCase()}/${subtype.toLowerCase()}`, parameters };
}
