/**
 * Programs for the fake container: stand-ins for the project's own container code, following
 * its contract (docs/interfaces.md). The real boot code is tested on the host against a real
 * OpenClaw in tests/container/ (test_supervisor_lifecycle.py runs what these model: the run lock,
 * the restoring phase, the stop within the SDK's 5 s, the one-shot's refusal).
 */
import { BOOT, BOOT_RUN } from "../../src/backend/boot-command";
import type { FakeContainer, FakeProcess, Program } from "./container";

export interface Snapshot {
  id: string;
  trigger: string;
}

export interface BootModel {
  /** The restore phase: the control API answers "restoring" and refuses snapshots (409). */
  restoreMs: number;
  /** After the restore, the gateway's /readyz says ready after this long. */
  gatewayReadyMs: number;
  /** What the stop (SIGTERM) needs for its final snapshot; beyond the SDK's 5 s it is SIGKILLed. */
  shutdownMs: number;
  /** Port 18789 (HTTP and WebSocket); by default an echo of what the gateway received. */
  gateway: (request: Request, process: FakeProcess) => Response | Promise<Response>;
  /** Extra output at start (to fill the SDK's process log). */
  banner: string;
  /** `boot.py snapshot` one-shot: how long it takes. */
  oneShotMs: number;
  /** POST /devices/approve on the control API: what the loopback approval does (devices.py). */
  approve: (requestId: string) => { ok: boolean; error?: string };
  /** openclaw.json as `cat` shows it. */
  config: unknown;
  /** False: the boot process runs but its control API never opens (a hung boot). */
  controlApi: boolean;
  /** Set: `boot.py run` fails at once with this exit code (a boot that crashes). */
  exitCode: number | null;
  /** GET /selftest on the control API (boot.py selftest); by default the route is missing. */
  selftest: () => Response;
  /** More sections of GET /status (the boot code's `channels`, `cron`; cli.py Runner.api_status). */
  statusExtra: Record<string, unknown>;
}

export interface BootWorld {
  model: BootModel;
  /** Every `boot.py run` started, in order, with its environment. */
  runs: { process: FakeProcess; env: Record<string, string>; outcome: "booted" | "refused" }[];
  snapshots: Snapshot[];
  oneShots: FakeProcess[];
  /** Every control API request: path, Authorization, X-Forwarded-For, JSON body (if any). */
  controlRequests: { path: string; authorization: string | null; forwardedFor: string | null; body?: unknown }[];
}

const LOCK = "boot.run-lock";

function echoGateway(request: Request): Response {
  const url = new URL(request.url);
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    const pair = new WebSocketPair();
    pair[1].accept();
    pair[1].addEventListener("message", (event) => pair[1].send(`echo:${String(event.data)}`));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  return Response.json({ proxied: url.pathname, authorization: request.headers.get("authorization"), forwardedFor: request.headers.get("x-forwarded-for") });
}

/** Port 18789 forwarded to a real loopback server (the fake gateway of global-setup.ts). */
export function forwardTo(origin: string): BootModel["gateway"] {
  return async (request) => {
    const incoming = new URL(request.url);
    const target = `${origin.replace(/\/+$/, "")}${incoming.pathname}${incoming.search}`;
    const init: RequestInit = { method: request.method, headers: request.headers };
    if (request.method !== "GET" && request.method !== "HEAD") init.body = await request.arrayBuffer();
    return fetch(target, init);
  };
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function json(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

/** Installs the boot-code stand-ins into a fake container; returns what they record. */
export function installBoot(container: FakeContainer, model: Partial<BootModel> = {}): BootWorld {
  const world: BootWorld = {
    model: {
      restoreMs: 0,
      gatewayReadyMs: 0,
      shutdownMs: 100,
      gateway: echoGateway,
      banner: "",
      oneShotMs: 0,
      approve: () => ({ ok: true }),
      config: { gateway: { port: 18789 } },
      controlApi: true,
      exitCode: null,
      selftest: () => json(404, { ok: false, error: "no route GET /selftest" }),
      statusExtra: {},
      ...model,
    },
    runs: [],
    snapshots: [],
    oneShots: [],
    controlRequests: [],
  };
  const lockHolder = () => {
    const holder = container.shared.get(LOCK) as FakeProcess | undefined;
    return holder?.running ? holder : undefined;
  };
  let counter = 0;
  const takeSnapshot = (trigger: string): Snapshot => {
    counter += 1;
    const snapshot = { id: `snap-${counter}`, trigger };
    world.snapshots.push(snapshot);
    return snapshot;
  };

  const run: Program = async (process) => {
    const m = world.model;
    // RunLock (container/openclaw_boot/cli.py): one live run per HOME; the others exit 0.
    const holder = lockHolder();
    if (holder !== undefined && holder !== process) {
      world.runs.push({ process, env: process.env, outcome: "refused" });
      process.err(`another \`boot.py run\` is live (pid ${holder.pid} holds run.lock): this one exits\n`);
      return 0;
    }
    container.shared.set(LOCK, process);
    world.runs.push({ process, env: process.env, outcome: "booted" });
    if (m.exitCode !== null) {
      process.err("boot failed\n");
      return m.exitCode;
    }
    if (m.banner) process.out(m.banner);
    const token = process.env.OPENCLAW_GATEWAY_TOKEN ?? "";
    let phase: "restoring" | "running" | "stopping" = "restoring";
    let ready = false;
    let stop: (() => void) | undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    process.onSigterm(() => stop?.());

    // The control API is up from the first second (cli.py _run_locked).
    if (m.controlApi) process.listen(18790, async (request) => {
      const url = new URL(request.url);
      const text = request.method === "POST" ? await request.text() : "";
      const body = parseBody(text);
      world.controlRequests.push({ path: url.pathname, authorization: request.headers.get("authorization"), forwardedFor: request.headers.get("x-forwarded-for"), ...(request.method === "POST" ? { body } : {}) });
      if (request.headers.get("authorization") !== `Bearer ${token}`) return json(401, { ok: false, error: "unauthorized" });
      const route = `${request.method} ${url.pathname}`;
      const busy = phase === "restoring" ? "the state is still being restored from the backup" : phase === "stopping" ? "boot.py run is shutting down (final snapshot)" : null;
      switch (route) {
        case "GET /status":
          return json(200, { phase, restore: { state: phase === "restoring" ? "restoring" : "ok" }, gateway: { state: ready ? "running" : "starting" }, backup: { configured: true, last_snapshot: world.snapshots.at(-1) ?? null, snapshot_count: world.snapshots.length, interval_seconds: 60 }, ...m.statusExtra });
        case "GET /gateway/ready":
          if (busy !== null) return json(200, { ok: true, ready: false, http_status: null, detail: busy });
          return json(200, ready ? { ok: true, ready: true, http_status: 200, detail: null } : { ok: true, ready: false, http_status: 503, detail: "/readyz answered HTTP 503" });
        case "POST /snapshot": {
          if (busy !== null) return json(409, { ok: false, error: `snapshot refused: ${busy}` });
          const snapshot = takeSnapshot("manual");
          return json(200, { ok: true, snapshot_id: snapshot.id, skipped: false, reason: "manual" });
        }
        case "GET /snapshots":
          return json(200, { snapshots: [...world.snapshots].reverse().map((s) => ({ id: s.id, short_id: s.id, time: "2026-12-01T00:00:00Z", paths: [], tags: [`trigger=${s.trigger}`], trigger: s.trigger })) });
        case "POST /shutdown":
          stop?.();
          return json(200, { ok: true, stopping: true, phase });
        case "GET /selftest":
          return m.selftest();
        case "POST /devices/approve": {
          // container/openclaw_boot/devices.py: 400 for a malformed body, 500 with the gateway's refusal.
          const requestId = (body as { request_id?: unknown } | null)?.request_id;
          if (typeof requestId !== "string" || !/^[A-Za-z0-9-]{1,128}$/.test(requestId)) {
            return json(400, { ok: false, error: 'body must be {"request_id": "<id>"}, where <id> is the request id of the pending pairing request (letters, digits and dashes, at most 128)' });
          }
          const outcome = m.approve(requestId);
          return outcome.ok
            ? json(200, { ok: true, request_id: requestId })
            : json(500, { ok: false, request_id: requestId, error: `gateway refused device.pair.approve: ${outcome.error ?? "unknown error"}` });
        }
        case "GET /logs":
          return json(200, { ok: true, source: url.searchParams.get("source"), lines: ["gateway up", `Authorization: Bearer ${token}`] });
        default:
          return json(404, { ok: false, error: `no route ${route}` });
      }
    });
    await Promise.race([process.sleep(m.restoreMs), stopped]);
    if (phase === "restoring") phase = "running";
    process.listen(18789, (request) => m.gateway(request, process));
    void Promise.race([process.sleep(m.gatewayReadyMs), stopped]).then(() => {
      ready = true;
    });
    await process.wait(stopped);
    // The stop: final snapshot (cli.py _shutdown). The SDK SIGKILLs it 5 s after its SIGTERM.
    phase = "stopping";
    ready = false;
    await process.sleep(m.shutdownMs);
    takeSnapshot("shutdown");
    return 0;
  };

  const oneShot: Program = async (process) => {
    world.oneShots.push(process);
    await process.sleep(world.model.oneShotMs);
    // cli.py _snapshot: refused while a run is live.
    const holder = lockHolder();
    if (holder !== undefined) {
      process.out(JSON.stringify({ ok: false, error: `boot.py run is live in this container (pid ${holder.pid})` }));
      return 1;
    }
    const snapshot = takeSnapshot("one-shot");
    process.out(JSON.stringify({ ok: true, snapshot_id: snapshot.id, skipped: false, reason: "one-shot" }));
    return 0;
  };

  const cat: Program = async (process) => {
    process.out(JSON.stringify(world.model.config));
    return 0;
  };

  container.programs.push(
    { match: (command) => command.trim() === BOOT_RUN, run },
    { match: (command) => command.trim() === `${BOOT} snapshot`, run: oneShot },
    { match: (command) => command.startsWith("cat ") && command.includes("openclaw.json"), run: cat },
  );
  return world;
}
