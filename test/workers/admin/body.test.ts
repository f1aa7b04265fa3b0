// Admin request bodies inside workerd: the strict JSON parser (a repeated key must never drop a
// rule), and the 1 MiB limit counted in bytes, with and without a Content-Length.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, DOWN_UPSTREAM, ORIGIN, admin, createServer, uniqueServerId } from "./admin-client";

const MiB = 1024 * 1024;

/** Sends exact bytes; `stream` sends them as a ReadableStream, so no Content-Length is declared. */
async function send(method: string, path: string, body: string | Uint8Array, stream = false) {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const payload = stream
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          // Several chunks, so the limit is checked as bytes arrive, not on one buffer.
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
          controller.close();
        },
      })
    : bytes;
  const response = await SELF.fetch(`${ORIGIN}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: payload,
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text), headers: response.headers };
}

describe("admin bodies are parsed strictly", () => {
  it("refuses a policy whose tool is repeated: the deny_if rule would silently disappear", async () => {
    const server = uniqueServerId("dupkey");
    await createServer(server);
    const body = '{"version":"1","default":"allow","tools":{"pay":{"deny_if":[{"conditions":[],"on_deny":"never"}]},"pay":{}}}';
    // What JSON.parse would have saved: the second "pay", without its rule.
    expect(JSON.parse(body).tools.pay).toEqual({});

    const reply = await send("PUT", `/servers/${server}/policies/p`, body);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe("invalid_json");
    expect(reply.json.message).toBe(`The request body is not valid JSON: duplicate object key (at character ${body.lastIndexOf('"pay"')})`);
    expect(reply.json.details).toEqual({ reason: "duplicate_key", offset: body.lastIndexOf('"pay"') });
    expect((await admin("GET", `/servers/${server}/policies/p`)).status).toBe(404);
  });

  it.each([
    ["a repeated top-level key", '{"version":"1","default":"deny","default":"allow"}', "duplicate object key"],
    [
      "a repeated key inside a condition",
      '{"version":"1","default":"allow","tools":{"t":{"deny_if":[{"conditions":[{"path":"args.a","op":"eq","value":1,"value":2}],"on_deny":"x"}]}}}',
      "duplicate object key",
    ],
    ["a repeated key spelled with an escape", '{"version":"1","default":"deny","tools":{"pay":{},"p\\u0061y":{}}}', "duplicate object key"],
    ["keys differing only in case", '{"version":"1","default":"deny","Default":"allow"}', "object keys differ only in case"],
    ["a lone surrogate", '{"version":"1","default":"deny","hide":["\\ud800"]}', "lone surrogate in a \\u escape"],
  ])("refuses a policy with %s", async (_name, body, reason) => {
    const server = uniqueServerId("strict");
    await createServer(server);
    const reply = await send("PUT", `/servers/${server}/policies/p`, body);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe("invalid_json");
    expect(reply.json.message).toContain(reason);
  });

  it("refuses a server whose credential header is repeated, naming no value", async () => {
    const body = `{"name":"s","url":"${DOWN_UPSTREAM}","headers":{"X-Api-Key":"secret-one","X-Api-Key":"secret-two"}}`;
    const reply = await send("POST", "/servers", body);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe("invalid_json");
    expect(JSON.stringify(reply.json)).not.toContain("secret");
  });

  it("refuses a body that is not UTF-8", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"name":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const reply = await send("POST", "/servers", bytes);
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ error: "invalid_json", message: "The request body is not valid UTF-8" });
  });
});

describe("the 1 MiB limit counts bytes", () => {
  /** A valid policy of exactly `size` bytes, padded with a tool name of two-byte characters. */
  function policyOfBytes(size: number): string {
    const skeleton = (name: string) => `{"version":"1","default":"deny","tools":{"${name}":{}}}`;
    const room = size - new TextEncoder().encode(skeleton("")).length;
    const name = "é".repeat(Math.floor(room / 2)) + "a".repeat(room % 2);
    const text = skeleton(name);
    expect(new TextEncoder().encode(text).length).toBe(size);
    return text;
  }

  for (const stream of [false, true]) {
    const how = stream ? "streamed without a Content-Length" : "with a Content-Length";

    it(`accepts a policy of exactly 1 MiB of multibyte characters, ${how}`, async () => {
      const server = uniqueServerId("fits");
      await createServer(server);
      const reply = await send("PUT", `/servers/${server}/policies/p`, policyOfBytes(MiB), stream);
      expect(reply.status).toBe(201);
    });

    it(`answers 413 to 1 MiB + 1 byte of multibyte characters (about half a million UTF-16 units), ${how}`, async () => {
      const server = uniqueServerId("big");
      await createServer(server);
      const body = policyOfBytes(MiB + 1);
      expect(body.length).toBeLessThan(MiB / 2 + 100);
      const reply = await send("PUT", `/servers/${server}/policies/p`, body, stream);
      expect(reply.status).toBe(413);
      expect(reply.json).toEqual({ error: "body_too_large", message: `The request body is larger than ${MiB} bytes` });
      expect((await admin("GET", `/servers/${server}/policies/p`)).status).toBe(404);
    });
  }
});
