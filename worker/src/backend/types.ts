/** The contract both backends (Sandbox container, plain origin) fulfil for the routes and the cron. */

export type GatewayState = "not_running" | "starting" | "running" | "not_responding";

export interface GatewayStatus {
  state: GatewayState;
  backend: "sandbox" | "origin";
  detail?: string;
  processId?: string;
  startedAt?: string;
}

export interface ProcessSummary {
  id: string;
  command: string;
  status: string;
  startTime?: string;
  exitCode?: number;
}

/** A boot-code control API answer, or `unavailable` with the reason (never thrown). */
export type ControlResult =
  | { ok: true; status: number; body: unknown }
  | { ok: false; status: number; error: string };

export interface Backend {
  readonly kind: "sandbox" | "origin";
  /** The end user's address (CF-Connecting-IP) for the gateway's client attribution, if any. */
  readonly clientIp: string | undefined;
  status(): Promise<GatewayStatus>;
  /** Starts the gateway if needed and waits until /readyz answers, at most `timeoutMs`. */
  ensureRunning(timeoutMs: number): Promise<GatewayStatus>;
  /** Starts the gateway if it is not running, without waiting for readiness. */
  startInBackground(): Promise<void>;
  /** Sends an HTTP request (already carrying the gateway token) to the gateway. */
  fetch(request: Request): Promise<Response>;
  /** Opens a WebSocket to the gateway; the response carries `webSocket` on success. */
  connectWebSocket(request: Request): Promise<Response>;
  /** Calls the boot-code control API (port 18790). */
  control(path: string, init?: { method?: string; body?: unknown }): Promise<ControlResult>;
  restart(): Promise<ControlResult>;
  /** Snapshot through the control API, falling back to `boot.py snapshot` where possible. */
  snapshot(): Promise<ControlResult>;
  /** Approves the Worker's own admin device from inside the gateway host, where possible. */
  selfApproveDevice(requestId: string): Promise<ControlResult>;
  processes(): Promise<ProcessSummary[] | null>;
  processLogs(id: string): Promise<{ stdout: string; stderr: string } | null>;
  containerConfig(): Promise<unknown>;
}
