import { describe, expect, it } from "vitest";
import { classifyMessage, jsonRpcError, parseBody, RpcErrorCode, serializeBody, type JsonRpcMessage } from "../../../src/mcp/jsonrpc";

const { ParseError, InvalidRequest, InvalidParams } = RpcErrorCode;

function single(text: string): JsonRpcMessage {
  const parsed = parseBody(text);
  if (!parsed.ok) throw new Error(`expected a message, got ${parsed.error.message}`);
  if (parsed.value.kind !== "single") throw new Error("expected a single message");
  return parsed.value.message;
}

describe("parseBody classifies valid messages", () => {
  const valid: [string, string, Partial<JsonRpcMessage>][] = [
    [
      "request with object params",
      '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c"}}',
      { kind: "request", id: 1, method: "tools/list", params: { cursor: "c" } },
    ],
    ["request without params", '{"jsonrpc":"2.0","id":"a","method":"ping"}', { kind: "request", id: "a", method: "ping" }],
    ["request with array params", '{"jsonrpc":"2.0","id":2,"method":"x/y","params":[1,2]}', { kind: "request", id: 2, method: "x/y", params: [1, 2] }],
    ["request with an empty string id", '{"jsonrpc":"2.0","id":"","method":"ping"}', { kind: "request", id: "", method: "ping" }],
    ["request with id 0", '{"jsonrpc":"2.0","id":0,"method":"ping"}', { kind: "request", id: 0 }],
    ["request with id 2^53-1", '{"jsonrpc":"2.0","id":9007199254740991,"method":"ping"}', { kind: "request", id: 9007199254740991 }],
    ["request with id -(2^53-1)", '{"jsonrpc":"2.0","id":-9007199254740991,"method":"ping"}', { kind: "request", id: -9007199254740991 }],
    ["request with integer id written with an exponent", '{"jsonrpc":"2.0","id":1e2,"method":"ping"}', { kind: "request", id: 100 }],
    [
      "tools/call",
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}',
      { kind: "request", method: "tools/call" },
    ],
    [
      "escaped method name",
      String.raw`{"jsonrpc":"2.0","id":4,"method":"tools\u002fcall","params":{"name":"\u0065cho"}}`,
      { kind: "request", method: "tools/call", params: { name: "echo" } },
    ],
    ["notification", '{"jsonrpc":"2.0","method":"notifications/initialized"}', { kind: "notification", method: "notifications/initialized" }],
    [
      "notification with params",
      '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}',
      { kind: "notification", params: { requestId: 1 } },
    ],
    [
      "escaped notification method",
      String.raw`{"jsonrpc":"2.0","method":"notifications\/progress","params":{}}`,
      { kind: "notification", method: "notifications/progress" },
    ],
    ["result response", '{"jsonrpc":"2.0","id":5,"result":{}}', { kind: "response", id: 5 }],
    ["error response", '{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"nope","data":{"a":1}}}', { kind: "response", id: "x" }],
  ];
  it.each(valid)("%s", (_name, text, expected) => {
    const message = single(text);
    expect(message).toMatchObject(expected);
    expect(message.raw).toEqual(JSON.parse(text));
  });

  it("keeps params out of the message when the body has none", () => {
    expect(Object.hasOwn(single('{"jsonrpc":"2.0","id":1,"method":"ping"}'), "params")).toBe(false);
  });
});

describe("parseBody refuses", () => {
  const refused: [string, string, number, string | number | null][] = [
    ["not JSON", "{", ParseError, null],
    ["a duplicate key (last-wins smuggling)", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"rm"}}', ParseError, null],
    ["a duplicate method", '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call"}', ParseError, null],
    ["a case-folded duplicate", '{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}', ParseError, null],
    ["a NUL in a key", String.raw`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a\u0000":1}}}`, ParseError, null],
    [
      "a duplicate key deep inside params.arguments",
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":{"y":[{"z":1,"z":2}]}}}}',
      ParseError,
      null,
    ],
    ["a string", '"hello"', InvalidRequest, null],
    ["null", "null", InvalidRequest, null],
    ["an empty batch", "[]", InvalidRequest, null],
    [
      "a batch with a bad member",
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}]',
      InvalidRequest,
      null,
    ],
    ["a nested batch", '[[{"jsonrpc":"2.0","id":1,"method":"ping"}]]', InvalidRequest, null],
    ["a missing jsonrpc", '{"id":1,"method":"ping"}', InvalidRequest, 1],
    ["jsonrpc 1.0", '{"jsonrpc":"1.0","id":1,"method":"ping"}', InvalidRequest, 1],
    ["jsonrpc as a number", '{"jsonrpc":2.0,"id":1,"method":"ping"}', InvalidRequest, 1],
    ["a method that is not a string", '{"jsonrpc":"2.0","id":1,"method":7}', InvalidRequest, 1],
    ["a tools/call without an id", '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}', InvalidRequest, null],
    ["an escaped tools/call without an id", String.raw`{"jsonrpc":"2.0","method":"tools\u002fcall","params":{"name":"rm"}}`, InvalidRequest, null],
    ["a request method without an id", '{"jsonrpc":"2.0","method":"ping"}', InvalidRequest, null],
    ["a null id", '{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"rm"}}', InvalidRequest, null],
    ["a fractional id", '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', InvalidRequest, null],
    ["an id of 2^53", '{"jsonrpc":"2.0","id":9007199254740992,"method":"ping"}', InvalidRequest, null],
    ["an id beyond 2^53", '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}', InvalidRequest, null],
    ["an id of -2^53", '{"jsonrpc":"2.0","id":-9007199254740992,"method":"ping"}', InvalidRequest, null],
    ["a boolean id", '{"jsonrpc":"2.0","id":true,"method":"ping"}', InvalidRequest, null],
    ["an object id", '{"jsonrpc":"2.0","id":{},"method":"ping"}', InvalidRequest, null],
    ["an array id", '{"jsonrpc":"2.0","id":[1],"method":"ping"}', InvalidRequest, null],
    ["an unknown key on a request", '{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}', InvalidRequest, 1],
    ["an unknown key on a notification", '{"jsonrpc":"2.0","method":"notifications/initialized","x":1}', InvalidRequest, null],
    ["a __proto__ key on a request", '{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{"id":2}}', InvalidRequest, 1],
    ["a request carrying a result", '{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}', InvalidRequest, 1],
    ["null params", '{"jsonrpc":"2.0","id":1,"method":"ping","params":null}', InvalidRequest, 1],
    ["string params", '{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', InvalidRequest, 1],
    ["a tools/call with array params", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["rm"]}', InvalidParams, 1],
    ["a tools/call without params", '{"jsonrpc":"2.0","id":1,"method":"tools/call"}', InvalidParams, 1],
    ["a tools/call without a name", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}', InvalidParams, 1],
    ["a tools/call with a numeric name", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}', InvalidParams, 1],
    ["a tools/call with array arguments", '{"jsonrpc":"2.0","id":"q","method":"tools/call","params":{"name":"echo","arguments":[1]}}', InvalidParams, "q"],
    ["a tools/call with null arguments", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":null}}', InvalidParams, 1],
    ["a tools/call with string arguments", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"{}"}}', InvalidParams, 1],
    ["a response with both result and error", '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}', InvalidRequest, 1],
    ["a response without an id", '{"jsonrpc":"2.0","result":{}}', InvalidRequest, null],
    ["an error response with a null id", '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m"}}', InvalidRequest, null],
    ["a response with neither result nor error", '{"jsonrpc":"2.0","id":1}', InvalidRequest, 1],
    ["a response with a non-object result", '{"jsonrpc":"2.0","id":1,"result":5}', InvalidRequest, 1],
    ["a response with an unknown key", '{"jsonrpc":"2.0","id":1,"result":{},"method2":"x"}', InvalidRequest, 1],
    ["an error without a code", '{"jsonrpc":"2.0","id":1,"error":{"message":"m"}}', InvalidRequest, 1],
    ["an error with a fractional code", '{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"m"}}', InvalidRequest, 1],
    ["an error without a message", '{"jsonrpc":"2.0","id":1,"error":{"code":1}}', InvalidRequest, 1],
  ];
  it.each(refused)("%s", (_name, text, code, id) => {
    const parsed = parseBody(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.id).toBe(id);
      expect(parsed.error.message).not.toBe("");
    }
  });
});

describe("batches", () => {
  it("classifies every member, in order", () => {
    const parsed = parseBody(
      '[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":9,"result":{}}]',
    );
    expect(parsed.ok).toBe(true);
    if (parsed.ok && parsed.value.kind === "batch") {
      expect(parsed.value.messages.map((m) => m.kind)).toEqual(["request", "notification", "response"]);
    } else {
      throw new Error("expected a batch");
    }
  });

  it("a batch longer than maxArrayLength is a parse error", () => {
    const member = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    const parsed = parseBody(`[${member},${member},${member}]`, { maxDepth: 64, maxArrayLength: 2, maxKeys: 100 });
    expect(parsed).toMatchObject({ ok: false, error: { code: ParseError, id: null } });
  });
});

describe("classifyMessage", () => {
  it.each([[undefined], [42], ["x"], [[]], [null]])("refuses a non-object (%j)", (value) => {
    expect(classifyMessage(value)).toMatchObject({ ok: false, error: { code: InvalidRequest, id: null } });
  });

  it("notifications/… with an id is a request, answered like any other", () => {
    expect(classifyMessage({ jsonrpc: "2.0", id: 1, method: "notifications/cancelled" })).toMatchObject({ ok: true, value: { kind: "request", id: 1 } });
  });
});

describe("the parsed tools/call target travels with the message", () => {
  const call = (text: string) => {
    const m = single(text);
    if (m.kind !== "request") throw new Error("expected a request");
    return m.call;
  };

  it("reads name and arguments", () => {
    expect(call('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":1}}}')).toEqual({
      tool: "echo",
      args: { text: "hi" },
    });
  });

  it("absent arguments are an empty object", () => {
    expect(call('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}')).toEqual({ tool: "echo", args: {} });
  });

  it("sees through escapes in the tool name", () => {
    expect(call(String.raw`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\u0065cho"}}`)).toMatchObject({ tool: "echo" });
  });

  it("is absent on any other request", () => {
    expect(call('{"jsonrpc":"2.0","id":7,"method":"tools/list"}')).toBeUndefined();
  });

  it.each([
    ['{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":[]}}', "arguments must be an object"],
    ['{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}}', "name must be a string"],
    ['{"jsonrpc":"2.0","id":3,"method":"tools/call","params":[]}', "params must be an object"],
  ])("refuses params that are not a tools/call's: %s", (text, message) => {
    const parsed = parseBody(text);
    expect(parsed).toMatchObject({ ok: false, error: { code: InvalidParams, id: 3 } });
    if (!parsed.ok) expect(parsed.error.message).toContain(message);
  });
});

describe("serializeBody forwards the checked value, not the client's bytes", () => {
  it("re-serializes escapes and whitespace canonically", () => {
    const message = single(String.raw` { "jsonrpc" : "2.0", "id" : 1, "method" : "tools\u002fcall", "params" : { "name" : "\u0065cho" } } `);
    expect(serializeBody({ kind: "single", message })).toBe('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}');
  });

  it("re-serializes a batch element by element", () => {
    const parsed = parseBody(String.raw`[ {"jsonrpc":"2.0","id":1,"method":"tools/list"} , {"jsonrpc":"2.0","method":"notifications/initialized"} ]`);
    if (!parsed.ok) throw new Error("expected a batch");
    expect(serializeBody(parsed.value)).toBe('[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"}]');
  });

  it("keeps a __proto__ argument as data", () => {
    const message = single('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"admin":true}}}}');
    expect(serializeBody({ kind: "single", message })).toBe(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"admin":true}}}}',
    );
    if (message.kind !== "request" || message.call === undefined) throw new Error("expected a tools/call");
    expect((message.call.args as { admin?: unknown }).admin).toBeUndefined();
  });
});

describe("jsonRpcError", () => {
  it("builds an error without data", () => {
    expect(jsonRpcError(1, InvalidRequest, "bad")).toEqual({ jsonrpc: "2.0", id: 1, error: { code: -32600, message: "bad" } });
    expect(Object.hasOwn(jsonRpcError(null, -1, "m").error, "data")).toBe(false);
  });

  it("builds an error with data and a null id", () => {
    expect(jsonRpcError(null, RpcErrorCode.BodyTooLarge, "too big", { limit: 4 })).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32006, message: "too big", data: { limit: 4 } },
    });
  });

  it("keeps the gateway's own codes in -32000..-32019, each meaning one thing", () => {
    const standard = new Set(["ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError", "HeaderMismatch"]);
    const own = Object.entries(RpcErrorCode).filter(([name]) => !standard.has(name));
    expect(own.length).toBeGreaterThanOrEqual(11);
    for (const [, code] of own) expect(code >= -32019 && code <= -32000).toBe(true);
    expect(new Set(Object.values(RpcErrorCode)).size).toBe(Object.keys(RpcErrorCode).length);
  });
});
