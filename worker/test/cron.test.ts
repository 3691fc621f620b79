/** The scheduled watchdog (cron.ts): starts a stopped gateway and always attempts the snapshot; in sleep mode, wakes the container only ahead of OpenClaw's next job. */
import { describe, expect, it } from "vitest";
import { createScheduledController, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../src/index";
import { loadConfig } from "../src/config";
import { cronIntervalMs, runWatchdog, SCHEDULE_KEY, WAKE_LEAD_MS } from "../src/cron";
import { BOOT, BOOT_RUN, createSandboxBackend } from "../src/backend/sandbox";
import { GATEWAY_TOKEN, originEnv, sandboxEnv, secretsIn } from "./helpers";
import { scenario, TEST_LIMITS } from "./sandbox-double";
import { BOOT_STATUS, booted } from "./boot-status";

const quiet = { logSink: () => undefined };

describe("cron watchdog", () => {
  it("starts the gateway when it is not running and snapshots through the control API", async () => {
    const s = scenario();
    const logs: string[] = [];
    const report = await runWatchdog(sandboxEnv(), { ...s.deps, logSink: (line) => logs.push(line) });
    expect(report).toMatchObject({ gateway: { before: "not_running", after: "running" }, snapshot: { ok: true, result: { reason: "manual" } } });
    expect(s.boot.runs.map((run) => run.process.command)).toEqual([BOOT_RUN]);
    expect(s.boot.controlRequests).toContainEqual(expect.objectContaining({ path: "/snapshot", authorization: `Bearer ${GATEWAY_TOKEN}` }));
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("leaves a running gateway alone", async () => {
    const s = scenario();
    await runWatchdog(sandboxEnv(), { ...s.deps, ...quiet });
    await runWatchdog(sandboxEnv(), { ...s.deps, ...quiet });
    expect(s.container.requests.filter((line) => line === "3000 POST /api/process/start")).toHaveLength(1);
  });

  it("reports a running gateway to the cron, which has no end-user address, via the control API", async () => {
    const s = scenario();
    await runWatchdog(sandboxEnv(), { ...s.deps, ...quiet });
    const report = await runWatchdog(sandboxEnv(), { ...s.deps, ...quiet });
    expect(report).toMatchObject({ gateway: { before: "running", after: "running" } });
    expect(s.container.requests.filter((line) => line.startsWith("18789 "))).toEqual([]);
  });

  it("still backs up when the boot cannot start: boot.py snapshot in a session of its own", async () => {
    const s = scenario({ exitCode: 1 });
    const report = await runWatchdog(sandboxEnv({ STARTUP_TIMEOUT_MS: "2000" }), { ...s.deps, ...quiet });
    expect(report).toMatchObject({ gateway: { after: "not_running" }, snapshot: { ok: true, result: { reason: "one-shot" } } });
    const [oneShot] = s.boot.oneShots;
    expect(oneShot?.command).toBe(`${BOOT} snapshot`);
    expect(oneShot?.sessionId).toMatch(/^openclaw-edge-oneshot-/);
    expect(oneShot?.env.OPENCLAW_GATEWAY_TOKEN).toBe(GATEWAY_TOKEN);
    expect(secretsIn(oneShot?.command ?? "x")).toEqual([]);
  });

  // Item 8: the fallback never runs next to a live boot process.
  it("does not run the one-shot while a boot process exists, even when its control API is down", async () => {
    const s = scenario({ controlApi: false });
    const report = await runWatchdog(sandboxEnv({ STARTUP_TIMEOUT_MS: "1500" }), { ...s.deps, ...quiet });
    expect(report).toMatchObject({ snapshot: { ok: false } });
    expect(s.boot.oneShots).toEqual([]);
    expect(s.boot.runs.map((run) => run.process.running)).toEqual([true]);
  });

  it("reports a restore in progress instead of snapshotting (or falling back)", async () => {
    const s = scenario({ restoreMs: 30_000 });
    const report = await runWatchdog(sandboxEnv({ STARTUP_TIMEOUT_MS: "1500" }), { ...s.deps, ...quiet });
    expect(report).toMatchObject({ snapshot: { ok: false, status: 409 } });
    expect(s.boot.snapshots).toEqual([]);
    expect(s.boot.oneShots).toEqual([]);
  });

  // Item 7: a one-shot that times out blocks nothing else.
  it("starts the gateway right after a one-shot that timed out", async () => {
    const s = scenario({ exitCode: 1, oneShotMs: 60_000 });
    const backend = createSandboxBackend(loadConfig(sandboxEnv()), s.handle, undefined, { ...TEST_LIMITS, oneShotTimeoutMs: 300 });
    await backend.ensureRunning(1_500); // the boot fails, the container stays up
    const snapshot = await backend.snapshot();
    expect(snapshot).toMatchObject({ ok: false, status: 504 });
    expect(s.container.live().map((process) => process.command)).toEqual([`${BOOT} snapshot`]);
    s.boot.model.exitCode = null;
    expect(await backend.ensureRunning(5_000)).toMatchObject({ state: "running" });
  });

  it("snapshots through CONTROL_ORIGIN for the origin backend", async () => {
    const env = originEnv("cron", { CONTROL_ORIGIN: `${originEnv("cron").GATEWAY_ORIGIN as string}/control` });
    const report = await runWatchdog(env, quiet);
    expect(report).toMatchObject({ gateway: { before: "running" }, snapshot: { ok: true, result: { snapshot_id: "snap1" } } });
  });

  it("skips with the missing names when configuration is incomplete", async () => {
    const report = await runWatchdog({}, quiet);
    expect(report).toMatchObject({ skipped: expect.arrayContaining(["MOLTBOT_GATEWAY_TOKEN"]) as unknown });
  });

  it("is wired to the Worker's scheduled handler", async () => {
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), originEnv("cron-wired"), ctx);
    await waitOnExecutionContext(ctx);
  });
});

function bucketWith(schedule: unknown): R2Bucket {
  return {
    get: async (key: string) => (key === SCHEDULE_KEY && schedule !== undefined ? { json: async () => schedule } : null),
  } as unknown as R2Bucket;
}

describe("watchdog sleep mode", () => {
  const now = Date.parse("2026-12-02T07:00:00Z");
  const sleepy = (schedule: unknown, overrides: Record<string, unknown> = {}) =>
    sandboxEnv({ SANDBOX_SLEEP_AFTER: "10m", BACKUP_BUCKET: bucketWith(schedule), ...overrides });

  it("leaves an awake container alone: no status call, no snapshot, nothing that counts as activity", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    await booted(s);
    const before = { calls: s.calls.length, requests: s.container.requests.length };
    const report = await runWatchdog(sleepy({ next_run_at: "2026-12-02T07:01:00Z" }), { ...s.deps, logSink: () => undefined }, { cron: "*/5 * * * *", now });
    expect(report).toMatchObject({ sleep: { container: "healthy", woke: false } });
    expect(s.calls.slice(before.calls)).toEqual(["bootState"]);
    expect(s.container.requests.slice(before.requests)).toEqual([]);
  });

  it("wakes a sleeping container when OpenClaw's next job is due before the next run", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    const due = new Date(now + 4 * 60_000).toISOString();
    const report = await runWatchdog(sleepy({ next_run_at: due }), { ...s.deps, logSink: () => undefined }, { cron: "*/5 * * * *", now });
    expect(report).toMatchObject({ sleep: { container: "stopped", nextRunAt: due, woke: true } });
    expect(s.boot.runs.map((run) => run.process.command)).toEqual([BOOT_RUN]);
  });

  it("lets it sleep when the job is due after the next run (plus the wake lead)", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    const due = new Date(now + 5 * 60_000 + WAKE_LEAD_MS + 1_000).toISOString();
    const report = await runWatchdog(sleepy({ next_run_at: due }), { ...s.deps, logSink: () => undefined }, { cron: "*/5 * * * *", now });
    expect(report).toMatchObject({ sleep: { woke: false } });
    expect(s.calls).toEqual(["bootState"]);
    expect(s.boot.runs).toEqual([]);
  });

  it("wakes it for a job that became due while it slept", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    const report = await runWatchdog(sleepy({ next_run_at: "2026-12-02T06:00:00Z" }), { ...s.deps, logSink: () => undefined }, { cron: "0 * * * *", now });
    expect(report).toMatchObject({ sleep: { woke: true } });
    expect(s.boot.runs).toHaveLength(1);
  });

  it("does not wake it without a published schedule or with no job", async () => {
    for (const schedule of [undefined, { next_run_at: null }]) {
      const s = scenario({ statusExtra: BOOT_STATUS });
      const report = await runWatchdog(sleepy(schedule), { ...s.deps, logSink: () => undefined }, { cron: "*/5 * * * *", now });
      expect(report).toMatchObject({ sleep: { woke: false } });
      expect(s.boot.runs).toEqual([]);
    }
  });

  it("keeps the always-on behaviour when sleepAfter is never", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    const report = await runWatchdog(sandboxEnv({ SANDBOX_SLEEP_AFTER: "never" }), { ...s.deps, logSink: () => undefined }, { now });
    expect(report).toMatchObject({ gateway: { before: "not_running", after: "running" }, snapshot: { ok: true } });
    expect(s.boot.runs).toHaveLength(1);
  });

  it("reads the watchdog interval from the cron expression", () => {
    expect(cronIntervalMs("*/5 * * * *")).toBe(300_000);
    expect(cronIntervalMs("* * * * *")).toBe(60_000);
    expect(cronIntervalMs("0,30 * * * *")).toBe(1_800_000);
    expect(cronIntervalMs("15 */6 * * *")).toBe(21_600_000);
    expect(cronIntervalMs("0 3 * * *")).toBe(86_400_000);
    expect(cronIntervalMs("*/7 * * * *")).toBeUndefined();
    expect(cronIntervalMs("0 9 * * 1-5")).toBeUndefined();
    expect(cronIntervalMs(undefined)).toBeUndefined();
  });
});
