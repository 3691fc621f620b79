/** Picks the backend: GATEWAY_ORIGIN set means a plain upstream, otherwise the Sandbox container. */
import type { WorkerConfig } from "../config";
import type { Deps } from "../context";
import { createOriginBackend } from "./origin";
import { createSandboxBackend, realSandboxFactory } from "./sandbox";
import type { Backend } from "./types";

export function selectBackend(config: WorkerConfig, deps: Deps, clientIp?: string): Backend {
  if (config.backend === "origin") return createOriginBackend(config, clientIp);
  return createSandboxBackend(config, deps.sandboxFactory ?? realSandboxFactory, clientIp, deps.limits);
}
