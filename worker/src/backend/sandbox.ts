/**
 * Sandbox backend: the gateway runs in a Cloudflare Sandbox container, started through the boot
 * code with secrets as process environment, probed on /readyz, reached with containerFetch/wsConnect.
 */
import { getSandbox } from "@cloudflare/sandbox";
import { CONTROL_PORT, GATEWAY_PORT, N, containerEnv, read, startupTimeoutMs, type Env } from "../config";
import type { Backend, ControlResult, GatewayStatus, ProcessSummary } from "./types";
import { callControl } from "./control";

export const SANDBOX_ID = "openclaw";
export const BOOT = "python3 /opt/openclaw-edge/boot.py";
export const BOOT_RUN = `${BOOT} run`;
/** Fixed id: a second concurrent start for the same gateway fails instead of running two. */
export const GATEWAY_PROCESS_ID = "openclaw-gateway";
const PROBE_TIMEOUT_MS = 3_000;
const POLL_INTERVAL_MS = 1_000;
const EXEC_TIMEOUT_MS = 300_000;
const APPROVE_SCRIPT_PATH = "/tmp/openclaw-edge-approve-device.mjs";

export interface SandboxProcess {
  readonly id: string;
  readonly command: string;
  readonly status: string;
  readonly startTime?: Date | string;
  readonly exitCode?: number;
}

export interface ExecOutcome {
  success: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The part of the Sandbox SDK this Worker uses (kept small so tests can record every call). */
export interface SandboxLike {
  startProcess(command: string, options: { env: Record<string, string>; processId?: string }): Promise<SandboxProcess>;
  listProcesses(): Promise<SandboxProcess[]>;
  killProcess(id: string, signal?: string): Promise<void>;
  containerFetch(request: Request, port: number): Promise<Response>;
  wsConnect(request: Request, port: number): Promise<Response>;
  exec(command: string, options: { env?: Record<string, string>; timeout?: number }): Promise<ExecOutcome>;
  getProcessLogs(id: string): Promise<{ stdout: string; stderr: string }>;
  writeFile(path: string, content: string): Promise<unknown>;
}

export type SandboxFactory = (env: Env) => SandboxLike;

/** The real SDK handle; `SANDBOX_SLEEP_AFTER=never` (or unset) keeps the container alive. */
export const realSandboxFactory: SandboxFactory = (env) => {
  const namespace = env.SANDBOX;
  if (namespace === undefined) throw new Error("SANDBOX Durable Object binding is missing");
  const sleepAfter = read(env, N.sleepAfter) ?? "never";
  const lifetime = sleepAfter === "never" ? { keepAlive: true } : { sleepAfter };
  return getSandbox(namespace, SANDBOX_ID, {
    ...lifetime,
    containerTimeouts: { portReadyTimeoutMS: startupTimeoutMs(env) },
  });
};

const ACTIVE = new Set(["starting", "running"]);

export function isGatewayProcess(process: SandboxProcess): boolean {
  return process.command.trim() === BOOT_RUN && ACTIVE.has(process.status);
}

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Runs inside the container (Node 24 has a global WebSocket): a loopback, device-less backend
// client may use the shared token with full operator scopes, which the Worker's remote client may not.
const APPROVE_SCRIPT = `const token = process.env.OPENCLAW_GATEWAY_TOKEN;
const requestId = process.env.OPENCLAW_EDGE_APPROVE_REQUEST;
const done = (ok, error) => { console.log(JSON.stringify({ ok, error: error ?? null })); process.exit(ok ? 0 : 1); };
setTimeout(() => done(false, "timed out talking to the gateway"), 15000);
const ws = new WebSocket("ws://127.0.0.1:${GATEWAY_PORT}/");
ws.onerror = () => done(false, "cannot reach the gateway on 127.0.0.1:${GATEWAY_PORT}");
ws.onmessage = (event) => {
  const msg = JSON.parse(String(event.data));
  if (msg.type === "event" && msg.event === "connect.challenge") {
    ws.send(JSON.stringify({ type: "req", id: "connect", method: "connect", params: {
      minProtocol: 4, maxProtocol: 4, role: "operator", scopes: ["operator.admin", "operator.pairing"], caps: [],
      client: { id: "gateway-client", version: "openclaw-edge", platform: "linux", mode: "backend" },
      auth: { token } } }));
  } else if (msg.type === "res" && msg.id === "connect") {
    if (!msg.ok) return done(false, msg.error?.message ?? "connect failed");
    ws.send(JSON.stringify({ type: "req", id: "approve", method: "device.pair.approve", params: { requestId } }));
  } else if (msg.type === "res" && msg.id === "approve") {
    done(Boolean(msg.ok), msg.ok ? null : msg.error?.message ?? "approve failed");
  }
};
`;

export function createSandboxBackend(env: Env, factory: SandboxFactory, clientIp?: string): Backend {
  const sandbox = factory(env);
  const token = read(env, N.gatewayToken) ?? "";

  const findGateway = async (): Promise<SandboxProcess | undefined> =>
    (await sandbox.listProcesses()).find(isGatewayProcess);

  const control = (path: string, init?: { method?: string; body?: unknown; timeoutMs?: number }): Promise<ControlResult> =>
    callControl(
      (request) => sandbox.containerFetch(request, CONTROL_PORT),
      `http://localhost:${CONTROL_PORT}${path}`,
      token,
      init,
    );

  // Readiness is asked of the boot code's control API, which asks the gateway's /readyz over
  // loopback: from the Worker's side of containerFetch (a trusted-proxy address to the gateway)
  // a probe without an end-user address to forward (the cron) gets 403
  // proxy_attribution_required, which would read as "not responding".
  const probe = async (): Promise<{ ready: boolean; detail?: string }> => {
    const result = await control("/gateway/ready", { timeoutMs: PROBE_TIMEOUT_MS });
    if (!result.ok) return { ready: false, detail: result.error };
    const body: { ready?: unknown; detail?: unknown } = typeof result.body === "object" && result.body !== null ? result.body : {};
    if (body.ready === true) return { ready: true };
    return { ready: false, detail: typeof body.detail === "string" ? body.detail : "gateway reports not ready" };
  };

  const status = async (): Promise<GatewayStatus> => {
    const process = await findGateway();
    if (process === undefined) return { state: "not_running", backend: "sandbox" };
    const startedAt = iso(process.startTime);
    const base = { backend: "sandbox" as const, processId: process.id, ...(startedAt ? { startedAt } : {}) };
    const { ready, detail } = await probe();
    if (ready) return { state: "running", ...base };
    const age = startedAt === undefined ? 0 : Date.now() - Date.parse(startedAt);
    const state = age < startupTimeoutMs(env) ? "starting" : "not_responding";
    return { state, ...base, ...(detail ? { detail } : {}) };
  };

  const launch = () => sandbox.startProcess(BOOT_RUN, { env: containerEnv(env), processId: GATEWAY_PROCESS_ID });

  const start = async (): Promise<SandboxProcess> => {
    const existing = await findGateway();
    if (existing !== undefined) return existing;
    try {
      return await launch();
    } catch (error) {
      // Another request started it between our list and our start.
      const raced = await findGateway();
      if (raced !== undefined) return raced;
      throw error;
    }
  };

  const ensureRunning = async (timeoutMs: number): Promise<GatewayStatus> => {
    const process = await start();
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined;
    for (;;) {
      const { ready, detail } = await probe();
      if (ready) return { state: "running", backend: "sandbox", processId: process.id };
      last = detail;
      const current = (await sandbox.listProcesses()).find((candidate) => candidate.id === process.id);
      if (current !== undefined && !ACTIVE.has(current.status)) {
        return {
          state: "not_running",
          backend: "sandbox",
          processId: process.id,
          detail: `gateway process ${current.status}${current.exitCode === undefined ? "" : ` with exit code ${current.exitCode}`}; see /debug/logs or restart it from /_admin/`,
        };
      }
      if (Date.now() + POLL_INTERVAL_MS > deadline) break;
      await sleep(POLL_INTERVAL_MS);
    }
    return {
      state: "not_responding",
      backend: "sandbox",
      processId: process.id,
      detail: `gateway not ready after ${timeoutMs} ms${last ? ` (${last})` : ""}`,
    };
  };

  const bootCommand = async (args: string): Promise<ControlResult> => {
    try {
      const result = await sandbox.exec(`${BOOT} ${args}`, { env: containerEnv(env), timeout: EXEC_TIMEOUT_MS });
      let body: unknown = result.stdout;
      try {
        body = JSON.parse(result.stdout);
      } catch {
        // keep raw output
      }
      if (!result.success) {
        return { ok: false, status: 500, error: `boot.py ${args} exited with ${result.exitCode}: ${result.stderr.slice(-500)}` };
      }
      return { ok: true, status: 200, body };
    } catch (error) {
      return { ok: false, status: 503, error: `boot.py ${args} failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  };

  return {
    kind: "sandbox",
    clientIp,
    status,
    ensureRunning,
    startInBackground: async () => {
      await start();
    },
    fetch: (request) => sandbox.containerFetch(request, GATEWAY_PORT),
    connectWebSocket: (request) => sandbox.wsConnect(request, GATEWAY_PORT),
    control,
    restart: async () => {
      const viaControl = await control("/gateway/restart", { method: "POST" });
      if (viaControl.ok) return viaControl;
      // Boot code not answering: replace the whole process.
      for (const process of (await sandbox.listProcesses()).filter(isGatewayProcess)) {
        await sandbox.killProcess(process.id, "SIGTERM");
      }
      // A fresh id: the killed process may keep its record until the SDK cleans it up.
      const process = await sandbox.startProcess(BOOT_RUN, { env: containerEnv(env), processId: `${GATEWAY_PROCESS_ID}-${Date.now()}` });
      return { ok: true, status: 200, body: { ok: true, restarted: "process", processId: process.id } };
    },
    snapshot: async () => {
      const viaControl = await control("/snapshot", { method: "POST" });
      if (viaControl.ok || viaControl.status < 500) return viaControl;
      // Control API down (gateway/boot not running): snapshot anyway, never skip the backup.
      return bootCommand("snapshot");
    },
    selfApproveDevice: async (requestId) => {
      if (!/^[A-Za-z0-9-]{1,128}$/.test(requestId)) return { ok: false, status: 400, error: "invalid request id" };
      await sandbox.writeFile(APPROVE_SCRIPT_PATH, APPROVE_SCRIPT);
      const result = await sandbox.exec(`node ${APPROVE_SCRIPT_PATH}`, {
        env: { OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_EDGE_APPROVE_REQUEST: requestId },
        timeout: 30_000,
      });
      if (result.success) return { ok: true, status: 200, body: { ok: true } };
      return { ok: false, status: 502, error: `self-approval failed: ${result.stdout.trim() || result.stderr.trim()}` };
    },
    processes: async (): Promise<ProcessSummary[]> =>
      (await sandbox.listProcesses()).map((process) => {
        const startTime = iso(process.startTime);
        return {
          id: process.id,
          command: process.command,
          status: process.status,
          ...(startTime ? { startTime } : {}),
          ...(process.exitCode === undefined ? {} : { exitCode: process.exitCode }),
        };
      }),
    processLogs: (id) => sandbox.getProcessLogs(id),
    containerConfig: async () => {
      const result = await sandbox.exec('cat "${OPENCLAW_STATE_DIR:-$HOME/.openclaw}/openclaw.json"', { timeout: 10_000 });
      if (!result.success) return { error: "config file not readable", exitCode: result.exitCode };
      try {
        return JSON.parse(result.stdout) as unknown;
      } catch {
        return { error: "config file is not JSON" };
      }
    },
  };
}

