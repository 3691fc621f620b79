/**
 * /cdp, /cdp/json/version, /cdp/json/list: a Chrome DevTools Protocol endpoint over the Browser
 * Rendering binding, guarded by CDP_SECRET (constant-time compare) instead of Access. Discovery
 * answers carry a short-lived HMAC ticket in webSocketDebuggerUrl, never the secret itself.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { base64Url } from "../gateway/device";
import { errorMessage } from "../lib/log";
import { relayWebSocket } from "../lib/ws-relay";

const BROWSER_HOST = "https://fake.host";
const TICKET_TTL_SECONDS = 120;
const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** Constant-time equality: compares fixed-length digests, so length differences leak nothing. */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

async function ticketSignature(secret: string, expires: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return base64Url(await crypto.subtle.sign("HMAC", key, encoder.encode(`cdp-ticket:${expires}`)));
}

export async function issueTicket(secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const expires = nowSeconds + TICKET_TTL_SECONDS;
  return `${expires}.${await ticketSignature(secret, expires)}`;
}

export async function ticketValid(ticket: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<boolean> {
  const [expiresText, signature] = ticket.split(".");
  const expires = Number(expiresText);
  if (!signature || !Number.isInteger(expires) || expires < nowSeconds) return false;
  return secretsEqual(signature, await ticketSignature(secret, expires));
}

function presentedSecret(c: Context<AppEnv>): string | undefined {
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  return c.req.query("secret") ?? c.req.header("x-cdp-secret") ?? bearer;
}

type Guard = { ok: true; secret: string; browser: Fetcher } | { ok: false; response: Response };

async function guard(c: Context<AppEnv>): Promise<Guard> {
  const secret = c.var.config.cdpSecret;
  const browser = c.var.config.bindings.browser;
  if (secret === undefined || browser === undefined) {
    const missing = [secret === undefined ? "CDP_SECRET (secret)" : null, browser === undefined ? "BROWSER (Browser Rendering binding)" : null].filter(Boolean);
    return { ok: false, response: c.json({ error: "CDP shim not configured", missing }, 503) };
  }
  const ticket = c.req.query("ticket");
  const given = presentedSecret(c);
  const allowed =
    (ticket !== undefined && (await ticketValid(ticket, secret))) || (given !== undefined && (await secretsEqual(given, secret)));
  if (!allowed) {
    c.get("log").warn("cdp secret rejected", { path: c.req.path });
    return { ok: false, response: c.json({ error: "unauthorized", reason: "missing or wrong CDP secret" }, 401) };
  }
  return { ok: true, secret, browser };
}

async function debuggerUrl(c: Context<AppEnv>, secret: string): Promise<string> {
  const url = new URL("/cdp", c.req.url);
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  url.searchParams.set("ticket", await issueTicket(secret));
  return url.toString();
}

/** DELETE /v1/devtools/browser/<id>: ends the Browser Rendering session (frees a concurrency slot). */
async function closeSession(browser: Fetcher, sessionId: string, log: AppEnv["Variables"]["log"]): Promise<void> {
  try {
    const closed = await browser.fetch(`${BROWSER_HOST}/v1/devtools/browser/${encodeURIComponent(sessionId)}`, { method: "DELETE" });
    await closed.body?.cancel();
    if (!closed.ok) log.warn("browser session close refused", { status: closed.status });
  } catch (error) {
    log.warn("browser session close failed", { error: errorMessage(error) });
  }
}

/** The headers a DevTools client (Chrome, Puppeteer, Playwright) sends on the upgrade. */
const DEVTOOLS_UPGRADE_HEADERS = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" } as const;

async function connectBrowser(c: Context<AppEnv>, browser: Fetcher): Promise<Response> {
  const log = c.get("log");
  // Without keep_alive the session ends a minute after its last connection; it is also closed
  // explicitly when the client goes away, so a dropped client never holds one of the
  // account's concurrent sessions for long.
  const acquired = await browser.fetch(`${BROWSER_HOST}/v1/devtools/browser`, { method: "POST" });
  const text = await acquired.text();
  if (acquired.status !== 200) {
    log.error("browser acquire failed", { status: acquired.status });
    return c.json({ error: "Browser Rendering refused a session", status: acquired.status, detail: log.redact(text.slice(0, 300)) }, 502);
  }
  const { sessionId } = JSON.parse(text) as { sessionId?: string };
  if (!sessionId) return c.json({ error: "Browser Rendering returned no session id" }, 502);
  const upgraded = await browser.fetch(`${BROWSER_HOST}/v1/devtools/browser/${encodeURIComponent(sessionId)}`, {
    headers: DEVTOOLS_UPGRADE_HEADERS,
  });
  if (upgraded.webSocket === null) {
    await upgraded.body?.cancel();
    c.executionCtx.waitUntil(closeSession(browser, sessionId, log));
    return c.json({ error: "Browser Rendering refused the DevTools WebSocket", status: upgraded.status }, 502);
  }
  let closing: Promise<void> | undefined;
  return relayWebSocket(upgraded.webSocket, {
    onClose: () => {
      closing ??= closeSession(browser, sessionId, log);
      c.executionCtx.waitUntil(closing);
    },
  });
}

export const cdp = new Hono<AppEnv>()
  .get("/cdp/json/version", async (c) => {
    const checked = await guard(c);
    if (!checked.ok) return checked.response;
    return c.json({
      Browser: "Cloudflare-Browser-Rendering",
      "Protocol-Version": "1.3",
      "User-Agent": "openclaw-edge CDP shim",
      "V8-Version": "",
      "WebKit-Version": "",
      webSocketDebuggerUrl: await debuggerUrl(c, checked.secret),
    });
  })
  .get("/cdp/json/list", async (c) => {
    const checked = await guard(c);
    if (!checked.ok) return checked.response;
    const url = await debuggerUrl(c, checked.secret);
    return c.json([{ id: "browser", type: "browser", title: "Cloudflare Browser Rendering", url: "about:blank", description: "", devtoolsFrontendUrl: "", webSocketDebuggerUrl: url }]);
  })
  .get("/cdp", async (c) => {
    const checked = await guard(c);
    if (!checked.ok) return checked.response;
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json({ error: "connect with a WebSocket client; discovery is at /cdp/json/version" }, 426);
    }
    try {
      return await connectBrowser(c, checked.browser);
    } catch (error) {
      c.get("log").error("cdp connect failed", { error: errorMessage(error) });
      return c.json({ error: "Browser Rendering unavailable", detail: c.get("log").redact(errorMessage(error)) }, 502);
    }
  })
  // /cdp* skips Access, so nothing under it may fall through to the gateway proxy.
  .all("/cdp", (c) => c.json({ error: "method not allowed" }, 405))
  .all("/cdp/*", (c) => c.json({ error: "not found" }, 404));
