// The bypass corpus, policy half: arguments that passed a policy's rules in an outside review, sent
// through the running gateway to a recording SDK McpServer whose tools coerce their arguments the
// way real upstreams do (`z.coerce.number()` refunds 20000 for "20000", " 2e4 " and [20000]). Each
// case is judged by what reached the upstream: a denied spelling must never show up in its
// `received` list. A control case per tool proves the harness would have seen a forwarded call.
//
// Strings the same way: tools that read `z.coerce.string()` run "DROP TABLE" for ["DROP TABLE"], so a
// string condition must not be false for a list, an object or null (docs/policy.md "Reading a string").
//
// The regex half: a policy with a catastrophic pattern (exponential for a backtracking engine) must
// answer a 100 KB argument promptly, and calls on another grant must keep working meanwhile. A
// pattern too large to match cheaply is refused when saved; the costliest pattern the limits allow,
// over an argument crafted against it, is still matched correctly and answered.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { compilePattern, MAX_MATCHED_LENGTH, MAX_PATTERN_SIZE } from "../../../src/policy/pattern";
import { adminClient, startGateway } from "../../support/workerd.mjs";
import { registerDemoTools, startSdkServer } from "../../support/upstreams.mjs";
import { mcpHeaders, readAudit } from "../../support/mcp-http";

type Admin = (method: string, path: string, body?: unknown) => Promise<any>;
type Grant = { id: string; token: string; url: string };

const CATASTROPHIC = "^(\\w+\\s?)*$";

const numericPolicy = {
  version: "1",
  default: "allow",
  tools: {
    refund: { deny_if: [{ conditions: [{ path: "args.amount", op: "gt", value: 10000 }], on_deny: "Refund exceeds the policy limit." }] },
    transfer: { deny_if: [{ conditions: [{ path: "args.amount", op: "eq", value: 1000 }], on_deny: "Transfers of exactly 1000 are blocked." }] },
    credit: { deny_if: [{ conditions: [{ path: "args.amount", op: "in", value: [1000, "all"] }], on_deny: "That credit is blocked." }] },
  },
};

const stringPolicy = {
  version: "1",
  default: "allow",
  tools: {
    run_sql: { deny_if: [{ conditions: [{ path: "args.sql", op: "regex", value: "DROP\\s+TABLE" }], on_deny: "Dropping tables is blocked." }] },
    deploy: { deny_if: [{ conditions: [{ path: "args.env", op: "eq", value: "prod" }], on_deny: "No deploys to prod." }] },
    promote: { require: [{ conditions: [{ path: "args.env", op: "neq", value: "prod" }], on_deny: "Promote outside prod only." }] },
    exec: { deny_if: [{ conditions: [{ path: "args.cmd", op: "contains", value: "rm -rf" }], on_deny: "No recursive deletes." }] },
  },
};

/** Tool -> the argument it coerces with z.coerce.string(). */
const STRING_TOOLS = { run_sql: "sql", deploy: "env", promote: "env", exec: "cmd" } as const;

const regexPolicy = {
  version: "1",
  default: "allow",
  tools: { query: { deny_if: [{ conditions: [{ path: "args.sql", op: "regex", value: CATASTROPHIC }], on_deny: "Plain-word queries are blocked." }] } },
};

const openPolicy = { version: "1", default: "allow" };

/**
 * The costliest shape bench/regex.mjs found at the size limit: an input of random a/b/c needs a new
 * DFA state almost every character (the DFA gives up), while the `.*x` chain keeps 61 NFA threads alive.
 */
const COSTLIEST = "(?:(?:.*x){61}|c[abc]{61}[ab]$)";
const costlyPolicy = {
  version: "1",
  default: "allow",
  tools: { query: { deny_if: [{ conditions: [{ path: "args.sql", op: "regex", value: COSTLIEST }], on_deny: "Blocked by the costly pattern." }] } },
};

let gateway: Awaited<ReturnType<typeof startGateway>>;
let admin: Admin;
let upstream: Awaited<ReturnType<typeof startSdkServer>>;
let numeric: Grant;
let strings: Grant;
let regex: Grant;
let costly: Grant;
let bystander: Grant;
let serverId: string;

beforeAll(async () => {
  gateway = await startGateway();
  admin = adminClient(gateway.origin, gateway.adminToken) as Admin;
  upstream = await startSdkServer({
    json: true,
    register: (server: any) => {
      registerDemoTools(server);
      // Coercing upstreams: what they do with a string or a one-element list is what is at stake.
      for (const name of ["refund", "transfer", "credit"]) {
        server.registerTool(name, { description: `${name} an amount`, inputSchema: { amount: z.coerce.number() } }, async ({ amount }: { amount: number }) => ({
          content: [{ type: "text", text: `${name} ${amount}` }],
        }));
      }
      for (const [name, field] of Object.entries(STRING_TOOLS)) {
        server.registerTool(
          name,
          { description: `${name} by a string`, inputSchema: { [field]: z.coerce.string() } },
          async (args: Record<string, string>) => ({
            content: [{ type: "text", text: `${name} ${args[field]}` }],
          }),
        );
      }
      server.registerTool("query", { description: "Run a query", inputSchema: { sql: z.string() } }, async ({ sql }: { sql: string }) => ({
        content: [{ type: "text", text: `ran ${sql.length} characters` }],
      }));
    },
  });
  const server = await admin("POST", "/servers", { name: "policy-bypass-upstream", url: upstream.url });
  await admin("PUT", `/servers/${server.id}/policies/numeric`, numericPolicy);
  await admin("PUT", `/servers/${server.id}/policies/strings`, stringPolicy);
  await admin("PUT", `/servers/${server.id}/policies/regex`, regexPolicy);
  await admin("PUT", `/servers/${server.id}/policies/open`, openPolicy);
  await admin("PUT", `/servers/${server.id}/policies/costly`, costlyPolicy);
  serverId = server.id;
  numeric = await newGrant(server.id, "numeric", "numeric");
  strings = await newGrant(server.id, "strings", "strings");
  regex = await newGrant(server.id, "regex", "regex");
  costly = await newGrant(server.id, "costly", "costly");
  bystander = await newGrant(server.id, "bystander", "open");
});
afterAll(async () => {
  await gateway?.dispose();
  await upstream?.close();
});

async function newGrant(serverId: string, label: string, policyName: string): Promise<Grant> {
  const created = await admin("POST", "/grants", { label, serverId, policyName });
  return { id: created.grant.id, token: created.token, url: created.url };
}

let nextId = 1;
async function call(grant: Grant, tool: string, args: Record<string, unknown>) {
  const res = await fetch(grant.url, {
    method: "POST",
    headers: mcpHeaders(grant.token),
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name: tool, arguments: args } }),
  });
  const text = await res.text();
  const json = JSON.parse(text);
  return { status: res.status, text, json, result: json.result, decision: json.result?._meta?.["io.mcp-policy-gateway/decision"] };
}

/** The tools/call messages that reached the upstream while `send` ran. */
async function reaching(send: () => Promise<void>): Promise<any[]> {
  const before = upstream.received.length;
  await send();
  return upstream.received.slice(before).filter((m) => m.method === "tools/call");
}

const resultText = (r: { result?: any }) => r.result?.content?.[0]?.text;

describe("numbers spelled so that a coercing upstream reads them: deny_if amount gt 10000", () => {
  it.each<[string, unknown, string]>([
    ["a numeric string", "20000", "Refund exceeds the policy limit."],
    ["a padded exponent", " 2e4 ", "Refund exceeds the policy limit."],
    ["an exponent", "2e4", "Refund exceeds the policy limit."],
    ["hex", "0x4e20", "Refund exceeds the policy limit."],
    ["a plus sign and a fraction", "+20000.5", "Refund exceeds the policy limit."],
    ["a one-element list", [20000], "args.amount is not a number"],
    ["a one-element list of a string", ["20000"], "args.amount is not a number"],
    ["a nested list", [[20000]], "args.amount is not a number"],
    ["digit separators", "20_000", "args.amount is not a number"],
    ["the string Infinity", "Infinity", "args.amount is not a number"],
    ["a blank string (Number reads 0)", "  ", "args.amount is not a number"],
    ["true", true, "args.amount is not a number"],
    ["null", null, "args.amount is not a number"],
  ])("%s (%j) never reaches the upstream", async (_name, amount, message) => {
    let reply: Awaited<ReturnType<typeof call>> | undefined;
    const reached = await reaching(async () => {
      reply = await call(numeric, "refund", { amount });
    });
    expect(reached).toEqual([]);
    expect(reply!.status).toBe(200);
    expect(reply!.result.isError).toBe(true);
    expect(resultText(reply!)).toBe(`[POLICY DENIED] ${message}`);
    expect(reply!.decision).toEqual({ code: "deny_if", rule: "/tools/refund/deny_if/0" });
  });

  it.each<[string, unknown]>([
    ["a number under the limit", 500],
    ["a numeric string under the limit", "500"],
    ["a padded exponent under the limit", " 5e2 "],
  ])("control: %s reaches the upstream and is refunded", async (_name, amount) => {
    let reply: Awaited<ReturnType<typeof call>> | undefined;
    const reached = await reaching(async () => {
      reply = await call(numeric, "refund", { amount });
    });
    expect(reached.map((m) => m.params)).toEqual([{ name: "refund", arguments: { amount } }]);
    expect(resultText(reply!)).toBe("refund 500");
  });
});

describe('numbers spelled so that a coercing upstream reads them: deny_if eq 1000 and in [1000, "all"]', () => {
  const spellingsOf1000: unknown[] = [1000, "1000", "1000.0", "1e3", " 1000", "1000 ", "0x3e8", "+1000", "0b1111101000", [1000], ["1000"], true, ""];

  for (const tool of ["transfer", "credit"]) {
    it.each(spellingsOf1000)(`${tool} of %j never reaches the upstream`, async (amount) => {
      let reply: Awaited<ReturnType<typeof call>> | undefined;
      const reached = await reaching(async () => {
        reply = await call(numeric, tool, { amount });
      });
      expect(reached).toEqual([]);
      expect(reply!.result.isError).toBe(true);
      expect(reply!.decision).toEqual({ code: "deny_if", rule: `/tools/${tool}/deny_if/0` });
    });

    it(`control: ${tool} of 999 and of "999" reaches the upstream`, async () => {
      const reached = await reaching(async () => {
        expect(resultText(await call(numeric, tool, { amount: 999 }))).toBe(`${tool} 999`);
        expect(resultText(await call(numeric, tool, { amount: "999" }))).toBe(`${tool} 999`);
      });
      expect(reached).toHaveLength(2);
    });
  }

  it("the denial names the path, never the argument's value, in the answer or the audit log", async () => {
    const reply = await call(numeric, "credit", { amount: ["SECRET-7731"] });
    expect(resultText(reply)).toBe("[POLICY DENIED] args.amount is not a number");
    expect(reply.text).not.toContain("SECRET-7731");
    const records = await readAudit(admin, numeric.id);
    expect(JSON.stringify(records)).not.toContain("SECRET-7731");
    expect(records.at(-1)).toMatchObject({ decision: "deny", code: "deny_if", rule: "/tools/credit/deny_if/0", message: "args.amount is not a number" });
  });
});

describe("strings a coercing upstream reads out of lists, objects and null: regex, eq, neq and contains", () => {
  const denied = (tool: keyof typeof STRING_TOOLS) => ({
    code: tool === "promote" ? "require" : "deny_if",
    rule: `/tools/${tool}/${tool === "promote" ? "require" : "deny_if"}/0`,
  });

  it.each<[keyof typeof STRING_TOOLS, unknown, string]>([
    ["run_sql", ["DROP TABLE users"], "args.sql is not a string"],
    ["run_sql", [["DROP TABLE users"]], "args.sql is not a string"],
    ["run_sql", { toString: "DROP TABLE users" }, "args.sql is not a string"],
    ["run_sql", "DROP\u000bTABLE users", "Dropping tables is blocked."],
    ["deploy", ["prod"], "args.env is not a string"],
    ["deploy", { toString: "prod" }, "args.env is not a string"],
    ["deploy", null, "args.env is not a string"],
    ["deploy", "prod", "No deploys to prod."],
    ["promote", ["prod"], "args.env is not a string"],
    ["promote", "prod", "Promote outside prod only."],
    ["exec", ["rm -rf /"], "args.cmd is not a string"],
    ["exec", ["sudo", "rm -rf /tmp"], "args.cmd is not a string"],
    ["exec", ["ls", "rm -rf"], "No recursive deletes."],
    ["exec", { cmd: "rm -rf /" }, "args.cmd is not a string"],
  ])("%s with %j never reaches the upstream", async (tool, value, message) => {
    let reply: Awaited<ReturnType<typeof call>> | undefined;
    const reached = await reaching(async () => {
      reply = await call(strings, tool, { [STRING_TOOLS[tool]]: value });
    });
    expect(reached).toEqual([]);
    expect(reply!.status).toBe(200);
    expect(reply!.result.isError).toBe(true);
    expect(resultText(reply!)).toBe(`[POLICY DENIED] ${message}`);
    expect(reply!.decision).toEqual(denied(tool));
  });

  it("control: without the policy, the upstream runs exactly what the denied lists spell", async () => {
    // The same tools on a grant with an open policy: proof that each denied shape was an attack.
    const reached = await reaching(async () => {
      expect(resultText(await call(bystander, "run_sql", { sql: ["DROP TABLE users"] }))).toBe("run_sql DROP TABLE users");
      expect(resultText(await call(bystander, "deploy", { env: ["prod"] }))).toBe("deploy prod");
      expect(resultText(await call(bystander, "exec", { cmd: ["rm -rf /"] }))).toBe("exec rm -rf /");
    });
    expect(reached).toHaveLength(3);
  });

  it.each<[keyof typeof STRING_TOOLS, unknown, string]>([
    ["run_sql", "SELECT 1", "run_sql SELECT 1"],
    ["run_sql", 42, "run_sql 42"],
    ["deploy", "staging", "deploy staging"],
    ["deploy", 5, "deploy 5"],
    ["promote", "staging", "promote staging"],
    ["promote", true, "promote true"],
    // A list with no element equal to, or containing, "rm -rf": membership keeps its meaning.
    ["exec", ["ls", "-la"], "exec ls,-la"],
    ["exec", "ls -la", "exec ls -la"],
  ])("control: %s with %j reaches the upstream", async (tool, value, text) => {
    let reply: Awaited<ReturnType<typeof call>> | undefined;
    const reached = await reaching(async () => {
      reply = await call(strings, tool, { [STRING_TOOLS[tool]]: value });
    });
    expect(reached.map((m) => m.params)).toEqual([{ name: tool, arguments: { [STRING_TOOLS[tool]]: value } }]);
    expect(resultText(reply!)).toBe(text);
  });

  it("the denial names the path, never the argument's value, in the answer or the audit log", async () => {
    const reply = await call(strings, "deploy", { env: ["SECRET-4417"] });
    expect(resultText(reply)).toBe("[POLICY DENIED] args.env is not a string");
    expect(reply.text).not.toContain("SECRET-4417");
    const records = await readAudit(admin, strings.id);
    expect(JSON.stringify(records)).not.toContain("SECRET-4417");
    expect(records.at(-1)).toMatchObject({ decision: "deny", code: "deny_if", rule: "/tools/deploy/deny_if/0", message: "args.env is not a string" });
  });
});

describe(`a catastrophic pattern (${CATASTROPHIC}) cannot stall a grant`, () => {
  // A backtracking engine takes seconds on 30 characters of this and would never finish these; the
  // bounds below are far above what linear matching needs, to prove "not exponential", not speed.
  const NOT_EXPONENTIAL_MS = 10_000;

  it("a 100 KB argument is answered promptly, denied as too long to check, and not forwarded", async () => {
    const sql = `${"a".repeat(100_000)}!`;
    let reply: Awaited<ReturnType<typeof call>> | undefined;
    const started = performance.now();
    const reached = await reaching(async () => {
      reply = await call(regex, "query", { sql });
    });
    expect(performance.now() - started).toBeLessThan(NOT_EXPONENTIAL_MS);
    expect(reached).toEqual([]);
    expect(resultText(reply!)).toBe("[POLICY DENIED] args.sql is too long to check (over 65536 characters)");
    expect(reply!.decision).toEqual({ code: "deny_if", rule: "/tools/query/deny_if/0" });
  });

  it("a 60 KB argument under the limit is matched promptly, and an unrelated call on another grant works meanwhile", async () => {
    const sql = `${"a".repeat(60_000)}!`;
    const started = performance.now();
    const [matched, plainWords, unrelated] = await Promise.all([
      call(regex, "query", { sql }),
      call(regex, "query", { sql: "aaaa ".repeat(12_000) }),
      call(bystander, "echo", { message: "still here" }),
    ]);
    expect(performance.now() - started).toBeLessThan(NOT_EXPONENTIAL_MS);
    // Not plain words (the "!"), so the rule does not hold and the query runs.
    expect(resultText(matched)).toBe("ran 60001 characters");
    // Plain words: the rule holds.
    expect(resultText(plainWords)).toBe("[POLICY DENIED] Plain-word queries are blocked.");
    expect(resultText(unrelated)).toBe("still here");
  });

  it("the grant keeps answering afterwards", async () => {
    expect(resultText(await call(regex, "query", { sql: "SELECT 1;" }))).toBe("ran 9 characters");
    expect(resultText(await call(regex, "echo", { message: "ok" }))).toBe("ok");
  });
});

describe("pattern size: refused when saved, and the costliest allowed pattern still answers", () => {
  it("a policy whose pattern compiles past the limit is refused, naming the condition", async () => {
    const tooLarge = {
      ...regexPolicy,
      tools: { query: { deny_if: [{ conditions: [{ path: "args.sql", op: "regex", value: "(.*a){1000}" }], on_deny: "x" }] } },
    };
    const refused = await admin("PUT", `/servers/${serverId}/policies/too-large`, tooLarge).then(
      () => null,
      (e: any) => e,
    );
    expect(refused?.status).toBe(400);
    expect(refused.body.error).toBe("invalid_policy");
    expect(refused.body.message).toBe(
      `/tools/query/deny_if/0/conditions/0/value: pattern is too large: it compiles to 5002 RE2 instructions, more than ${MAX_PATTERN_SIZE}; use smaller repeat counts or fewer alternatives (see docs/policy.md)`,
    );
    // Nothing was saved under that name.
    const missing = await admin("GET", `/servers/${serverId}/policies/too-large`).then(
      () => null,
      (e: any) => e.status,
    );
    expect(missing).toBe(404);
  });

  // 60 x's keep the `.*x` chain alive to its last step; then random a/b/c, ending so that the
  // pattern matches (a "c", 61 of a/b/c, then "a") or does not.
  let seed = 7;
  const random = Array.from({ length: MAX_MATCHED_LENGTH - 123 }, () => "abc"[(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 3]).join("");
  const matching = `${"x".repeat(60)}${random}c${"b".repeat(61)}a`;
  const notMatching = `${"x".repeat(60)}${random}c${"b".repeat(61)}c`;

  it("a crafted argument of the full length is matched correctly: denied when it matches, forwarded when not", async () => {
    // Checked with RE2: JavaScript's RegExp backtracks exponentially on this pattern and these inputs.
    const pattern = compilePattern(COSTLIEST);
    if (!pattern.ok) throw new Error(pattern.error);
    expect(pattern.value.test(matching)).toBe(true);
    expect(pattern.value.test(notMatching)).toBe(false);
    expect(matching).toHaveLength(MAX_MATCHED_LENGTH);
    let denied: Awaited<ReturnType<typeof call>> | undefined;
    const reachedDenied = await reaching(async () => {
      denied = await call(costly, "query", { sql: matching });
    });
    expect(reachedDenied).toEqual([]);
    expect(resultText(denied!)).toBe("[POLICY DENIED] Blocked by the costly pattern.");
    const reached = await reaching(async () => {
      expect(resultText(await call(costly, "query", { sql: notMatching }))).toBe(`ran ${MAX_MATCHED_LENGTH} characters`);
    });
    expect(reached).toHaveLength(1);
  });

  it("several such calls at once are answered, and a call on another grant is answered meanwhile", async () => {
    // Far above bench/regex.mjs's worst case (about 0.2 s of CPU per call on a loaded 2-CPU
    // machine): proof that it finishes, not a performance target.
    const started = performance.now();
    const replies = await Promise.all([
      call(costly, "query", { sql: notMatching }),
      call(costly, "query", { sql: matching }),
      call(costly, "query", { sql: notMatching }),
      call(bystander, "echo", { message: "still here" }),
    ]);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(replies.map(resultText)).toEqual([
      `ran ${MAX_MATCHED_LENGTH} characters`,
      "[POLICY DENIED] Blocked by the costly pattern.",
      `ran ${MAX_MATCHED_LENGTH} characters`,
      "still here",
    ]);
  });
});
