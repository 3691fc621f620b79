/** Per-channel state in /api/status and /_admin/, and the watchdog's sleep mode (wake ahead of OpenClaw's next job). */
import { describe, expect, it } from "vitest";
import { BOOT_RUN } from "../src/backend/sandbox";
import { cronIntervalMs, runWatchdog, SCHEDULE_KEY, WAKE_LEAD_MS } from "../src/cron";
import { ADMIN_PAGE } from "../src/routes/admin-page";
import { accessToken, call, FakeSandbox, request, sandboxEnv, SECRET_VALUES, secretsIn } from "./helpers";

const BOOT_STATUS = {
  gateway: { state: "running" },
  channels: {
    discord: { state: "connected", reason: null, bot: "claw", plugin: { package: "@openclaw/discord", installed: true, version: "2026.9.6" } },
    telegram: { state: "error", reason: `401 Unauthorized for bot ${SECRET_VALUES.TELEGRAM_BOT_TOKEN}`, plugin: { installed: true } },
    slack: { state: "not_configured", reason: "SLACK_BOT_TOKEN and SLACK_APP_TOKEN not set" },
    weird: { state: "exploded" },
  },
  cron: { enabled: true, jobs: 3, next_run_at: "2026-12-02T08:00:00Z" },
};

/** A sandbox whose control API answers GET /status with `body`, and whose DO reports `state`. */
class StatefulSandbox extends FakeSandbox {
  constructor(
    private readonly body: unknown,
    public state = "running",
  ) {
    super();
  }

  async getState(): Promise<{ status: string }> {
    this.calls.push({ method: "getState", args: [] });
    return { status: this.state };
  }

  override async containerFetch(req: Request, port: number): Promise<Response> {
    if (port === 18790 && new URL(req.url).pathname === "/status") {
      this.calls.push({ method: "containerFetch", args: [port, "/status"] });
      return Response.json(this.body);
    }
    return super.containerFetch(req, port);
  }
}

function bucketWith(schedule: unknown): R2Bucket {
  return {
    get: async (key: string) => (key === SCHEDULE_KEY && schedule !== undefined ? { json: async () => schedule } : null),
  } as unknown as R2Bucket;
}

describe("/api/status channels", () => {
  it("shows each channel's state and reason, with secrets redacted and unknown states named unknown", async () => {
    const fake = new StatefulSandbox(BOOT_STATUS);
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    const { response, logs } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), { sandboxFactory: () => fake });
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
    const fake = new StatefulSandbox(BOOT_STATUS);
    const { response } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), { sandboxFactory: () => fake });
    const body = (await response.json()) as { state: string; channels?: unknown; channels_error: string };
    expect(body.state).toBe("not_running");
    expect(body.channels).toBeUndefined();
    expect(body.channels_error).toContain("not running");
    expect(fake.names()).not.toContain("startProcess");
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
    const fake = new StatefulSandbox(BOOT_STATUS, "healthy");
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    const report = await runWatchdog(sleepy({ next_run_at: "2026-12-02T07:01:00Z" }), { sandboxFactory: () => fake, logSink: () => undefined }, { cron: "*/5 * * * *", now });
    expect(report).toMatchObject({ sleep: { container: "healthy", woke: false } });
    expect(fake.names()).toEqual(["getState"]);
  });

  it("wakes a sleeping container when OpenClaw's next job is due before the next run", async () => {
    const fake = new StatefulSandbox(BOOT_STATUS, "stopped");
    const due = new Date(now + 4 * 60_000).toISOString();
    const report = await runWatchdog(sleepy({ next_run_at: due }), { sandboxFactory: () => fake, logSink: () => undefined }, { cron: "*/5 * * * *", now });
    expect(report).toMatchObject({ sleep: { container: "stopped", nextRunAt: due, woke: true } });
    expect(fake.calls.find((entry) => entry.method === "startProcess")?.args[0]).toBe(BOOT_RUN);
  });

  it("lets it sleep when the job is due after the next run (plus the wake lead)", async () => {
    const fake = new StatefulSandbox(BOOT_STATUS, "stopped");
    const due = new Date(now + 5 * 60_000 + WAKE_LEAD_MS + 1_000).toISOString();
    const report = await runWatchdog(sleepy({ next_run_at: due }), { sandboxFactory: () => fake, logSink: () => undefined }, { cron: "*/5 * * * *", now });
    expect(report).toMatchObject({ sleep: { woke: false } });
    expect(fake.names()).toEqual(["getState"]);
  });

  it("wakes it for a job that became due while it slept", async () => {
    const fake = new StatefulSandbox(BOOT_STATUS, "stopped_with_code");
    const report = await runWatchdog(sleepy({ next_run_at: "2026-12-02T06:00:00Z" }), { sandboxFactory: () => fake, logSink: () => undefined }, { cron: "0 * * * *", now });
    expect(report).toMatchObject({ sleep: { woke: true } });
  });

  it("does not wake it without a published schedule or with no job", async () => {
    for (const schedule of [undefined, { next_run_at: null }]) {
      const fake = new StatefulSandbox(BOOT_STATUS, "stopped");
      const report = await runWatchdog(sleepy(schedule), { sandboxFactory: () => fake, logSink: () => undefined }, { cron: "*/5 * * * *", now });
      expect(report).toMatchObject({ sleep: { woke: false } });
      expect(fake.names()).not.toContain("startProcess");
    }
  });

  it("keeps the always-on behaviour when sleepAfter is never", async () => {
    const fake = new StatefulSandbox(BOOT_STATUS, "stopped");
    const report = await runWatchdog(sandboxEnv({ SANDBOX_SLEEP_AFTER: "never" }), { sandboxFactory: () => fake, logSink: () => undefined }, { now });
    expect(report).toMatchObject({ gateway: { before: "not_running", after: "running" }, snapshot: { ok: true } });
    expect(fake.names()).not.toContain("getState");
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
