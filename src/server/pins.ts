/**
 * Tool pinning, pure (docs/policy.md, "Tool pinning"): a server's approved tool definitions (pins)
 * and the tools whose listing disagrees with them (quarantine).
 *
 * A definition is named by its fingerprint (src/catalogue/fingerprint.ts). When a listing shows
 * a tool whose fingerprint differs from its pin, or a tool that has no pin, the tool is
 * quarantined: hidden from every listing and refused on every call, for every grant of the server
 * whose policy pins tools, until an operator approves the new definition — or the upstream goes
 * back to the pinned one. A pinned tool missing from a complete listing is recorded, not an error.
 */

/** A tool as one listing showed it. `definition` is kept so an operator can compare old and new. */
export interface ListedTool {
  name: string;
  fingerprint: string;
  definition: unknown;
}

export interface Pin {
  fingerprint: string;
  definition: unknown;
}

export interface Quarantined {
  /** The approved fingerprint, or null for a tool that was never approved. */
  pinned: string | null;
  /** The fingerprint the upstream lists now. */
  seen: string;
  definition: unknown;
}

export interface PinState {
  pins: Map<string, Pin>;
  quarantine: Map<string, Quarantined>;
  /** Pinned tools already recorded as missing (recorded once until they come back). */
  missing: Set<string>;
}

export type PinEvent =
  | { kind: "pinned"; tools: number; source: "catalogue" | "listing" }
  | { kind: "quarantined"; tool: string; pinned: string | null; seen: string }
  | { kind: "restored"; tool: string; fingerprint: string }
  | { kind: "missing"; tool: string; pinned: string }
  | { kind: "approved"; tool: string; pinned: string | null; approved: string };

/** The first pins: the catalogue's snapshot when there is one, else the first listing seen. */
export function initialPins(state: PinState, tools: readonly ListedTool[], source: "catalogue" | "listing"): PinEvent[] {
  // A name listed twice is pinned as first listed; the listing's check then quarantines a differing second entry.
  for (const tool of tools) if (!state.pins.has(tool.name)) state.pins.set(tool.name, { fingerprint: tool.fingerprint, definition: tool.definition });
  return [{ kind: "pinned", tools: tools.length, source }];
}

/**
 * Compares a listing with the pins and changes the state to match. `complete` is true when the
 * listing is the whole tool list (one page, no cursor): only then can a tool be missing.
 */
export function observeListing(state: PinState, listing: readonly ListedTool[], complete: boolean): PinEvent[] {
  const events: PinEvent[] = [];
  const listed = new Set<string>();
  // A listing may name a tool twice; one entry that matches its pin does not vouch for another that does not.
  const differing = new Set(listing.filter((tool) => state.pins.get(tool.name)?.fingerprint !== tool.fingerprint).map((tool) => tool.name));
  for (const tool of listing) {
    listed.add(tool.name);
    state.missing.delete(tool.name);
    const pin = state.pins.get(tool.name);
    const held = state.quarantine.get(tool.name);
    if (pin !== undefined && pin.fingerprint === tool.fingerprint) {
      if (held !== undefined && !differing.has(tool.name)) {
        state.quarantine.delete(tool.name);
        events.push({ kind: "restored", tool: tool.name, fingerprint: tool.fingerprint });
      }
      continue;
    }
    if (held !== undefined && held.seen === tool.fingerprint) continue;
    state.quarantine.set(tool.name, { pinned: pin?.fingerprint ?? null, seen: tool.fingerprint, definition: tool.definition });
    events.push({ kind: "quarantined", tool: tool.name, pinned: pin?.fingerprint ?? null, seen: tool.fingerprint });
  }
  if (complete) {
    for (const [name, pin] of state.pins) {
      if (listed.has(name) || state.missing.has(name)) continue;
      state.missing.add(name);
      events.push({ kind: "missing", tool: name, pinned: pin.fingerprint });
    }
  }
  return events;
}

/** An operator approves the definition a quarantined tool has now; null when it is not quarantined. */
export function approve(state: PinState, tool: string): PinEvent | null {
  const held = state.quarantine.get(tool);
  if (held === undefined) return null;
  state.quarantine.delete(tool);
  state.pins.set(tool, { fingerprint: held.seen, definition: held.definition });
  return { kind: "approved", tool, pinned: held.pinned, approved: held.seen };
}

/** How an event reads in an audit record: the action and a message naming both fingerprints. */
export function describePinEvent(event: PinEvent): { action: string; message: string } {
  switch (event.kind) {
    case "pinned":
      return { action: "tools_pinned", message: `${event.tools} tool definitions pinned from the ${event.source}` };
    case "quarantined":
      return {
        action: "tool_quarantined",
        message: `tool ${JSON.stringify(event.tool)} quarantined: pinned ${event.pinned ?? "(never approved)"}, listed ${event.seen}`,
      };
    case "restored":
      return { action: "tool_restored", message: `tool ${JSON.stringify(event.tool)} listed with its pinned definition ${event.fingerprint} again` };
    case "missing":
      return { action: "tool_missing", message: `tool ${JSON.stringify(event.tool)} (pinned ${event.pinned}) is no longer listed` };
    case "approved":
      return {
        action: "tool_approved",
        message: `tool ${JSON.stringify(event.tool)} approved: pinned ${event.pinned ?? "(never approved)"}, now ${event.approved}`,
      };
  }
}
