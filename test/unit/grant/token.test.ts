import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashToken, isGenuineGrantId, newGrantId, newGrantToken, newRequestId, newServerId, parseGrantToken } from "../../../src/grant/token";

const SECRET = "unit-test-secret";

describe("ids and grant tokens", () => {
  it("makes ids of the documented shapes, different every time", () => {
    const grants = new Set(Array.from({ length: 200 }, () => newGrantId(SECRET)));
    expect(grants.size).toBe(200);
    for (const id of grants) expect(id).toMatch(/^g[0-9a-f]{32}$/);
    expect(newServerId()).toMatch(/^srv-[0-9a-f]{12}$/);
    expect(newRequestId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("embeds the grant id in a token with 43 base64url characters of secret", () => {
    const id = newGrantId(SECRET);
    const tokens = Array.from({ length: 200 }, () => newGrantToken(id));
    expect(new Set(tokens).size).toBe(200);
    for (const token of tokens) {
      expect(token).toMatch(new RegExp(`^mpg_${id}_[A-Za-z0-9_-]{43}$`));
      expect(parseGrantToken(token)).toEqual({ grantId: id });
    }
  });

  it.each([
    "",
    `mpg_g0123456789abcdef0123456789abcdef_${"A".repeat(42)}`,
    `mpg_g0123456789abcdef0123456789abcdef_${"A".repeat(44)}`,
    `mpg_g0123456789ABCDEF0123456789abcdef_${"A".repeat(43)}`,
    `mpg_g0123456789abcdef0123456789abcde_${"A".repeat(43)}`,
    `xpg_g0123456789abcdef0123456789abcdef_${"A".repeat(43)}`,
    `mpg_g0123456789abcdef0123456789abcdef_${"A".repeat(42)}=`,
    ` mpg_g0123456789abcdef0123456789abcdef_${"A".repeat(43)}`,
    `mpg_g0123456789abcdef0123456789abcdef_${"A".repeat(43)}\n`,
  ])("rejects %j", (token) => {
    expect(parseGrantToken(token)).toBeNull();
  });

  it("hashes a token to lowercase hex SHA-256", async () => {
    const token = newGrantToken(newGrantId(SECRET));
    expect(hashToken(token)).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("grant ids carry a MAC under the gateway's secret", () => {
  it("accepts the ids it minted, and only under the same secret", () => {
    for (let i = 0; i < 100; i++) {
      const id = newGrantId(SECRET);
      expect(isGenuineGrantId(id, SECRET)).toBe(true);
      expect(isGenuineGrantId(id, "another-secret")).toBe(false);
    }
  });

  it("refuses well-formed ids that it did not mint: 1,000 random ones, and every one-digit change of a real one", () => {
    const random = () => `g${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
    for (let i = 0; i < 1000; i++) expect(isGenuineGrantId(random(), SECRET)).toBe(false);
    const real = newGrantId(SECRET);
    for (let i = 1; i < real.length; i++) {
      const digit = real[i] === "0" ? "1" : "0";
      expect(isGenuineGrantId(real.slice(0, i) + digit + real.slice(i + 1), SECRET)).toBe(false);
    }
  });

  it.each(["", "g", `G${"0".repeat(32)}`, `g${"0".repeat(31)}`, `g${"0".repeat(33)}`, `g${"z".repeat(32)}`])("refuses the malformed id %j", (id) => {
    expect(isGenuineGrantId(id, SECRET)).toBe(false);
  });
});
