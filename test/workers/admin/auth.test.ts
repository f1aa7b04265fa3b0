import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin } from "./admin-client";

describe("admin token guard", () => {
  it.each([
    ["no token", null],
    ["a wrong token", "test-admin-tokeN"],
    ["a prefix of the token", "test-admin"],
    ["a longer token", `${ADMIN_TOKEN}x`],
  ])("answers 401 JSON with %s", async (_, token) => {
    for (const [method, path] of [
      ["GET", "/servers"],
      ["POST", "/grants"],
      ["GET", "/grants/g000000000000000000000000/audit"],
      ["GET", "/no-such-route"],
    ] as const) {
      const reply = await admin(method, path, undefined, { token });
      expect(reply.status, `${method} ${path}`).toBe(401);
      expect(reply.json).toMatchObject({ error: "unauthorized" });
      expect(reply.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
  });

  it("accepts the token with any case of the Bearer scheme", async () => {
    const { SELF } = await import("cloudflare:test");
    const response = await SELF.fetch("https://gw.test/admin/servers", { headers: { authorization: `bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
  });
});
