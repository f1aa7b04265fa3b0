/**
 * Grants: the list, creating one (its token shown once, with ready client configs and copy
 * buttons), a grant's page (label and policy), rotating (the new token shown once), revoking and
 * deleting a revoked one (each after a confirmation). Token pages are answers to a POST, never a URL, and are sent `no-store`.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { adminFor, valueOf, type AdminFailure } from "../admin-client";
import { clientConfigs } from "../client-configs";
import { readPostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { CopyBlock, ErrorBox, Notice, Page, when } from "../layout";
import type { PolicyHead } from "./catalogue";
import type { ServerSummary } from "./servers";

export interface GrantSummary {
  id: string;
  label: string;
  serverId: string;
  policyName: string | null;
  policyVersion?: number | null;
  created: string;
  revoked: string | null;
  rotated: string | null;
}

export const grants = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

const grantPath = (id: string) => `/grants/${encodeURIComponent(id)}`;

/** Every server with its policy names, for the create form. */
async function serversWithPolicies(c: C): Promise<{ server: ServerSummary; policies: PolicyHead[] }[]> {
  const admin = adminFor(c);
  const { servers } = valueOf(await admin<{ servers: ServerSummary[] }>("GET", "/servers"));
  return Promise.all(
    servers.map(async (server) => ({ server, policies: valueOf(await admin<{ policies: PolicyHead[] }>("GET", `/servers/${encodeURIComponent(server.id)}/policies`)).policies })),
  );
}

function Status(props: { grant: GrantSummary }) {
  return props.grant.revoked !== null ? <span class="badge revoked">revoked</span> : <span class="badge active">active</span>;
}

function GrantsPage(props: {
  list: GrantSummary[];
  choices: { server: ServerSummary; policies: PolicyHead[] }[];
  serverFilter: string | null;
  failure?: AdminFailure;
  values?: { label: string; target: string };
}) {
  const values = props.values ?? { label: "", target: "" };
  return (
    <Page title="Grants" nav="grants">
      {props.serverFilter !== null ? (
        <p>
          Grants of server <code>{props.serverFilter}</code> · <a href="/console/grants">all grants</a>
        </p>
      ) : null}
      {props.list.length === 0 ? (
        <Notice>No grants yet. A grant is one agent's access to one server under one policy.</Notice>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>Grants</caption>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Server</th>
                <th scope="col">Policy</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Audit</th>
              </tr>
            </thead>
            <tbody>
              {props.list.map((grant) => (
                <tr>
                  <td>
                    <a href={`/console${grantPath(grant.id)}`}>{grant.label}</a>
                    <div class="hint">
                      <code>{grant.id}</code>
                    </div>
                  </td>
                  <td>
                    <a href={`/console/servers/${encodeURIComponent(grant.serverId)}`}>{grant.serverId}</a>
                  </td>
                  <td>{grant.policyName ?? <em>none: denies every call</em>}</td>
                  <td>
                    <Status grant={grant} />
                  </td>
                  <td>{when(grant.created)}</td>
                  <td>
                    <a href={`/console/audit?grant=${encodeURIComponent(grant.id)}`}>Audit</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby="new-grant">
        <h2 id="new-grant">Create a grant</h2>
        {props.failure ? <ErrorBox failure={props.failure} title="The grant was not created" /> : null}
        {props.choices.length === 0 ? (
          <p>
            Add a <a href="/console/servers">server</a> first.
          </p>
        ) : (
          <form method="post" action="/console/grants" class="card">
            <label for="grant-label">Label (which agent this is)</label>
            <input id="grant-label" name="label" required pattern="[A-Za-z0-9_.:\-]{1,64}" value={values.label} placeholder="support-bot" aria-describedby="grant-label-hint" />
            <p class="hint" id="grant-label-hint">
              Letters, digits and <code>_ . : -</code>, up to 64.
            </p>
            <label for="grant-target">Server and policy</label>
            <select id="grant-target" name="target" required>
              {props.choices.map(({ server, policies }) => (
                <optgroup label={server.name}>
                  {policies.map((policy) => (
                    <option value={`${server.id}/${policy.name}`} selected={values.target === `${server.id}/${policy.name}`}>
                      {server.name} · {policy.name} (v{policy.latest})
                    </option>
                  ))}
                  <option value={`${server.id}/`} selected={values.target === `${server.id}/`}>
                    {server.name} · no policy (denies every call)
                  </option>
                </optgroup>
              ))}
            </select>
            <button type="submit" class="primary">
              Create grant
            </button>
          </form>
        )}
      </section>
    </Page>
  );
}

grants.get("/grants", async (c) => {
  const server = c.req.query("server") ?? null;
  const admin = adminFor(c);
  const query = server === null ? "" : `?serverId=${encodeURIComponent(server)}`;
  const [{ grants: list }, choices] = await Promise.all([valueOf(await admin<{ grants: GrantSummary[] }>("GET", `/grants${query}`)), serversWithPolicies(c)]);
  return c.html(<GrantsPage list={list} choices={choices} serverFilter={server} />);
});

/** The one page that shows a token: after create and after rotate. */
function TokenPage(props: { title: string; grant: GrantSummary; token: string; url: string; note: string }) {
  const { grant, token, url } = props;
  return (
    <Page title={props.title} nav="grants">
      <Notice kind="warn">
        <strong>Copy the token now.</strong> {props.note} The gateway keeps only its SHA-256; this page is the only place it is ever shown.
      </Notice>
      <CopyBlock id="grant-url" label="Grant URL" text={url} />
      <CopyBlock id="grant-token" label="Token (send as Authorization: Bearer <token>)" text={token} />
      <h2>Client configurations</h2>
      {clientConfigs(grant.label, url, token).map((config) => (
        <CopyBlock id={`config-${config.id}`} label={config.label} text={config.text} />
      ))}
      <p>
        <a href={`/console${grantPath(grant.id)}`}>Go to the grant</a> · <a href="/console/grants">All grants</a>
      </p>
    </Page>
  );
}

grants.post("/grants", async (c) => {
  const form = await readPostedForm(c);
  const label = form.get("label") ?? "";
  const target = form.get("target") ?? "";
  // Server ids and policy names never contain "/" (their patterns), so it separates them.
  const [serverId = "", policyName = ""] = target.split("/");
  const admin = adminFor(c);
  const created = await admin<{ grant: GrantSummary; token: string; url: string }>("POST", "/grants", {
    label,
    serverId,
    policyName: policyName === "" ? null : policyName,
  });
  if (!created.ok) {
    const [{ grants: list }, choices] = await Promise.all([valueOf(await admin<{ grants: GrantSummary[] }>("GET", "/grants")), serversWithPolicies(c)]);
    return c.html(<GrantsPage list={list} choices={choices} serverFilter={null} failure={created.error} values={{ label, target }} />, 400);
  }
  const { grant, token, url } = created.value;
  return c.html(<TokenPage title={`Grant “${grant.label}” created`} grant={grant} token={token} url={url} note="Paste it into the agent's MCP client." />, 201);
});

function GrantPage(props: { grant: GrantSummary; policies: PolicyHead[]; url: string; failure?: AdminFailure; changed?: boolean }) {
  const { grant } = props;
  const base = `/console${grantPath(grant.id)}`;
  const live = grant.revoked === null;
  return (
    <Page title={`Grant “${grant.label}”`} nav="grants">
      <p>
        <a href="/console/grants">← Grants</a>
      </p>
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      {props.changed ? <Notice kind="ok">Saved. The grant enforces it from its next request.</Notice> : null}
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{grant.id}</code>
        </dd>
        <dt>Status</dt>
        <dd>
          <Status grant={grant} /> {grant.revoked !== null ? `since ${when(grant.revoked)}` : ""}
        </dd>
        <dt>URL</dt>
        <dd class="break">{props.url}</dd>
        <dt>Server</dt>
        <dd>
          <a href={`/console/servers/${encodeURIComponent(grant.serverId)}`}>{grant.serverId}</a>
        </dd>
        <dt>Policy</dt>
        <dd>{grant.policyName === null ? "none (denies every call)" : `${grant.policyName} v${grant.policyVersion ?? "?"}`}</dd>
        <dt>Created</dt>
        <dd>{when(grant.created)}</dd>
        <dt>Last rotated</dt>
        <dd>{when(grant.rotated)}</dd>
      </dl>
      <div class="actions">
        <a class="button" href={`/console/audit?grant=${encodeURIComponent(grant.id)}`}>
          Audit log
        </a>
        {live ? (
          <a class="button" href={`${base}/rotate`}>
            Rotate token…
          </a>
        ) : null}
        {live ? (
          <a class="button danger" href={`${base}/revoke`}>
            Revoke…
          </a>
        ) : (
          <a class="button danger" href={`${base}/delete`}>
            Delete…
          </a>
        )}
      </div>
      {live ? (
        <form method="post" action={base} class="card">
          <h2>Change</h2>
          <label for="grant-label">Label</label>
          <input id="grant-label" name="label" required value={grant.label} />
          <label for="grant-policy">Policy</label>
          <select id="grant-policy" name="policyName">
            {props.policies.map((policy) => (
              <option value={policy.name} selected={policy.name === grant.policyName}>
                {policy.name} (v{policy.latest})
              </option>
            ))}
            <option value="" selected={grant.policyName === null}>
              none (deny every call)
            </option>
          </select>
          <button type="submit" class="primary">
            Save
          </button>
        </form>
      ) : null}
    </Page>
  );
}

async function loadGrant(c: C) {
  const admin = adminFor(c);
  const grant = valueOf(await admin<GrantSummary>("GET", grantPath(c.req.param("id") ?? "")));
  const { policies } = valueOf(await admin<{ policies: PolicyHead[] }>("GET", `/servers/${encodeURIComponent(grant.serverId)}/policies`));
  return { grant, policies, url: `${new URL(c.req.url).origin}/mcp/${grant.id}` };
}

grants.get("/grants/:id", async (c) => c.html(<GrantPage {...await loadGrant(c)} changed={c.req.query("saved") !== undefined} />));

grants.post("/grants/:id", async (c) => {
  const loaded = await loadGrant(c);
  const form = await readPostedForm(c);
  const patch: Record<string, unknown> = {};
  const label = form.get("label") ?? loaded.grant.label;
  const policyName = form.get("policyName") ?? "";
  if (label !== loaded.grant.label) patch.label = label;
  if ((policyName === "" ? null : policyName) !== loaded.grant.policyName) patch.policyName = policyName === "" ? null : policyName;
  if (Object.keys(patch).length === 0) return c.redirect(`/console${grantPath(loaded.grant.id)}`, 303);
  const changed = await adminFor(c)("PATCH", grantPath(loaded.grant.id), patch);
  if (!changed.ok) return c.html(<GrantPage {...loaded} failure={changed.error} />, 400);
  return c.redirect(`/console${grantPath(loaded.grant.id)}?saved`, 303);
});

const CONFIRM = {
  rotate: { title: "Rotate the token of", button: "Rotate the token", text: "The current token stops working on the very next request. The new one is shown once." },
  revoke: { title: "Revoke", button: "Revoke the grant", text: "Revocation is final: every request with this grant's token is refused from now on, everywhere. The audit log stays readable." },
  delete: { title: "Delete", button: "Delete the grant", text: "The grant's records go; its audit log stays readable by id (Audit page, or the admin API). A server can be deleted once it has no grants." },
} as const;

function ConfirmPage(props: { grant: GrantSummary; action: keyof typeof CONFIRM; failure?: AdminFailure }) {
  const { grant, action } = props;
  const base = `/console${grantPath(grant.id)}`;
  return (
    <Page title={`${CONFIRM[action].title} “${grant.label}”?`} nav="grants">
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      <p>{CONFIRM[action].text}</p>
      <form method="post" action={`${base}/${action}`} class="inline">
        <button type="submit" class={action === "rotate" ? "primary" : "danger"}>
          {CONFIRM[action].button}
        </button>
        <a href={base}>Cancel</a>
      </form>
    </Page>
  );
}

grants.get("/grants/:id/rotate", async (c) => c.html(<ConfirmPage grant={(await loadGrant(c)).grant} action="rotate" />));
grants.get("/grants/:id/revoke", async (c) => c.html(<ConfirmPage grant={(await loadGrant(c)).grant} action="revoke" />));
grants.get("/grants/:id/delete", async (c) => c.html(<ConfirmPage grant={(await loadGrant(c)).grant} action="delete" />));

grants.post("/grants/:id/delete", async (c) => {
  const { grant } = await loadGrant(c);
  const deleted = await adminFor(c)("DELETE", grantPath(grant.id));
  if (!deleted.ok) return c.html(<ConfirmPage grant={grant} action="delete" failure={deleted.error} />, 409);
  return c.redirect("/console/grants", 303);
});

grants.post("/grants/:id/rotate", async (c) => {
  const { grant, url } = await loadGrant(c);
  const rotated = await adminFor(c)<{ grant: GrantSummary; token: string }>("POST", `${grantPath(grant.id)}/rotate`);
  if (!rotated.ok) return c.html(<ConfirmPage grant={grant} action="rotate" failure={rotated.error} />, 409);
  return c.html(<TokenPage title={`New token for “${grant.label}”`} grant={rotated.value.grant} token={rotated.value.token} url={url} note="The previous token no longer works." />);
});

grants.post("/grants/:id/revoke", async (c) => {
  const { grant } = await loadGrant(c);
  const revoked = await adminFor(c)("POST", `${grantPath(grant.id)}/revoke`);
  if (!revoked.ok) return c.html(<ConfirmPage grant={grant} action="revoke" failure={revoked.error} />, 409);
  return c.redirect(`/console${grantPath(grant.id)}`, 303);
});
