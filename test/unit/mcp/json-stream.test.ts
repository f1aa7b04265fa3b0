import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultJsonLimits, parseStrictJson, type JsonLimits } from "../../../src/mcp/json";
import { JSON_RPC_SKELETON, TOO_LONG } from "../../../src/mcp/json-capture";
import { JsonStreamValidator, type JsonStreamBounds } from "../../../src/mcp/json-stream";
import { codeUnitString, jsonTokenSoup as jsonTokenSoupOf, mutatedJson } from "../../support/json-arbitraries";

/** Validates `text` cut at `cuts`; the skeleton or the refusal's code, and where the value completed. */
function validate(text: string, cuts: number[] = [], limits: JsonLimits = defaultJsonLimits, bounds?: JsonStreamBounds) {
  const validator = new JsonStreamValidator(JSON_RPC_SKELETON, limits, bounds);
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  let completedAt = -1;
  for (const point of [...points, text.length]) {
    const written = validator.write(text.slice(start, point));
    if (!written.ok) return { ok: false as const, code: written.error.code };
    if (written.value >= 0) completedAt = start + written.value;
    start = point;
  }
  const ended = validator.end();
  return ended.ok ? { ok: true as const, skeleton: ended.value, completedAt } : { ok: false as const, code: ended.error.code };
}

const strict = (text: string, limits?: JsonLimits) => {
  const parsed = parseStrictJson(text, limits);
  return parsed.ok ? { ok: true as const } : { ok: false as const, code: parsed.error.code };
};

// The same families of text as fuzz.test.ts: JSON's own tokens, any code unit, mutated JSON.
const jsonTokenSoup = jsonTokenSoupOf(["d800", "dc00", '"a"', '"A"', "1e400"]);
const validJson = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: "binary" }), fc.jsonValue({ stringUnit: "grapheme" })).map((v) => JSON.stringify(v));
const anyText = fc.oneof(fc.string(), codeUnitString, jsonTokenSoup, mutatedJson, validJson);
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe("JsonStreamValidator refuses exactly what parseStrictJson refuses", () => {
  it("on arbitrary text, cut anywhere: the same verdict and the same code", () => {
    fc.assert(
      fc.property(anyText, cuts, (text, at) => {
        const expected = strict(text);
        const got = validate(text, at);
        expect(got.ok).toBe(expected.ok);
        if (!got.ok && !expected.ok) expect(got.code).toBe(expected.code);
      }),
      { numRuns: 3000 },
    );
  });

  it("under small limits too (depth, array length, keys)", () => {
    const limits: JsonLimits = { maxDepth: 3, maxArrayLength: 3, maxKeys: 3 };
    fc.assert(
      fc.property(fc.oneof(validJson, mutatedJson, jsonTokenSoup), cuts, (text, at) => {
        const expected = strict(text, limits);
        const got = validate(text, at, limits);
        expect(got.ok).toBe(expected.ok);
        if (!got.ok && !expected.ok) expect(got.code).toBe(expected.code);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives the same verdict one character at a time as in one piece", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const whole = validate(text);
        const single = validate(
          text,
          Array.from({ length: text.length }, (_, i) => i),
        );
        expect(single).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  const refused: [string, string, string][] = [
    ["duplicate key", '{"a":1,"a":2}', "duplicate_key"],
    ["duplicate key by escape", String.raw`{"a":1,"\u0061":2}`, "duplicate_key"],
    ["case duplicate", '{"id":1,"ID":2}', "case_duplicate_key"],
    ["Kelvin sign folds to k", String.raw`{"k":1,"\u212a":2}`, "case_duplicate_key"],
    ["NUL in a key", String.raw`{"a\u0000":1}`, "nul_in_key"],
    ["escaped lone high surrogate", String.raw`"\ud800"`, "syntax"],
    ["escaped lone low surrogate", String.raw`"\udc00x"`, "syntax"],
    ["raw lone surrogate", '"\ud800x"', "syntax"],
    ["non-finite number", "[1e400]", "unsafe_number"],
    ["non-finite number, then junk", "[1e400.5]", "unsafe_number"],
    ["control character", '"a\nb"', "syntax"],
    ["text after the value", '{"a":1} x', "syntax"],
    ["two values", "{}{}", "syntax"],
    ["leading zero", "[01]", "syntax"],
    ["trailing comma", "[1,]", "syntax"],
    ["cut short", '{"a":[1,2', "syntax"],
  ];
  it.each(refused)("%s", (_name, text, code) => {
    expect(strict(text)).toEqual({ ok: false, code });
    for (let cut = 0; cut <= text.length; cut++) expect(validate(text, [cut])).toEqual({ ok: false, code });
  });
});

describe("the bounds of its own", () => {
  const bounds: JsonStreamBounds = { maxNumberChars: 8, maxOpenKeyChars: 10, maxCapturedChars: 4 };

  it("refuses a number longer than maxNumberChars", () => {
    expect(validate("[123456789]", [], defaultJsonLimits, bounds)).toEqual({ ok: false, code: "too_long" });
    expect(validate("[12345678]", [], defaultJsonLimits, bounds).ok).toBe(true);
  });

  it("refuses keys of open objects longer than maxOpenKeyChars together, and frees them when an object closes", () => {
    expect(validate('{"abcde":{"fghijk":1}}', [3, 12], defaultJsonLimits, bounds)).toEqual({ ok: false, code: "too_long" });
    expect(validate('[{"abcde":1},{"fghij":1},{"klmno":1}]', [], defaultJsonLimits, bounds).ok).toBe(true);
  });

  it("keeps a captured string longer than maxCapturedChars as TOO_LONG, and accepts the document", () => {
    const got = validate('{"jsonrpc":"2.0","id":"12345","result":{}}', [], defaultJsonLimits, { ...bounds, maxOpenKeyChars: 100 });
    expect(got).toEqual({ ok: true, skeleton: { jsonrpc: "2.0", id: TOO_LONG, result: {} }, completedAt: 42 });
  });
});

describe("the skeleton of a JSON-RPC answer", () => {
  const big = "x".repeat(10_000);

  it("keeps jsonrpc, id and the types of the members, not the megabytes", () => {
    const text = JSON.stringify({ jsonrpc: "2.0", result: { content: [{ type: "text", text: big }], structuredContent: { a: big }, isError: false }, id: 7 });
    expect(validate(text, [5, 500, 5000])).toEqual({ ok: true, skeleton: { jsonrpc: "2.0", result: {}, id: 7 }, completedAt: text.length });
  });

  it("keeps every top-level key (unknown ones as null), and exactly what classifyMessage reads", () => {
    const text = String.raw`{"jsonrpc":"2.0","id":"a\u0062","method":"tools/call","params":{"name":"${big}","arguments":{"q":"${big}"},"_meta":{}},"extra":[1]}`;
    expect(validate(text, [17, 9000])).toMatchObject({
      ok: true,
      skeleton: { jsonrpc: "2.0", id: "ab", method: "tools/call", params: { name: "", arguments: {} }, extra: null },
    });
  });

  it("keeps error.code and the type of error.message, and result.task.taskId", () => {
    expect(validate('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"m","data":[1]}}')).toMatchObject({
      skeleton: { jsonrpc: "2.0", id: null, error: { code: -32000, message: "" } },
    });
    expect(validate('{"jsonrpc":"2.0","id":1,"result":{"task":{"taskId":"t-1","status":"working"}}}')).toMatchObject({
      skeleton: { result: { task: { taskId: "t-1" } } },
    });
  });

  it("keeps each message of a batch, and a __proto__ key as data", () => {
    const text = '[{"jsonrpc":"2.0","id":1,"result":{}},{"__proto__":1,"id":2}]';
    const got = validate(text);
    expect(got).toMatchObject({ ok: true, skeleton: [{ jsonrpc: "2.0", id: 1, result: {} }, { id: 2 }] });
    const second = (got as { skeleton: Record<string, unknown>[] }).skeleton[1]!;
    expect(Object.hasOwn(second, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(second)).toBe(Object.prototype);
  });

  it("says where the top-level value completed: the character after its close, whitespace after it not counted", () => {
    expect(validate('  {"a":1}  \n')).toMatchObject({ ok: true, completedAt: 9 });
    const validator = new JsonStreamValidator();
    expect(validator.write('{"a":[')).toEqual({ ok: true, value: -1 });
    expect(validator.rootKind).toBe("object");
    expect(validator.write("]} ")).toEqual({ ok: true, value: 2 });
  });
});
