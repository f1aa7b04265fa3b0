/**
 * A policy's version history, under /console/servers/:id/policies/:name/history: each version's
 * diff against the one before, HISTORY_PAGE versions a page.
 */
import { Hono } from "hono";
import { adminFor } from "../admin-client";
import { diffLines, diffText } from "../diff";
import { DiffView } from "../diff-view";
import type { ConsoleEnv } from "../guard";
import { Page, when } from "../layout";
import { apiBase, loadTarget } from "./policy-target";

export const policyHistory = new Hono<ConsoleEnv>();

interface VersionAnswer {
  version: number;
  document: unknown;
  created: string;
}

/** Versions shown per history page. */
const HISTORY_PAGE = 10;

policyHistory.get("/servers/:id/policies/:name/history", async (c) => {
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
              <DiffView
                lines={diffLines(previous === undefined ? "" : diffText(previous.document), diffText(version.document))}
                label={n === 1 ? "First version" : `Against version ${n - 1}`}
              />
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
