/** The scheduled watchdog: starts a stopped gateway and always attempts the snapshot. */
import { describe, expect, it } from "vitest";
import { createScheduledController, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../src/index";
import { runWatchdog } from "../src/cron";
import { BOOT, BOOT_RUN } from "../src/backend/sandbox";
import { FakeSandbox, GATEWAY_TOKEN, originEnv, sandboxEnv, secretsIn } from "./helpers";

describe("cron watchdog", () => {
  it("starts the gateway when it is not running and snapshots through the control API", async () => {
    const fake = new FakeSandbox();
    const logs: string[] = [];
    const report = await runWatchdog(sandboxEnv(), { sandboxFactory: () => fake, logSink: (line) => logs.push(line) });
    expect(report).toMatchObject({ gateway: { before: "not_running", after: "running" }, snapshot: { ok: true } });
    expect(fake.calls.find((entry) => entry.method === "startProcess")?.args[0]).toBe(BOOT_RUN);
    expect(fake.controlRequests).toContainEqual(expect.objectContaining({ method: "POST", path: "/snapshot", authorization: `Bearer ${GATEWAY_TOKEN}` }));
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("leaves a running gateway alone", async () => {
    const fake = new FakeSandbox();
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    await runWatchdog(sandboxEnv(), { sandboxFactory: () => fake, logSink: () => undefined });
    expect(fake.names()).not.toContain("startProcess");
  });

  it("reports a running gateway to the cron, which has no end-user address, via the control API", async () => {
    const fake = new FakeSandbox();
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date(Date.now() - 10 * 60_000) });
    const report = await runWatchdog(sandboxEnv(), { sandboxFactory: () => fake, logSink: () => undefined });
    expect(report).toMatchObject({ gateway: { before: "running", after: "running" } });
    expect(fake.calls.filter((entry) => entry.method === "containerFetch" && entry.args[1] === "/readyz")).toEqual([]);
  });

  it("still backs up when the gateway cannot start: falls back to boot.py snapshot", async () => {
    const fake = new FakeSandbox();
    fake.controlUp = false;
    fake.startProcess = async () => {
      throw new Error("container failed to start");
    };
    const report = await runWatchdog(sandboxEnv(), { sandboxFactory: () => fake, logSink: () => undefined });
    expect(report).toMatchObject({ snapshot: { ok: true, result: { snapshot_id: "fallback-1" } } });
    const exec = fake.calls.find((entry) => entry.method === "exec");
    expect(exec?.args[0]).toBe(`${BOOT} snapshot`);
    const options = exec?.args[1] as { env: Record<string, string> };
    expect(options.env.OPENCLAW_GATEWAY_TOKEN).toBe(GATEWAY_TOKEN);
    expect(secretsIn(String(exec?.args[0]))).toEqual([]);
  });

  it("snapshots through CONTROL_ORIGIN for the origin backend", async () => {
    const env = originEnv("cron", { CONTROL_ORIGIN: `${originEnv("cron").GATEWAY_ORIGIN as string}/control` });
    const report = await runWatchdog(env, { logSink: () => undefined });
    expect(report).toMatchObject({ gateway: { before: "running" }, snapshot: { ok: true, result: { snapshot_id: "snap1" } } });
  });

  it("skips with the missing names when configuration is incomplete", async () => {
    const report = await runWatchdog({}, { logSink: () => undefined });
    expect(report).toMatchObject({ skipped: expect.arrayContaining(["MOLTBOT_GATEWAY_TOKEN"]) as unknown });
  });

  it("is wired to the Worker's scheduled handler", async () => {
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), originEnv("cron-wired"), ctx);
    await waitOnExecutionContext(ctx);
  });
});
