/** The contract both backends (Sandbox container, plain origin) fulfil for the routes and the cron. */

export type GatewayState = "not_running" | "starting" | "running" | "not_responding";

export interface GatewayStatus {
  state: GatewayState;
  backend: "sandbox" | "origin";
  detail?: string;
  processId?: string;
  startedAt?: string;
  /** Set when retrying later is the answer (container provisioning, still starting). */
  retryAfterSeconds?: number;
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

/** Time limits of the sandbox backend; tests shorten them. Every wait is enforced Worker-side. */
export interface BackendLimits {
  /** One readiness probe (control API GET /gateway/ready). */
  probeTimeoutMs: number;
  /** status() never blocks longer than this (a container that is coming up reads "starting"). */
  statusTimeoutMs: number;
  /** One control API call. */
  controlTimeoutMs: number;
  /** After a start, how long a control call retries while the control port is not listening yet. */
  controlPortWaitMs: number;
  /** A `boot.py` one-shot (snapshot fallback) in its own session. */
  oneShotTimeoutMs: number;
  /** A restart waits this long for the old boot process to exit. */
  stopTimeoutMs: number;
  /** Pauses between readiness polls; the last one repeats (bounds the Durable Object calls). */
  pollDelaysMs: readonly number[];
}

export interface Backend {
  readonly kind: "sandbox" | "origin";
  /** The end user's address (CF-Connecting-IP) for the gateway's client attribution, if any. */
  readonly clientIp: string | undefined;
  /** STARTUP_TIMEOUT_MS: how long a request may wait for a cold start. */
  readonly startupTimeoutMs: number;
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
  /** Tail of the boot code's rotating logs (control API GET /logs), never starting anything. */
  bootLogs(source: "gateway" | "boot", lines: number): Promise<ControlResult>;
  containerConfig(): Promise<unknown>;
}
