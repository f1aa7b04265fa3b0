import { describe, expect, it } from "vitest";
import {
  grantKey,
  policyKey,
  policyPrefix,
  policyVersionKey,
  policyVersionPrefix,
  serverGrantKey,
  serverGrantsPrefix,
  serverKey,
  versionOfKey,
} from "../../../src/store/keys";

describe("KV key layout", () => {
  it.each([
    [serverKey("crm"), "server:crm"],
    [policyKey("crm", "support"), "policy:crm:support"],
    [policyVersionKey("crm", "support", 7), "policy-version:crm:support:0000000007"],
    [grantKey("g0123456789abcdef0123456789abcdef"), "grant:g0123456789abcdef0123456789abcdef"],
    [serverGrantKey("crm", "g0123456789abcdef0123456789abcdef"), "server-grants:crm:g0123456789abcdef0123456789abcdef"],
  ])("%s is %s", (key, expected) => {
    expect(key).toBe(expected);
  });

  it("pads versions so lexicographic order is numeric order", () => {
    const keys = [10, 9, 100, 2, 1].map((v) => policyVersionKey("s", "p", v));
    expect([...keys].sort().map(versionOfKey)).toEqual([1, 2, 9, 10, 100]);
  });

  it("reads the version back from a version key only", () => {
    expect(versionOfKey(policyVersionKey("s", "p", 4_000_000_000))).toBe(4_000_000_000);
    expect(versionOfKey(policyKey("s", "p"))).toBeNull();
  });

  it("keeps one server's prefixes from matching another server's keys", () => {
    expect(policyKey("crm-2", "p").startsWith(policyPrefix("crm"))).toBe(false);
    expect(serverGrantKey("crm-2", "g1").startsWith(serverGrantsPrefix("crm"))).toBe(false);
    expect(policyVersionKey("s", "p.v2", 1).startsWith(policyVersionPrefix("s", "p"))).toBe(false);
    expect(serverGrantKey("crm", "g1").startsWith("server:")).toBe(false);
  });
});
