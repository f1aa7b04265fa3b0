import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashToken, newGrantId, newGrantToken, newRequestId, newServerId, parseGrantToken } from "../../../src/grant/token";

describe("ids and grant tokens", () => {
  it("makes ids of the documented shapes, different every time", () => {
    const grants = new Set(Array.from({ length: 200 }, newGrantId));
    expect(grants.size).toBe(200);
    for (const id of grants) expect(id).toMatch(/^g[0-9a-f]{24}$/);
    expect(newServerId()).toMatch(/^srv-[0-9a-f]{12}$/);
    expect(newRequestId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("embeds the grant id in a token with 43 base64url characters of secret", () => {
    const id = newGrantId();
    const tokens = Array.from({ length: 200 }, () => newGrantToken(id));
    expect(new Set(tokens).size).toBe(200);
    for (const token of tokens) {
      expect(token).toMatch(new RegExp(`^mpg_${id}_[A-Za-z0-9_-]{43}$`));
      expect(parseGrantToken(token)).toEqual({ grantId: id });
    }
  });

  it.each([
    "",
    "mpg_g0123456789abcdef01234567_" + "A".repeat(42),
    "mpg_g0123456789abcdef01234567_" + "A".repeat(44),
    "mpg_g0123456789ABCDEF01234567_" + "A".repeat(43),
    "mpg_g0123456789abcdef0123456_" + "A".repeat(43),
    "xpg_g0123456789abcdef01234567_" + "A".repeat(43),
    "mpg_g0123456789abcdef01234567_" + "A".repeat(42) + "=",
    " mpg_g0123456789abcdef01234567_" + "A".repeat(43),
    "mpg_g0123456789abcdef01234567_" + "A".repeat(43) + "\n",
  ])("rejects %j", (token) => {
    expect(parseGrantToken(token)).toBeNull();
  });

  it("hashes a token to lowercase hex SHA-256", async () => {
    const token = newGrantToken(newGrantId());
    expect(await hashToken(token)).toBe(createHash("sha256").update(token).digest("hex"));
    expect(await hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
