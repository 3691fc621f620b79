/**
 * The verified-token cache of auth/access.ts: a token is verified once and then served from the
 * cache, but never past its own `exp` (nor longer than the cache's maximum age), never for
 * another audience/issuer/JWKS, never for a failure, and the cache stays bounded. The clock is
 * the `now` argument (jose's `currentDate`), so no test waits or measures time.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { clearVerifiedTokens, verifiedTokenCount, verifyAccessJwt } from "../src/auth/access";
import { accessToken, originEnv } from "./helpers";

const env = originEnv("access-cache");
const seconds = () => Math.floor(Date.now() / 1000);

describe("verified-token cache", () => {
  beforeEach(() => clearVerifiedTokens());

  it("verifies a token once and serves the same result while it is valid", async () => {
    const token = await accessToken();
    const t0 = Date.now();
    const first = await verifyAccessJwt(token, env, t0);
    expect(first.ok).toBe(true);
    expect(verifiedTokenCount()).toBe(1);
    const again = await verifyAccessJwt(token, env, t0 + 10_000);
    expect(again).toBe(first); // the cached object itself: no second verification
    expect(verifiedTokenCount()).toBe(1);
  });

  it("never serves a token past its exp: after it, the token is verified again", async () => {
    const exp = seconds() + 20;
    const token = await accessToken({ exp });
    const t0 = Date.now();
    const first = await verifyAccessJwt(token, env, t0);
    expect(first.ok).toBe(true);
    expect(await verifyAccessJwt(token, env, exp * 1000 - 1)).toBe(first);
    // Within jose's 30 s clock tolerance a fresh verification still accepts it: a new result.
    const past = await verifyAccessJwt(token, env, exp * 1000 + 5_000);
    expect(past.ok).toBe(true);
    expect(past).not.toBe(first);
    // Beyond the tolerance it is rejected, though it was cached before.
    expect(await verifyAccessJwt(token, env, exp * 1000 + 31_000)).toEqual({ ok: false, reason: "token expired" });
  });

  it("verifies again after the cache's maximum age even if the token lives longer", async () => {
    const token = await accessToken({ exp: seconds() + 3600 });
    const t0 = Date.now();
    const first = await verifyAccessJwt(token, env, t0);
    expect(await verifyAccessJwt(token, env, t0 + 59_000)).toBe(first);
    const later = await verifyAccessJwt(token, env, t0 + 61_000);
    expect(later.ok).toBe(true);
    expect(later).not.toBe(first);
  });

  it("does not reuse a verification for another audience", async () => {
    const token = await accessToken();
    expect((await verifyAccessJwt(token, env)).ok).toBe(true);
    const other = originEnv("access-cache", { CF_ACCESS_AUD: "another-application" });
    expect(await verifyAccessJwt(token, other)).toMatchObject({ ok: false });
  });

  it("never caches a failure", async () => {
    const rogue = await accessToken({ key: "rogue" });
    expect((await verifyAccessJwt(rogue, env)).ok).toBe(false);
    expect((await verifyAccessJwt(rogue, env)).ok).toBe(false);
    expect(verifiedTokenCount()).toBe(0);
  });

  it("stays bounded", async () => {
    const now = seconds();
    for (let n = 0; n < 300; n += 1) {
      // Distinct tokens: distinct expiry times.
      expect((await verifyAccessJwt(await accessToken({ exp: now + 600 + n }), env)).ok).toBe(true);
    }
    expect(verifiedTokenCount()).toBeLessThanOrEqual(256);
  });
});
