/**
 * A server's page, under /console/servers/:id: its record, any quarantined tools (first, with the
 * change and an Approve button), its policies, its catalogue (catalogue-tools.tsx) and its pinned
 * definitions (catalogue-pins.tsx). "Re-discover tools", the category overrides and approvals post
 * here, and go through the admin API like every console action.
 */
import { Hono } from "hono";
import { adminFor, valueOf, type AdminAnswer, type AdminFailure } from "../admin-client";
import { readPostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import { PinsSection, QuarantineSection, type PinsAnswer } from "./catalogue-pins";
import { CatalogueTable, type CatalogueView } from "./catalogue-tools";
import type { ServerSummary } from "./servers";

export interface PolicyHead {
  name: string;
  latest: number;
  created: string;
  updated: string;
}

export const catalogue = new Hono<ConsoleEnv>();

const serverPath = (id: string) => `/servers/${encodeURIComponent(id)}`;

function ServerFacts(props: { server: ServerSummary; view: CatalogueView }) {
  const { server, view } = props;
  return (
    <dl class="facts">
      <dt>Id</dt>
      <dd>
        <code>{server.id}</code>
      </dd>
      <dt>URL</dt>
      <dd class="break">{server.url}</dd>
      <dt>Credential headers</dt>
      <dd>{server.headers.length === 0 ? "none" : server.headers.join(", ")}</dd>
      <dt>Tools fetched</dt>
      <dd>
        {when(view.fetched)}
        {view.protocolVersion !== null ? ` (protocol ${view.protocolVersion})` : ""}
      </dd>
    </dl>
  );
}

function ServerActions(props: { server: ServerSummary }) {
  const base = `/console${serverPath(props.server.id)}`;
  return (
    <div class="actions">
      <a class="button" href={`${base}/edit`}>
        Edit server
      </a>
      <form method="post" action={`${base}/discover`} class="inline">
        <button type="submit">Re-discover tools</button>
      </form>
      <a class="button" href={`/console/grants?server=${encodeURIComponent(props.server.id)}`}>
        Grants
      </a>
    </div>
  );
}

/** Whether the catalogue can be trusted: stale after a URL or header change, or the last discovery failed. */
function DiscoveryState(props: { view: CatalogueView }) {
  const attempt = props.view.lastAttempt;
  return (
    <>
      {props.view.stale ? <Notice kind="warn">These tools were fetched before the server's URL or headers last changed. Re-discover them.</Notice> : null}
      {attempt?.outcome === "failed" && attempt.error ? (
        <div class="notice error" role="alert">
          The last discovery ({when(attempt.at)}) failed: <code>{attempt.error.code}</code> {attempt.error.message}
        </div>
      ) : null}
    </>
  );
}

function PoliciesSection(props: { server: ServerSummary; policies: PolicyHead[] }) {
  const base = `/console${serverPath(props.server.id)}`;
  return (
    <section aria-labelledby="policies">
      <h2 id="policies">Policies</h2>
      {props.policies.length === 0 ? <p>No policies yet: a grant without one denies every call.</p> : null}
      {props.policies.length > 0 ? (
        <ul class="plain">
          {props.policies.map((policy) => (
            <li>
              <a href={`${base}/policies/${encodeURIComponent(policy.name)}`}>{policy.name}</a> v{policy.latest}, {when(policy.updated)} ·{" "}
              <a href={`${base}/policies/${encodeURIComponent(policy.name)}/history`}>history</a>
            </li>
          ))}
        </ul>
      ) : null}
      <form method="get" action={`${base}/policies`} class="inline">
        <label for="new-policy">New policy named</label>
        <input id="new-policy" name="name" required pattern="[A-Za-z0-9_.\-]{1,64}" placeholder="support" />
        <button type="submit">Open the builder</button>
      </form>
    </section>
  );
}

interface ServerPageProps {
  server: ServerSummary;
  view: CatalogueView;
  policies: PolicyHead[];
  pins: AdminAnswer<PinsAnswer>;
  failure?: AdminFailure;
  failureTitle?: string;
  discovered?: boolean;
  approved?: boolean;
}

function ServerPage(props: ServerPageProps) {
  const { server, view } = props;
  const base = `/console${serverPath(server.id)}`;
  return (
    <Page title={server.name} nav="servers">
      <p>
        <a href="/console/servers">← Servers</a>
      </p>
      {props.failure ? <ErrorBox failure={props.failure} title={props.failureTitle} /> : null}
      {props.discovered ? <Notice kind="ok">Discovered {view.tools.length} tools.</Notice> : null}
      {props.approved ? (
        <Notice kind="ok">Approved: the tool is pinned to the definition it has now, and every grant of this server may list and call it again.</Notice>
      ) : null}
      <ServerFacts server={server} view={view} />
      <ServerActions server={server} />
      <DiscoveryState view={view} />
      <QuarantineSection pins={props.pins} approve={`${base}/pins/approve`} />

      <PoliciesSection server={server} policies={props.policies} />

      <section aria-labelledby="catalogue">
        <h2 id="catalogue">Catalogue</h2>
        {view.tools.length === 0 ? <p>No tools discovered yet.</p> : <CatalogueTable overrides={`${base}/overrides`} tools={view.tools} />}
      </section>

      <PinsSection pins={props.pins} />
    </Page>
  );
}

async function loadServer(c: Parameters<typeof adminFor>[0], id: string) {
  const admin = adminFor(c);
  const server = valueOf(await admin<ServerSummary>("GET", serverPath(id)));
  const [view, policies, pins] = await Promise.all([
    admin<CatalogueView>("GET", `${serverPath(id)}/tools`),
    admin<{ policies: PolicyHead[] }>("GET", `${serverPath(id)}/policies`),
    // Pins that cannot be read are said on the page; the rest of it still works.
    admin<PinsAnswer>("GET", `${serverPath(id)}/pins`),
  ]);
  return { server, view: valueOf(view), policies: valueOf(policies).policies, pins };
}

catalogue.get("/servers/:id", async (c) => {
  const loaded = await loadServer(c, c.req.param("id"));
  return c.html(<ServerPage {...loaded} discovered={c.req.query("discovered") !== undefined} approved={c.req.query("approved") !== undefined} />);
});

catalogue.get("/servers/:id/policies", (c) => {
  const name = c.req.query("name") ?? "";
  return c.redirect(`/console${serverPath(c.req.param("id"))}/policies/${encodeURIComponent(name)}`, 303);
});

catalogue.post("/servers/:id/discover", async (c) => {
  const id = c.req.param("id");
  const discovered = await adminFor(c)("POST", `${serverPath(id)}/discover`);
  if (discovered.ok) return c.redirect(`/console${serverPath(id)}?discovered`, 303);
  return c.html(<ServerPage {...(await loadServer(c, id))} failure={discovered.error} />, 502);
});

catalogue.post("/servers/:id/overrides", async (c) => {
  const id = c.req.param("id");
  const form = await readPostedForm(c);
  const tool = form.get("tool") ?? "";
  const path = `${serverPath(id)}/tools/${encodeURIComponent(tool)}/classification`;
  const admin = adminFor(c);
  const changed = form.get("clear") === "1" ? await admin("DELETE", path) : await admin("PUT", path, { category: form.get("category") ?? "" });
  if (changed.ok) return c.redirect(`/console${serverPath(id)}#catalogue`, 303);
  return c.html(<ServerPage {...(await loadServer(c, id))} failure={changed.error} />, 400);
});

/** Approves a quarantined tool's new definition; the name travels in the form, never in the console's URL. */
catalogue.post("/servers/:id/pins/approve", async (c) => {
  const id = c.req.param("id");
  const tool = (await readPostedForm(c)).get("tool") ?? "";
  const approved = await adminFor(c)("POST", `${serverPath(id)}/tools/${encodeURIComponent(tool)}/approve`);
  if (approved.ok) return c.redirect(`/console${serverPath(id)}?approved`, 303);
  const status = approved.error.status === 409 ? 409 : approved.error.status >= 500 ? 502 : 400;
  return c.html(<ServerPage {...(await loadServer(c, id))} failure={approved.error} failureTitle="Not approved" />, status);
});
