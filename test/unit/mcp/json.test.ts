import { describe, expect, it } from "vitest";
import { defaultJsonLimits, parseStrictJson, type JsonErrorCode } from "../../../src/mcp/json";

const nested = (open: string, close: string, depth: number, inner = "0") => open.repeat(depth) + inner + close.repeat(depth);
const manyKeys = (count: number, last: string) => `{${Array.from({ length: count }, (_, i) => `"k${i}":${i}`).join(",")},${last}}`;

describe("parseStrictJson accepts RFC 8259 JSON and reads it as JSON.parse does", () => {
  const valid: [string, string][] = [
    ["empty object", "{}"],
    ["empty array", "[]"],
    ["zero", "0"],
    ["negative zero", "-0"],
    ["fraction and exponent", "-12.5e+3"],
    ["capital exponent", "1E-2"],
    ["large integer value (ids are checked elsewhere)", "9007199254740993"],
    ["largest finite double", "1.7976931348623157e308"],
    ["underflow to zero is finite", "1e-400"],
    ["literals", "[true,false,null]"],
    ["all short escapes", String.raw`"\" \\ \/ \b \f \n \r \t"`],
    ["unicode escape", String.raw`"caf\u00e9"`],
    ["escaped surrogate pair", String.raw`"\ud83d\ude00"`],
    ["raw astral character", '"😀"'],
    ["NUL in a value is fine", String.raw`{"a":"x\u0000y"}`],
    ["whitespace everywhere", ' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { } }\n'],
    ["nested", '{"a":[1,{"b":null,"c":"d"}],"e":{"f":{"g":[[]]}}}'],
    ["keys that are prototype names", '{"constructor":1,"toString":2,"hasOwnProperty":3}'],
    ["same key in sibling objects", '[{"a":1},{"a":2},{"A":3}]'],
    ["same key at different depths", '{"a":{"a":{"a":1}}}'],
    ["more keys than the in-place scan, all distinct", manyKeys(40, '"z":1')],
    ["escaped key among plain ones", String.raw`{"a":1,"\u0062":2,"c":3}`],
    ["non-ASCII keys that do not fold together", '{"é":1,"e":2,"ß":3}'],
  ];
  it.each(valid)("%s", (_name, text) => {
    const result = parseStrictJson(text);
    expect(result).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("depth exactly at the limit is accepted", () => {
    expect(parseStrictJson(nested("[", "]", 64)).ok).toBe(true);
    expect(parseStrictJson(nested('{"a":', "}", 64)).ok).toBe(true);
  });

  it("a __proto__ key becomes an own data property and never the prototype", () => {
    const result = parseStrictJson('{"__proto__":{"x":1},"y":{"__proto__":null}}');
    if (!result.ok) throw new Error(result.error.message);
    const value = result.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, "__proto__")).toBe(true);
    expect(Object.keys(value)).toEqual(["__proto__", "y"]);
    expect((value as { x?: unknown }).x).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual({ x: 1 });
    expect(Object.hasOwn(value.y as object, "__proto__")).toBe(true);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"x":1},"y":{"__proto__":null}}');
  });
});

describe("parseStrictJson refuses", () => {
  const refused: [string, string, JsonErrorCode][] = [
    ["empty text", "", "syntax"],
    ["only whitespace", "  ", "syntax"],
    ["trailing comma in an array", "[1,]", "syntax"],
    ["trailing comma in an object", '{"a":1,}', "syntax"],
    ["leading comma", "[,1]", "syntax"],
    ["leading zero", "01", "syntax"],
    ["leading zero in an array", "[00]", "syntax"],
    ["lone minus", "-", "syntax"],
    ["plus sign", "+1", "syntax"],
    ["no digits after the point", "1.", "syntax"],
    ["no digits before the point", ".5", "syntax"],
    ["no exponent digits", "1e", "syntax"],
    ["no exponent digits after a sign", "1e+", "syntax"],
    ["hex number", "0x10", "syntax"],
    ["NaN", "NaN", "syntax"],
    ["Infinity", "Infinity", "syntax"],
    ["single quotes", "'a'", "syntax"],
    ["unquoted key", "{a:1}", "syntax"],
    ["line comment", "// c\n1", "syntax"],
    ["block comment", "/* c */ 1", "syntax"],
    ["comment after the value", "1 // c", "syntax"],
    ["invalid escape", String.raw`"\x41"`, "syntax"],
    ["short unicode escape", String.raw`"\u12"`, "syntax"],
    ["non-hex unicode escape", String.raw`"\u12G4"`, "syntax"],
    ["raw tab in a string", '"a\tb"', "syntax"],
    ["raw newline in a string", '"a\nb"', "syntax"],
    ["raw NUL in a string", '"a\u0000b"', "syntax"],
    ["escaped lone high surrogate", String.raw`"\ud800"`, "syntax"],
    ["escaped lone low surrogate", String.raw`"\udc00"`, "syntax"],
    ["escaped high surrogate before a non-surrogate", String.raw`"\ud800\u0041"`, "syntax"],
    ["escaped high surrogate before a raw low one", '"\\ud800\udc00"', "syntax"],
    ["escaped surrogates in the wrong order", String.raw`"\udc00\ud800"`, "syntax"],
    ["raw lone high surrogate", '"a\ud800b"', "syntax"],
    ["raw lone low surrogate", '"a\udc00b"', "syntax"],
    ["raw lone surrogate in a key", '{"\ud800":1}', "syntax"],
    ["byte order mark", "\ufeff{}", "syntax"],
    ["non-breaking space as whitespace", "\u00a0{}", "syntax"],
    ["vertical tab as whitespace", "\u000b{}", "syntax"],
    ["two values", "1 2", "syntax"],
    ["extra closing bracket", "[1]]", "syntax"],
    ["truncated literal", "tru", "syntax"],
    ["literal with a suffix", "nulls", "syntax"],
    ["capitalised literal", "True", "syntax"],
    ["unterminated string", '"abc', "syntax"],
    ["unterminated object", '{"a":1', "syntax"],
    ["unterminated array", "[1,2", "syntax"],
    ["missing colon", '{"a" 1}', "syntax"],
    ["missing comma", '{"a":1 "b":2}', "syntax"],
    ["number key", "{1:2}", "syntax"],
    ["duplicate key", '{"name":"echo","name":"rm"}', "duplicate_key"],
    ["duplicate key with other keys between", '{"name":"echo","a":1,"b":2,"name":"rm"}', "duplicate_key"],
    [
      "duplicate key deep inside params.arguments",
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[{"b":{"path":"/tmp","path":"/etc"}}]}}}',
      "duplicate_key",
    ],
    ["duplicate key spelled with an escape", String.raw`{"name":"echo","n\u0061me":"rm"}`, "duplicate_key"],
    ["duplicate key, both escaped", String.raw`{"\u006eame":1,"n\u0061me":2}`, "duplicate_key"],
    ["duplicate key past the in-place scan", manyKeys(30, '"k7":0'), "duplicate_key"],
    ["duplicate key after an escaped key switched modes", String.raw`{"a":1,"\u0062":2,"a":3}`, "duplicate_key"],
    ["duplicate non-ASCII key", '{"é":1,"é":2}', "duplicate_key"],
    ["keys equal under case folding", '{"name":1,"Name":2}', "case_duplicate_key"],
    ["keys equal under case folding, all caps", '{"NAME":1,"name":2}', "case_duplicate_key"],
    ["case duplicate past the in-place scan", manyKeys(30, '"K7":0'), "case_duplicate_key"],
    ["case duplicate through an escape", String.raw`{"name":1,"\u004eame":2}`, "case_duplicate_key"],
    ["long s folds to s (Go EqualFold)", '{"scope":1,"ſcope":2}', "case_duplicate_key"],
    ["Kelvin sign folds to k", '{"k":1,"\u212a":2}', "case_duplicate_key"],
    ["escaped Kelvin sign folds to K", String.raw`{"K":1,"\u212a":2}`, "case_duplicate_key"],
    ["non-ASCII case pair", '{"É":1,"é":2}', "case_duplicate_key"],
    ["escaped NUL in a key", String.raw`{"na\u0000me":1}`, "nul_in_key"],
    ["escaped NUL key alone", String.raw`{"\u0000":1}`, "nul_in_key"],
    ["escaped NUL in a nested key", String.raw`{"a":[{"b\u0000":1}]}`, "nul_in_key"],
    ["arrays nested too deep", nested("[", "]", 65), "too_deep"],
    ["objects nested too deep", nested('{"a":', "}", 65), "too_deep"],
    ["very deep nesting", nested("[", "]", 100_000), "too_deep"],
    ["number overflowing a double", "1e400", "unsafe_number"],
    ["negative number overflowing a double", "-1e400", "unsafe_number"],
    ["long integer overflowing a double", `1${"0".repeat(400)}`, "unsafe_number"],
    ["overflowing number inside arguments", '{"arguments":{"amount":1e999}}', "unsafe_number"],
  ];
  it.each(refused)("%s", (_name, text, code) => {
    const result = parseStrictJson(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it("arrays longer than maxArrayLength", () => {
    const limits = { ...defaultJsonLimits, maxArrayLength: 3 };
    expect(parseStrictJson("[1,2,3]", limits).ok).toBe(true);
    expect(parseStrictJson('{"a":[1,2,3,4]}', limits)).toMatchObject({ ok: false, error: { code: "array_too_long" } });
    expect(parseStrictJson(`[${"0,".repeat(10_000)}0]`)).toMatchObject({ ok: false, error: { code: "array_too_long" } });
  });

  it("objects with more than maxKeys keys", () => {
    const limits = { ...defaultJsonLimits, maxKeys: 2 };
    expect(parseStrictJson('{"a":1,"b":2}', limits).ok).toBe(true);
    expect(parseStrictJson('[{"a":1,"b":2,"c":3}]', limits)).toMatchObject({ ok: false, error: { code: "too_many_keys" } });
  });

  it("a maxDepth too large for the stack still ends in too_deep, not a throw", () => {
    const limits = { ...defaultJsonLimits, maxDepth: 1e9 };
    expect(parseStrictJson(nested("[", "]", 1_000_000), limits)).toMatchObject({ ok: false, error: { code: "too_deep" } });
  });

  it("reports where, without quoting the text", () => {
    const result = parseStrictJson('{"secret":"hunter2","secret":"x"}');
    expect(result).toEqual({ ok: false, error: { code: "duplicate_key", message: "duplicate object key", offset: 20 } });
    if (!result.ok) expect(result.error.message).not.toContain("hunter2");
  });
});
