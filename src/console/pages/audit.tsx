/**
 * Audit: one grant's log, newest first, filtered by decision, tool and time (UTC) (audit-filters.tsx),
 * with each call's argument keys, rule and upstream status (audit-records.tsx), a "verify chain"
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
import { auditQuery, FilterForm, readFilters, type Filters } from "./audit-filters";
import { RecordsTable } from "./audit-records";
import type { GrantSummary } from "./grants";

export const audit = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

type Verified = { ok: true; count: number } | { ok: false; brokenAt: number };

function ChartSection(props: { hourly: HourlyCounts | null }) {
  const { hourly } = props;
  return (
    <section aria-labelledby="per-hour">
      <h2 id="per-hour">Calls per hour, last 24 hours</h2>
      {hourly !== null ? <HourlyChart hours={hourly.hours} /> : null}
      {hourly !== null && !hourly.complete ? (
        <Notice kind="warn">Counted back to {when(hourly.countedFrom)} only: older hours of this busy grant are incomplete.</Notice>
      ) : null}
    </section>
  );
}

function ChainSection(props: { filters: Filters; verified: Verified | null }) {
  const { verified } = props;
  return (
    <section aria-labelledby="chain">
      <h2 id="chain">Hash chain</h2>
      <form method="get" action="/console/audit" class="inline">
        {Object.entries(props.filters).map(([key, value]) => (value !== "" ? <input type="hidden" name={key} value={value} /> : null))}
        <input type="hidden" name="verify" value="1" />
        <button type="submit">Verify chain</button>
      </form>
      {verified !== null ? (
        verified.ok ? (
          <p class="notice ok" role="status" id="verify-result">
            Chain intact: all {verified.count} records link and hash correctly.
          </p>
        ) : (
          <p class="notice error" role="alert" id="verify-result">
            Chain broken at record {verified.brokenAt}: that record or one before it was changed, removed or reordered.
          </p>
        )
      ) : null}
    </section>
  );
}

function RecordsSection(props: { filters: Filters; records: AuditRecord[] | null; outcomes: Map<number, AuditRecord>; next: number | null }) {
  const { filters, records } = props;
  const keep = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filters, before: "", ...extra })) if (value !== "") params.set(key, value);
    return `/console/audit?${params.toString()}`;
  };
  return (
    <section aria-labelledby="records">
      <h2 id="records">Records</h2>
      {records !== null && records.length === 0 ? <p>No records match.</p> : null}
      {records !== null && records.length > 0 ? <RecordsTable records={records} outcomes={props.outcomes} /> : null}
      <nav class="pager" aria-label="Audit pages">
        {filters.before !== "" ? <a href={keep({})}>Newest</a> : null}
        {props.next !== null ? <a href={keep({ before: String(props.next) })}>Older →</a> : null}
      </nav>
    </section>
  );
}

function AuditPage(props: {
  grants: GrantSummary[];
  filters: Filters;
  records: AuditRecord[] | null;
  outcomes: Map<number, AuditRecord>;
  next: number | null;
  hourly: HourlyCounts | null;
  verified: Verified | null;
  failure?: AdminFailure;
}) {
  const { filters } = props;
  return (
    <Page title="Audit" nav="audit">
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      {props.grants.length === 0 ? <Notice>No grants yet: every grant keeps its own audit log.</Notice> : null}
      <FilterForm grants={props.grants} filters={filters} />
      {filters.grant !== "" ? (
        <>
          <ChartSection hourly={props.hourly} />
          <ChainSection filters={filters} verified={props.verified} />
          <RecordsSection filters={filters} records={props.records} outcomes={props.outcomes} next={props.next} />
        </>
      ) : null}
    </Page>
  );
}

audit.get("/audit", async (c: C) => {
  const admin = adminFor(c);
  const { grants } = valueOf(await admin<{ grants: GrantSummary[] }>("GET", "/grants"));
  const query = (name: string) => c.req.query(name) ?? "";
  const filters = readFilters(query, grants);
  if (filters.grant === "")
    return c.html(<AuditPage grants={grants} filters={filters} records={null} outcomes={new Map()} next={null} hourly={null} verified={null} />);
  const base = `/grants/${encodeURIComponent(filters.grant)}/audit`;
  const [page, hourly, verified] = await Promise.all([
    admin<{ records: AuditRecord[]; next: number | null }>("GET", `${base}?${auditQuery(filters)}`),
    admin<HourlyCounts>("GET", `${base}/hourly?hours=24`),
    query("verify") === "1" ? admin<Verified>("GET", `${base}/verify`) : Promise.resolve(null),
  ]);
  if (!page.ok) {
    return c.html(
      <AuditPage grants={grants} filters={filters} records={null} outcomes={new Map()} next={null} hourly={null} verified={null} failure={page.error} />,
      400,
    );
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
