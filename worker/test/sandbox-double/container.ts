/**
 * The layer below the Sandbox SDK, faked: workerd's `ctx.container` and, inside it, the SDK's
 * container server on port 3000 plus the programs it runs. Everything above runs for real: the
 * SDK's Sandbox Durable Object class (@cloudflare/sandbox 0.12.10), @cloudflare/containers'
 * Container lifecycle (start, port checks, alarms, sleepAfter), getSandbox() and its RPC.
 *
 * Every behaviour imitated here names the file and line it follows. Container-server files are
 * from cloudflare/sandbox-sdk at tag @cloudflare/sandbox@0.12.7, the newest public tag (the
 * 0.12.10 server is not published as source; the client side checked against it is the
 * installed 0.12.10 dist). `containers:` means node_modules/@cloudflare/containers/dist/lib/
 * container.js, `sdk:` node_modules/@cloudflare/sandbox/dist/sandbox-Co2NYKhX.js,
 * `server:` packages/sandbox-container/src/ of the repository.
 *
 * One file on purpose (about 600 lines): one fake, read against those sources route by route.
 */

/** The version the image reports (server: handlers/misc-handler.ts:79-92 reads SANDBOX_VERSION). */
export const IMAGE_SDK_VERSION = "0.12.10";
/** server: session.ts:800 waitForPidsExit(treePids, 5000), then SIGKILL (:809). */
export const KILL_GRACE_MS = 5_000;

// server: services/execution-service.ts DEFAULT_SESSION_ID; the SDK itself always names one.
const SERVER_PORT = 3000;

// shared/src/errors/status-map.ts, as installed: node_modules/@cloudflare/sandbox/dist/errors-CpkKPbWC.js:83-151.
const STATUS_OF: Record<string, number> = {
  PROCESS_NOT_FOUND: 404,
  COMMAND_NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  SESSION_ALREADY_EXISTS: 409,
  COMMAND_EXECUTION_ERROR: 500,
  STREAM_START_ERROR: 500,
  INTERNAL_ERROR: 500,
  UNKNOWN_ERROR: 500,
};

export type ProcessStatus = "running" | "completed" | "failed" | "killed" | "error";
export type Signal = "SIGTERM" | "SIGKILL";

/** What a command does when the container runs it: resolves with the exit code. */
export type Program = (process: FakeProcess) => Promise<number>;

export interface ProgramRule {
  match: (command: string) => boolean;
  run: Program;
}

type PortHandler = (request: Request) => Response | Promise<Response>;

class Killed extends Error {
  constructor() {
    super("SIGKILL");
  }
}

let nextPid = 100;

/** One process inside the fake container. */
export class FakeProcess {
  readonly pid = nextPid++;
  readonly signals: Signal[] = [];
  stdout = "";
  stderr = "";
  exitCode: number | undefined;
  private readonly sigtermHandlers: (() => void)[] = [];
  private readonly ports = new Set<number>();
  private kill!: () => void;
  readonly killedSignal = new Promise<never>((_resolve, reject) => {
    this.kill = () => reject(new Killed());
  });
  done: Promise<number> = Promise.resolve(0);
  private onOutput: ((stream: "stdout" | "stderr", text: string) => void) | undefined;

  constructor(
    readonly container: FakeContainer,
    readonly command: string,
    readonly env: Record<string, string>,
    readonly sessionId: string,
  ) {
    this.killedSignal.catch(() => undefined);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  out(text: string): void {
    this.stdout += text;
    this.onOutput?.("stdout", text);
  }

  err(text: string): void {
    this.stderr += text;
    this.onOutput?.("stderr", text);
  }

  /** Waits `ms`, or never returns if SIGKILLed meanwhile. */
  async sleep(ms: number): Promise<void> {
    await Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms)), this.killedSignal]);
  }

  /** Waits until `promise` settles, or never returns if SIGKILLed meanwhile. */
  async wait<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.killedSignal]);
  }

  onSigterm(handler: () => void): void {
    this.sigtermHandlers.push(handler);
  }

  listen(port: number, handler: PortHandler): void {
    this.ports.add(port);
    this.container.ports.set(port, { owner: this, handler });
  }

  /** @internal */
  start(program: Program, onOutput?: (stream: "stdout" | "stderr", text: string) => void): Promise<number> {
    this.onOutput = onOutput;
    this.done = (async () => {
      let code: number;
      try {
        code = await Promise.race([program(this), this.killedSignal]);
      } catch (error) {
        code = error instanceof Killed ? 137 : 1;
        if (!(error instanceof Killed)) this.err(`${error instanceof Error ? error.message : String(error)}\n`);
      }
      this.exitCode ??= code;
      for (const port of this.ports) {
        if (this.container.ports.get(port)?.owner === this) this.container.ports.delete(port);
      }
      this.container.exited(this);
      return this.exitCode;
    })();
    return this.done;
  }

  /** @internal SIGTERM runs the handlers; a program without any exits 143 (default action). */
  deliver(signal: Signal): void {
    if (!this.running) return;
    this.signals.push(signal);
    if (signal === "SIGKILL") {
      this.exitCode = 137;
      this.kill();
      return;
    }
    if (this.sigtermHandlers.length === 0) {
      this.exitCode = 143;
      this.kill();
      return;
    }
    for (const handler of this.sigtermHandlers) handler();
  }
}

/** server: core/types.ts ProcessRecord (the fields the handlers answer with). */
interface ProcessRecord {
  id: string;
  pid: number;
  command: string;
  status: ProcessStatus;
  startTime: Date;
  endTime?: Date;
  exitCode?: number;
  stdout: string;
  stderr: string;
  commandHandle: { sessionId: string; commandId: string };
}

/** server: session.ts (one bash per session) + services/session-manager.ts (one lock per session). */
class FakeSession {
  /** The shell is busy with a foreground command until it ends, timeout or not (session.ts:1386-1440). */
  shellFree: Promise<unknown> = Promise.resolve();
  /** session-manager.ts:458-533: commands to one session are serialised by a lock. */
  lock: Promise<unknown> = Promise.resolve();
  /** session.ts trackCommand: commandId → the latest command started under it. */
  readonly runningCommands = new Map<string, FakeProcess>();
  constructor(
    readonly id: string,
    readonly env: Record<string, string>,
  ) {}

  serialise<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function errorResponse(code: string, message: string, context: Record<string, unknown> = {}): Response {
  // server: handlers/base-handler.ts:44-79 (ErrorResponse: code, message, context, httpStatus, timestamp).
  const httpStatus = STATUS_OF[code] ?? 500;
  return Response.json({ code, message, context, httpStatus, timestamp: new Date().toISOString() }, { status: httpStatus });
}

/** A gate a test opens when it is done watching something wait. */
export class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  open(): void {
    this.release();
  }
}

export class FakeContainer {
  // ---- knobs -----------------------------------------------------------------------------
  /** While set, the container has started but its SDK server is not listening (provisioning, boot). */
  provisioning: Gate | null = null;
  /** start() throws this (workerd/platform start errors, e.g. "no such image"). */
  startError: string | null = null;
  programs: ProgramRule[] = [];

  // ---- what tests read -------------------------------------------------------------------
  starts = 0;
  readonly requests: string[] = [];
  readonly signalsReceived: number[] = [];
  readonly processesStarted: FakeProcess[] = [];
  readonly files = new Map<string, string>();
  /** Shared by programs (e.g. the boot run lock, snapshots in "R2"): survives the container. */
  readonly shared = new Map<string, unknown>();

  // ---- state -----------------------------------------------------------------------------
  private isRunning = false;
  private monitorSettle: { resolve: () => void; reject: (error: Error) => void } | null = null;
  readonly ports = new Map<number, { owner: FakeProcess | null; handler: PortHandler }>();
  private sessions = new Map<string, FakeSession>();
  // server: services/process-store.ts: live records in memory, finished ones "on disk".
  private memory = new Map<string, ProcessRecord>();
  private disk = new Map<string, ProcessRecord>();
  private stopping: Promise<void> | null = null;

  // ---- workerd's Container binding (workers-types `Container`), as @cloudflare/containers uses it

  get running(): boolean {
    return this.isRunning;
  }

  start(_options?: unknown): void {
    // containers:1378 calls start() only when !running.
    if (this.startError !== null) throw new Error(this.startError);
    this.starts += 1;
    this.isRunning = true;
    this.ports.clear();
    this.sessions = new Map();
    this.memory = new Map();
    this.disk = new Map();
    const provisioning = this.provisioning;
    const serve = () => {
      if (this.isRunning) this.ports.set(SERVER_PORT, { owner: null, handler: (request) => this.server(request) });
    };
    if (provisioning === null) serve();
    else void provisioning.opened.then(serve);
  }

  monitor(): Promise<void> {
    // containers:1379; resolves on exit 0, rejects with the runtime's error otherwise (containers:1437-1460).
    return new Promise<void>((resolve, reject) => {
      this.monitorSettle = { resolve, reject };
    });
  }

  async destroy(): Promise<void> {
    // containers:722 (Container.destroy): SIGKILL, no grace.
    this.exit("SIGKILL");
  }

  signal(signo: number): void {
    // containers:714 (Container.stop). The SDK server's SIGTERM handler (server: server.ts:331-335)
    // runs cleanup: processService.destroy() → killAllProcesses (process-service.ts:484-516), each
    // process killed in turn with the 5 s grace, then process.exit(0).
    this.signalsReceived.push(signo);
    if (!this.isRunning) return;
    if (signo === 9) {
      this.exit("SIGKILL");
      return;
    }
    this.stopping ??= (async () => {
      for (const record of this.list().filter((candidate) => candidate.status === "running")) {
        await this.kill(record.id);
      }
      this.exit("exit0");
    })().finally(() => {
      this.stopping = null;
    });
  }

  getTcpPort(port: number): Fetcher {
    const fetcher = {
      fetch: async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
        const request = new Request(input, init);
        this.requests.push(`${port} ${request.method} ${new URL(request.url).pathname}`);
        // The runtime's own texts, as @cloudflare/containers matches them (containers:12 NOT_LISTENING_ERROR).
        if (!this.isRunning) throw new Error("The container is not running, consider calling start()");
        const listener = this.ports.get(port);
        if (listener === undefined) throw new Error(`The container is not listening in the TCP address 10.0.0.1:${port}`);
        return listener.handler(request);
      },
      connect: () => {
        throw new Error("TCP connect is not modelled");
      },
    };
    return fetcher as unknown as Fetcher;
  }

  async setInactivityTimeout(): Promise<void> {}
  async interceptOutboundHttp(): Promise<void> {}
  async interceptAllOutboundHttp(): Promise<void> {}
  async interceptOutboundHttps(): Promise<void> {}

  // ---- test helpers ----------------------------------------------------------------------

  /** Processes of the container that are still running (including ones the store lost track of). */
  live(): FakeProcess[] {
    return this.processesStarted.filter((process) => process.running);
  }

  /** Records as GET /api/process/list shows them. */
  list(): ProcessRecord[] {
    // server: services/process-store.ts:94-130: memory first, then disk entries not in memory.
    const seen = new Set(this.memory.keys());
    return [...this.memory.values(), ...[...this.disk.values()].filter((record) => !seen.has(record.id))];
  }

  /** Waits until every running program has ended (the container stays up). */
  async settled(): Promise<void> {
    await Promise.all(this.live().map((process) => process.done));
  }

  // ---- internals -------------------------------------------------------------------------

  /** @internal */
  exited(_process: FakeProcess): void {}

  private exit(how: "exit0" | "SIGKILL"): void {
    for (const process of this.live()) process.deliver("SIGKILL");
    this.isRunning = false;
    this.ports.clear();
    const settle = this.monitorSettle;
    this.monitorSettle = null;
    if (how === "exit0") settle?.resolve();
    // containers:10 RUNTIME_SIGNALLED_ERROR, parsed by getExitCodeFromError (containers:62).
    else settle?.reject(new Error("Runtime signalled the container to exit: 9"));
  }

  private program(command: string): Program {
    const rule = this.programs.find((candidate) => candidate.match(command));
    if (rule !== undefined) return rule.run;
    return async (process) => {
      process.err(`bash: ${command.split(" ")[0] ?? ""}: command not found\n`);
      return 127;
    };
  }

  private session(id: string, env: Record<string, string> = {}): FakeSession {
    // session-manager.ts getOrCreateSession: a command to an unknown session creates it.
    let session = this.sessions.get(id);
    if (session === undefined) {
      session = new FakeSession(id, env);
      this.sessions.set(id, session);
    }
    return session;
  }

  private update(id: string, data: Partial<ProcessRecord>): void {
    // server: services/process-store.ts:49-86: by id, so a newer record under the same id is
    // the one that gets marked finished; finished records move to disk.
    const existing = this.memory.get(id);
    if (existing === undefined) {
      const stored = this.disk.get(id);
      if (stored !== undefined) this.disk.set(id, { ...stored, ...data });
      return;
    }
    Object.assign(existing, data);
    if (["completed", "failed", "killed", "error"].includes(existing.status)) {
      this.disk.set(id, { ...existing });
      this.memory.delete(id);
    }
  }

  private record(id: string): ProcessRecord | undefined {
    return this.memory.get(id) ?? this.disk.get(id);
  }

  private spawn(command: string, sessionId: string, env: Record<string, string>, onOutput?: (stream: "stdout" | "stderr", text: string) => void): FakeProcess {
    const session = this.session(sessionId);
    const process = new FakeProcess(this, command, { ...session.env, ...env }, sessionId);
    this.processesStarted.push(process);
    void process.start(this.program(command), onOutput);
    return process;
  }

  /** server: services/process-service.ts:403-454 + session.ts:752-870 (killCommand). */
  private async kill(id: string): Promise<Response> {
    const record = this.record(id);
    if (record === undefined) return errorResponse("PROCESS_NOT_FOUND", `Process ${id} not found`, { processId: id });
    const { sessionId, commandId } = record.commandHandle;
    const process = this.sessions.get(sessionId)?.runningCommands.get(commandId);
    if (process === undefined || !process.running) {
      // session-manager.ts:1051-1061
      return errorResponse("COMMAND_NOT_FOUND", `Command '${commandId}' not found or already completed in session '${sessionId}'`, { command: commandId });
    }
    // session.ts:796-809: SIGTERM to the tree, wait up to 5 s for all of it, then SIGKILL.
    process.deliver("SIGTERM");
    const exited = await Promise.race([process.done.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), KILL_GRACE_MS))]);
    if (!exited) {
      process.deliver("SIGKILL");
      await process.done;
    }
    this.sessions.get(sessionId)?.runningCommands.delete(commandId);
    this.update(id, { status: "killed", endTime: new Date() });
    return Response.json({ success: true, processId: id, timestamp: new Date().toISOString() });
  }

  /** The SDK's container server on port 3000 (server: routes/setup.ts route table). */
  private async server(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    const now = () => new Date().toISOString();
    const body = async (): Promise<Record<string, unknown>> => {
      try {
        return (await request.json()) as Record<string, unknown>;
      } catch {
        return {};
      }
    };

    if (method === "GET" && path === "/") {
      // server: handlers/misc-handler.ts:41-51
      return new Response("Hello from Bun server! 🚀", { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    if (method === "GET" && (path === "/api/ping" || path === "/api/health")) {
      return Response.json({ success: true, status: "healthy", timestamp: now() });
    }
    if (method === "GET" && path === "/api/version") {
      return Response.json({ success: true, version: IMAGE_SDK_VERSION, timestamp: now() });
    }
    if (method === "POST" && path === "/api/session/create") {
      // server: handlers/session-handler.ts:46-103 + session-manager.ts:186-276
      const input = await body();
      const id = typeof input.id === "string" ? input.id : `session_${Date.now()}`;
      if (this.sessions.has(id)) {
        return errorResponse("SESSION_ALREADY_EXISTS", `Session '${id}' already exists`, { sessionId: id, containerPlacementId: null });
      }
      this.session(id, (input.env as Record<string, string> | undefined) ?? {});
      return Response.json({ success: true, data: { id }, containerPlacementId: null, timestamp: now() });
    }
    if (method === "POST" && path === "/api/session/delete") {
      // server: handlers/session-handler.ts:125-172 + session-manager.ts:1150-1189
      const input = await body();
      const id = text(input.sessionId);
      if (!id) return errorResponse("VALIDATION_FAILED", "sessionId is required");
      const session = this.sessions.get(id);
      if (session === undefined) return errorResponse("INTERNAL_ERROR", `Session '${id}' not found`, { sessionId: id });
      await session.serialise(async () => {
        for (const process of session.runningCommands.values()) process.deliver("SIGKILL"); // session.ts destroy: killCommand(id, false)
      });
      this.sessions.delete(id);
      return Response.json({ success: true, sessionId: id, timestamp: now() });
    }
    if (method === "POST" && path === "/api/execute") return this.execute(await body());
    if (method === "POST" && path === "/api/process/start") return this.startProcess(await body());
    if (method === "GET" && path === "/api/process/list") {
      // server: handlers/process-handler.ts:92-125
      const processes = this.list().map((record) => ({
        id: record.id,
        pid: record.pid,
        command: record.command,
        status: record.status,
        startTime: record.startTime.toISOString(),
        exitCode: record.exitCode,
      }));
      return Response.json({ success: true, processes, timestamp: now() });
    }
    if (method === "DELETE" && path === "/api/process/kill-all") {
      let cleanedCount = 0;
      for (const record of this.list().filter((candidate) => candidate.status === "running")) {
        if ((await this.kill(record.id)).ok) cleanedCount += 1;
      }
      return Response.json({ success: true, cleanedCount, timestamp: now() });
    }
    const processRoute = /^\/api\/process\/([^/]+)(?:\/(logs))?$/.exec(path);
    if (processRoute) {
      const id = decodeURIComponent(processRoute[1] ?? "");
      if (method === "DELETE" && processRoute[2] === undefined) return this.kill(id);
      const record = this.record(id);
      if (record === undefined) return errorResponse("PROCESS_NOT_FOUND", `Process ${id} not found`, { processId: id });
      if (method === "GET" && processRoute[2] === "logs") {
        // server: handlers/process-handler.ts:196-218: everything the process ever printed.
        return Response.json({ success: true, processId: id, stdout: record.stdout, stderr: record.stderr, timestamp: now() });
      }
      if (method === "GET") {
        return Response.json({
          success: true,
          process: { id, pid: record.pid, command: record.command, status: record.status, startTime: record.startTime.toISOString(), endTime: record.endTime?.toISOString(), exitCode: record.exitCode },
          timestamp: now(),
        });
      }
    }
    if (method === "POST" && path === "/api/write") {
      const input = await body();
      this.files.set(text(input.path), text(input.content));
      return Response.json({ success: true, path: input.path, timestamp: now() });
    }
    // server: core/router.ts:224-240
    return Response.json({ code: "UNKNOWN_ERROR", message: "The requested endpoint was not found", context: {}, httpStatus: 404, timestamp: now() }, { status: 404 });
  }

  /** POST /api/execute (foreground): server: session-manager.ts:458-533, session.ts exec. */
  private execute(input: Record<string, unknown>): Promise<Response> {
    const command = text(input.command);
    const sessionId = typeof input.sessionId === "string" && input.sessionId ? input.sessionId : "default";
    const timeoutMs = typeof input.timeoutMs === "number" ? input.timeoutMs : undefined;
    const env = (input.env as Record<string, string> | undefined) ?? {};
    const session = this.session(sessionId);
    return session.serialise(async () => {
      // The script is queued to the shell now; the shell runs it when the previous command ends.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        if (timeoutMs !== undefined) timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const ran = session.shellFree.then(() => {
        const process = this.spawn(command, sessionId, env);
        session.runningCommands.set(process.pid.toString(), process);
        return process.done.then((exitCode) => ({ process, exitCode }));
      });
      session.shellFree = ran.catch(() => undefined);
      const outcome = await Promise.race([ran, timedOut]);
      if (timer !== undefined) clearTimeout(timer);
      if (outcome === "timeout") {
        // session.ts:1437 rejects; session-manager.ts:519-530 answers COMMAND_EXECUTION_ERROR.
        // The command goes on running in this session's shell.
        return errorResponse("COMMAND_EXECUTION_ERROR", `Failed to execute command '${command}' in session '${sessionId}': Command timeout after ${timeoutMs}ms`, { command, stderr: `Command timeout after ${timeoutMs}ms` });
      }
      const { process, exitCode } = outcome;
      // server: handlers/execute-handler.ts:93-106
      return Response.json({ success: exitCode === 0, exitCode, stdout: process.stdout, stderr: process.stderr, command, duration: 0, timestamp: new Date().toISOString(), sessionId });
    });
  }

  /** POST /api/process/start: server: process-service.ts:103-294 + session-manager.ts:813-935. */
  private startProcess(input: Record<string, unknown>): Promise<Response> {
    const command = text(input.command);
    if (command.trim() === "") return Promise.resolve(errorResponse("INVALID_COMMAND", "Invalid command: empty command provided"));
    const sessionId = typeof input.sessionId === "string" && input.sessionId ? input.sessionId : "default";
    const env = (input.env as Record<string, string> | undefined) ?? {};
    // process-manager.ts:41-58: the given id, else a generated one; no check that it is free.
    const id = typeof input.processId === "string" && input.processId ? input.processId : `proc_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
    const session = this.session(sessionId);
    // Background: the session lock is held only until the shell has started it (:813-935).
    return session.serialise(async () => {
      await session.shellFree;
      const record: ProcessRecord = {
        id,
        pid: 0,
        command,
        status: "running",
        startTime: new Date(),
        stdout: "",
        stderr: "",
        commandHandle: { sessionId, commandId: id },
      };
      this.memory.set(id, record); // process-store.ts:31-34: set(), overwriting a record with this id
      const process = this.spawn(command, sessionId, env, (stream, text) => {
        record[stream] += text; // process-service.ts:171-180: appended for as long as it runs
      });
      record.pid = process.pid;
      session.runningCommands.set(id, process); // session.ts trackCommand: the newest wins
      void process.done.then((exitCode) => {
        // process-service.ts:181-224 + process-manager.ts:70-80 (exit code → status), by id.
        const status: ProcessStatus = exitCode === 0 ? "completed" : exitCode === 137 || exitCode === 143 ? "killed" : "failed";
        record.status = status;
        this.update(id, { status, endTime: new Date(), exitCode });
        if (session.runningCommands.get(id) === process) session.runningCommands.delete(id);
      });
      return Response.json({ success: true, processId: id, pid: process.pid, command, timestamp: new Date().toISOString() });
    });
  }
}

const registry = (): Map<string, FakeContainer> => {
  const holder = globalThis as unknown as { __openclawEdgeFakeContainers?: Map<string, FakeContainer> };
  holder.__openclawEdgeFakeContainers ??= new Map();
  return holder.__openclawEdgeFakeContainers;
};

/** The container of one Durable Object id; it outlives the Durable Object instance, as a real one does. */
export function fakeContainerFor(id: DurableObjectId | string): FakeContainer {
  const key = typeof id === "string" ? id : id.toString();
  let container = registry().get(key);
  if (container === undefined) {
    container = new FakeContainer();
    registry().set(key, container);
  }
  return container;
}

/** Gives a Durable Object state the fake container (called before the SDK's constructor reads it). */
export function attachFakeContainer(ctx: DurableObjectState<Record<string, never>>): void {
  Object.defineProperty(ctx, "container", { value: fakeContainerFor(ctx.id), configurable: true });
}
