/**
 * The approvals inbox's parts: a pending request with its argument values and the decision form,
 * and the table of recent decisions. Argument names and values, tool names, labels and reasons are
 * the agent's or an upstream's text: JSX text only (escaped), never an id, class, URL or field name.
 */
import { MAX_REASON_CHARS } from "../../grant/approval-records";
import type { ApprovalView } from "../../grant/approvals";
import { argumentRows } from "../inbox";
import { when } from "../layout";
import { grantPath } from "./grants";

const serverLink = (serverId: string) => `/console/servers/${encodeURIComponent(serverId)}`;

function ArgumentValues(props: { view: ApprovalView }) {
  const args = props.view.arguments;
  if (args === undefined) return <p class="hint">The values are no longer held: the request was decided or expired as this page loaded.</p>;
  const rows = argumentRows(args);
  if (rows.length === 0) return <p class="hint">No arguments.</p>;
  return (
    <div class="table-wrap">
      <table class="arguments">
        <caption>Arguments, exactly as the call carries them (JSON)</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr>
              <th scope="row">
                <code>{row.name}</code>
              </th>
              <td>
                <pre>{row.value}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DecisionForm(props: { view: ApprovalView; index: number }) {
  const reason = `approval-reason-${props.index}`;
  return (
    <form method="post" action="/console/approvals/decide" class="decision">
      {/* The id travels in the form, as the pins' Approve does; the console's URL carries no request data. */}
      <input type="hidden" name="id" value={props.view.id} />
      <label for={reason}>Reason (optional; the agent is told it on rejection, the audit log keeps it)</label>
      <textarea id={reason} name="reason" rows={2} maxlength={MAX_REASON_CHARS}></textarea>
      <div class="actions">
        <button type="submit" name="verdict" value="approve" class="primary">
          Approve
        </button>
        <button type="submit" name="verdict" value="reject" class="danger">
          Reject
        </button>
      </div>
    </form>
  );
}

export function PendingApproval(props: { view: ApprovalView; index: number; now: number }) {
  const { view } = props;
  const minutes = Math.max(0, Math.round((Date.parse(view.expires) - props.now) / 60_000));
  return (
    <article class="approval card" aria-labelledby={`approval-${props.index}`}>
      <h3 id={`approval-${props.index}`}>
        <span class="tool-name">{view.tool}</span> for grant “{view.grantLabel}”
      </h3>
      <dl class="facts">
        <dt>Server</dt>
        <dd>
          <a href={serverLink(view.serverId)}>{view.serverId}</a>
        </dd>
        <dt>Grant</dt>
        <dd>
          <a href={`/console${grantPath(view.grantId)}`}>{view.grantLabel}</a> <code>{view.grantId}</code>
        </dd>
        <dt>Tool</dt>
        <dd class="tool-name break">{view.tool}</dd>
        <dt>Requested</dt>
        <dd>{when(view.requested)}</dd>
        <dt>Expires</dt>
        <dd>
          {when(view.expires)} ({minutes < 1 ? "in under a minute" : `in about ${minutes} min`})
        </dd>
        <dt>Rule</dt>
        <dd>
          <code>{view.rule}</code> of policy {view.policy.name} v{view.policy.version}
        </dd>
        <dt>Request</dt>
        <dd>
          <code class="break">{view.id}</code>
        </dd>
      </dl>
      <ArgumentValues view={view} />
      <DecisionForm view={view} index={props.index} />
    </article>
  );
}

const STATUS_CLASS: Record<string, string> = { approved: "decision-allow", consumed: "decision-allow", rejected: "decision-deny", expired: "decision-other" };

export function DecidedApprovals(props: { list: ApprovalView[] }) {
  return (
    <div class="table-wrap">
      <table class="decided">
        <caption>Decided recently (values are erased once a request is decided)</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Tool</th>
            <th scope="col">Grant</th>
            <th scope="col">Server</th>
            <th scope="col">Decided</th>
            <th scope="col">By</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {props.list.map((view) => (
            <tr>
              <td>
                <span class={`badge ${STATUS_CLASS[view.status] ?? "decision-other"}`}>{view.status === "consumed" ? "approved, used" : view.status}</span>
              </td>
              <td class="tool-name break">{view.tool}</td>
              <td>
                <a href={`/console${grantPath(view.grantId)}`}>{view.grantLabel}</a>
              </td>
              <td>
                <a href={serverLink(view.serverId)}>{view.serverId}</a>
              </td>
              <td>{view.decided === null ? `expired ${when(view.expires)}` : when(view.decided)}</td>
              <td>{view.decidedBy ?? "—"}</td>
              <td class="description">{view.reason ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
