/**
 * Reviewing and saving a policy, under /console/servers/:id/policies/:name:
 *
 *   POST …/review        the diff against the current version, and the save button
 *   POST …/save          PUT through the admin API
 *
 * If someone saved in between, the review is shown again against the new current version. The save
 * goes through the API and shows its answer.
 */
import { Hono } from "hono";
import { adminFor, type AdminFailure } from "../admin-client";
import { formToPolicy } from "../builder/document";
import { readForm } from "../builder/fields";
import { PolicyErrors } from "../builder/json-pane";
import { pretty, readPolicyText, type ReadText } from "../builder/policy-text";
import { diffLines, diffSize, diffText } from "../diff";
import { DiffView } from "../diff-view";
import { readPostedForm, type PostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page } from "../layout";
import { apiBase, loadTarget, type Target } from "./policy-target";

export const policyReview = new Hono<ConsoleEnv>();

/** The text the operator means: the JSON pane if they edited it last, else the form's document. */
function postedDocumentText(posted: PostedForm): string {
  if (posted.get("source") === "json") return posted.get("document") ?? "";
  if (posted.entries.some(([name]) => name === "default")) return pretty(formToPolicy(readForm(posted.entries)));
  return posted.get("document") ?? "";
}

function ReviewPage(props: { target: Target; text: string; read: ReadText; failure?: AdminFailure }) {
  const { target, text, read } = props;
  const current = target.current;
  // Both sides as parsePolicy returns them (the stored version was saved that way), so only meaning differs.
  const lines = read.ok ? diffLines(current === null ? "" : diffText(current.document), diffText(read.document)) : [];
  const unchanged = read.ok && diffSize(lines).added === 0 && diffSize(lines).removed === 0;
  return (
    <Page title={`Review “${target.name}”`} nav="servers">
      {props.failure ? <ErrorBox failure={props.failure} title="Not saved" /> : null}
      {!read.ok ? <PolicyErrors errors={read.errors} syntax={read.syntax} /> : null}
      {read.ok ? <DiffView lines={lines} label={current === null ? "New policy (version 1)" : `Changes against version ${current.version}`} /> : null}
      {unchanged ? <Notice kind="warn">No changes against version {current?.version}; saving makes an identical new version.</Notice> : null}
      <div class="actions">
        {read.ok ? (
          <form method="post" action={`${target.base}/save`} class="inline">
            <input type="hidden" name="document" value={text} />
            <input type="hidden" name="base" value={String(current?.version ?? 0)} />
            <button type="submit" class="primary">
              Save as version {(current?.version ?? 0) + 1}
            </button>
          </form>
        ) : null}
        <form method="post" action={target.base} class="inline">
          <input type="hidden" name="document" value={text} />
          <button type="submit">Keep editing</button>
        </form>
      </div>
    </Page>
  );
}

policyReview.post("/servers/:id/policies/:name/review", async (c) => {
  const target = await loadTarget(c);
  const text = postedDocumentText(await readPostedForm(c));
  const read = readPolicyText(text);
  return c.html(<ReviewPage target={target} text={text} read={read} />, read.ok ? 200 : 400);
});

policyReview.post("/servers/:id/policies/:name/save", async (c) => {
  const target = await loadTarget(c);
  const posted = await readPostedForm(c);
  const text = posted.get("document") ?? "";
  const base = Number(posted.get("base") ?? "0");
  // Someone saved in between: show the diff against what is current now.
  if ((target.current?.version ?? 0) !== base) {
    const failure = {
      status: 409,
      error: "policy_changed",
      message: `Version ${target.current?.version} was saved since you reviewed; review the changes again.`,
    };
    return c.html(<ReviewPage target={target} text={text} read={readPolicyText(text)} failure={failure} />, 409);
  }
  const saved = await adminFor(c)<{ version: number }>("PUT", apiBase(target.server.id, target.name), text);
  if (!saved.ok) return c.html(<ReviewPage target={target} text={text} read={readPolicyText(text)} failure={saved.error} />, 400);
  return c.redirect(`${target.base}?saved=${saved.value.version}`, 303);
});
