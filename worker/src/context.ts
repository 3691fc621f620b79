/** Hono typing shared by the routes: bindings, per-request variables and injectable dependencies. */
import type { Env, WorkerConfig } from "./config";
import type { Logger } from "./lib/log";
import type { Backend, BackendLimits } from "./backend/types";
import type { SandboxFactory } from "./backend/sandbox";

export interface Deps {
  /** Builds the Sandbox handle; tests pass a double that records SDK calls. */
  sandboxFactory?: SandboxFactory;
  /** Where log lines go (console by default). */
  logSink?: (line: string) => void;
  /** Shorter waits for tests (defaults in backend/sandbox.ts). */
  limits?: Partial<BackendLimits>;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The environment, parsed once (config.ts loadConfig); set before any route runs but /sandbox-health. */
    config: WorkerConfig;
    log: Logger;
    backend: Backend;
    user: string | undefined;
    /** The Access login is a service token (set by requireAccess). */
    serviceToken: boolean;
  };
}
