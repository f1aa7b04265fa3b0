import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { argKeysOf, boundedId, boundedText, MAX_ARG_KEYS, MAX_FIELD_CHARS } from "../../../src/grant/records";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("agent-controlled record fields are bounded", () => {
  it("keeps a short value as it is", () => {
    expect(boundedText("tools/call")).toBe("tools/call");
    expect(boundedText("x".repeat(MAX_FIELD_CHARS))).toBe("x".repeat(MAX_FIELD_CHARS));
  });

  it("cuts a long value, marks it, and names the original by length and SHA-256", () => {
    const method = "m".repeat(3 * 1024 * 1024);
    const bounded = boundedText(method);
    expect(bounded.length).toBeLessThan(MAX_FIELD_CHARS + 120);
    expect(bounded.startsWith("m".repeat(MAX_FIELD_CHARS))).toBe(true);
    expect(bounded).toContain(`truncated: ${method.length} characters`);
    expect(bounded).toContain(sha256(method));
  });

  it("never leaves half a surrogate pair", () => {
    const value = "a".repeat(MAX_FIELD_CHARS - 1) + "😀".repeat(10);
    const bounded = boundedText(value);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(bounded)).toBe(false);
    expect(bounded.startsWith(`${"a".repeat(MAX_FIELD_CHARS - 1)}…`)).toBe(true);
  });

  it("bounds string ids and keeps numeric ids", () => {
    expect(boundedId(7)).toBe(7);
    expect(boundedId(null)).toBeNull();
    expect(String(boundedId("i".repeat(10_000))).length).toBeLessThan(MAX_FIELD_CHARS + 120);
  });

  it("argKeysOf sorts names, never carries values, and bounds names and their number", () => {
    expect(argKeysOf({ reason: "secret-value", amount: 5 })).toEqual(["amount", "reason"]);
    expect(argKeysOf(undefined)).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${String(i).padStart(3, "0")}`, "secret-value"]));
    const keys = argKeysOf(many);
    expect(keys).toHaveLength(MAX_ARG_KEYS + 1);
    expect(keys.at(-1)).toMatch(/^…\[436 more argument names, sha256 of all [0-9a-f]{64}\]$/);
    expect(JSON.stringify(keys)).not.toContain("secret-value");
    expect(argKeysOf({ ["k".repeat(5000)]: 1 })[0]!.length).toBeLessThan(MAX_FIELD_CHARS + 120);
  });
});
