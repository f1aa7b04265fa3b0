/**
 * Deleting a policy name, under /console/servers/:id/policies/:name/delete: asks first; its grants
 * then deny every call until given another policy; its versions stay readable.
 */
import { Hono } from "hono";
import { adminFor, type AdminFailure } from "../admin-client";
import type { ConsoleEnv } from "../guard";
import { ErrorBox, Page } from "../layout";
import { apiBase, loadTarget, type Target } from "./policy-target";

export const policyDelete = new Hono<ConsoleEnv>();

function DeletePolicyPage(props: { target: Target; failure?: AdminFailure }) {
  const { target } = props;
  return (
    <Page title={`Delete policy “${target.name}”?`} nav="servers">
      {props.failure ? <ErrorBox failure={props.failure} title="Not deleted" /> : null}
      <p>
        Grants using “{target.name}” deny every call from their next request until they are given another policy. Its versions stay readable, and saving the
        name again continues their numbering.
      </p>
      <form method="post" action={`${target.base}/delete`} class="inline">
        <button type="submit" class="danger">
          Delete “{target.name}”
        </button>
        <a href={target.base}>Cancel</a>
      </form>
    </Page>
  );
}

policyDelete.get("/servers/:id/policies/:name/delete", async (c) => {
  const target = await loadTarget(c);
  if (target.current === null) return c.redirect(target.base, 303);
  return c.html(<DeletePolicyPage target={target} />);
});

policyDelete.post("/servers/:id/policies/:name/delete", async (c) => {
  const target = await loadTarget(c);
  const deleted = await adminFor(c)("DELETE", apiBase(target.server.id, target.name));
  if (!deleted.ok) return c.html(<DeletePolicyPage target={target} failure={deleted.error} />, 409);
  return c.redirect(`/console/servers/${encodeURIComponent(target.server.id)}`, 303);
});
