/**
 * A server's page: its record, its policies, and its catalogue — every tool the upstream lists, with
 * its category and a coloured risk badge; a row expands to the classifier's reasons and the override
 * form. Tool names and descriptions are the upstream's text (attacker-controlled): they are only ever
 * JSX text children and attribute values, which Hono escapes, and never part of a URL path, an id
 * or a class.
 */
import { Hono } from "hono";
import { adminFor, valueOf, type AdminFailure } from "../admin-client";
import { readPostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { CategoryTag, ErrorBox, Notice, Page, RiskBadge, when } from "../layout";
import type { ServerSummary } from "./servers";

const CATEGORIES = ["read", "write", "execute", "destructive", "financial"] as const;

export interface CatalogueTool {
  name: string;
  title: string | null;
  description: string | null;
  definition: { inputSchema?: { properties?: Record<string, unknown> } };
  classification: { category: string; risk: string; reasons: string[]; conflict: boolean };
  override: { category: string; set: string } | null;
  category: string;
  risk: string;
  recommended: { allowed: boolean; explanation: string };
}

export interface CatalogueView {
  serverId: string;
  fetched: string | null;
  protocolVersion: string | null;
  stale: boolean;
  lastAttempt: { outcome: string; at: string; error?: { code: string; message: string } } | null;
  tools: CatalogueTool[];
}

export interface PolicyHead {
  name: string;
  latest: number;
  created: string;
  updated: string;
}

/** MCP's tool-name characters: only such names can be overridden (docs/catalogue.md). */
const OVERRIDABLE = /^[A-Za-z0-9_.-]{1,128}$/;

export const catalogue = new Hono<ConsoleEnv>();

const serverPath = (id: string) => `/servers/${encodeURIComponent(id)}`;

function ToolRows(props: { serverId: string; tools: CatalogueTool[] }) {
  return (
    <div class="table-wrap">
      <table class="catalogue">
        <caption>Tools the upstream lists ({props.tools.length})</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Description</th>
            <th scope="col">Category</th>
            <th scope="col">Risk</th>
          </tr>
        </thead>
        {props.tools.map((tool, index) => (
          <tbody class="tool">
            <tr>
              <th scope="row">
                <button type="button" class="disclosure" aria-expanded="false" aria-controls={`tool-${index}-detail`}>
                  <span class="chevron" aria-hidden="true"></span>
                  <span class="tool-name">{tool.name}</span>
                </button>
                {tool.title !== null && tool.title !== tool.name ? <div class="hint">{tool.title}</div> : null}
              </th>
              <td class="description">{tool.description ?? ""}</td>
              <td>
                <CategoryTag category={tool.category} />
                {tool.override !== null ? <span class="hint"> (override)</span> : null}
              </td>
              <td>
                <RiskBadge risk={tool.risk} />
              </td>
            </tr>
            <tr id={`tool-${index}-detail`} class="detail" hidden>
              <td colspan={4}>
                <div class="detail-grid">
                  <div>
                    <h3>Why {tool.classification.category}, {tool.classification.risk} risk</h3>
                    <ul>
                      {tool.classification.reasons.map((reason) => (
                        <li>{reason}</li>
                      ))}
                    </ul>
                    {tool.classification.conflict ? (
                      <p class="notice warn">The server's annotations contradict the evidence above; the evidence wins.</p>
                    ) : null}
                    <p>
                      <strong>Recommended:</strong> {tool.recommended.explanation}
                    </p>
                  </div>
                  <div>
                    <h3>Override the category</h3>
                    {OVERRIDABLE.test(tool.name) ? (
                      <form method="post" action={`/console${serverPath(props.serverId)}/overrides`} class="inline">
                        <input type="hidden" name="tool" value={tool.name} />
                        <label for={`override-${index}`}>Category</label>
                        <select id={`override-${index}`} name="category">
                          {CATEGORIES.map((category) => (
                            <option value={category} selected={category === tool.category}>
                              {category}
                            </option>
                          ))}
                        </select>
                        <button type="submit">Set</button>
                        {tool.override !== null ? (
                          <button type="submit" name="clear" value="1">
                            Clear override (classifier says {tool.classification.category})
                          </button>
                        ) : null}
                      </form>
                    ) : (
                      <p class="hint">This name has characters outside MCP's tool-name set; it cannot be overridden or allowed by name.</p>
                    )}
                  </div>
                </div>
              </td>
            </tr>
          </tbody>
        ))}
      </table>
    </div>
  );
}

function ServerPage(props: { server: ServerSummary; view: CatalogueView; policies: PolicyHead[]; failure?: AdminFailure; discovered?: boolean }) {
  const { server, view } = props;
  const base = `/console${serverPath(server.id)}`;
  const attempt = view.lastAttempt;
  return (
    <Page title={server.name} nav="servers">
      <p>
        <a href="/console/servers">← Servers</a>
      </p>
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      {props.discovered ? <Notice kind="ok">Discovered {view.tools.length} tools.</Notice> : null}
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
      <div class="actions">
        <a class="button" href={`${base}/edit`}>
          Edit server
        </a>
        <form method="post" action={`${base}/discover`} class="inline">
          <button type="submit">Re-discover tools</button>
        </form>
        <a class="button" href={`/console/grants?server=${encodeURIComponent(server.id)}`}>
          Grants
        </a>
      </div>
      {view.stale ? <Notice kind="warn">These tools were fetched before the server's URL or headers last changed. Re-discover them.</Notice> : null}
      {attempt?.outcome === "failed" && attempt.error ? (
        <div class="notice error" role="alert">
          The last discovery ({when(attempt.at)}) failed: <code>{attempt.error.code}</code> {attempt.error.message}
        </div>
      ) : null}

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

      <section aria-labelledby="catalogue">
        <h2 id="catalogue">Catalogue</h2>
        {view.tools.length === 0 ? <p>No tools discovered yet.</p> : <ToolRows serverId={server.id} tools={view.tools} />}
      </section>
    </Page>
  );
}

async function loadServer(c: Parameters<typeof adminFor>[0], id: string) {
  const admin = adminFor(c);
  const server = valueOf(await admin<ServerSummary>("GET", serverPath(id)));
  const [view, policies] = await Promise.all([admin<CatalogueView>("GET", `${serverPath(id)}/tools`), admin<{ policies: PolicyHead[] }>("GET", `${serverPath(id)}/policies`)]);
  return { server, view: valueOf(view), policies: valueOf(policies).policies };
}

catalogue.get("/servers/:id", async (c) => {
  const loaded = await loadServer(c, c.req.param("id"));
  return c.html(<ServerPage {...loaded} discovered={c.req.query("discovered") !== undefined} />);
});

catalogue.get("/servers/:id/policies", (c) => {
  const name = c.req.query("name") ?? "";
  return c.redirect(`/console${serverPath(c.req.param("id"))}/policies/${encodeURIComponent(name)}`, 303);
});

catalogue.post("/servers/:id/discover", async (c) => {
  const id = c.req.param("id");
  const discovered = await adminFor(c)("POST", `${serverPath(id)}/discover`);
  if (discovered.ok) return c.redirect(`/console${serverPath(id)}?discovered`, 303);
  return c.html(<ServerPage {...await loadServer(c, id)} failure={discovered.error} />, 502);
});

catalogue.post("/servers/:id/overrides", async (c) => {
  const id = c.req.param("id");
  const form = await readPostedForm(c);
  const tool = form.get("tool") ?? "";
  const path = `${serverPath(id)}/tools/${encodeURIComponent(tool)}/classification`;
  const admin = adminFor(c);
  const changed = form.get("clear") === "1" ? await admin("DELETE", path) : await admin("PUT", path, { category: form.get("category") ?? "" });
  if (changed.ok) return c.redirect(`/console${serverPath(id)}#catalogue`, 303);
  return c.html(<ServerPage {...await loadServer(c, id)} failure={changed.error} />, 400);
});
