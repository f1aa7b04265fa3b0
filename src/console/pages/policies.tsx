/**
 * The policy builder, under /console/servers/:id/policies/:name (reviewing and saving:
 * policy-review.tsx; history: policy-history.tsx; deleting: policy-delete.tsx).
 *
 *   GET  …               the builder, from the latest version (or empty for a new name)
 *   POST …               the builder, from a posted document (back from the review step)
 *   POST …/json          htmx: form fields → the JSON pane and its errors
 *   POST …/form          htmx: JSON text → the form (only when the JSON is a valid policy)
 *   POST …/edit          add/remove rows, re-render after a select, "start from recommended"
 *
 * Errors are the admin API's own (src/console/builder/policy-text.ts).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { formatPolicyErrors, parsePolicy, type PolicyDocument, type PolicyError } from "../../policy/schema";
import { adminFor, type AdminFailure } from "../admin-client";
import { formToPolicy, policyToForm } from "../builder/document";
import { applyAction } from "../builder/edits";
import { readForm } from "../builder/fields";
import { emptyForm, type BuilderForm } from "../builder/form";
import { JsonPane, PolicyErrors } from "../builder/json-pane";
import { documentErrors, pretty, readPolicyText } from "../builder/policy-text";
import { BuilderFields } from "../builder/view";
import { readPostedForm, type PostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import { loadTarget, type Target } from "./policy-target";

export const policies = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

function BuilderPage(props: {
  target: Target;
  form: BuilderForm;
  text: string;
  errors: PolicyError[] | null;
  syntax?: string | null;
  saved?: number | null;
  failure?: AdminFailure;
  touched?: number | null;
}) {
  const { target } = props;
  const serverPage = `/console/servers/${encodeURIComponent(target.server.id)}`;
  return (
    <Page title={`Policy “${target.name}” on ${target.server.name}`} nav="servers">
      <p>
        <a href={serverPage}>← {target.server.name}</a>
        {target.current !== null ? (
          <>
            {" · "}
            <a href={`${target.base}/history`}>Version history</a>
            {" · "}
            <a href={`${target.base}/delete`}>Delete…</a>
          </>
        ) : null}
      </p>
      {props.saved != null ? (
        <Notice kind="ok">
          Saved version {props.saved}. Grants using “{target.name}” enforce it from their next request.
        </Notice>
      ) : null}
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      <p>
        {target.current === null
          ? "A new policy: nothing is saved until you review and save it."
          : `Editing version ${target.current.version} (saved ${when(target.current.updated)}). Saving makes version ${target.current.version + 1}.`}
      </p>
      <form id="builder" method="post" action={target.urls.review} class="builder">
        <input type="hidden" id="builder-source" name="source" value="form" />
        <div class="builder-bar">
          <button type="submit" name="action" value="recommended" formaction={target.urls.edit} hx-post={target.urls.edit} hx-target="#builder-fields">
            Start from recommended
          </button>
          <span class="hint">
            Fills the form from the catalogue's recommendation: reads, writes and execute tools allowed and rate-capped; destructive and financial tools denied.
          </span>
        </div>
        <div class="builder-columns">
          <BuilderFields urls={target.urls} form={props.form} facts={target.facts} touched={props.touched ?? null} />
          <JsonPane urls={target.urls} text={props.text} errors={props.errors} syntax={props.syntax ?? null} />
        </div>
      </form>
    </Page>
  );
}

const isHtmx = (c: C) => c.req.header("hx-request") === "true";

function builderFromDocument(target: Target, document: PolicyDocument | null, text?: string) {
  const form = document === null ? emptyForm(target.toolNames) : policyToForm(document, target.toolNames);
  const written = formToPolicy(form);
  return { form, text: text ?? pretty(written), errors: documentErrors(written) };
}

policies.get("/servers/:id/policies/:name", async (c) => {
  const target = await loadTarget(c);
  const saved = c.req.query("saved");
  const state = builderFromDocument(target, target.current?.document ?? null);
  return c.html(<BuilderPage target={target} {...state} saved={saved === undefined ? null : Number(saved)} />);
});

/** The builder from a posted document: "keep editing" from the review page. */
policies.post("/servers/:id/policies/:name", async (c) => {
  const target = await loadTarget(c);
  const text = (await readPostedForm(c)).get("document") ?? "";
  const read = readPolicyText(text);
  if (read.ok) return c.html(<BuilderPage target={target} {...builderFromDocument(target, read.document, text)} />);
  const state = builderFromDocument(target, target.current?.document ?? null, text);
  return c.html(<BuilderPage target={target} {...state} errors={read.errors} syntax={read.syntax} />);
});

policies.post("/servers/:id/policies/:name/json", async (c) => {
  const target = await loadTarget(c);
  const form = readForm((await readPostedForm(c)).entries);
  const document = formToPolicy(form);
  return c.html(<JsonPane urls={target.urls} text={pretty(document)} errors={documentErrors(document)} />);
});

policies.post("/servers/:id/policies/:name/form", async (c) => {
  const target = await loadTarget(c);
  const read = readPolicyText((await readPostedForm(c)).get("document") ?? "");
  if (!read.ok) {
    // Leave the form as it is; show why the JSON cannot drive it.
    c.header("HX-Retarget", "#policy-errors");
    c.header("HX-Reswap", "outerHTML");
    return c.html(<PolicyErrors errors={read.errors} syntax={read.syntax} />);
  }
  const form = policyToForm(read.document, target.toolNames);
  return c.html(
    <>
      <BuilderFields urls={target.urls} form={form} facts={target.facts} />
      <PolicyErrors errors={null} oob />
    </>,
  );
});

async function recommendedForm(c: C, target: Target): Promise<{ form: BuilderForm } | { failure: AdminFailure }> {
  const answer = await adminFor(c)<{ policy: unknown }>("GET", `/servers/${encodeURIComponent(target.server.id)}/recommended-policy`);
  if (!answer.ok) return { failure: answer.error };
  const parsed = parsePolicy(answer.value.policy);
  if (!parsed.ok) return { failure: { status: 500, error: "invalid_policy", message: formatPolicyErrors(parsed.error) } };
  return { form: policyToForm(parsed.value, target.toolNames) };
}

policies.post("/servers/:id/policies/:name/edit", async (c) => {
  const target = await loadTarget(c);
  const posted: PostedForm = await readPostedForm(c);
  const action = posted.get("action") ?? "refresh";
  let form = readForm(posted.entries);
  let touched: number | null = null;
  let failure: AdminFailure | undefined;
  if (action === "recommended") {
    const recommended = await recommendedForm(c, target);
    if ("form" in recommended) form = recommended.form;
    else failure = recommended.failure;
  } else if (action !== "refresh") {
    ({ form, touched } = applyAction(form, action));
  }
  const document = formToPolicy(form);
  if (!isHtmx(c))
    return c.html(<BuilderPage target={target} form={form} text={pretty(document)} errors={documentErrors(document)} touched={touched} failure={failure} />);
  return c.html(
    <>
      <BuilderFields urls={target.urls} form={form} facts={target.facts} touched={touched} />
      <JsonPane
        urls={target.urls}
        text={pretty(document)}
        errors={documentErrors(document)}
        oob
        notice={failure ? <ErrorBox failure={failure} title="No recommendation" /> : null}
      />
    </>,
  );
});
