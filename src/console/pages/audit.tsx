/**
 * Audit: one grant's log, newest first, filtered by decision, tool and time (UTC), with each call's
 * argument keys, rule and upstream status (from the outcome record that names it), a "verify chain"
 * button, and calls per hour for the last 24 hours as an SVG chart. Reads go through the admin API's
 * audit routes (GET /admin/grants/:id/audit with filters, …/audit/hourly, …/audit/verify).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { HourlyCounts } from "../../audit/query";
import type { AuditRecord } from "../../grant/protocol";
import { adminFor, valueOf, type AdminFailure } from "../admin-client";
import { HourlyChart } from "../chart";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import type { GrantSummary } from "./grants";

export const audit = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

const PAGE_SIZE = 50;

/** The decision filter's choices and the admin API query each one means. */
const DECISIONS: Record<string, { label: string; query: Record<string, string> }> = {
  "": { label: "any", query: {} },
  allow: { label: "allowed", query: { decision: "allow" } },
  deny: { label: "denied (any reason)", query: { decision: "deny" } },
  rate_limited: { label: "rate-limited", query: { decision: "deny", code: "rate_limited" } },
  monitor_deny: { label: "would deny (monitor mode)", query: { decision: "monitor_deny" } },
  reject: { label: "rejected (unauthenticated, unknown session)", query: { decision: "reject" } },
};

const SHOW: Record<string, { label: string; type: string | null }> = {
  calls: { label: "requests", type: "decision" },
  admin: { label: "admin changes", type: "admin" },
  all: { label: "every record", type: null },
};

interface Filters {
  grant: string;
  decision: string;
  tool: string;
  from: string;
  to: string;
  show: string;
  before: string;
}

/** A datetime-local value read as UTC (the page says so), or null when empty or unreadable. */
function utc(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const time = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function auditQuery(filters: Filters): string {
  const params = new URLSearchParams({ order: "desc", limit: String(PAGE_SIZE) });
  const show = SHOW[filters.show] ?? SHOW.calls!;
  if (show.type !== null) params.set("type", show.type);
  for (const [key, value] of Object.entries(DECISIONS[filters.decision]?.query ?? {})) params.set(key, value);
  if (filters.tool !== "") params.set("tool", filters.tool);
  const since = utc(filters.from);
  const until = utc(filters.to);
  if (since !== null) params.set("since", since);
  if (until !== null) params.set("until", until);
  if (/^\d{1,12}$/.test(filters.before)) params.set("before", filters.before);
  return params.toString();
}

function DecisionBadge(props: { record: AuditRecord }) {
  const { decision, code } = props.record;
  const kind = decision === "allow" ? "allow" : code === "rate_limited" ? "limited" : decision === "deny" || decision === "reject" ? "deny" : decision === "monitor_deny" ? "monitor" : "other";
  return <span class={`badge decision-${kind}`}>{code === "rate_limited" ? "rate-limited" : decision}</span>;
}

function Rows(props: { records: AuditRecord[]; outcomes: Map<number, AuditRecord> }) {
  return (
    <div class="table-wrap">
      <table class="audit">
        <caption>Audit records, newest first</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Request</th>
            <th scope="col">Decision</th>
            <th scope="col">Rule</th>
            <th scope="col">Argument keys</th>
            <th scope="col">Upstream status</th>
          </tr>
        </thead>
        <tbody>
          {props.records.map((record) => {
            const outcome = props.outcomes.get(record.seq);
            return (
              <tr>
                <td>{record.seq}</td>
                <td class="nowrap">{when(record.time)}</td>
                <td>
                  {record.type === "admin" ? <em>admin</em> : <code>{record.rpcMethod ?? record.httpMethod ?? ""}</code>}
                  {record.tool !== null ? (
                    <>
                      {" "}
                      <strong class="tool-name">{record.tool}</strong>
                    </>
                  ) : null}
                  {record.message !== null ? <div class="hint">{record.message}</div> : null}
                </td>
                <td>
                  <DecisionBadge record={record} />
                  {record.code !== null && record.code !== "rate_limited" ? <div class="hint">{record.code}</div> : null}
                </td>
                <td>{record.rule !== null ? <code>{record.rule}</code> : "—"}</td>
                <td>{record.argKeys === null ? "—" : record.argKeys.length === 0 ? <em>none</em> : record.argKeys.map((key) => <code class="key">{key}</code>)}</td>
                <td>
                  {record.type === "outcome" ? (
                    String(record.status ?? record.decision)
                  ) : outcome !== undefined ? (
                    <>
                      {outcome.status ?? outcome.decision}
                      {outcome.latencyMs !== null ? <span class="hint"> {outcome.latencyMs} ms</span> : null}
                    </>
                  ) : record.decision === "allow" || record.decision === "monitor_deny" ? (
                    <span class="hint">pending</span>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Select(props: { id: string; name: string; label: string; value: string; choices: [string, string][] }) {
  return (
    <label for={props.id}>
      {props.label}
      <select id={props.id} name={props.name}>
        {props.choices.map(([value, label]) => (
          <option value={value} selected={value === props.value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

function AuditPage(props: {
  grants: GrantSummary[];
  filters: Filters;
  records: AuditRecord[] | null;
  outcomes: Map<number, AuditRecord>;
  next: number | null;
  hourly: HourlyCounts | null;
  verified: { ok: true; count: number } | { ok: false; brokenAt: number } | null;
  failure?: AdminFailure;
}) {
  const { filters } = props;
  const keep = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filters, before: "", ...extra })) if (value !== "") params.set(key, value);
    return `/console/audit?${params.toString()}`;
  };
  return (
    <Page title="Audit" nav="audit">
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      {props.grants.length === 0 ? <Notice>No grants yet: every grant keeps its own audit log.</Notice> : null}
      <form method="get" action="/console/audit" class="filters card">
        <Select
          id="audit-grant"
          name="grant"
          label="Grant"
          value={filters.grant}
          choices={[
            ...props.grants.map((grant): [string, string] => [grant.id, `${grant.label} (${grant.serverId})${grant.revoked ? " · revoked" : ""}`]),
            // A deleted grant's log stays readable by id.
            ...(filters.grant !== "" && !props.grants.some((grant) => grant.id === filters.grant) ? [[filters.grant, `${filters.grant} (deleted)`] as [string, string]] : []),
          ]}
        />
        <Select id="audit-show" name="show" label="Show" value={filters.show} choices={Object.entries(SHOW).map(([key, value]) => [key, value.label])} />
        <Select id="audit-decision" name="decision" label="Decision" value={filters.decision} choices={Object.entries(DECISIONS).map(([key, value]) => [key, value.label])} />
        <label for="audit-tool">
          Tool
          <input id="audit-tool" name="tool" value={filters.tool} placeholder="any" autocomplete="off" spellcheck={false} />
        </label>
        <label for="audit-from">
          From (UTC)
          <input id="audit-from" name="from" type="datetime-local" value={filters.from} />
        </label>
        <label for="audit-to">
          To (UTC)
          <input id="audit-to" name="to" type="datetime-local" value={filters.to} />
        </label>
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      {filters.grant !== "" ? (
        <>
          <section aria-labelledby="per-hour">
            <h2 id="per-hour">Calls per hour, last 24 hours</h2>
            {props.hourly !== null ? <HourlyChart hours={props.hourly.hours} /> : null}
            {props.hourly !== null && !props.hourly.complete ? (
              <Notice kind="warn">Counted back to {when(props.hourly.countedFrom)} only: older hours of this busy grant are incomplete.</Notice>
            ) : null}
          </section>
          <section aria-labelledby="chain">
            <h2 id="chain">Hash chain</h2>
            <form method="get" action="/console/audit" class="inline">
              {Object.entries(filters).map(([key, value]) => (value !== "" ? <input type="hidden" name={key} value={value} /> : null))}
              <input type="hidden" name="verify" value="1" />
              <button type="submit">Verify chain</button>
            </form>
            {props.verified !== null ? (
              props.verified.ok ? (
                <p class="notice ok" role="status" id="verify-result">
                  Chain intact: all {props.verified.count} records link and hash correctly.
                </p>
              ) : (
                <p class="notice error" role="alert" id="verify-result">
                  Chain broken at record {props.verified.brokenAt}: that record or one before it was changed, removed or reordered.
                </p>
              )
            ) : null}
          </section>
          <section aria-labelledby="records">
            <h2 id="records">Records</h2>
            {props.records !== null && props.records.length === 0 ? <p>No records match.</p> : null}
            {props.records !== null && props.records.length > 0 ? <Rows records={props.records} outcomes={props.outcomes} /> : null}
            <nav class="pager" aria-label="Audit pages">
              {filters.before !== "" ? <a href={keep({})}>Newest</a> : null}
              {props.next !== null ? <a href={keep({ before: String(props.next) })}>Older →</a> : null}
            </nav>
          </section>
        </>
      ) : null}
    </Page>
  );
}

audit.get("/audit", async (c: C) => {
  const admin = adminFor(c);
  const { grants } = valueOf(await admin<{ grants: GrantSummary[] }>("GET", "/grants"));
  const query = (name: string) => c.req.query(name) ?? "";
  const filters: Filters = {
    grant: query("grant") || (grants[0]?.id ?? ""),
    decision: DECISIONS[query("decision")] ? query("decision") : "",
    tool: query("tool"),
    from: query("from"),
    to: query("to"),
    show: SHOW[query("show")] ? query("show") : "calls",
    before: query("before"),
  };
  if (filters.grant === "") return c.html(<AuditPage grants={grants} filters={filters} records={null} outcomes={new Map()} next={null} hourly={null} verified={null} />);
  const base = `/grants/${encodeURIComponent(filters.grant)}/audit`;
  const [page, hourly, verified] = await Promise.all([
    admin<{ records: AuditRecord[]; next: number | null }>("GET", `${base}?${auditQuery(filters)}`),
    admin<HourlyCounts>("GET", `${base}/hourly?hours=24`),
    query("verify") === "1" ? admin<{ ok: true; count: number } | { ok: false; brokenAt: number }>("GET", `${base}/verify`) : Promise.resolve(null),
  ]);
  if (!page.ok) {
    return c.html(<AuditPage grants={grants} filters={filters} records={null} outcomes={new Map()} next={null} hourly={null} verified={null} failure={page.error} />, 400);
  }
  // Each forwarded request's outcome record names its first decision record (ref); it follows it.
  const outcomes = new Map<number, AuditRecord>();
  const oldest = page.value.records.at(-1)?.seq;
  if (oldest !== undefined && page.value.records.some((record) => record.type === "decision")) {
    const found = await admin<{ records: AuditRecord[] }>("GET", `${base}?type=outcome&after=${oldest - 1}&limit=1000`);
    if (found.ok) for (const outcome of found.value.records) if (outcome.ref !== null && !outcomes.has(outcome.ref)) outcomes.set(outcome.ref, outcome);
  }
  return c.html(
    <AuditPage
      grants={grants}
      filters={filters}
      records={page.value.records}
      outcomes={outcomes}
      next={page.value.next}
      hourly={hourly.ok ? hourly.value : null}
      verified={verified === null ? null : verified.ok ? verified.value : null}
    />,
  );
});
