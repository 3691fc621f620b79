/**
 * The part of the Sandbox SDK (and of our Durable Object, sandbox-do.ts) this Worker uses, and
 * how a handle is made: `getSandbox` with the lifetime set explicitly both ways (the SDK persists
 * keepAlive in the Durable Object) and timeouts clamped into the SDK's ranges (it drops values
 * outside them silently).
 */
import { getSandbox } from "@cloudflare/sandbox";
import type { WorkerConfig } from "../config";
import type { BootStart, BootState, Sandbox } from "./sandbox-do";

export const SANDBOX_ID = "openclaw";
/** @cloudflare/sandbox Sandbox.setContainerTimeouts: validateTimeout(portReadyTimeoutMS, 10e3, 600e3). */
export const PORT_READY_RANGE_MS = { min: 10_000, max: 600_000 } as const;

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

export interface OneShotSession {
  readonly id: string;
  exec(command: string, options: { env?: Record<string, string>; timeout?: number }): Promise<ExecOutcome>;
}

/**
 * The part of the SDK (and of our Durable Object, sandbox-do.ts) this Worker uses. The real
 * handle from getSandbox() must be assignable to it: tsc checks that in sandboxHandle().
 */
export interface SandboxLike {
  bootState(): Promise<BootState>;
  startBoot(env: Record<string, string>): Promise<BootStart>;
  listProcesses(): Promise<SandboxProcess[]>;
  /** The signal argument of the SDK's killProcess is ignored (SIGTERM, then SIGKILL after 5 s). */
  killProcess(id: string): Promise<void>;
  containerFetch(request: Request, port: number): Promise<Response>;
  wsConnect(request: Request, port: number): Promise<Response>;
  createSession(options: { id: string }): Promise<OneShotSession>;
  deleteSession(id: string): Promise<unknown>;
  getProcessLogs(id: string): Promise<{ stdout: string; stderr: string }>;
}

export type SandboxFactory = (config: WorkerConfig) => SandboxLike;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** getSandbox options: lifetime explicit both ways (the SDK persists keepAlive), timeouts in range. */
export function sandboxOptions(config: WorkerConfig) {
  const { sleepAfter } = config;
  const lifetime = sleepAfter === "never" ? { keepAlive: true } : { keepAlive: false, sleepAfter };
  const portReadyTimeoutMS = clamp(config.startupTimeoutMs, PORT_READY_RANGE_MS.min, PORT_READY_RANGE_MS.max);
  return { ...lifetime, containerTimeouts: { portReadyTimeoutMS } };
}

/** The real SDK handle for sandbox `id` (tests use their own ids, production the fixed one). */
export function sandboxHandle(config: WorkerConfig, id: string = SANDBOX_ID): SandboxLike {
  const namespace = config.bindings.sandbox;
  if (namespace === undefined) throw new Error("SANDBOX Durable Object binding is missing");
  const handle: Sandbox = getSandbox(namespace, id, sandboxOptions(config));
  return handle;
}

export const realSandboxFactory: SandboxFactory = (config) => sandboxHandle(config);
