/**
 * The operator console, mounted at /console (docs/console.md). Server-rendered pages (Hono JSX) over
 * the admin API, called in-process (src/console/admin-client.ts); htmx and one small script from
 * Workers Static Assets (public/console/assets/) for the parts that update in place.
 *
 * Order: security headers on every answer; the same-origin check; sign-in (the only pages without a
 * session); the session guard; then one module per page under src/console/pages/.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { AdminCallFailed } from "./admin-client";
import { consoleHeaders, consoleSession, ConsoleRefusal, sameOrigin, type ConsoleEnv } from "./guard";
import { ErrorBox, Page } from "./layout";
import { approvals } from "./pages/approvals";
import { audit } from "./pages/audit";
import { catalogue } from "./pages/catalogue";
import { grantPage } from "./pages/grant";
import { grants } from "./pages/grants";
import { policies } from "./pages/policies";
import { policyDelete } from "./pages/policy-delete";
import { policyHistory } from "./pages/policy-history";
import { policyReview } from "./pages/policy-review";
import { servers } from "./pages/servers";
import { signIn } from "./pages/sign-in";

export const consoleApp = new Hono<ConsoleEnv>();

function renderConsoleError(error: Error, c: Context<ConsoleEnv>): Response | Promise<Response> {
  if (error instanceof ConsoleRefusal) {
    return c.html(
      <Page title="Refused" signedIn={error.status !== 401 && error.status !== 503}>
        <div class="notice error" role="alert">
          {error.reason}
        </div>
        <p>
          <a href="/console/sign-in">Sign in</a>
        </p>
      </Page>,
      error.status,
    );
  }
  if (error instanceof AdminCallFailed) {
    const status = error.failure.status === 404 ? 404 : error.failure.status >= 500 ? 502 : 400;
    return c.html(
      <Page title={status === 404 ? "Not found" : "Something went wrong"}>
        <ErrorBox failure={error.failure} />
        <p>
          <a href="/console/servers">Back to servers</a>
        </p>
      </Page>,
      status,
    );
  }
  // Never echo the error: it may carry upstream text.
  console.error("console error", error.name);
  return c.html(
    <Page title="Something went wrong">
      <div class="notice error" role="alert">
        The console hit an internal error. Nothing was logged beyond its kind.
      </div>
    </Page>,
    500,
  );
}

consoleApp.onError(renderConsoleError);
consoleApp.use("*", consoleHeaders());
consoleApp.use("*", sameOrigin());
consoleApp.route("/", signIn);
consoleApp.use("*", consoleSession());
consoleApp.get("/", (c) => c.redirect("/console/servers", 303));
consoleApp.route("/", servers);
consoleApp.route("/", catalogue);
consoleApp.route("/", policies);
consoleApp.route("/", policyReview);
consoleApp.route("/", policyHistory);
consoleApp.route("/", policyDelete);
consoleApp.route("/", grants);
consoleApp.route("/", grantPage);
consoleApp.route("/", approvals);
consoleApp.route("/", audit);
consoleApp.all("*", (c) =>
  c.html(
    <Page title="Not found">
      <p>No such console page.</p>
    </Page>,
    404,
  ),
);
