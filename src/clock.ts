/**
 * The one clock: epoch milliseconds. Everything that decides (policy, counters, settlement) takes
 * `now` as an argument; the shells (the gateway route, the Durable Objects, the admin API) read it
 * from a `Clock` they are given, so tests can substitute time in one place.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** ISO 8601 text of an epoch-millisecond time, as records and the admin API show it. */
export const isoTime = (epochMs: number): string => new Date(epochMs).toISOString();
