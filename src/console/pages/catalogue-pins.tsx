/**
 * The server page's tool pinning (docs/console.md, "Tool pinning"), from GET
 * /admin/servers/:id/pins: quarantined tools first and prominently, each with a diff of its
 * approved definition against what the upstream lists now (src/console/quarantine.ts) and an
 * "Approve" button; then the pinned definitions.
 *
 * Definitions, names and descriptions are the upstream's text: JSX text and attribute values only.
 * The Approve form posts the tool's name as a form value; element ids come from row indexes.
 */
import type { AdminAnswer } from "../admin-client";
import { DiffView } from "../diff-view";
import { ErrorBox } from "../layout";
import { approvableByName, changedMembers, definitionDiff, shortFingerprint } from "../quarantine";

/** GET /admin/servers/:id/pins. */
export interface PinsAnswer {
  serverId: string;
  /** False until a grant whose policy pins tools first lists them. */
  initialized: boolean;
  pins: { tool: string; fingerprint: string; definition: unknown }[];
  quarantined: QuarantinedTool[];
}

interface QuarantinedTool {
  tool: string;
  /** The approved fingerprint; null for a tool that was never approved. */
  pinned: string | null;
  pinnedDefinition: unknown;
  seen: string;
  definition: unknown;
}

function WhatChanged(props: { entry: QuarantinedTool }) {
  const { entry } = props;
  const changed = changedMembers(entry.pinnedDefinition, entry.definition);
  const what =
    entry.pinned === null
      ? "New: listed after the definitions were pinned, never approved."
      : `Changed since it was approved${changed.length > 0 ? `: ${changed.join(", ")}` : ""}.`;
  return (
    <p>
      {what}{" "}
      <span class="hint">
        Approved <code>{shortFingerprint(entry.pinned)}</code>, listed now <code>{shortFingerprint(entry.seen)}</code>.
      </span>
    </p>
  );
}

function Quarantined(props: { approve: string; entry: QuarantinedTool; index: number }) {
  const { entry } = props;
  const heading = `quarantined-${props.index}`;
  return (
    <article class="quarantined" aria-labelledby={heading}>
      <h3 id={heading} class="tool-name">
        {entry.tool}
      </h3>
      <WhatChanged entry={entry} />
      <DiffView
        lines={definitionDiff(entry.pinnedDefinition, entry.definition)}
        label={entry.pinned === null ? "Listed now" : "Approved definition → listed now"}
        wrap
      />
      {approvableByName(entry.tool) ? (
        <form method="post" action={props.approve} class="inline">
          <input type="hidden" name="tool" value={entry.tool} />
          <button type="submit" class="primary" aria-describedby={heading}>
            Approve
          </button>
          <span class="hint">Pins the definition listed now; every grant of this server may list and call the tool again.</span>
        </form>
      ) : (
        <p class="hint">This name cannot travel in the admin API's approve URL (it is not an MCP tool name, or is "." or ".."), so it stays quarantined.</p>
      )}
    </article>
  );
}

/** Nothing unless tools are quarantined; then, before anything else on the page, what changed. */
export function QuarantineSection(props: { pins: AdminAnswer<PinsAnswer>; approve: string }) {
  if (!props.pins.ok || props.pins.value.quarantined.length === 0) return null;
  const { quarantined } = props.pins.value;
  return (
    <section class="quarantine" aria-labelledby="quarantine">
      <h2 id="quarantine">Quarantined tools ({quarantined.length})</h2>
      <p>
        These definitions differ from the ones approved. Every grant of this server whose policy pins tools hides them and refuses their calls until you approve
        what the upstream lists now. Read each change first: a rewritten description is an instruction to the agent.
      </p>
      {quarantined.map((entry, index) => (
        <Quarantined approve={props.approve} entry={entry} index={index} />
      ))}
    </section>
  );
}

function PinnedTable(props: { pins: PinsAnswer["pins"] }) {
  return (
    <details>
      <summary>Pinned definitions ({props.pins.length})</summary>
      <div class="table-wrap">
        <table class="pins">
          <caption>Approved tool definitions and their fingerprints</caption>
          <thead>
            <tr>
              <th scope="col">Tool</th>
              <th scope="col">Fingerprint</th>
            </tr>
          </thead>
          <tbody>
            {props.pins.map((pin) => (
              <tr>
                <td class="tool-name break">{pin.tool}</td>
                <td>
                  <code>{shortFingerprint(pin.fingerprint)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** The pinned definitions, or why there are none yet, or why they could not be read. */
export function PinsSection(props: { pins: AdminAnswer<PinsAnswer> }) {
  const { pins } = props;
  return (
    <section aria-labelledby="pinning">
      <h2 id="pinning">Tool pinning</h2>
      {!pins.ok ? <ErrorBox failure={pins.error} title="The pinned definitions could not be read" /> : null}
      {pins.ok && !pins.value.initialized ? (
        <p>
          Nothing pinned yet. A grant whose policy sets <code>"pin_tools": true</code> pins this server's tool definitions when it first lists them (the
          catalogue's, if it was discovered); a definition that changes after that is quarantined above until approved.
        </p>
      ) : null}
      {pins.ok && pins.value.initialized ? <PinnedTable pins={pins.value.pins} /> : null}
    </section>
  );
}
