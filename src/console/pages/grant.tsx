/**
 * One grant, under /console/grants/:id: what its Durable Object enforces (policy version, revoked,
 * rotated); changing its label or policy; rotating its token (the new token shown once,
 * grant-token.tsx), revoking it, and deleting a revoked one, each after a confirmation.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { adminFor, valueOf, type AdminFailure } from "../admin-client";
import { readPostedForm } from "../form-body";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Notice, Page, when } from "../layout";
import type { PolicyHead } from "./catalogue";
import { TokenPage } from "./grant-token";
import { grantPath, Status, type GrantSummary } from "./grants";

export const grantPage = new Hono<ConsoleEnv>();

type C = Context<ConsoleEnv>;

function GrantFacts(props: { grant: GrantSummary; url: string }) {
  const { grant } = props;
  return (
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
  );
}

function GrantActions(props: { grant: GrantSummary }) {
  const { grant } = props;
  const base = `/console${grantPath(grant.id)}`;
  const live = grant.revoked === null;
  return (
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
  );
}

function ChangeForm(props: { grant: GrantSummary; policies: PolicyHead[] }) {
  const { grant } = props;
  return (
    <form method="post" action={`/console${grantPath(grant.id)}`} class="card">
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
  );
}

function GrantPage(props: { grant: GrantSummary; policies: PolicyHead[]; url: string; failure?: AdminFailure; changed?: boolean }) {
  const { grant } = props;
  return (
    <Page title={`Grant “${grant.label}”`} nav="grants">
      <p>
        <a href="/console/grants">← Grants</a>
      </p>
      {props.failure ? <ErrorBox failure={props.failure} /> : null}
      {props.changed ? <Notice kind="ok">Saved. The grant enforces it from its next request.</Notice> : null}
      <GrantFacts grant={grant} url={props.url} />
      <GrantActions grant={grant} />
      {grant.revoked === null ? <ChangeForm grant={grant} policies={props.policies} /> : null}
    </Page>
  );
}

async function loadGrant(c: C) {
  const admin = adminFor(c);
  const grant = valueOf(await admin<GrantSummary>("GET", grantPath(c.req.param("id") ?? "")));
  const { policies } = valueOf(await admin<{ policies: PolicyHead[] }>("GET", `/servers/${encodeURIComponent(grant.serverId)}/policies`));
  return { grant, policies, url: `${new URL(c.req.url).origin}/mcp/${grant.id}` };
}

grantPage.get("/grants/:id", async (c) => c.html(<GrantPage {...(await loadGrant(c))} changed={c.req.query("saved") !== undefined} />));

grantPage.post("/grants/:id", async (c) => {
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
  rotate: {
    title: "Rotate the token of",
    button: "Rotate the token",
    text: "The current token stops working on the very next request. The new one is shown once.",
  },
  revoke: {
    title: "Revoke",
    button: "Revoke the grant",
    text: "Revocation is final: every request with this grant's token is refused from now on, everywhere. The audit log stays readable.",
  },
  delete: {
    title: "Delete",
    button: "Delete the grant",
    text: "The grant's records go; its audit log stays readable by id (Audit page, or the admin API). A server can be deleted once it has no grants.",
  },
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

grantPage.get("/grants/:id/rotate", async (c) => c.html(<ConfirmPage grant={(await loadGrant(c)).grant} action="rotate" />));
grantPage.get("/grants/:id/revoke", async (c) => c.html(<ConfirmPage grant={(await loadGrant(c)).grant} action="revoke" />));
grantPage.get("/grants/:id/delete", async (c) => c.html(<ConfirmPage grant={(await loadGrant(c)).grant} action="delete" />));

grantPage.post("/grants/:id/delete", async (c) => {
  const { grant } = await loadGrant(c);
  const deleted = await adminFor(c)("DELETE", grantPath(grant.id));
  if (!deleted.ok) return c.html(<ConfirmPage grant={grant} action="delete" failure={deleted.error} />, 409);
  return c.redirect("/console/grants", 303);
});

grantPage.post("/grants/:id/rotate", async (c) => {
  const { grant, url } = await loadGrant(c);
  const rotated = await adminFor(c)<{ grant: GrantSummary; token: string }>("POST", `${grantPath(grant.id)}/rotate`);
  if (!rotated.ok) return c.html(<ConfirmPage grant={grant} action="rotate" failure={rotated.error} />, 409);
  return c.html(
    <TokenPage
      title={`New token for “${grant.label}”`}
      grant={rotated.value.grant}
      token={rotated.value.token}
      url={url}
      note="The previous token no longer works."
    />,
  );
});

grantPage.post("/grants/:id/revoke", async (c) => {
  const { grant } = await loadGrant(c);
  const revoked = await adminFor(c)("POST", `${grantPath(grant.id)}/revoke`);
  if (!revoked.ok) return c.html(<ConfirmPage grant={grant} action="revoke" failure={revoked.error} />, 409);
  return c.redirect(`/console${grantPath(grant.id)}`, 303);
});
