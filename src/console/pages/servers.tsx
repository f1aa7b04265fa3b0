/**
 * Servers: the list, adding one, editing one, deleting one. Credential header values are write-only:
 * the admin API answers with header names only, and the console never renders a value back, not
 * even into a form it re-shows after an error (the operator types them again).
 */
import { Hono } from "hono";
import { adminFor, valueOrThrow, type AdminFailure } from "../admin-client";
import { readPostedForm, type PostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import type { ServerView } from "../../admin/servers";

/** What the admin API answers for a server (src/admin/servers.ts). */
export type ServerSummary = ServerView;

/** Header rows offered in a form; more than anyone sets on one upstream. */
const HEADER_ROWS = 4;

export const servers = new Hono<ConsoleEnv>();

function HeaderRows(props: { legend: string }) {
  return (
    <fieldset class="headers">
      <legend>{props.legend}</legend>
      <p class="hint">Sent to the upstream on every call (its credentials). Values are write-only: the console never shows them again.</p>
      {Array.from({ length: HEADER_ROWS }, (_, row) => (
        <div class="row">
          <label>
            Header name {row + 1}
            <input name={`header.${row}.name`} autocomplete="off" spellcheck={false} placeholder={row === 0 ? "X-Api-Key" : ""} />
          </label>
          <label>
            Value {row + 1}
            <input name={`header.${row}.value`} type="password" autocomplete="new-password" spellcheck={false} />
          </label>
        </div>
      ))}
    </fieldset>
  );
}

/** The header rows the operator filled in; a row with a name and no value is sent as it is (the API says why it fails). */
function postedHeaders(form: PostedForm): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let row = 0; row < HEADER_ROWS; row++) {
    const name = (form.get(`header.${row}.name`) ?? "").trim();
    if (name !== "") headers[name] = form.get(`header.${row}.value`) ?? "";
  }
  return headers;
}

function ServersPage(props: { list: ServerSummary[]; failure?: AdminFailure; values?: { id: string; name: string; url: string } }) {
  const values = props.values ?? { id: "", name: "", url: "" };
  return (
    <Page title="Servers" nav="servers">
      {props.list.length === 0 ? (
        <Notice>No upstream MCP servers yet. Add one below; the gateway lists and classifies its tools at once.</Notice>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>Upstream MCP servers</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">URL</th>
                <th scope="col">Credential headers</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {props.list.map((server) => (
                <tr>
                  <td>
                    <a href={`/console/servers/${encodeURIComponent(server.id)}`}>{server.name}</a>
                  </td>
                  <td>
                    <code>{server.id}</code>
                  </td>
                  <td class="break">{server.url}</td>
                  <td>{server.headers.length === 0 ? "none" : server.headers.join(", ")}</td>
                  <td>{when(server.updated)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby="add-server">
        <h2 id="add-server">Add a server</h2>
        {props.failure ? <ErrorBox failure={props.failure} title="The server was not added" /> : null}
        {props.failure && props.values ? <p class="hint">Header values are never shown back: type them again.</p> : null}
        <form method="post" action="/console/servers" class="card">
          <label for="server-name">Name</label>
          <input id="server-name" name="name" required value={values.name} placeholder="CRM" />
          <label for="server-url">Streamable HTTP URL</label>
          <input id="server-url" name="url" type="url" required value={values.url} placeholder="https://crm.example.com/mcp" />
          <label for="server-id">Id (optional)</label>
          <input id="server-id" name="id" value={values.id} pattern="[a-z0-9][a-z0-9\-]{0,62}" aria-describedby="server-id-hint" />
          <p class="hint" id="server-id-hint">
            Lowercase letters, digits and dashes. Left empty, the gateway picks one.
          </p>
          <HeaderRows legend="Credential headers" />
          <button type="submit" class="primary">
            Add server
          </button>
        </form>
      </section>
    </Page>
  );
}

servers.get("/servers", async (c) => {
  const { servers: list } = valueOrThrow(await adminFor(c)<{ servers: ServerSummary[] }>("GET", "/servers"));
  return c.html(<ServersPage list={list} />);
});

servers.post("/servers", async (c) => {
  const form = await readPostedForm(c);
  const values = { id: (form.get("id") ?? "").trim(), name: form.get("name") ?? "", url: (form.get("url") ?? "").trim() };
  const body: Record<string, unknown> = { name: values.name, url: values.url, headers: postedHeaders(form) };
  if (values.id !== "") body.id = values.id;
  const admin = adminFor(c);
  const created = await admin<ServerSummary>("POST", "/servers", body);
  if (created.ok) return c.redirect(`/console/servers/${encodeURIComponent(created.value.id)}`, 303);
  const { servers: list } = valueOrThrow(await admin<{ servers: ServerSummary[] }>("GET", "/servers"));
  return c.html(<ServersPage list={list} failure={created.error} values={values} />, 400);
});

function EditPage(props: { server: ServerSummary; failure?: AdminFailure }) {
  const { server } = props;
  const base = `/console/servers/${encodeURIComponent(server.id)}`;
  return (
    <Page title={`Edit ${server.name}`} nav="servers">
      <p>
        <a href={base}>← {server.name}</a>
      </p>
      {props.failure ? <ErrorBox failure={props.failure} title="Nothing was changed" /> : null}
      <form method="post" action={`${base}/edit`} class="card">
        <label for="edit-name">Name</label>
        <input id="edit-name" name="name" required value={server.name} />
        <label for="edit-url">Streamable HTTP URL</label>
        <input id="edit-url" name="url" type="url" required value={server.url} />
        <fieldset>
          <legend>Credential headers</legend>
          <label class="choice">
            <input type="radio" name="headers" value="keep" checked />
            Keep the current ones ({server.headers.length === 0 ? "none" : server.headers.join(", ")})
          </label>
          <label class="choice">
            <input type="radio" name="headers" value="replace" />
            Replace them all with the rows below (empty rows: no headers)
          </label>
        </fieldset>
        <HeaderRows legend="New credential headers" />
        <p class="hint">A new URL or new headers discover the server's tools again.</p>
        <button type="submit" class="primary">
          Save changes
        </button>
      </form>
      <section aria-labelledby="delete-server">
        <h2 id="delete-server">Delete</h2>
        <p>
          <a class="button danger" href={`${base}/delete`}>
            Delete this server…
          </a>
        </p>
      </section>
    </Page>
  );
}

const serverPath = (id: string) => `/servers/${encodeURIComponent(id)}`;

servers.get("/servers/:id/edit", async (c) => {
  const server = valueOrThrow(await adminFor(c)<ServerSummary>("GET", serverPath(c.req.param("id"))));
  return c.html(<EditPage server={server} />);
});

servers.post("/servers/:id/edit", async (c) => {
  const admin = adminFor(c);
  const server = valueOrThrow(await admin<ServerSummary>("GET", serverPath(c.req.param("id"))));
  const form = await readPostedForm(c);
  const patch: Record<string, unknown> = {};
  const name = form.get("name") ?? "";
  const url = (form.get("url") ?? "").trim();
  if (name !== server.name) patch.name = name;
  if (url !== server.url) patch.url = url;
  if (form.get("headers") === "replace") patch.headers = postedHeaders(form);
  if (Object.keys(patch).length === 0) return c.redirect(`/console${serverPath(server.id)}`, 303);
  const saved = await admin("PATCH", serverPath(server.id), patch);
  if (!saved.ok) return c.html(<EditPage server={server} failure={saved.error} />, 400);
  return c.redirect(`/console${serverPath(server.id)}`, 303);
});

function DeletePage(props: { server: ServerSummary; failure?: AdminFailure }) {
  const base = `/console${serverPath(props.server.id)}`;
  return (
    <Page title={`Delete ${props.server.name}?`} nav="servers">
      {props.failure ? <ErrorBox failure={props.failure} title="The server was not deleted" /> : null}
      <p>
        Its catalogue, overrides and policy names go with it; policy versions stay readable. A server with grants cannot be deleted: delete its grants first.
      </p>
      <form method="post" action={`${base}/delete`} class="inline">
        <button type="submit" class="danger">
          Delete {props.server.name}
        </button>
        <a href={base}>Cancel</a>
      </form>
    </Page>
  );
}

servers.get("/servers/:id/delete", async (c) => {
  const server = valueOrThrow(await adminFor(c)<ServerSummary>("GET", serverPath(c.req.param("id"))));
  return c.html(<DeletePage server={server} />);
});

servers.post("/servers/:id/delete", async (c) => {
  const admin = adminFor(c);
  const server = valueOrThrow(await admin<ServerSummary>("GET", serverPath(c.req.param("id"))));
  const deleted = await admin("DELETE", serverPath(server.id));
  if (!deleted.ok) return c.html(<DeletePage server={server} failure={deleted.error} />, 409);
  return c.redirect("/console/servers", 303);
});
