/**
 * The audit page's records table: per record its sequence number, time, JSON-RPC method and tool,
 * decision and code, rule (a JSON pointer into the policy), argument keys (never values), and the
 * upstream status and latency from the outcome record that names it.
 */
import type { AuditRecord } from "../../grant/protocol";
import { when } from "../layout";

function DecisionBadge(props: { record: AuditRecord }) {
  const { decision, code } = props.record;
  const kind =
    decision === "allow"
      ? "allow"
      : code === "rate_limited"
        ? "limited"
        : decision === "deny" || decision === "reject"
          ? "deny"
          : decision === "monitor_deny"
            ? "monitor"
            : "other";
  return <span class={`badge decision-${kind}`}>{code === "rate_limited" ? "rate-limited" : decision}</span>;
}

/** What the upstream answered: the record's own status for an outcome, else its outcome's, or "pending". */
function UpstreamStatus(props: { record: AuditRecord; outcome: AuditRecord | undefined }) {
  const { record, outcome } = props;
  if (record.type === "outcome") return <>{String(record.status ?? record.decision)}</>;
  if (outcome !== undefined) {
    return (
      <>
        {outcome.status ?? outcome.decision}
        {outcome.latencyMs !== null ? <span class="hint"> {outcome.latencyMs} ms</span> : null}
      </>
    );
  }
  return record.decision === "allow" || record.decision === "monitor_deny" ? <span class="hint">pending</span> : <>—</>;
}

function RecordRow(props: { record: AuditRecord; outcome: AuditRecord | undefined }) {
  const { record } = props;
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
        <UpstreamStatus record={record} outcome={props.outcome} />
      </td>
    </tr>
  );
}

/** `outcomes` maps a decision record's sequence number to the outcome record that names it. */
export function RecordsTable(props: { records: AuditRecord[]; outcomes: Map<number, AuditRecord> }) {
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
          {props.records.map((record) => (
            <RecordRow record={record} outcome={props.outcomes.get(record.seq)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
