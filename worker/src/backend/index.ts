/** Picks the backend: GATEWAY_ORIGIN set means a plain upstream, otherwise the Sandbox container. */
import { isOriginMode, type Env } from "../config";
import type { Deps } from "../context";
import { createOriginBackend } from "./origin";
import { createSandboxBackend, realSandboxFactory } from "./sandbox";
import type { Backend } from "./types";

export function selectBackend(env: Env, deps: Deps, clientIp?: string): Backend {
  if (isOriginMode(env)) return createOriginBackend(env, clientIp);
  return createSandboxBackend(env, deps.sandboxFactory ?? realSandboxFactory, clientIp, deps.limits);
}
