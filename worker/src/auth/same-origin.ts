/**
 * Refuses cross-site state changes and cross-site WebSocket handshakes, judged by what browsers
 * really send (Fetch Metadata `Sec-Fetch-Site`, else `Origin`), not by the Access cookie's
 * SameSite attribute, and requires `Content-Type: application/json` on the Worker's own API.
 *
 * Modelled on Hono's `csrf` middleware (hono/dist/middleware/csrf: Sec-Fetch-Site same-origin, or
 * Origin equal to the request URL's origin), which does not fit as is: it checks only the
 * form/text content types (a JSON request is waved through), treats OPTIONS as safe, answers
 * plain-text 403 by throwing (this app's onError turns that into 500), logs nothing and knows no
 * Access service tokens. The rules and why: README, "Security: which requests the Worker accepts".
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

export type Verdict =
  | { ok: true; via: "sec-fetch-site" | "origin" | "service-token" | "non-browser-websocket" }
  | { ok: false; reason: string };

export interface RequestFacts {
  method: string;
  /** `Sec-Fetch-Site` as sent, or null. */
  fetchSite: string | null;
  /** `Origin` as sent, or null. */
  origin: string | null;
  /** The Worker's own origin (scheme://host[:port] of the request URL). */
  ownOrigin: string;
  websocket: boolean;
  /** The verified Access JWT is a service-token login (no browser behind it). */
  serviceToken: boolean;
}

// A browser's user-started navigation (address bar, bookmark) is `none`: no other site caused it.
const ACCEPTED_FETCH_SITES = new Set(["same-origin", "none"]);
const KNOWN_FETCH_SITES = new Set(["same-origin", "same-site", "cross-site", "none"]);
const MAX_LOGGED_HEADER = 200;

/** Whether a request can change state: anything but GET/HEAD, and every WebSocket handshake. */
export function isChecked(method: string, websocket: boolean): boolean {
  return websocket || (method !== "GET" && method !== "HEAD");
}

/**
 * Decides one state-changing request or WebSocket handshake.
 *
 * - `Sec-Fetch-Site` decides when present: browsers set it and pages cannot (a forbidden header).
 *   `same-site` is refused too: a sibling subdomain is another origin, and SameSite=Lax cookies
 *   reach the Worker from it.
 * - Without it (browsers before 2023, non-secure contexts; Chromium sends none on WebSocket
 *   handshakes), `Origin` must equal the Worker's own origin. `Origin: null` is refused.
 * - Neither header: an HTTP request may still come from an old browser's form, so only a verified
 *   Access service token passes; a WebSocket handshake cannot come from a browser (RFC 6455 §4.1:
 *   browsers must send Origin on version 13, the only one spoken), so it passes: non-browser
 *   clients carry no cookie a page could abuse.
 */
export function crossSiteVerdict(facts: RequestFacts): Verdict {
  const fetchSite = facts.fetchSite?.trim().toLowerCase() ?? null;
  if (fetchSite !== null && fetchSite !== "") {
    if (ACCEPTED_FETCH_SITES.has(fetchSite)) return { ok: true, via: "sec-fetch-site" };
    if (!KNOWN_FETCH_SITES.has(fetchSite)) return { ok: false, reason: "Sec-Fetch-Site has an unknown value" };
    const where = fetchSite === "same-site" ? "another origin of the same site" : "another site";
    return { ok: false, reason: `Sec-Fetch-Site is ${fetchSite}: a page on ${where} started this request` };
  }
  const origin = facts.origin?.trim() ?? null;
  if (origin !== null && origin !== "") {
    if (origin === facts.ownOrigin) return { ok: true, via: "origin" };
    return { ok: false, reason: `Origin ${origin.slice(0, MAX_LOGGED_HEADER)} is not this Worker's origin ${facts.ownOrigin}` };
  }
  if (facts.websocket) return { ok: true, via: "non-browser-websocket" };
  if (facts.serviceToken) return { ok: true, via: "service-token" };
  return {
    ok: false,
    reason: "neither Sec-Fetch-Site nor Origin is present, so nothing shows that this request comes from this Worker's own pages",
  };
}

function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
}

function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return request.headers.has("transfer-encoding") || request.body !== null;
}

/**
 * Why a state-changing request to the Worker's own API has an unacceptable body type, or null.
 * `application/json` is not a CORS-safelisted type: another site cannot send it without a
 * preflight, and the Worker grants none.
 */
export function jsonBodyProblem(request: Request): string | null {
  if (!isChecked(request.method, false)) return null;
  const type = mediaType(request.headers.get("content-type"));
  if (type === "") return hasBody(request) ? "a request body needs Content-Type: application/json" : null;
  if (type !== "application/json") return `Content-Type ${type.slice(0, MAX_LOGGED_HEADER)} is not accepted here`;
  return null;
}

/** The Worker's own API (the gateway's `/api/channels/...` etc. are proxied and not its business). */
export function isWorkerApi(path: string): boolean {
  return /^\/(api\/admin|debug)(\/|$)/.test(path);
}

function refusalHelp(ownOrigin: string): string {
  return (
    "Only this Worker's own pages (/_admin/, the Control UI) may change state; a browser sends the headers that prove it by itself. " +
    `Scripts: log in with an Access service token (CF-Access-Client-Id / CF-Access-Client-Secret), or send Origin: ${ownOrigin}.`
  );
}

/** Middleware (after Access, which records whether the login is a service token). */
export function requireSameOrigin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const request = c.req.raw;
    // Any upgrade on GET counts (the proxy forwards Upgrade headers); a browser cannot add one.
    const websocket = request.method === "GET" && request.headers.has("upgrade");
    if (!isChecked(request.method, websocket)) return next();
    const ownOrigin = new URL(request.url).origin;
    const verdict = crossSiteVerdict({
      method: request.method,
      fetchSite: request.headers.get("sec-fetch-site"),
      origin: request.headers.get("origin"),
      ownOrigin,
      websocket,
      serviceToken: c.get("serviceToken"),
    });
    if (!verdict.ok) {
      // Only what the decision used: never the cookie, the Access JWT or the body.
      c.get("log").warn("cross-site request refused", {
        method: request.method,
        path: c.req.path,
        websocket,
        reason: verdict.reason,
      });
      return c.json({ ok: false, error: "cross-site request refused", reason: verdict.reason, help: refusalHelp(ownOrigin) }, 403);
    }
    if (isWorkerApi(c.req.path)) {
      const problem = jsonBodyProblem(request);
      if (problem !== null) {
        return c.json({ ok: false, error: "unsupported media type", reason: problem, help: "Send the body as JSON with Content-Type: application/json." }, 415);
      }
    }
    await next();
  };
}
