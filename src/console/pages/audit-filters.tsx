/**
 * The audit page's filters: decision, tool, time range (UTC) and what to show, read from the page's
 * query and turned into the admin API's audit query (GET /admin/grants/:id/audit).
 */
import type { GrantSummary } from "./grants";

export const PAGE_SIZE = 50;

/** The decision filter's choices and the admin API query each one means. */
export const DECISIONS: Record<string, { label: string; query: Record<string, string> }> = {
  "": { label: "any", query: {} },
  allow: { label: "allowed", query: { decision: "allow" } },
  deny: { label: "denied (any reason)", query: { decision: "deny" } },
  rate_limited: { label: "rate-limited", query: { decision: "deny", code: "rate_limited" } },
  monitor_deny: { label: "would deny (monitor mode)", query: { decision: "monitor_deny" } },
  reject: { label: "rejected (unauthenticated, unknown session)", query: { decision: "reject" } },
};

export const SHOW: Record<string, { label: string; type: string | null }> = {
  calls: { label: "requests", type: "decision" },
  admin: { label: "admin changes", type: "admin" },
  all: { label: "every record", type: null },
};

export interface Filters {
  grant: string;
  decision: string;
  tool: string;
  from: string;
  to: string;
  show: string;
  before: string;
}

/** The filters a page's query names; the grant defaults to the first one listed. */
export function readFilters(query: (name: string) => string, grants: readonly GrantSummary[]): Filters {
  return {
    grant: query("grant") || (grants[0]?.id ?? ""),
    decision: DECISIONS[query("decision")] ? query("decision") : "",
    tool: query("tool"),
    from: query("from"),
    to: query("to"),
    show: SHOW[query("show")] ? query("show") : "calls",
    before: query("before"),
  };
}

/** A datetime-local value read as UTC (the page says so), or null when empty or unreadable. */
function utc(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const time = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** The admin API query of a page of records. */
export function auditQuery(filters: Filters): string {
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

/** The filter form; a deleted grant's id is kept as a choice, since its log stays readable by id. */
export function FilterForm(props: { grants: GrantSummary[]; filters: Filters }) {
  const { filters } = props;
  return (
    <form method="get" action="/console/audit" class="filters card">
      <Select
        id="audit-grant"
        name="grant"
        label="Grant"
        value={filters.grant}
        choices={[
          ...props.grants.map((grant): [string, string] => [grant.id, `${grant.label} (${grant.serverId})${grant.revoked ? " · revoked" : ""}`]),
          // A deleted grant's log stays readable by id.
          ...(filters.grant !== "" && !props.grants.some((grant) => grant.id === filters.grant)
            ? [[filters.grant, `${filters.grant} (deleted)`] as [string, string]]
            : []),
        ]}
      />
      <Select id="audit-show" name="show" label="Show" value={filters.show} choices={Object.entries(SHOW).map(([key, value]) => [key, value.label])} />
      <Select
        id="audit-decision"
        name="decision"
        label="Decision"
        value={filters.decision}
        choices={Object.entries(DECISIONS).map(([key, value]) => [key, value.label])}
      />
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
  );
}
