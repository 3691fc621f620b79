/** A fresh sandbox per test: the real SDK handle, its fake container and the boot stand-ins. */
import { env as bindings } from "cloudflare:workers";
import type { Env, WorkerConfig } from "../../src/config";
import { sandboxHandle, type SandboxLike } from "../../src/backend/sandbox";
import type { Deps } from "../../src/context";
import type { BackendLimits } from "../../src/backend/types";
import { fakeContainerFor, type FakeContainer } from "./container";
import { installBoot, type BootModel, type BootWorld } from "./boot";

export { Gate, KILL_GRACE_MS, type FakeContainer, type FakeProcess } from "./container";
export { forwardTo, type BootModel, type BootWorld } from "./boot";

export function sandboxNamespace(): NonNullable<Env["SANDBOX"]> {
  const namespace = (bindings as unknown as { SANDBOX?: Env["SANDBOX"] }).SANDBOX;
  if (namespace === undefined) throw new Error("SANDBOX binding missing from wrangler.jsonc");
  return namespace;
}

/** Short waits for tests; the production defaults are in src/backend/sandbox.ts. */
export const TEST_LIMITS: Partial<BackendLimits> = {
  probeTimeoutMs: 2_000,
  statusTimeoutMs: 3_000,
  controlTimeoutMs: 8_000,
  controlPortWaitMs: 5_000,
  oneShotTimeoutMs: 8_000,
  stopTimeoutMs: 12_000,
  pollDelaysMs: [100, 200, 300],
};

export interface Scenario {
  id: string;
  container: FakeContainer;
  boot: BootWorld;
  /** Durable Object calls made by the Worker, by method name. */
  calls: string[];
  /** The real SDK handle (what the Worker uses), counted. */
  handle: (config: WorkerConfig) => SandboxLike;
  deps: Deps;
}

/** A sandbox id nobody else uses, with the boot stand-ins installed in its container. */
export function scenario(model: Partial<BootModel> = {}, limits: Partial<BackendLimits> = TEST_LIMITS): Scenario {
  const id = `t-${crypto.randomUUID().slice(0, 12)}`;
  const namespace = sandboxNamespace();
  const container = fakeContainerFor(namespace.idFromName(id));
  const boot = installBoot(container, model);
  const calls: string[] = [];
  const handle = (config: WorkerConfig): SandboxLike => {
    const real = sandboxHandle({ ...config, bindings: { ...config.bindings, sandbox: namespace } }, id);
    return new Proxy(real, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== "function" || typeof property !== "string") return value;
        // Called without a `this`: workerd refuses to serialise a Proxy as an RPC receiver.
        return (...args: unknown[]) => {
          calls.push(property);
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
  };
  return { id, container, boot, calls, handle, deps: { sandboxFactory: handle, limits } };
}
