/**
 * The settlement outbox: outcomes waiting, in this Worker isolate, for a ride to their grant's
 * Durable Object.
 *
 * An outcome is recorded after the response (docs/storage.md, "Outcomes"). Sending it on its own would cost every call a second Durable Object round trip and
 * a second storage commit; instead it rides on the next `gate()` of the same grant from this
 * isolate, and a short timer sends whatever is still waiting when traffic pauses. If the isolate
 * dies first, nothing is silently lost: the grant's Durable Object still holds the request as
 * pending and its alarm appends an "unknown" outcome record.
 */
import type { Settlement } from "./protocol";

/** How long an outcome may wait for a ride before it is sent on its own. */
export const OUTBOX_FLUSH_MS = 20;

const waiting = new Map<string, Settlement[]>();

/** Queues an outcome; returns true when the caller must schedule a flush (the queue was empty). */
export function enqueueSettlement(grantId: string, settlement: Settlement): boolean {
  const queue = waiting.get(grantId);
  if (queue !== undefined) {
    queue.push(settlement);
    return false;
  }
  waiting.set(grantId, [settlement]);
  return true;
}

/** Takes every outcome waiting for this grant (to send with a gate() or a flush). */
export function takeSettlements(grantId: string): Settlement[] {
  const queue = waiting.get(grantId);
  if (queue === undefined) return [];
  waiting.delete(grantId);
  return queue;
}

/** Puts outcomes back after a call that could not deliver them. */
export function returnSettlements(grantId: string, settlements: Settlement[]): void {
  if (settlements.length === 0) return;
  const queue = waiting.get(grantId);
  if (queue === undefined) waiting.set(grantId, settlements);
  else queue.unshift(...settlements);
}
