import { expect, it } from "vitest";
import { enqueueSettlement, returnSettlements, takeSettlements } from "../../../src/grant/outbox";
import type { Settlement } from "../../../src/grant/protocol";

const s = (seq: number): Settlement => ({
  requestId: `r${seq}`,
  seq,
  status: 200,
  latencyMs: 1,
  upstreamReceived: true,
  error: null,
  sessionOpened: null,
  sessionClosed: null,
});

it("queues per grant, asks for one flush per non-empty queue, and hands everything over once", () => {
  expect(enqueueSettlement("ga", s(1))).toBe(true);
  expect(enqueueSettlement("ga", s(2))).toBe(false);
  expect(enqueueSettlement("gb", s(7))).toBe(true);
  expect(takeSettlements("ga").map((x) => x.seq)).toEqual([1, 2]);
  expect(takeSettlements("ga")).toEqual([]);
  expect(enqueueSettlement("ga", s(3))).toBe(true);
  expect(takeSettlements("gb").map((x) => x.seq)).toEqual([7]);
  expect(takeSettlements("ga").map((x) => x.seq)).toEqual([3]);
});

it("returns undelivered outcomes ahead of newer ones", () => {
  enqueueSettlement("gc", s(5));
  const taken = takeSettlements("gc");
  enqueueSettlement("gc", s(6));
  returnSettlements("gc", taken);
  expect(takeSettlements("gc").map((x) => x.seq)).toEqual([5, 6]);
  returnSettlements("gc", []);
  expect(takeSettlements("gc")).toEqual([]);
});
