/** Per-channel state in /api/status and /_admin/, and the watchdog's sleep mode (wake ahead of OpenClaw's next job). */
import { describe, expect, it } from "vitest";
import { BOOT_RUN } from "../src/backend/sandbox";
import { cronIntervalMs, runWatchdog, SCHEDULE_KEY, WAKE_LEAD_MS } from "../src/cron";
import ADMIN_PAGE from "../src/pages/admin.html";
import { accessToken, call, request, sandboxEnv, SECRET_VALUES, secretsIn } from "./helpers";
import { scenario, type Scenario } from "./sandbox-double";

// The sections the boot code adds to its control API's GET /status (container/openclaw_boot/channels.py).
const BOOT_STATUS = {
  channels: {
    discord: { state: "connected", reason: null, bot: "claw", plugin: { package: "@openclaw/discord", installed: true, version: "2026.9.6" } },
    telegram: { state: "error", reason: `401 Unauthorized for bot ${SECRET_VALUES.TELEGRAM_BOT_TOKEN}`, plugin: { installed: true } },
    slack: { state: "not_configured", reason: "SLACK_BOT_TOKEN and SLACK_APP_TOKEN not set" },
    weird: { state: "exploded" },
  },
  cron: { enabled: true, jobs: 3, next_run_at: "2026-12-02T08:00:00Z" },
};

/** Brings the container up and its gateway to ready, as the first request or the cron would. */
async function booted(s: Scenario): Promise<void> {
  const report = await runWatchdog(sandboxEnv(), { ...s.deps, logSink: () => undefined });
  expect(report).toMatchObject({ gateway: { after: "running" } });
}

function bucketWith(schedule: unknown): R2Bucket {
  return {
    get: async (key: string) => (key === SCHEDULE_KEY && schedule !== undefined ? { json: async () => schedule } : null),
  } as unknown as R2Bucket;
}

describe("/api/status channels", () => {
  it("shows each channel's state and reason, with secrets redacted and unknown states named unknown", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    await booted(s);
    const { response, logs } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), s.deps);
    const text = await response.text();
    const body = JSON.parse(text) as { state: string; channels: Record<string, { state: string; reason?: string }>; cron: { next_run_at: string } };
    expect(body.state).toBe("running");
    expect(body.channels.discord).toMatchObject({ state: "connected", bot: "claw", plugin: { installed: true, version: "2026.9.6" } });
    expect(body.channels.telegram?.state).toBe("error");
    expect(body.channels.telegram?.reason).toContain("401 Unauthorized");
    expect(body.channels.slack).toMatchObject({ state: "not_configured" });
    expect(body.channels.weird?.state).toBe("unknown");
    expect(body.cron.next_run_at).toBe("2026-12-02T08:00:00Z");
    expect(secretsIn(text)).toEqual([]);
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("says why there is no channel information when the gateway is not running, without starting it", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    const { response } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), s.deps);
    const body = (await response.json()) as { state: string; channels?: unknown; channels_error: string };
    expect(body.state).toBe("not_running");
    expect(body.channels).toBeUndefined();
    expect(body.channels_error).toContain("not running");
    expect(s.boot.runs).toEqual([]);
    expect(s.calls).not.toContain("startBoot");
  });

  it("is rendered by the admin page, one row per channel with the reason", () => {
    expect(ADMIN_PAGE).toContain('id="channel-rows"');
    expect(ADMIN_PAGE).toContain("renderChannels(s)");
    expect(ADMIN_PAGE).toContain("not configured");
  });
});

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
