import { DurableObject } from "cloudflare:workers";

/**
 * One registered server's Durable Object (binding SERVERS, addressed by `idFromName(serverId)`):
 * the strongly consistent state shared by all of a server's grants.
 *
 * Storage layout: `policy_version (name, latest)`: the last version number handed out for each
 * policy name of the server.
 *
 * Why here and not in KV: KV has no compare-and-set, so two saves of one policy at the same instant
 * could both read version 6 and both write version 7 — one audit record's version would then name
 * two documents. Allocating here is atomic (one synchronous storage step), so every version number
 * names exactly one document.
 *
 * Lifecycle: tables are created by the first allocation; the object is only ever addressed by the
 * admin API, for servers that exist.
 */
export class ServerObject extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
  }

  /**
   * The next version number of policy `name`: one more than both the last one handed out here and
   * `floor` (the highest version already in KV, for policies saved before this object kept count).
   */
  async allocatePolicyVersion(name: string, floor: number): Promise<number> {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS policy_version (name TEXT PRIMARY KEY, latest INTEGER NOT NULL)");
    const row = this.#sql.exec<{ latest: number }>("SELECT latest FROM policy_version WHERE name = ?", name).toArray()[0];
    const next = Math.max(row?.latest ?? 0, Number.isSafeInteger(floor) ? floor : 0) + 1;
    this.#sql.exec("INSERT OR REPLACE INTO policy_version (name, latest) VALUES (?, ?)", name, next);
    return next;
  }
}
