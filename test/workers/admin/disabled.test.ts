import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/app";

async function fetchWith(adminToken: string | undefined, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`https://gw.test/admin${path}`, { headers: { authorization: `Bearer ${adminToken ?? "anything"}` } }),
    { ...env, ADMIN_TOKEN: adminToken },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("admin API without ADMIN_TOKEN", () => {
  it.each([undefined, ""])("refuses every route with 503 when ADMIN_TOKEN is %j", async (adminToken) => {
    for (const path of ["/servers", "/grants", "/grants/g000000000000000000000000/audit"]) {
      const response = await fetchWith(adminToken, path);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: "admin_disabled",
        message: "ADMIN_TOKEN is not configured; the admin API refuses to run",
      });
    }
  });

  it("serves the same route once the token is configured", async () => {
    const response = await fetchWith("configured-token", "/servers");
    expect(response.status).toBe(200);
  });
});
