// Server-wide limits (docs/policy.md, "Server-wide limits"): one count for every grant of a server,
// kept by the server's Durable Object, exact under concurrency, all or nothing with grant limits.
// Judged by what reached a recording upstream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminClient, startGateway } from "../support/workerd.mjs";
import { startSdkServer } from "../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string };

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let upstream: Awaited<ReturnType<typeof startSdkServer>>;

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
  upstream = await startSdkServer({ json: true });
});
afterAll(async () => {
  await upstream?.close();
  await gateway?.dispose();
});

async function grants(policy: unknown, count: number): Promise<Grant[]> {
  const server = await admin("POST", "/servers", { name: "shared-upstream", url: upstream.url });
  await admin("PUT", `/servers/${server.id}/policies/team`, policy);
  const out: Grant[] = [];
  for (let i = 0; i < count; i++) {
    const created = await admin("POST", "/grants", { label: `agent-${i}`, serverId: server.id, policyName: "team" });
    out.push({ id: created.grant.id, token: created.token, url: created.url });
  }
  return out;
}

async function call(grant: Grant, id: number, tool = "echo") {
  const res = await fetch(grant.url, {
    method: "POST",
    headers: mcpHeaders(grant.token),
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: { message: `m${id}` } } }),
  });
  return (await res.json()) as any;
}

const echoes = () => upstream.toolCalls().filter((c: any) => c.name === "echo").length;

describe("a limit with scope server", () => {
  it("5 grants × 20 concurrent calls against a server-wide max of 10: exactly 10 reach the upstream", async () => {
    const team = await grants(
      { version: "1", default: "deny", tools: { echo: { limits: [{ counter: "team_echo", window: "minute", max: 10, scope: "server" }] } } },
      5,
    );
    const before = echoes();
    const answers = await Promise.all(team.flatMap((grant, g) => Array.from({ length: 20 }, (_, i) => call(grant, g * 100 + i))));
    expect(echoes() - before).toBe(10);
    const denied = answers.filter((a) => a.result?.isError === true);
    expect(denied).toHaveLength(90);
    for (const answer of denied) {
      expect(answer.result._meta["io.mcp-policy-gateway/decision"]).toMatchObject({
        code: "rate_limited",
        rule: "/tools/echo/limits/0",
        retryAfter: expect.any(Number),
      });
      expect(answer.result.content[0].text).toMatch(/^\[POLICY DENIED\] Server-wide rate limit exceeded: 10 calls per minute on counter "team_echo"/);
    }
    // Every grant that was refused by the server holds no reservation of its own: its outcome says so.
    // Outcomes are recorded after the answers, so wait for them.
    const refusedOutcomes = async () =>
      (await Promise.all(team.map((g) => readAudit(admin, g.id)))).flat().filter((r) => r.type === "outcome" && r.code === "rate_limited_server").length;
    await expect.poll(refusedOutcomes, { timeout: 10_000 }).toBe(90);
  });

  it("a call refused by its grant's own limit takes nothing from the server's count", async () => {
    const [a, b] = (await grants(
      {
        version: "1",
        default: "deny",
        tools: {
          echo: {
            limits: [
              { counter: "own", window: "minute", max: 1 },
              { counter: "shared", window: "minute", max: 3, scope: "server" },
            ],
          },
        },
      },
      2,
    )) as [Grant, Grant];
    const before = echoes();
    expect((await call(a, 1)).result.isError).toBeFalsy();
    for (let i = 2; i <= 6; i++) expect((await call(a, i)).result._meta["io.mcp-policy-gateway/decision"]).toMatchObject({ rule: "/tools/echo/limits/0" });
    // a's five refusals left the server-wide count at 1: b still gets the other 2.
    expect((await call(b, 1)).result.isError).toBeFalsy();
    expect((await call(b, 2)).result.isError).toBeTruthy();
    expect(echoes() - before).toBe(2);
    const c = (await call(a, 7)).result;
    expect(c.isError).toBe(true);
  });

  it("a refused connection releases the server-wide reservation as well as the grant's", async () => {
    const server = await admin("POST", "/servers", { name: "down-then-up", url: "http://127.0.0.1:9/mcp" });
    await admin("PUT", `/servers/${server.id}/policies/team`, {
      version: "1",
      default: "deny",
      tools: { echo: { limits: [{ counter: "one", window: "minute", max: 1, scope: "server" }] } },
    });
    const created = await admin("POST", "/grants", { label: "agent", serverId: server.id, policyName: "team" });
    const grant = { id: created.grant.id, token: created.token, url: created.url };
    for (let i = 1; i <= 3; i++) expect((await call(grant, i)).error.code).toBe(-32007);
    await admin("PATCH", `/servers/${server.id}`, { url: upstream.url });
    expect((await call(grant, 4)).result.isError).toBeFalsy();
    expect((await call(grant, 5)).result._meta["io.mcp-policy-gateway/decision"].code).toBe("rate_limited");
  });
});
