/**
 * The policy builder and a policy's version history, under /console/servers/:id/policies/:name.
 *
 *   GET  …               the builder, from the latest version (or empty for a new name)
 *   POST …               the builder, from a posted document (back from the review step)
 *   POST …/json          htmx: form fields → the JSON pane and its errors
 *   POST …/form          htmx: JSON text → the form (only when the JSON is a valid policy)
 *   POST …/edit          add/remove rows, re-render after a select, "start from recommended"
 *   POST …/review        the diff against the current version, and the save button
 *   POST …/save          PUT through the admin API
 *   GET  …/history       every version's diff against the one before
 *   GET/POST …/delete    asks, then deletes the name (its grants then deny every call)
 *
 * Errors are the admin API's own: JSON text goes through the strict parser the API uses
 * (src/mcp/json.ts) and documents through `parsePolicy`, so a pointer shown here is the one a save
 * would answer with. The save itself goes through the API and shows its answer.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { parseStrictJson } from "../../mcp/json";
import { formatPolicyErrors, parsePolicy, type PolicyDocument, type PolicyError } from "../../policy/schema";
import { adminFor, valueOf, type AdminFailure } from "../admin-client";
import { applyAction, emptyForm, formToPolicy, policyToForm, readForm, type BuilderForm } from "../builder/form";
import { argumentPaths, BuilderFields, JsonPane, PolicyErrors, type BuilderUrls, type ToolFacts } from "../builder/view";
import { diffLines, diffSize, diffText, type DiffLine } from "../diff";
import { readPostedForm, type PostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import type { CatalogueView } from "./catalogue";
import type { ServerSummary } from "./servers";

export const policies = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

interface PolicyAnswer {
  name: string;
  version: number;
  document: PolicyDocument;
  updated: string;
}

interface Target {
  server: ServerSummary;
  name: string;
  base: string;
  urls: BuilderUrls;
  facts: Map<string, ToolFacts>;
  toolNames: string[];
  current: PolicyAnswer | null;
}

const apiBase = (serverId: string, name: string) => `/servers/${encodeURIComponent(serverId)}/policies/${encodeURIComponent(name)}`;

/** The server, its catalogue (as the builder's rows) and the policy's latest version, if any. */
async function loadTarget(c: C): Promise<Target> {
  const admin = adminFor(c);
  const serverId = c.req.param("id") ?? "";
  const name = c.req.param("name") ?? "";
  const server = valueOf(await admin<ServerSummary>("GET", `/servers/${encodeURIComponent(serverId)}`));
  const [tools, current] = await Promise.all([
    admin<CatalogueView>("GET", `/servers/${encodeURIComponent(server.id)}/tools`),
    admin<PolicyAnswer>("GET", apiBase(server.id, name)),
  ]);
  // A name the API refuses (invalid_policy_name) is shown as its error, not as a new policy.
  if (!current.ok && current.error.error !== "policy_not_found") valueOf(current);
  const facts = new Map<string, ToolFacts>();
  for (const tool of valueOf(tools).tools) {
    facts.set(tool.name, { risk: tool.risk, category: tool.category, description: tool.description, paths: argumentPaths(tool.definition.inputSchema) });
  }
  const base = `/console${apiBase(server.id, name)}`;
  return {
    server,
    name,
    base,
    urls: { json: `${base}/json`, form: `${base}/form`, edit: `${base}/edit`, review: `${base}/review` },
    facts,
    toolNames: [...facts.keys()],
    current: current.ok ? current.value : null,
  };
}

const pretty = (document: unknown): string => JSON.stringify(document, null, 2);

/** parsePolicy's errors for a document the form produced (null: valid). */
function documentErrors(document: unknown): PolicyError[] | null {
  const parsed = parsePolicy(document);
  return parsed.ok ? null : parsed.error;
}

type ReadText = { ok: true; document: PolicyDocument; raw: unknown } | { ok: false; syntax: string | null; errors: PolicyError[] | null };

/** JSON text as the admin API reads a policy body: the strict parser, then parsePolicy. */
function readPolicyText(text: string): ReadText {
  const json = parseStrictJson(text);
  if (!json.ok) {
    const at = json.error.offset === undefined ? "" : ` (at character ${json.error.offset})`;
    return { ok: false, syntax: `${json.error.message}${at}`, errors: null };
  }
  const parsed = parsePolicy(json.value);
  return parsed.ok ? { ok: true, document: parsed.value, raw: json.value } : { ok: false, syntax: null, errors: parsed.error };
}

function BuilderPage(props: { target: Target; form: BuilderForm; text: string; errors: PolicyError[] | null; syntax?: string | null; saved?: number | null; failure?: AdminFailure; touched?: number | null }) {
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
      {props.saved != null ? <Notice kind="ok">Saved version {props.saved}. Grants using “{target.name}” enforce it from their next request.</Notice> : null}
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
          <span class="hint">Fills the form from the catalogue's recommendation: reads, writes and execute tools allowed and rate-capped; destructive and financial tools denied.</span>
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
  if (!isHtmx(c)) return c.html(<BuilderPage target={target} form={form} text={pretty(document)} errors={documentErrors(document)} touched={touched} failure={failure} />);
  return c.html(
    <>
      <BuilderFields urls={target.urls} form={form} facts={target.facts} touched={touched} />
      <JsonPane urls={target.urls} text={pretty(document)} errors={documentErrors(document)} oob notice={failure ? <ErrorBox failure={failure} title="No recommendation" /> : null} />
    </>,
  );
});

function DiffView(props: { lines: DiffLine[]; label: string }) {
  const size = diffSize(props.lines);
  return (
    <figure class="diff">
      <figcaption>
        {props.label}: <span class="added">+{size.added}</span> <span class="removed">−{size.removed}</span>
      </figcaption>
      <pre>
        {props.lines.map((line) => (
          <span class={`line ${line.kind}`}>
            <span class="sign" aria-hidden="true">
              {line.kind === "added" ? "+" : line.kind === "removed" ? "−" : " "}
            </span>
            <span class="visually-hidden">{line.kind === "same" ? "" : `${line.kind}: `}</span>
            {line.text}
            {"\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}

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

policies.post("/servers/:id/policies/:name/review", async (c) => {
  const target = await loadTarget(c);
  const text = postedDocumentText(await readPostedForm(c));
  const read = readPolicyText(text);
  return c.html(<ReviewPage target={target} text={text} read={read} />, read.ok ? 200 : 400);
});

policies.post("/servers/:id/policies/:name/save", async (c) => {
  const target = await loadTarget(c);
  const posted = await readPostedForm(c);
  const text = posted.get("document") ?? "";
  const base = Number(posted.get("base") ?? "0");
  // Someone saved in between: show the diff against what is current now.
  if ((target.current?.version ?? 0) !== base) {
    const failure = { status: 409, error: "policy_changed", message: `Version ${target.current?.version} was saved since you reviewed; review the changes again.` };
    return c.html(<ReviewPage target={target} text={text} read={readPolicyText(text)} failure={failure} />, 409);
  }
  const saved = await adminFor(c)<{ version: number }>("PUT", apiBase(target.server.id, target.name), text);
  if (!saved.ok) return c.html(<ReviewPage target={target} text={text} read={readPolicyText(text)} failure={saved.error} />, 400);
  return c.redirect(`${target.base}?saved=${saved.value.version}`, 303);
});

interface VersionAnswer {
  version: number;
  document: unknown;
  created: string;
}

/** Versions shown per history page. */
const HISTORY_PAGE = 10;

policies.get("/servers/:id/policies/:name/history", async (c) => {
  const target = await loadTarget(c);
  if (target.current === null) return c.redirect(target.base, 303);
  const latest = target.current.version;
  const from = Math.min(latest, Math.max(1, Number(c.req.query("from") ?? latest) || latest));
  const lowest = Math.max(1, from - HISTORY_PAGE + 1);
  const admin = adminFor(c);
  const numbers = Array.from({ length: from - Math.max(1, lowest - 1) + 1 }, (_, index) => from - index);
  const answers = await Promise.all(numbers.map((n) => admin<VersionAnswer>("GET", `${apiBase(target.server.id, target.name)}/versions/${n}`)));
  const versions = new Map(answers.filter((a) => a.ok).map((a) => [(a as { value: VersionAnswer }).value.version, (a as { value: VersionAnswer }).value]));
  return c.html(
    <Page title={`History of “${target.name}”`} nav="servers">
      <p>
        <a href={target.base}>← Builder</a>
      </p>
      {numbers
        .filter((n) => n >= lowest)
        .map((n) => {
          const version = versions.get(n);
          const previous = versions.get(n - 1);
          if (version === undefined) return <p>Version {n} could not be read.</p>;
          return (
            <section aria-label={`Version ${n}`}>
              <h2>
                Version {n} <span class="hint">{when(version.created)}</span>
              </h2>
              <DiffView lines={diffLines(previous === undefined ? "" : diffText(previous.document), diffText(version.document))} label={n === 1 ? "First version" : `Against version ${n - 1}`} />
            </section>
          );
        })}
      {lowest > 1 ? (
        <p>
          <a href={`${target.base}/history?from=${lowest - 1}`}>Older versions →</a>
        </p>
      ) : null}
    </Page>,
  );
});

function DeletePolicyPage(props: { target: Target; failure?: AdminFailure }) {
  const { target } = props;
  return (
    <Page title={`Delete policy “${target.name}”?`} nav="servers">
      {props.failure ? <ErrorBox failure={props.failure} title="Not deleted" /> : null}
      <p>Grants using “{target.name}” deny every call from their next request until they are given another policy. Its versions stay readable, and saving the name again continues their numbering.</p>
      <form method="post" action={`${target.base}/delete`} class="inline">
        <button type="submit" class="danger">
          Delete “{target.name}”
        </button>
        <a href={target.base}>Cancel</a>
      </form>
    </Page>
  );
}

policies.get("/servers/:id/policies/:name/delete", async (c) => {
  const target = await loadTarget(c);
  if (target.current === null) return c.redirect(target.base, 303);
  return c.html(<DeletePolicyPage target={target} />);
});

policies.post("/servers/:id/policies/:name/delete", async (c) => {
  const target = await loadTarget(c);
  const deleted = await adminFor(c)("DELETE", apiBase(target.server.id, target.name));
  if (!deleted.ok) return c.html(<DeletePolicyPage target={target} failure={deleted.error} />, 409);
  return c.redirect(`/console/servers/${encodeURIComponent(target.server.id)}`, 303);
});
