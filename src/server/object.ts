import { DurableObject } from "cloudflare:workers";
import { systemClock, type Clock } from "../clock";
import { CounterLedger, reserve, withReserved } from "../grant/counters";
import type { LimitRequest } from "../policy/evaluate";
import { getCatalogue } from "../store/catalogue";
import { listServerGrants } from "../store/grants";
import { approve, describePinEvent, initialPins, observeListing, type ListedTool, type PinEvent, type PinState } from "./pins";
import { ServerStorage } from "./storage";

const DAY_MS = 86_400_000;
/** How soon a push of the quarantine state that some grants did not take is tried again. */
const PUSH_RETRY_MS = 30_000;

/** What the gateway learns from a server-wide reservation. */
export type ServerReservation =
  | { ok: true }
  /** `index` is the message (of a batch) whose limit was exceeded. */
  | { ok: false; index: number; rule: string; message: string; retryAfter: number | null };

/** An operator's view of the pins: what is approved, and what changed since. */
export interface PinsView {
  initialized: boolean;
  pins: { tool: string; fingerprint: string; definition: unknown }[];
  quarantined: { tool: string; pinned: string | null; pinnedDefinition: unknown; seen: string; definition: unknown }[];
}

/**
 * One registered server's Durable Object (binding SERVERS, addressed by `idFromName(serverId)`):
 * the strongly consistent state shared by all of a server's grants — policy version numbers,
 * server-wide rate counters, and the pinned tool definitions with their quarantine. SQL is in
 * storage.ts; pinning is decided in pins.ts; counting reuses the grants' exact rolling windows
 * (src/grant/counters.ts).
 *
 * Why here: KV has no compare-and-set, and a count shared by many grants cannot live in any one
 * grant's object. Every check-and-write below runs without an await between its read and its
 * write, so concurrent calls from different grants are counted exactly.
 *
 * Lifecycle: tables are created on first use. The server-wide counters are rebuilt from their
 * table when the object starts; the quarantine is pushed to the server's grants (their objects
 * enforce it on calls with no extra round trip), and a push that fails is retried by the alarm.
 */
export class ServerObject extends DurableObject<Env> {
  readonly #storage: ServerStorage;
  readonly #clock: Clock = systemClock;
  #ledger: CounterLedger;
  #pins: PinState;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new ServerStorage(ctx.storage);
    this.#ledger = this.#loadLedger();
    this.#pins = this.#storage.loadPins();
  }

  async allocatePolicyVersion(name: string, floor: number): Promise<number> {
    return this.#storage.nextPolicyVersion(name, floor);
  }

  // ---- server-wide limits -------------------------------------------------------------------

  /**
   * Reserves every server-wide limit of a request (one list per message of a batch, which share
   * their counters), all or nothing. One synchronous step: exact across grants.
   */
  async reserveServerLimits(requestId: string, messages: LimitRequest[][]): Promise<ServerReservation> {
    const now = this.#clock();
    const taken: { counter: string; amount: number }[] = [];
    const eventsFor = (counter: string) =>
      withReserved(
        this.#ledger.eventsFor(counter),
        taken.filter((t) => t.counter === counter).map((t) => ({ at: now, amount: t.amount })),
      );
    for (const [index, limits] of messages.entries()) {
      const reservation = reserve(limits, eventsFor, now);
      if (!reservation.ok) return { ok: false, index, rule: reservation.rule, message: reservation.message, retryAfter: reservation.retryAfter };
      taken.push(...reservation.take);
    }
    this.#storage.addEvents(taken.map((t) => ({ requestId, counter: t.counter, at: now, amount: t.amount })));
    for (const t of taken) this.#ledger.add(t.counter, { at: now, amount: t.amount, seq: 0 });
    this.#keepFor(messages.flat(), now);
    return { ok: true };
  }

  /**
   * Releases a request's server-wide quota: the upstream provably never received it (or the
   * grant's own limits refused the call). Rare, so the counters are simply rebuilt from the table.
   */
  async releaseServerLimits(requestId: string): Promise<void> {
    this.#storage.releaseEvents(requestId);
    this.#ledger = this.#loadLedger();
  }

  // ---- tool pinning ----------------------------------------------------------------------------

  /**
   * Checks one listing a grant passed on (its tools' fingerprints) against the pins, updates the
   * quarantine, makes every grant of the server take it, and answers which tools to hide.
   */
  async observeListing(serverId: string, listing: ListedTool[], complete: boolean): Promise<{ hidden: string[] }> {
    const events: PinEvent[] = [];
    if (this.#storage.meta("pins_initialized") === null) {
      const catalogue = await getCatalogue(this.env.RECORDS, serverId).catch(() => null);
      const snapshot = catalogue?.snapshot?.tools.map((t) => ({ name: t.definition.name, fingerprint: t.fingerprint, definition: t.definition })) ?? null;
      if (this.#storage.meta("pins_initialized") === null) {
        events.push(...initialPins(this.#pins, snapshot ?? listing, snapshot === null ? "listing" : "catalogue"));
        this.#storage.setMeta("pins_initialized", "1");
      }
    }
    events.push(...observeListing(this.#pins, listing, complete));
    if (events.length > 0) await this.#changed(serverId, events);
    return { hidden: [...this.#pins.quarantine.keys()] };
  }

  /** An operator approves the definition a quarantined tool has now. */
  async approveTool(serverId: string, tool: string): Promise<{ ok: true } | { ok: false; error: "not_quarantined" }> {
    const event = approve(this.#pins, tool);
    if (event === null) return { ok: false, error: "not_quarantined" };
    await this.#changed(serverId, [event]);
    return { ok: true };
  }

  async pinsView(): Promise<PinsView> {
    const { pins, quarantine } = this.#pins;
    return {
      initialized: this.#storage.meta("pins_initialized") !== null,
      pins: [...pins].map(([tool, p]) => ({ tool, fingerprint: p.fingerprint, definition: p.definition })),
      quarantined: [...quarantine].map(([tool, q]) => ({
        tool,
        pinned: q.pinned,
        pinnedDefinition: pins.get(tool)?.definition ?? null,
        seen: q.seen,
        definition: q.definition,
      })),
    };
  }

  // ---- the server's grants -------------------------------------------------------------------

  async addGrant(grantId: string): Promise<void> {
    this.#storage.addMember(grantId);
  }

  async removeGrant(grantId: string): Promise<void> {
    this.#storage.removeMember(grantId);
  }

  /** Pushes the quarantine again to the grants that did not take it. */
  override async alarm(): Promise<void> {
    const serverId = this.#storage.meta("server_id");
    if (serverId !== null) await this.#push(serverId, []);
  }

  // ---- internals ----------------------------------------------------------------------------

  async #changed(serverId: string, events: PinEvent[]): Promise<void> {
    const generation = Number(this.#storage.meta("generation") ?? "0") + 1;
    this.#storage.transaction(() => {
      this.#storage.savePins(this.#pins);
      this.#storage.setMeta("generation", String(generation));
      this.#storage.setMeta("server_id", serverId);
    });
    await this.#push(serverId, events);
  }

  /** Makes every grant behind the current generation take the quarantine; the alarm retries failures. */
  async #push(serverId: string, events: PinEvent[]): Promise<void> {
    await this.#loadMembers(serverId);
    const generation = Number(this.#storage.meta("generation") ?? "0");
    const quarantined = [...this.#pins.quarantine.keys()];
    const records = events.map(describePinEvent);
    const behind = this.#storage.members().filter((m) => m.acked < generation);
    const results = await Promise.allSettled(
      behind.map(async ({ grantId }) => {
        const taken = await this.env.GRANTS.get(this.env.GRANTS.idFromName(grantId)).setQuarantine(generation, quarantined, records);
        if (taken) this.#storage.ackMember(grantId, generation);
      }),
    );
    const failed = behind.filter((_, i) => results[i]?.status === "rejected").map((m) => m.grantId);
    if (failed.length === 0) return;
    console.log(JSON.stringify({ event: "quarantine_push_failed", server: serverId, grants: failed, generation }));
    await this.ctx.storage.setAlarm(this.#clock() + PUSH_RETRY_MS);
  }

  /** Grants created before the server's object kept them are read from KV once. */
  async #loadMembers(serverId: string): Promise<void> {
    if (this.#storage.meta("members_loaded") !== null) return;
    const grants = await listServerGrants(this.env.RECORDS, serverId);
    this.#storage.transaction(() => {
      for (const grant of grants) this.#storage.addMember(grant.id);
      this.#storage.setMeta("members_loaded", "1");
    });
  }

  /** The server-wide counters, from the table (events of the longest window asked for). */
  #loadLedger(): CounterLedger {
    const ledger = new CounterLedger();
    for (const e of this.#storage.events(this.#clock() - this.#retentionMs())) ledger.add(e.counter, { at: e.at, amount: e.amount, seq: 0 });
    return ledger;
  }

  /** Keeps counted events as long as the longest window asked for, and forgets older ones. */
  #keepFor(limits: readonly LimitRequest[], now: number): void {
    const longest = Math.max(...limits.map((l) => l.windowSeconds * 1000), DAY_MS);
    if (longest > this.#retentionMs()) this.#storage.setMeta("retention_ms", String(longest));
    const prunedAt = Number(this.#storage.meta("pruned_at") ?? "0");
    if (now - prunedAt < 10 * 60 * 1000) return;
    const cutoff = now - this.#retentionMs();
    this.#ledger.prune(cutoff);
    this.#storage.pruneEvents(cutoff);
    this.#storage.setMeta("pruned_at", String(now));
  }

  #retentionMs(): number {
    return Number(this.#storage.meta("retention_ms") ?? String(DAY_MS));
  }
}
