/**
 * Grants: the list, and creating one (its token shown once, with ready client configs and copy
 * buttons: grant-token.tsx). A grant's own page, rotating, revoking and deleting are grant.tsx.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { adminFor, valueOf, type AdminFailure } from "../admin-client";
import { readPostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import type { PolicyHead } from "./catalogue";
import { TokenPage } from "./grant-token";
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

export const grantPath = (id: string) => `/grants/${encodeURIComponent(id)}`;

/** Every server with its policy names, for the create form. */
async function serversWithPolicies(c: C): Promise<{ server: ServerSummary; policies: PolicyHead[] }[]> {
  const admin = adminFor(c);
  const { servers } = valueOf(await admin<{ servers: ServerSummary[] }>("GET", "/servers"));
  return Promise.all(
    servers.map(async (server) => ({
      server,
      policies: valueOf(await admin<{ policies: PolicyHead[] }>("GET", `/servers/${encodeURIComponent(server.id)}/policies`)).policies,
    })),
  );
}

export function Status(props: { grant: GrantSummary }) {
  return props.grant.revoked !== null ? <span class="badge revoked">revoked</span> : <span class="badge active">active</span>;
}

function GrantsTable(props: { list: GrantSummary[] }) {
  return (
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
  );
}

type Choices = { server: ServerSummary; policies: PolicyHead[] }[];

function CreateGrantForm(props: { choices: Choices; values: { label: string; target: string } }) {
  const { values } = props;
  return (
    <form method="post" action="/console/grants" class="card">
      <label for="grant-label">Label (which agent this is)</label>
      <input
        id="grant-label"
        name="label"
        required
        pattern="[A-Za-z0-9_.:\-]{1,64}"
        value={values.label}
        placeholder="support-bot"
        aria-describedby="grant-label-hint"
      />
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
  );
}

function GrantsPage(props: {
  list: GrantSummary[];
  choices: Choices;
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
        <GrantsTable list={props.list} />
      )}
      <section aria-labelledby="new-grant">
        <h2 id="new-grant">Create a grant</h2>
        {props.failure ? <ErrorBox failure={props.failure} title="The grant was not created" /> : null}
        {props.choices.length === 0 ? (
          <p>
            Add a <a href="/console/servers">server</a> first.
          </p>
        ) : (
          <CreateGrantForm choices={props.choices} values={values} />
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
