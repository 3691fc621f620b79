/**
 * Origin backend: the gateway runs elsewhere (a Cloudflare Tunnel to Kubernetes, or a local
 * gateway) and is reached with plain fetch/WebSocket; the control API lives at CONTROL_ORIGIN.
 */
import type { WorkerConfig } from "../config";
import type { Backend, ControlResult, GatewayStatus } from "./types";
import { callControl } from "./control";
import { applyForwarded } from "../lib/forwarded";

const PROBE_TIMEOUT_MS = 5_000;

export function retarget(request: Request, origin: string): Request {
  const incoming = new URL(request.url);
  const target = new URL(origin);
  const basePath = target.pathname.replace(/\/+$/, "");
  target.pathname = `${basePath}${incoming.pathname}`;
  target.search = incoming.search;
  return new Request(target.toString(), request);
}

export function createOriginBackend(config: WorkerConfig, clientIp?: string): Backend {
  const origin = config.gatewayOrigin ?? "";
  const { controlOrigin, gatewayToken: token } = config;

  const notAvailable = (what: string): ControlResult => ({
    ok: false,
    status: 501,
    error: `${what} needs the boot-code control API, which this backend does not have: set the var CONTROL_ORIGIN to the control API URL of the gateway host (GATEWAY_ORIGIN is set, so the Worker is not managing a Sandbox container).`,
  });

  const control = async (path: string, init?: { method?: string; body?: unknown }): Promise<ControlResult> => {
    if (controlOrigin === undefined) return notAvailable(`${init?.method ?? "GET"} ${path}`);
    const url = `${controlOrigin.replace(/\/+$/, "")}${path}`;
    return callControl((request, signal) => fetch(request, { signal }), url, token, init);
  };

  const status = async (): Promise<GatewayStatus> => {
    try {
      const url = `${origin.replace(/\/+$/, "")}/readyz`;
      const headers = new Headers();
      applyForwarded(headers, clientIp, url);
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await response.body?.cancel();
      if (response.ok) return { state: "running", backend: "origin" };
      return { state: "not_responding", backend: "origin", detail: `readyz answered HTTP ${response.status}` };
    } catch {
      return { state: "not_running", backend: "origin", detail: "gateway origin unreachable" };
    }
  };

  return {
    kind: "origin",
    clientIp,
    startupTimeoutMs: config.startupTimeoutMs,
    status,
    ensureRunning: async () => status(),
    startInBackground: async () => undefined,
    fetch: (request) => fetch(retarget(request, origin)),
    connectWebSocket: (request) => fetch(retarget(request, origin)),
    control,
    restart: () => control("/gateway/restart", { method: "POST" }),
    snapshot: () => control("/snapshot", { method: "POST" }),
    selfApproveDevice: async (requestId) => ({
      ok: false,
      status: 409,
      error: `The Worker's admin device needs a one-time approval on the gateway host: run \`openclaw devices approve ${requestId}\` there (or approve it in the Control UI under Settings → Devices), then retry.`,
    }),
    processes: async () => null,
    processLogs: async () => null,
    bootLogs: (source, lines) => control(`/logs?source=${source}&lines=${lines}`),
    containerConfig: async () => null,
  };
}
