/**
 * Sandbox backend: the gateway runs in a Cloudflare Sandbox container, started through the boot
 * code with secrets as process environment, probed through the control API, reached with
 * containerFetch/wsConnect.
 *
 * What the Sandbox SDK 0.12.10 does underneath, and what this module does about it:
 * - Almost every SDK call (listProcesses, exec, containerFetch to a port) starts a stopped
 *   container and blocks until it is up; during provisioning that is minutes. So status()
 *   reads the Durable Object's stored container state first (Container.getState, no start)
 *   and asks the container only when it is up.
 * - containerFetch to 18789/18790 on a container that is not up waits for that port for
 *   portReadyTimeoutMS (90 s) even though nothing will open it until `boot.py run` starts:
 *   the boot process is always started (and the control port awaited) before such a call.
 * - A Request.signal does not cross the Durable Object call: every wait is bounded here.
 * - An exec that times out keeps running in its session and later calls queue behind it:
 *   one-shots run in a session of their own, never the default one startProcess uses.
 * - killProcess ignores its signal argument (SIGTERM, SIGKILL 5 s later, always).
 * - keepAlive is persisted in the Durable Object, and containerTimeouts outside the SDK's ranges
 *   are dropped silently: the handle is made in sandbox-sdk.ts, which sets and clamps both.
 *
 * Split by concern: the SDK surface and handle (sandbox-sdk.ts), what a start error means
 * (start-errors.ts), the Durable Object's serialised start (sandbox-do.ts); this file is the
 * backend's lifecycle (status, start and wait, control calls, restart, snapshot), which shares
 * one set of closures over the handle and the limits and so stays one unit.
 */
import type { WorkerConfig } from "../config";
import { CONTROL_PORT, GATEWAY_PORT } from "../config";
import { BOOT, BOOT_RUN, isBootProcess } from "./boot-command";
import type { BootStart, BootState } from "./sandbox-do";
import type { SandboxFactory, SandboxProcess } from "./sandbox-sdk";
import { describeStartError } from "./start-errors";
import type { Backend, BackendLimits, ControlResult, GatewayStatus, ProcessSummary } from "./types";
import { TimeoutError, callControl, withTimeout } from "./control";

export { BOOT, BOOT_RUN, describeStartError };
export { PORT_READY_RANGE_MS, SANDBOX_ID, realSandboxFactory, sandboxHandle, sandboxOptions } from "./sandbox-sdk";
export type { ExecOutcome, OneShotSession, SandboxFactory, SandboxLike, SandboxProcess } from "./sandbox-sdk";

const PROCESS_CHECK_EVERY = 4;

export const DEFAULT_LIMITS: BackendLimits = {
  probeTimeoutMs: 3_000,
  statusTimeoutMs: 5_000,
  controlTimeoutMs: 60_000,
  controlPortWaitMs: 20_000,
  oneShotTimeoutMs: 300_000,
  stopTimeoutMs: 60_000,
  pollDelaysMs: [500, 1_000, 1_000, 2_000, 2_000, 3_000, 5_000],
};

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Durable Object calls one wait for readiness makes at most: start + probes + process checks. */
export function readinessCallBudget(timeoutMs: number, delays: readonly number[] = DEFAULT_LIMITS.pollDelaysMs): number {
  let elapsed = 0;
  let probes = 1;
  for (let poll = 0; ; poll += 1) {
    const pause = delays[Math.min(poll, delays.length - 1)] ?? 1_000;
    if (elapsed + pause > timeoutMs) break;
    elapsed += pause;
    probes += 1;
  }
  return 1 + probes + Math.floor(probes / PROCESS_CHECK_EVERY);
}

function tailOf(text: string, bytes: number): string {
  return text.length <= bytes ? text : text.slice(-bytes);
}

export const PROCESS_LOG_TAIL_BYTES = 64 * 1024;

export function createSandboxBackend(
  config: WorkerConfig,
  factory: SandboxFactory,
  clientIp?: string,
  overrides: Partial<BackendLimits> = {},
): Backend {
  const sandbox = factory(config);
  const token = config.gatewayToken;
  const limits: BackendLimits = { ...DEFAULT_LIMITS, ...overrides };
  const startupMs = config.startupTimeoutMs;
  const bootEnv = (): Record<string, string> => ({ ...config.containerEnv });

  const bootProcesses = async (): Promise<SandboxProcess[]> => (await sandbox.listProcesses()).filter(isBootProcess);

  /** A control API call, only when the container is up: never starts anything. */
  const controlNow = (path: string, init?: { method?: string; body?: unknown; timeoutMs?: number }): Promise<ControlResult> =>
    callControl(
      (request) => sandbox.containerFetch(request, CONTROL_PORT),
      `http://localhost:${CONTROL_PORT}${path}`,
      token,
      { ...init, timeoutMs: init?.timeoutMs ?? limits.controlTimeoutMs },
    );

  const containerUp = async (): Promise<BootState | null> => {
    const state = await withTimeout(sandbox.bootState(), limits.statusTimeoutMs, "the sandbox Durable Object");
    return state.container === "healthy" ? state : null;
  };

  // Readiness is asked of the boot code's control API, which asks the gateway's /readyz over
  // loopback: from the Worker's side of containerFetch (a trusted-proxy address to the gateway)
  // a probe without an end-user address to forward (the cron) gets 403
  // proxy_attribution_required, which would read as "not responding".
  const probe = async (): Promise<{ ready: boolean; detail?: string }> => {
    const result = await controlNow("/gateway/ready", { timeoutMs: limits.probeTimeoutMs });
    if (!result.ok) {
      const notUp = /not listening|HTTP 500/.test(result.error) ? "the boot code's control API is not up yet" : result.error;
      return { ready: false, detail: notUp };
    }
    const body: { ready?: unknown; detail?: unknown } = typeof result.body === "object" && result.body !== null ? result.body : {};
    if (body.ready === true) return { ready: true };
    return { ready: false, detail: typeof body.detail === "string" ? body.detail : "gateway reports not ready" };
  };

  const statusNow = async (): Promise<GatewayStatus> => {
    const state = await sandbox.bootState();
    if (state.container === "running") {
      return { state: "starting", backend: "sandbox", detail: "the container is starting", retryAfterSeconds: 5 };
    }
    if (state.container !== "healthy") {
      const last = state.lastStartError;
      if (last !== null) {
        const { detail } = describeStartError(new Error(last.message));
        return { state: "not_running", backend: "sandbox", detail: `last start failed (${last.at}): ${detail}` };
      }
      return { state: "not_running", backend: "sandbox", detail: state.container === "stopping" ? "the container is stopping" : "the container is not running" };
    }
    const process = (await bootProcesses())[0];
    if (process === undefined) return { state: "not_running", backend: "sandbox", detail: "the container runs, the boot process does not" };
    const startedAt = iso(process.startTime);
    const base = { backend: "sandbox" as const, processId: process.id, ...(startedAt ? { startedAt } : {}) };
    const { ready, detail } = await probe();
    if (ready) return { state: "running", ...base };
    const age = startedAt === undefined ? 0 : Date.now() - Date.parse(startedAt);
    const state2 = age < startupMs ? "starting" : "not_responding";
    return { state: state2, ...base, ...(detail ? { detail } : {}) };
  };

  const status = async (): Promise<GatewayStatus> => {
    try {
      return await withTimeout(statusNow(), limits.statusTimeoutMs, "the sandbox");
    } catch (error) {
      if (error instanceof TimeoutError) {
        return { state: "starting", backend: "sandbox", detail: "the container is coming up and does not answer yet", retryAfterSeconds: 5 };
      }
      const described = describeStartError(error);
      return { state: described.state, backend: "sandbox", detail: described.detail, ...(described.retryAfterSeconds ? { retryAfterSeconds: described.retryAfterSeconds } : {}) };
    }
  };

  /** Starts `boot.py run` with the current configuration unless it runs (serialised in the Durable Object). */
  const startBoot = (timeoutMs: number): Promise<BootStart> =>
    withTimeout(sandbox.startBoot(bootEnv()), timeoutMs, "starting the container");

  const failure = (error: unknown): GatewayStatus => {
    const described = describeStartError(error);
    return {
      state: described.state,
      backend: "sandbox",
      detail: described.detail,
      ...(described.retryAfterSeconds ? { retryAfterSeconds: described.retryAfterSeconds } : {}),
    };
  };

  const ensureRunning = async (timeoutMs: number): Promise<GatewayStatus> => {
    const deadline = Date.now() + timeoutMs;
    let started: BootStart;
    try {
      started = await startBoot(timeoutMs);
    } catch (error) {
      return failure(error);
    }
    let processId = started.processId;
    let last: string | undefined;
    for (let poll = 0; ; poll += 1) {
      const { ready, detail } = await probe();
      if (ready) return { state: "running", backend: "sandbox", processId };
      last = detail;
      if (poll % PROCESS_CHECK_EVERY === PROCESS_CHECK_EVERY - 1) {
        const live = await bootProcesses();
        if (!live.some((candidate) => candidate.id === processId)) {
          const other = live[0];
          if (other === undefined) {
            const gone = (await sandbox.listProcesses()).find((candidate) => candidate.id === processId);
            return {
              state: "not_running",
              backend: "sandbox",
              processId,
              detail: `boot process ${gone?.status ?? "gone"}${gone?.exitCode === undefined ? "" : ` with exit code ${gone.exitCode}`}; see /debug/logs or restart it from /_admin/`,
            };
          }
          processId = other.id; // another start won (its run holds the lock): wait for that one
        }
      }
      const pause = limits.pollDelaysMs[Math.min(poll, limits.pollDelaysMs.length - 1)] ?? 1_000;
      if (Date.now() + pause > deadline) break;
      await sleep(pause);
    }
    return {
      state: "not_responding",
      backend: "sandbox",
      processId,
      detail: `gateway not ready after ${Math.round(timeoutMs / 1000)} s${last ? ` (${last})` : ""}`,
      retryAfterSeconds: 10,
    };
  };

  /**
   * A control API call for an admin action: the boot process is started first if needed (a
   * control call on a stopped container would otherwise wait 90 s for a port nobody opens),
   * then the call is retried while the control port is not listening yet.
   */
  const control = async (path: string, init?: { method?: string; body?: unknown }): Promise<ControlResult> => {
    try {
      await startBoot(startupMs);
    } catch (error) {
      const described = describeStartError(error);
      return { ok: false, status: 503, error: described.detail };
    }
    const deadline = Date.now() + limits.controlPortWaitMs;
    for (;;) {
      const result = await controlNow(path, init);
      const notListening = !result.ok && /not listening|HTTP 500: Error proxying/.test(result.error);
      if (!notListening || Date.now() + 500 > deadline) return result;
      await sleep(500);
    }
  };

  const oneShot = async (command: string, timeoutMs: number): Promise<ControlResult> => {
    // A session of its own: an exec that times out keeps running in its session and would
    // block whatever comes next there (the default session is where startProcess runs).
    const id = `openclaw-edge-oneshot-${crypto.randomUUID()}`;
    let timedOut = false;
    try {
      const session = await withTimeout(sandbox.createSession({ id }), limits.controlTimeoutMs, "creating a session");
      const result = await withTimeout(
        session.exec(command, { env: bootEnv(), timeout: timeoutMs }),
        timeoutMs + 5_000,
        command.split(" ").slice(0, 3).join(" "),
      ).catch((error: unknown) => {
        timedOut = error instanceof TimeoutError || /timeout/i.test(messageOf(error));
        throw error;
      });
      let body: unknown = result.stdout;
      try {
        body = JSON.parse(result.stdout);
      } catch {
        // keep raw output
      }
      if (!result.success) {
        const said = typeof body === "object" && body !== null && "error" in body && typeof body.error === "string" ? body.error : result.stderr.slice(-500);
        return { ok: false, status: 500, error: `${command} exited with ${result.exitCode}: ${said}` };
      }
      return { ok: true, status: 200, body };
    } catch (error) {
      return {
        ok: false,
        status: timedOut ? 504 : 503,
        error: timedOut
          ? `${command} did not finish within ${Math.round(timeoutMs / 1000)} s; it goes on in its own session (${id}), where it blocks nothing else`
          : `${command} failed: ${messageOf(error)}`,
      };
    } finally {
      // A timed-out command is left to finish: deleting the session would kill it mid-way.
      if (!timedOut) await sandbox.deleteSession(id).catch(() => undefined);
    }
  };

  const waitGone = async (ids: string[], timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = (await bootProcesses()).filter((process) => ids.includes(process.id));
      if (live.length === 0) return true;
      if (Date.now() + 1_000 > deadline) return false;
      await sleep(1_000);
    }
  };

  /**
   * Replaces the boot process with one started with the current configuration (rotated
   * secrets, changed vars): graceful stop through the control API (its final snapshot has all
   * the time it needs), else the SDK's kill (SIGTERM, SIGKILL after 5 s, which the boot code's
   * stop fits into), then a new start.
   */
  const restart = async (): Promise<ControlResult> => {
    let previous: string[] = [];
    let stop: "none" | "graceful" | "killed" = "none";
    try {
      if ((await containerUp()) !== null) {
        previous = (await bootProcesses()).map((process) => process.id);
        if (previous.length > 0) {
          const asked = await controlNow("/shutdown", { method: "POST", timeoutMs: limits.probeTimeoutMs });
          stop = asked.ok ? "graceful" : "killed";
          if (!asked.ok || !(await waitGone(previous, limits.stopTimeoutMs))) {
            stop = "killed";
            for (const id of previous) await sandbox.killProcess(id).catch(() => undefined);
            if (!(await waitGone(previous, limits.stopTimeoutMs))) {
              return { ok: false, status: 502, error: `the old boot process (${previous.join(", ")}) did not stop` };
            }
          }
        }
      }
      const started = await startBoot(startupMs);
      return { ok: true, status: 200, body: { ok: true, restarted: "process", processId: started.processId, previous, stop } };
    } catch (error) {
      return { ok: false, status: 503, error: describeStartError(error).detail };
    }
  };

  const snapshot = async (): Promise<ControlResult> => {
    let live: SandboxProcess[];
    try {
      if ((await containerUp()) === null) {
        // A stopped container has no disk left: nothing to back up, the last snapshot stands.
        return { ok: false, status: 503, error: "the container is not running: nothing new to back up (the last snapshot is the recovery point)" };
      }
      live = await bootProcesses();
    } catch (error) {
      return { ok: false, status: 503, error: describeStartError(error).detail };
    }
    if (live.length > 0) {
      const viaControl = await controlNow("/snapshot", { method: "POST" });
      if (viaControl.ok || viaControl.status !== 401) return viaControl;
      // 401: the live boot process runs with an older gateway token (a rotated secret). A new
      // process with the current configuration fixes every admin call; the old one's stop
      // takes the final snapshot on the way out.
      const restarted = await restart();
      if (!restarted.ok) return restarted;
      return {
        ok: true,
        status: 200,
        body: { ok: true, snapshot_id: null, skipped: false, reason: "the boot process ran with an older gateway token: restarted with the current configuration, its stop took the final snapshot", restarted: restarted.body },
      };
    }
    // No boot process (it exited or crashed; the container and its disk are still there).
    return oneShot(`${BOOT} snapshot`, limits.oneShotTimeoutMs);
  };

  return {
    kind: "sandbox",
    clientIp,
    startupTimeoutMs: startupMs,
    status,
    ensureRunning,
    startInBackground: async () => {
      await startBoot(startupMs);
    },
    fetch: (request) => sandbox.containerFetch(request, GATEWAY_PORT),
    connectWebSocket: (request) => sandbox.wsConnect(request, GATEWAY_PORT),
    control,
    restart,
    snapshot,
    // The boot code approves it over the gateway's loopback RPC (container/openclaw_boot/devices.py).
    selfApproveDevice: async (requestId) => {
      const result = await control("/devices/approve", { method: "POST", body: { request_id: requestId } });
      if (result.ok) return { ok: true, status: 200, body: { ok: true } };
      return { ok: false, status: 502, error: `self-approval failed: ${result.error}` };
    },
    processes: async (): Promise<ProcessSummary[]> => {
      if ((await containerUp()) === null) return [];
      return (await sandbox.listProcesses()).map((process) => {
        const startTime = iso(process.startTime);
        return {
          id: process.id,
          command: process.command,
          status: process.status,
          ...(startTime ? { startTime } : {}),
          ...(process.exitCode === undefined ? {} : { exitCode: process.exitCode }),
        };
      });
    },
    processLogs: async (id) => {
      const logs = await sandbox.getProcessLogs(id);
      return { stdout: tailOf(logs.stdout, PROCESS_LOG_TAIL_BYTES), stderr: tailOf(logs.stderr, PROCESS_LOG_TAIL_BYTES) };
    },
    bootLogs: async (source, lines) => {
      if ((await containerUp()) === null) return { ok: false, status: 503, error: "the container is not running" };
      return controlNow(`/logs?source=${source}&lines=${lines}`);
    },
    containerConfig: async () => {
      const result = await oneShot('cat "${OPENCLAW_STATE_DIR:-$HOME/.openclaw}/openclaw.json"', 10_000);
      if (!result.ok) return { error: "config file not readable", detail: result.error };
      return result.body;
    },
  };
}
