import { describe, expect, it } from "vitest";
import { approve, describePinEvent, initialPins, observeListing, type ListedTool, type PinState } from "../../../src/server/pins";

const empty = (): PinState => ({ pins: new Map(), quarantine: new Map(), missing: new Set() });
const tool = (name: string, fingerprint: string): ListedTool => ({ name, fingerprint, definition: { name, description: fingerprint } });

describe("tool pins", () => {
  it("the first listing (or catalogue) is the pinned set", () => {
    const state = empty();
    expect(initialPins(state, [tool("a", "1"), tool("b", "2")], "listing")).toEqual([{ kind: "pinned", tools: 2, source: "listing" }]);
    expect(observeListing(state, [tool("a", "1"), tool("b", "2")], true)).toEqual([]);
  });

  it("a changed definition and a new tool are quarantined, once; the same change again changes nothing", () => {
    const state = empty();
    initialPins(state, [tool("a", "1")], "catalogue");
    expect(observeListing(state, [tool("a", "1b"), tool("n", "9")], false)).toEqual([
      { kind: "quarantined", tool: "a", pinned: "1", seen: "1b" },
      { kind: "quarantined", tool: "n", pinned: null, seen: "9" },
    ]);
    expect(observeListing(state, [tool("a", "1b"), tool("n", "9")], false)).toEqual([]);
    expect([...state.quarantine.keys()]).toEqual(["a", "n"]);
  });

  it("a listing back at the pinned definition lifts the quarantine", () => {
    const state = empty();
    initialPins(state, [tool("a", "1")], "listing");
    observeListing(state, [tool("a", "2")], false);
    expect(observeListing(state, [tool("a", "1")], false)).toEqual([{ kind: "restored", tool: "a", fingerprint: "1" }]);
    expect(state.quarantine.size).toBe(0);
  });

  it("approving pins the definition seen; approving a tool that is not quarantined does nothing", () => {
    const state = empty();
    initialPins(state, [tool("a", "1")], "listing");
    observeListing(state, [tool("a", "2")], false);
    expect(approve(state, "a")).toEqual({ kind: "approved", tool: "a", pinned: "1", approved: "2" });
    expect(state.pins.get("a")?.fingerprint).toBe("2");
    expect(approve(state, "a")).toBeNull();
    expect(observeListing(state, [tool("a", "2")], true)).toEqual([]);
  });

  it("a pinned tool missing from a complete listing is recorded once, and never from a partial one", () => {
    const state = empty();
    initialPins(state, [tool("a", "1"), tool("b", "2")], "listing");
    expect(observeListing(state, [tool("a", "1")], false)).toEqual([]);
    expect(observeListing(state, [tool("a", "1")], true)).toEqual([{ kind: "missing", tool: "b", pinned: "2" }]);
    expect(observeListing(state, [tool("a", "1")], true)).toEqual([]);
  });

  it("records name both fingerprints", () => {
    expect(describePinEvent({ kind: "quarantined", tool: "run", pinned: "aa", seen: "bb" })).toEqual({
      action: "tool_quarantined",
      message: 'tool "run" quarantined: pinned aa, listed bb',
    });
    expect(describePinEvent({ kind: "approved", tool: "run", pinned: null, approved: "bb" }).message).toBe(
      'tool "run" approved: pinned (never approved), now bb',
    );
  });
});
