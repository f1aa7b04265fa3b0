// The console's approvals inbox inside workerd: a request a grant's Durable Object opened is listed
// with its argument values as text, Approve and Reject are console forms like any other (same-origin
// check, session) that go through /admin/approvals, and a decision that loses names the one that won.
import { runDurableObjectAlarm, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { GateResult } from "../../../src/grant/protocol";
import { admin, createGrant, DOWN_UPSTREAM, grantStub, ORIGIN, savePolicy, uniqueServerId } from "../admin/admin-client";
import { consoleSession, FORM } from "./console-client";
import { gateRequestFor } from "../gate-request";

const POLICY = { version: "1", default: "deny", tools: { deploy: { approve: true, approval_timeout: "30m" } } };
const HOSTILE = "<script>alert('x')</script>";
let cookie = "";
let serverId = "";

beforeAll(async () => {
  cookie = await consoleSession();
  serverId = uniqueServerId("inbox");
  expect((await admin("POST", "/servers", { id: serverId, name: "Deploys", url: DOWN_UPSTREAM })).status).toBe(201);
  expect((await savePolicy(serverId, "deploys", POLICY)).status).toBe(201);
});

/** One tools/call of `deploy` as the gateway hands it to the grant's object. */
async function callDeploy(grant: { id: string; token: string }, args: Record<string, unknown>) {
  const result: GateResult = await grantStub(grant.id).gate(
    gateRequestFor(grant.token, [{ kind: "request", method: "tools/call", id: 1, tool: "deploy", args }], { origin: ORIGIN }),
  );
  if (!result.ok) throw new Error(JSON.stringify(result));
  return result.decisions[0]!;
}

/** A held call: its approval request, listed once the grant's alarm has written the index. */
async function heldCall(label: string, args: Record<string, unknown>) {
  const grant = await createGrant(serverId, "deploys", label);
  const decision = await callDeploy(grant, args);
  if (decision.outcome !== "deny" || decision.approval === undefined) throw new Error(JSON.stringify(decision));
  await runDurableObjectAlarm(grantStub(grant.id));
  return { grant, id: decision.approval.id };
}

const inbox = () => SELF.fetch(`${ORIGIN}/console/approvals`, { headers: { cookie } });

const decide = (fields: Record<string, string>, headers: Record<string, string> = { origin: ORIGIN }) =>
  SELF.fetch(`${ORIGIN}/console/approvals/decide`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": FORM, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

async function inboxListing(id: string): Promise<string> {
  for (let tries = 0; ; tries++) {
    const html = await (await inbox()).text();
    if (html.includes(id) || tries > 100) return html;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the approvals inbox", () => {
  it("lists a pending request with its server, grant, tool, expiry and argument values, escaped", async () => {
    const { grant, id } = await heldCall("inbox-bot", { env: HOSTILE, note: "safe\u202Etxt.exe", count: 3 });
    const html = await inboxListing(id);
    expect(html).toContain('<a href="/console/approvals" aria-current="page">Approvals</a>');
    expect(html).toContain('<h2 id="pending">Waiting for a decision (1)</h2>');
    expect(html).toContain(`<span class="tool-name">deploy</span> for grant “inbox-bot”`);
    expect(html).toContain(`<a href="/console/servers/${serverId}">${serverId}</a>`);
    expect(html).toContain(`<code>${grant.id}</code>`);
    expect(html).toMatch(/<dt>Expires<\/dt>\s*<dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in about 30 min\)<\/dd>/);
    // The value as JSON text: markup escaped, the bidi override spelled out, the number as a number.
    expect(html).toContain("<pre>&quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;</pre>");
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain("<pre>&quot;safe\\u{202E}txt.exe&quot;</pre>");
    expect(html).not.toContain("\u202E");
    expect(html).toContain("<pre>3</pre>");
    expect(html).toContain(`<input type="hidden" name="id" value="${id}"/>`);
    expect(html).toContain('name="verdict" value="approve"');
    expect(html).toContain('name="verdict" value="reject"');
  });

  it("Approve records the decision through the admin API, and the held call then goes through once", async () => {
    const args = { env: "production" };
    const { grant, id } = await heldCall("approve-bot", args);
    const approved = await decide({ id, verdict: "approve", reason: "" });
    expect(approved.status).toBe(303);
    expect(approved.headers.get("location")).toBe("/console/approvals?approved");
    expect((await admin("GET", `/approvals/${id}`)).json).toMatchObject({ status: "approved", decidedBy: "admin", reason: null });
    expect((await callDeploy(grant, args)).outcome).toBe("forward");
    expect((await admin("GET", `/approvals/${id}`)).json.status).toBe("consumed");
    const page = await (await SELF.fetch(`${ORIGIN}/console/approvals?approved`, { headers: { cookie } })).text();
    expect(page).toContain("Approved: the held call");
    expect(page).toContain("approved, used</span>");
  });

  it("Reject records the reason (line breaks as sent by a browser), and the agent is told it", async () => {
    const args = { env: "staging" };
    const { grant, id } = await heldCall("reject-bot", args);
    const rejected = await decide({ id, verdict: "reject", reason: "Not on a Friday.\r\nAsk on Monday." });
    expect(rejected.status).toBe(303);
    expect((await admin("GET", `/approvals/${id}`)).json).toMatchObject({ status: "rejected", decidedBy: "admin", reason: "Not on a Friday.\nAsk on Monday." });
    const denied = await callDeploy(grant, args);
    expect(denied).toMatchObject({ outcome: "deny", code: "approval_rejected", message: "Not on a Friday.\nAsk on Monday." });
    const page = await (await inbox()).text();
    expect(page).toContain('<td class="description">Not on a Friday.\nAsk on Monday.</td>');
  });

  it("a second decision shows who decided first, when, and why, not a generic error", async () => {
    const { id } = await heldCall("twice-bot", { env: "qa" });
    expect((await admin("POST", `/approvals/${id}/reject`, { reason: "<b>too risky</b>" })).status).toBe(200);
    const late = await decide({ id, verdict: "approve" });
    expect(late.status).toBe(409);
    const html = await late.text();
    expect(html).toContain("<strong>Not approved</strong> <code>approval_decided</code>");
    expect(html).toMatch(new RegExp(`Approval ${id} was already rejected by admin at \\d{4}-`));
    expect(html).toMatch(/It was already rejected by admin at \d{4}-[^<]*, reason: “&lt;b&gt;too risky&lt;\/b&gt;”\. The first decision stands\./);
    expect((await admin("GET", `/approvals/${id}`)).json.status).toBe("rejected");
  });

  it("refuses a decision without the console's Origin or session, before the admin API is asked", async () => {
    const { id } = await heldCall("csrf-bot", { env: "prod" });
    const attempts: Record<string, string>[] = [{}, { origin: "https://evil.example" }, { origin: ORIGIN, "sec-fetch-site": "cross-site" }, { origin: "null" }];
    for (const headers of attempts) {
      const refused = await decide({ id, verdict: "approve" }, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
    }
    const anonymous = await SELF.fetch(`${ORIGIN}/console/approvals/decide`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": FORM },
      body: `id=${id}&verdict=approve`,
    });
    expect(anonymous.status).toBe(401);
    const asJson = await SELF.fetch(`${ORIGIN}/console/approvals/decide`, {
      method: "POST",
      headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ id, verdict: "approve" }),
    });
    expect(asJson.status).toBe(400);
    expect((await admin("GET", `/approvals/${id}`)).json).toMatchObject({ status: "pending", decided: null });
  });

  it("refuses an unknown verdict, an unknown id, and an id that would move the call to another admin route", async () => {
    const { id } = await heldCall("odd-bot", { env: "dev" });
    expect((await decide({ id, verdict: "maybe" })).status).toBe(400);
    const unknown = await decide({ id: "apr_nope", verdict: "approve" });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("<code>approval_not_found</code>");
    const dots = await decide({ id: "..", verdict: "approve" });
    expect(dots.status).toBe(400);
    expect(await dots.text()).toContain("cannot address in a URL path");
    const bad = await decide({ id, verdict: "reject", reason: "x".repeat(1001) });
    expect(bad.status).toBe(400);
    expect((await admin("GET", `/approvals/${id}`)).json.status).toBe("pending");
  });
});
