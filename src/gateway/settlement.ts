/**
 * The outcome of one forwarded request, recorded exactly once: when the response has been passed
 * on whole, when the agent goes away, or at once for a failure. Later reports are ignored (the
 * grant's object also ignores a second outcome for the same seq).
 */
import type { Clock } from "../clock";
import type { Settlement } from "../grant/protocol";

export class OutcomeRecorder {
  readonly #base: Settlement;
  readonly #started: number;
  readonly #clock: Clock;
  readonly #deliver: (settlement: Settlement) => void;
  #settled = false;

  constructor(base: Omit<Settlement, "latencyMs">, started: number, clock: Clock, deliver: (settlement: Settlement) => void) {
    this.#base = { ...base, latencyMs: 0 };
    this.#started = started;
    this.#clock = clock;
    this.#deliver = deliver;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Fields known before the end (the status, a session opened or closed). */
  note(patch: Partial<Settlement>): void {
    Object.assign(this.#base, patch);
  }

  settle(patch: Partial<Settlement> = {}): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#deliver({ ...this.#base, ...patch, latencyMs: this.#clock() - this.#started });
  }
}
