/**
 * Contract of the Sandbox double: the installed @cloudflare/sandbox (0.12.10, its real Durable
 * Object code running here in workerd) on top of the fake container of test/sandbox-double/.
 * Each test states a fact about the SDK that the Worker's code relies on or defends against;
 * if a new SDK version changes one, this file fails before production does.
 */
import { describe, expect, it } from "vitest";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { getSandbox } from "@cloudflare/sandbox";
import sdkPackage from "../node_modules/@cloudflare/sandbox/package.json";
import type { Sandbox } from "../src/backend/sandbox-do";
import { Gate, IMAGE_SDK_VERSION, fakeContainerFor, type FakeContainer, type FakeProcess } from "./sandbox-double/container";
import { sandboxNamespace } from "./sandbox-double";

function fresh(): { id: string; container: FakeContainer } {
  const id = `c-${crypto.randomUUID().slice(0, 12)}`;
  return { id, container: fakeContainerFor(sandboxNamespace().idFromName(id)) };
}

function sdk(id: string, options: Parameters<typeof getSandbox>[2] = {}): Sandbox {
  return getSandbox(sandboxNamespace(), id, options);
}

const stub = (id: string) => sandboxNamespace().get(sandboxNamespace().idFromName(id));

/**
 * The rejection of an SDK call, as a value. (Not `expect(...).rejects`: vitest inspects the
 * object, and property reads on a workerd RPC promise become pipelined calls whose own
 * rejections nobody handles.)
 */
async function failure(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  throw new Error("expected the call to fail");
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** A program that runs until its gate opens (and ignores SIGTERM when told to). */
function gated(container: FakeContainer, name: string, options: { ignoreSigterm?: boolean } = {}): { gate: Gate; started: FakeProcess[] } {
  const gate = new Gate();
  const started: FakeProcess[] = [];
  container.programs.push({
    match: (command) => command === name,
    run: async (process) => {
      started.push(process);
      if (options.ignoreSigterm) process.onSigterm(() => undefined);
      await process.wait(gate.opened);
      return 0;
    },
  });
  return { gate, started };
}

describe("the Sandbox SDK on the fake container", () => {
  it("is the version the image reports, so the SDK logs no mismatch", () => {
    expect(sdkPackage.version).toBe("0.12.10");
    expect(IMAGE_SDK_VERSION).toBe(sdkPackage.version);
  });

  it("starts a stopped container on listProcesses and blocks while it provisions", async () => {
    const { id, container } = fresh();
    container.provisioning = new Gate();
    let settled = false;
    const listing = sdk(id).listProcesses().finally(() => {
      settled = true;
    });
    await until(() => container.starts === 1, "container start");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    const state = await sdk(id).getState();
    expect(state.status).toBe("running"); // started, not healthy: what status() reads without waiting
    container.provisioning.open();
    expect(await listing).toEqual([]);
    expect((await sdk(id).getState()).status).toBe("healthy");
  });

  it("routes a WebSocket upgrade to the port only with Upgrade and Connection: upgrade", async () => {
    const { id, container } = fresh();
    container.programs.push({
      match: (command) => command === "gateway",
      run: async (process) => {
        process.listen(18789, () => {
          const pair = new WebSocketPair();
          pair[1].accept();
          return new Response(null, { status: 101, webSocket: pair[0] });
        });
        await process.sleep(60_000);
        return 0;
      },
    });
    await sdk(id).startProcess("gateway");
    const upgradeOnly = await sdk(id).wsConnect(new Request("http://x/", { headers: { upgrade: "websocket" } }), 18789);
    expect(upgradeOnly.webSocket).toBeNull();
    expect(upgradeOnly.status).toBe(200);
    expect(await upgradeOnly.text()).toBe("Hello from Bun server! 🚀"); // the SDK server on 3000
    const both = await sdk(id).wsConnect(new Request("http://x/", { headers: { upgrade: "websocket", connection: "Upgrade" } }), 18789);
    expect(both.status).toBe(101);
    expect(both.webSocket).not.toBeNull();
    both.webSocket?.accept();
    both.webSocket?.close(1000, "done");
  });

  it("runs a second startProcess with the same id again and loses track of the first", async () => {
    const { id, container } = fresh();
    const { gate, started } = gated(container, "sleeper");
    await sdk(id).startProcess("sleeper", { processId: "fixed" });
    await sdk(id).startProcess("sleeper", { processId: "fixed" });
    await until(() => started.length === 2, "both started");
    expect(container.live().length).toBe(2);
    const listed = await sdk(id).listProcesses();
    expect(listed.map((p) => [p.id, p.status])).toEqual([["fixed", "running"]]);
    // The first one ending marks the record finished although the second still runs.
    started[0]?.deliver("SIGKILL");
    await until(async () => (await sdk(id).listProcesses()).some((p) => p.status !== "running"), "record updated");
    expect(started[1]?.running).toBe(true);
    expect((await sdk(id).listProcesses()).map((p) => p.status)).toEqual(["killed"]);
    gate.open();
  });

  it(
    "kills with SIGTERM and SIGKILL 5 s later, whatever signal is asked for",
    async () => {
      const { id, container } = fresh();
      const { started } = gated(container, "stubborn", { ignoreSigterm: true });
      const process = await sdk(id).startProcess("stubborn", { processId: "stubborn-1" });
      await until(() => started.length === 1, "started");
      await sdk(id).killProcess(process.id, "SIGKILL");
      expect(started[0]?.signals).toEqual(["SIGTERM", "SIGKILL"]);
      expect(started[0]?.exitCode).toBe(137);
      expect((await sdk(id).listProcesses()).map((p) => p.status)).toEqual(["killed"]);
    },
    20_000,
  );

  it("keeps running an exec that timed out, and later commands of that session queue behind it", async () => {
    const { id, container } = fresh();
    const order: string[] = [];
    const slowGate = new Gate();
    container.programs.push(
      { match: (c) => c === "slow", run: async (p) => { await p.wait(slowGate.opened); order.push("slow done"); return 0; } },
      { match: (c) => c.startsWith("quick"), run: async (p) => { order.push(p.command); return 0; } },
    );
    const sandbox = sdk(id);
    const a = await sandbox.createSession({ id: "session-a" });
    const b = await sandbox.createSession({ id: "session-b" });
    expect((await failure(a.exec("slow", { timeout: 300 }))).message).toMatch(/Command timeout after 300ms/);
    expect(container.live().map((p) => p.command)).toEqual(["slow"]);
    const queued = a.exec("quick a");
    await b.exec("quick b");
    expect(order).toEqual(["quick b"]);
    slowGate.open();
    await queued;
    expect(order).toEqual(["quick b", "slow done", "quick a"]);
  });

  it("persists keepAlive in the Durable Object: leaving it out later does not turn it off", async () => {
    const { id } = fresh();
    const stored = () => runInDurableObject(stub(id), (_instance, state: DurableObjectState) => state.storage.get<boolean>("keepAliveEnabled"));
    await sdk(id, { keepAlive: true }).getState();
    await until(async () => (await stored()) === true, "keepAlive stored");
    await evictDurableObject(stub(id)); // a deploy restarts the Durable Object
    await sdk(id, { sleepAfter: "10m" }).getState();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stored()).toBe(true);
    expect(await runInDurableObject(stub(id), (instance: Sandbox) => (instance as unknown as { keepAliveEnabled: boolean }).keepAliveEnabled)).toBe(true);
    await sdk(id, { sleepAfter: "10m", keepAlive: false }).getState();
    await until(async () => (await stored()) === false, "keepAlive turned off");
  });

  it("drops container timeouts outside its ranges without a word", async () => {
    const { id } = fresh();
    const stored = () => runInDurableObject(stub(id), (_instance, state: DurableObjectState) => state.storage.get<{ portReadyTimeoutMS: number }>("containerTimeouts"));
    await sdk(id, { containerTimeouts: { portReadyTimeoutMS: 1_500 } }).getState();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stored()).toBeUndefined();
    await sdk(id, { containerTimeouts: { portReadyTimeoutMS: 20_000 } }).getState();
    await until(async () => (await stored())?.portReadyTimeoutMS === 20_000, "timeouts stored");
  });

  it(
    "stops the container by SIGTERMing each process with the 5 s grace, then reports it stopped",
    async () => {
      const { id, container } = fresh();
      let sigterms = 0;
      container.programs.push({
        match: (c) => c === "polite",
        run: async (p) => {
          const asked = new Gate();
          p.onSigterm(() => {
            sigterms += 1;
            asked.open();
          });
          await p.wait(asked.opened);
          await p.sleep(300); // its own cleanup, well inside the grace
          return 0;
        },
      });
      await sdk(id).startProcess("polite", { processId: "polite-1" });
      await sdk(id).stop();
      await until(() => !container.running, "container exited");
      expect(sigterms).toBe(1);
      expect(container.signalsReceived).toEqual([15]);
      await until(async () => ["stopped", "stopped_with_code"].includes((await sdk(id).getState()).status), "state stopped");
    },
    20_000,
  );

  it("maps the server's error answers to the SDK's errors", async () => {
    const { id } = fresh();
    expect(await sdk(id).getProcess("no-such-process")).toBeNull(); // ProcessNotFoundError, caught inside
    const error = await failure(sdk(id).killProcess("no-such-process"));
    expect(error.message).toBe("Process no-such-process not found");
    expect(error.name).toBe("ProcessNotFoundError"); // the class name survives the RPC
  });

  it("answers a permanent start failure with the SDK's own message", async () => {
    const { id, container } = fresh();
    container.startError = "no such image: registry.cloudflare.com/openclaw-edge:missing";
    expect((await failure(sdk(id).listProcesses())).message).toMatch(/permanent error/);
  });
});
