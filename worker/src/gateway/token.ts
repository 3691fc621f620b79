/**
 * Gateway-token injection for proxied traffic and translation of gateway auth failures into
 * instructions. The token is added as a bearer header (HTTP routes) and into the first WebSocket
 * `connect` frame as `auth.password` — the gateway accepts the shared secret in either field, and
 * using `password` leaves the browser's device signature (which covers `auth.token`) valid.
 */

export const TOKEN_MISMATCH_HELP =
  "The gateway rejected the token the Worker sends (secret MOLTBOT_GATEWAY_TOKEN). The gateway is running with a different token: restart it from /_admin/ so it picks up the current secret (sandbox backend), or configure the same token on the upstream gateway (GATEWAY_ORIGIN backend). You never need ?token= in the URL.";
export const TOKEN_MISSING_HELP =
  "The gateway did not receive a token. The Worker adds it to every request; if you see this, the secret MOLTBOT_GATEWAY_TOKEN is empty — set it with `wrangler secret put MOLTBOT_GATEWAY_TOKEN` (the stack does this) and restart the gateway from /_admin/.";
export const ORIGIN_HELP =
  "The gateway does not allow this page's origin: set the var WORKER_URL to this Worker's public URL (the container adds it to gateway.controlUi.allowedOrigins) and restart the gateway from /_admin/; for a GATEWAY_ORIGIN upstream add the URL to its gateway.controlUi.allowedOrigins.";
export const PAIRING_HELP =
  "This browser or device is waiting for approval: open /_admin/ on this host, approve the pending request, then reload.";

interface ConnectFrame {
  type: "req";
  id: string;
  method: "connect";
  params: { auth?: Record<string, unknown> } & Record<string, unknown>;
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

function isConnectFrame(value: unknown): value is ConnectFrame {
  if (value === null || typeof value !== "object") return false;
  const frame = value as Record<string, unknown>;
  return frame.type === "req" && frame.method === "connect" && typeof frame.params === "object" && frame.params !== null;
}

/**
 * Adds the gateway token to a client `connect` frame unless the client already brought a shared
 * secret. Returns the frame (possibly unchanged) and the connect request id when it was one.
 */
export function injectConnectToken(data: string, token: string): { data: string; connectId?: string } {
  const frame = parse(data);
  if (!isConnectFrame(frame)) return { data };
  const auth = { ...(frame.params.auth ?? {}) };
  const hasSecret = [auth.token, auth.password].some((value) => typeof value === "string" && value.trim() !== "");
  if (!hasSecret) auth.password = token;
  return { data: JSON.stringify({ ...frame, params: { ...frame.params, auth } }), connectId: frame.id };
}

const AUTH_CODES: Record<string, string> = {
  AUTH_TOKEN_MISMATCH: TOKEN_MISMATCH_HELP,
  AUTH_PASSWORD_MISMATCH: TOKEN_MISMATCH_HELP,
  AUTH_TOKEN_MISSING: TOKEN_MISSING_HELP,
  AUTH_PASSWORD_MISSING: TOKEN_MISSING_HELP,
  AUTH_UNAUTHORIZED: TOKEN_MISMATCH_HELP,
  PAIRING_REQUIRED: PAIRING_HELP,
  CONTROL_UI_ORIGIN_NOT_ALLOWED: ORIGIN_HELP,
};

/** Replaces the message of a failed `connect` answer with what to do about it. */
export function explainConnectFailure(data: string, connectId: string | undefined): string {
  if (connectId === undefined) return data;
  const frame = parse(data) as { type?: unknown; id?: unknown; ok?: unknown; error?: { message?: unknown; details?: { code?: unknown } } } | undefined;
  if (!frame || frame.type !== "res" || frame.id !== connectId || frame.ok !== false || !frame.error) return data;
  const code = typeof frame.error.details?.code === "string" ? frame.error.details.code : "";
  const text = typeof frame.error.message === "string" ? frame.error.message : "";
  const help = AUTH_CODES[code] ?? (/token|password|unauthori/i.test(text) ? TOKEN_MISMATCH_HELP : undefined);
  if (help === undefined) return data;
  const original = typeof frame.error.message === "string" ? frame.error.message : "unauthorized";
  return JSON.stringify({ ...frame, error: { ...frame.error, message: `${original} — ${help}` } });
}

/** Close reasons are limited to 123 bytes; keep the gateway's code, point at the fix. */
export function explainCloseReason(code: number, reason: string): string {
  if (code === 1008 && /token|password|unauthori/i.test(reason)) return "gateway token rejected: restart the gateway from /_admin/";
  if (code === 1008 && /pairing/i.test(reason)) return "device not approved yet: approve it in /_admin/";
  if (code === 1008 && /origin not allowed/i.test(reason)) return "origin not allowed: set WORKER_URL and restart the gateway";
  return reason;
}
