/**
 * Cloudflare Access: verifies the Access JWT (header or CF_Authorization cookie) against the team's
 * JWKS, audience, issuer and validity window. Only RS256 and ES256 are accepted.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { loadConfig, type Env } from "../config";
import type { AppEnv } from "../context";

export const ACCESS_HEADER = "cf-access-jwt-assertion";
export const ACCESS_COOKIE = "CF_Authorization";
const ALGORITHMS = ["RS256", "ES256"];
const CLOCK_TOLERANCE_SECONDS = 30;

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

// The only module state: one key set per JWKS URL, so keys are fetched once per isolate and
// refetched (with a cooldown) when an unknown `kid` shows up.
const jwksCache = new Map<string, RemoteJwks>();

function jwksFor(url: string): RemoteJwks {
  let jwks = jwksCache.get(url);
  if (jwks === undefined) {
    jwks = createRemoteJWKSet(new URL(url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 });
    jwksCache.set(url, jwks);
  }
  return jwks;
}

export function teamOrigin(env: Env): string {
  return loadConfig(env).access.teamOrigin;
}

export function jwksUrl(env: Env): string {
  return loadConfig(env).access.jwksUrl;
}

export type AccessResult =
  | { ok: true; email: string | undefined; payload: JWTPayload }
  | { ok: false; reason: string };

export function tokenFrom(request: Request, cookie: string | undefined): string | undefined {
  const header = request.headers.get(ACCESS_HEADER)?.trim();
  if (header) return header;
  return cookie?.trim() || undefined;
}

// Verified tokens, so the signature check (WebCrypto RSA/ECDSA, the largest part of the Worker's
// own cost per request) runs once per token, not once per request. An entry is used only before
// the token's own `exp` (never the clock tolerance past it) and at most VERIFIED_MAX_AGE_MS after
// its verification (so a key removed from the JWKS stops being trusted within that time); it is
// keyed by everything the verification depended on (token, audience, issuer, JWKS URL). Only
// successes are cached; the map is bounded (oldest first out).
const VERIFIED_MAX_AGE_MS = 60_000;
const VERIFIED_MAX_ENTRIES = 256;
type Verified = { until: number; result: AccessResult & { ok: true } };
const verifiedCache = new Map<string, Verified>();

/** For tests: forget every verified token. */
export function clearVerifiedTokens(): void {
  verifiedCache.clear();
}

export function verifiedTokenCount(): number {
  return verifiedCache.size;
}

function remember(key: string, result: AccessResult & { ok: true }, now: number): void {
  const exp = typeof result.payload.exp === "number" ? result.payload.exp * 1000 : 0;
  const until = Math.min(exp, now + VERIFIED_MAX_AGE_MS);
  if (until <= now) return;
  verifiedCache.delete(key);
  while (verifiedCache.size >= VERIFIED_MAX_ENTRIES) {
    const oldest = verifiedCache.keys().next().value;
    if (oldest === undefined) break;
    verifiedCache.delete(oldest);
  }
  verifiedCache.set(key, { until, result });
}

/** Verifies one Access JWT; the reason says what failed, never echoing the token. */
export async function verifyAccessJwt(token: string, env: Env, now: number = Date.now()): Promise<AccessResult> {
  const audience = loadConfig(env).access.aud;
  const issuer = teamOrigin(env);
  const keys = jwksUrl(env);
  const key = `${audience}\n${issuer}\n${keys}\n${token}`;
  const cached = verifiedCache.get(key);
  if (cached !== undefined) {
    if (now < cached.until) return cached.result;
    verifiedCache.delete(key);
  }
  try {
    const { payload } = await jwtVerify(token, jwksFor(keys), {
      algorithms: ALGORITHMS,
      audience,
      issuer,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp"],
      currentDate: new Date(now),
    });
    const email = typeof payload.email === "string" ? payload.email : undefined;
    const result = { ok: true as const, email, payload };
    remember(key, result, now);
    return result;
  } catch (error) {
    return { ok: false, reason: describe(error) };
  }
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} invalid`;
  if (error instanceof errors.JWKSNoMatchingKey) return "no matching signing key";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature invalid";
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm not allowed";
  if (error instanceof errors.JWKSTimeout) return "JWKS timeout";
  if (error instanceof errors.JOSEError) return error.code;
  return "token invalid";
}

/**
 * A service-token login, as Access issues it: `common_name` is the client id (`<id>.access`), `sub`
 * is empty and there is no email (Cloudflare docs, "Application token", service token payload).
 */
export function isServiceTokenLogin(payload: JWTPayload): boolean {
  const commonName = payload.common_name;
  return typeof commonName === "string" && commonName.endsWith(".access") && payload.email === undefined && !payload.sub;
}

export function isBrowserNavigation(request: Request): boolean {
  return (
    request.method === "GET" &&
    request.headers.get("upgrade") === null &&
    (request.headers.get("accept") ?? "").includes("text/html")
  );
}

export function accessLoginUrl(env: Env, requestUrl: string): string {
  const url = new URL(requestUrl);
  const { loginOrigin, aud } = loadConfig(env).access;
  const login = new URL(`${loginOrigin}/cdn-cgi/access/login/${url.host}`);
  login.searchParams.set("kid", aud);
  login.searchParams.set("redirect_url", url.pathname + url.search);
  return login.toString();
}

/** Rejects requests without a valid Access JWT: 302 to the login for browsers, 401 JSON otherwise. */
export function requireAccess(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = tokenFrom(c.req.raw, getCookie(c, ACCESS_COOKIE));
    if (token === undefined) {
      if (isBrowserNavigation(c.req.raw)) return c.redirect(accessLoginUrl(c.env, c.req.url), 302);
      return c.json({ error: "unauthorized", reason: "missing Cloudflare Access token" }, 401);
    }
    const result = await verifyAccessJwt(token, c.env);
    if (!result.ok) {
      c.get("log").warn("access denied", { path: c.req.path, reason: result.reason });
      return c.json({ error: "unauthorized", reason: result.reason }, 401);
    }
    c.set("user", result.email);
    c.set("serviceToken", isServiceTokenLogin(result.payload));
    await next();
  };
}
