// fast-check generators of text for the JSON parsers' fuzz tests (test/unit/mcp/fuzz.test.ts and
// json-stream.test.ts): what an adversarial peer might send, near JSON and far from it.
import fc from "fast-check";

/** Any UTF-16 code unit, lone surrogates included. */
export const codeUnitString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) });

/** A JSON text with one character inserted, removed or replaced. */
export const mutatedJson = fc
  .tuple(
    fc.jsonValue({ maxDepth: 4 }),
    fc.nat(),
    fc.constantFrom("insert", "remove", "replace"),
    fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }),
  )
  .map(([value, at, how, char]) => {
    const text = JSON.stringify(value);
    const i = text.length === 0 ? 0 : at % text.length;
    if (how === "insert") return text.slice(0, i) + char + text.slice(i);
    if (how === "remove") return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + char + text.slice(i + 1);
  });

const JSON_TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "\\",
  "u",
  "0",
  "1",
  "-",
  ".",
  "e",
  "E",
  "+",
  " ",
  "\n",
  "a",
  "A",
  "true",
  "null",
  "\ud800",
  "\udc00",
  "\u0000",
  "ſ",
];

/** Strings built from JSON's own tokens (and `extra` ones), so a parser gets past the first character. */
export const jsonTokenSoup = (extra: readonly string[] = []) => fc.string({ unit: fc.constantFrom(...JSON_TOKENS, ...extra), maxLength: 40 });
