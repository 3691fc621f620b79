/**
 * Everything not handled elsewhere: HTTP and WebSocket proxy to the gateway with the gateway token
 * added, Access credentials removed, forwarded-client headers rebuilt, and cold starts handled.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { ACCESS_COOKIE, ACCESS_HEADER, isBrowserNavigation } from "../auth/access";
import { explainCloseReason, explainConnectFailure, injectConnectToken, TOKEN_MISMATCH_HELP } from "../gateway/token";
import { UPGRADE_HEADERS } from "../gateway/rpc";
import type { GatewayStatus } from "../backend/types";
import { errorMessage } from "../lib/log";
import { gatewayAuthErrorPage, loadingPage } from "../lib/pages";
import { relayWebSocket } from "../lib/ws-relay";
import { applyForwarded, clientAddress } from "../lib/forwarded";

// Access credentials are for the Worker only; forwarded headers are rebuilt by applyForwarded.
const STRIPPED = /^(cf-access-jwt-assertion|cf-access-client-.*)$/i;

function withoutAccessCookie(cookie: string): string {
  return cookie
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "" && !part.startsWith(`${ACCESS_COOKIE}=`))
    .join("; ");
}

/**
 * Headers for the gateway. `Origin` is passed through unchanged: the gateway checks it against
 * gateway.controlUi.allowedOrigins (the container sets that from WORKER_URL).
 */
export function upstreamHeaders(source: Headers, token: string, clientIp: string | undefined, publicUrl: string): Headers {
  const headers = new Headers();
  source.forEach((value, name) => {
    if (STRIPPED.test(name) || name.toLowerCase() === ACCESS_HEADER) return;
    headers.set(name, value);
  });
  const cookie = source.get("cookie");
  if (cookie !== null) {
    const rest = withoutAccessCookie(cookie);
    if (rest) headers.set("cookie", rest);
    else headers.delete("cookie");
  }
  headers.set("authorization", `Bearer ${token}`);
  applyForwarded(headers, clientIp, publicUrl);
  return headers;
}

function upstreamRequest(c: Context<AppEnv>, websocket = false): Request {
  const token = c.var.config.gatewayToken;
  const raw = c.req.raw;
  const headers = upstreamHeaders(raw.headers, token, clientAddress(raw), raw.url);
  // Not the browser's headers: the runtime may hand us a request without `Connection`, and the
  // Sandbox SDK needs both to route the upgrade to the gateway (see gateway/rpc.ts).
  if (websocket) for (const [name, value] of Object.entries(UPGRADE_HEADERS)) headers.set(name, value);
  const init: RequestInit = { method: raw.method, headers, redirect: "manual" };
  if (raw.method !== "GET" && raw.method !== "HEAD") init.body = raw.body;
  return new Request(raw.url, init);
}

async function proxyWebSocket(c: Context<AppEnv>): Promise<Response> {
  const log = c.get("log");
  const backend = c.get("backend");
  // A handshake from another origin never gets here: auth/same-origin.ts refuses it first.
  if (backend.kind === "sandbox") {
    const state = await backend.ensureRunning(c.var.config.startupTimeoutMs);
    if (state.state !== "running") return notReady(c, state);
  }
  let response: Response;
  try {
    response = await backend.connectWebSocket(upstreamRequest(c, true));
  } catch (error) {
    log.error("websocket upstream failed", { error: errorMessage(error) });
    return c.json({ error: "gateway unreachable", detail: log.redact(errorMessage(error)) }, 502);
  }
  const upstream = response.webSocket;
  if (upstream === null) {
    log.warn("websocket upgrade refused", { status: response.status });
    if (response.status === 401) return c.json({ error: "gateway rejected the Worker", help: TOKEN_MISMATCH_HELP }, 502);
    return response;
  }
  const token = c.var.config.gatewayToken;
  let connectId: string | undefined;
  let first = true;
  return relayWebSocket(upstream, {
    toUpstream: (data) => {
      if (!first) return data;
      first = false;
      const injected = injectConnectToken(data, token);
      connectId = injected.connectId;
      return injected.data;
    },
    toClient: (data) => explainConnectFailure(data, connectId),
    closeReason: explainCloseReason,
  });
}

/** 503 with what is going on and when to retry (a cold start is not an error). */
function notReady(c: Context<AppEnv>, state: GatewayStatus): Response {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (state.retryAfterSeconds !== undefined) headers["retry-after"] = String(state.retryAfterSeconds);
  return c.json({ error: "gateway not ready", ...state }, 503, headers);
}

async function proxyHttp(c: Context<AppEnv>): Promise<Response> {
  const log = c.get("log");
  const backend = c.get("backend");
  if (backend.kind === "sandbox") {
    if (isBrowserNavigation(c.req.raw)) {
      // status() reads the stored container state first: a cold page load gets the loading
      // page at once instead of waiting for the container to come up.
      const current = await backend.status();
      if (current.state !== "running") {
        c.executionCtx.waitUntil(
          backend.startInBackground().catch((error: unknown) => log.error("background start failed", { error: errorMessage(error) })),
        );
        return c.html(loadingPage(c.var.config.startupTimeoutMs), 200, { "cache-control": "no-store" });
      }
    } else {
      const state = await backend.ensureRunning(c.var.config.startupTimeoutMs);
      if (state.state !== "running") return notReady(c, state);
    }
  }
  let response: Response;
  try {
    response = await backend.fetch(upstreamRequest(c));
  } catch (error) {
    log.error("upstream fetch failed", { error: errorMessage(error) });
    return c.json({ error: "gateway unreachable", detail: log.redact(errorMessage(error)) }, 502);
  }
  if (response.status === 401) {
    await response.body?.cancel();
    log.warn("gateway rejected the worker token", { path: c.req.path });
    if (isBrowserNavigation(c.req.raw)) return c.html(gatewayAuthErrorPage(TOKEN_MISMATCH_HELP), 502);
    return c.json({ error: "gateway rejected the Worker", help: TOKEN_MISMATCH_HELP }, 502);
  }
  return response;
}

export const proxy = new Hono<AppEnv>().all("*", (c) =>
  c.req.header("upgrade")?.toLowerCase() === "websocket" ? proxyWebSocket(c) : proxyHttp(c),
);
