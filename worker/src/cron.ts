/**
 * Cron watchdog.
 *
 * `SANDBOX_SLEEP_AFTER=never` (the default, keepAlive): start the gateway when it is not running
 * (so chat channels answer without anyone opening the UI) and trigger a snapshot every run. The
 * snapshot never depends on the gateway: the boot code skips it when nothing changed; in the
 * sandbox, when no boot process exists but the container does, `boot.py snapshot` runs in a
 * session of its own; when the boot process holds an older gateway token (rotated secret), it is
 * restarted with the current one.
 *
 * With a duration the container is allowed to sleep, and the watchdog must not keep it awake:
 * every request to it (status, snapshot) counts as activity for `sleepAfter`. It reads the
 * container's state from its Durable Object (no request to the container, so no activity) and,
 * only while it sleeps, wakes it ahead of OpenClaw's next due cron job. The boot code publishes
 * that time to the backup bucket (`openclaw-edge-status/schedule.json`, container/openclaw_boot/
 * channels.py), where the R2 binding reads it without waking anything. Bots stay offline while the
 * container sleeps (outbound connections are not activity), which the README and the preview say.
 */
import { loadConfig, type Env, type WorkerConfig } from "./config";
import type { Deps } from "./context";
import { selectBackend } from "./backend";
import { realSandboxFactory } from "./backend/sandbox";
import { createLogger, errorMessage, type Logger } from "./lib/log";

export const SCHEDULE_KEY = "openclaw-edge-status/schedule.json";
/** Cold start of the container and gateway, plus slack: wake this long before the job is due. */
export const WAKE_LEAD_MS = 3 * 60_000;
const FALLBACK_INTERVAL_MS = 60 * 60_000;

export interface WatchdogReport {
  gateway: { before: string; after: string; error?: string };
  snapshot: { ok: boolean; status: number; result?: unknown; error?: string };
}

export interface SleepReport {
  sleep: { container: string; nextRunAt: string | null; woke: boolean; reason: string };
}

export interface WatchdogOptions {
  /** The trigger's cron expression (ScheduledController.cron): how far ahead one run must look. */
  cron?: string;
  now?: number;
}

function step(field: string): number | undefined {
  const match = /^\*\/([1-9]\d*)$/.exec(field);
  return match ? Number(match[1]) : undefined;
}

/**
 * Milliseconds between runs for the fixed-period forms a watchdog uses (as infra/cost.py
 * `cron_interval_seconds`): `*\/N * * * *`, `* * * * *`, `M * * * *`, `M *\/H * * *`, `M H * * *`.
 */
export function cronIntervalMs(expression: string | undefined): number | undefined {
  const fields = (expression ?? "").trim().split(/\s+/);
  if (fields.length !== 5 || fields.slice(2).some((field) => field !== "*")) return undefined;
  const [minute = "", hour = ""] = fields;
  if (hour === "*") {
    if (minute === "*") return 60_000;
    const every = step(minute);
    if (every !== undefined) return 60 % every === 0 ? every * 60_000 : undefined;
    const minutes = new Set(minute.split(","));
    return [...minutes].every((m) => /^\d+$/.test(m)) && 60 % minutes.size === 0 ? 3_600_000 / minutes.size : undefined;
  }
  if (!/^\d+$/.test(minute)) return undefined;
  const everyHours = step(hour);
  if (everyHours !== undefined) return 24 % everyHours === 0 ? everyHours * 3_600_000 : undefined;
  return /^\d+$/.test(hour) ? 86_400_000 : undefined;
}

async function readSchedule(config: WorkerConfig, log: Logger): Promise<string | null | undefined> {
  const bucket = config.bindings.backupBucket;
  if (bucket === undefined) return undefined;
  try {
    const object = await bucket.get(SCHEDULE_KEY);
    if (object === null) return undefined;
    const body = await object.json<{ next_run_at?: unknown }>();
    return typeof body.next_run_at === "string" ? body.next_run_at : null;
  } catch (error) {
    log.warn("watchdog: schedule unreadable", { error: errorMessage(error) });
    return undefined;
  }
}

/** Sleep mode: wake a sleeping container only when an OpenClaw job is due before the next run. */
async function sleepWatch(config: WorkerConfig, deps: Deps, log: Logger, options: WatchdogOptions): Promise<SleepReport | undefined> {
  const sandbox = (deps.sandboxFactory ?? realSandboxFactory)(config);
  let container: string;
  try {
    // Container.getState() from Durable Object storage: never starts the container (sandbox-do.ts).
    container = (await sandbox.bootState()).container;
  } catch (error) {
    log.warn("watchdog: container state unavailable, checking the gateway instead", { error: errorMessage(error) });
    return undefined;
  }
  const now = options.now ?? Date.now();
  const nextRunAt = await readSchedule(config, log);
  const report: SleepReport = { sleep: { container, nextRunAt: nextRunAt ?? null, woke: false, reason: "" } };
  if (container === "running" || container === "healthy" || container === "stopping") {
    report.sleep.reason = "awake: left alone so it can reach sleepAfter (the boot code snapshots on its own)";
  } else if (nextRunAt === undefined) {
    report.sleep.reason = "asleep; no published OpenClaw schedule yet";
  } else if (nextRunAt === null) {
    report.sleep.reason = "asleep; OpenClaw has no scheduled job";
  } else {
    const window = (cronIntervalMs(options.cron) ?? FALLBACK_INTERVAL_MS) + WAKE_LEAD_MS;
    const dueIn = Date.parse(nextRunAt) - now;
    if (Number.isNaN(dueIn) || dueIn > window) {
      report.sleep.reason = `asleep; next OpenClaw job ${nextRunAt} is after the next watchdog run`;
    } else {
      const backend = selectBackend(config, deps);
      const state = (await backend.ensureRunning(config.startupTimeoutMs)).state;
      report.sleep.woke = true;
      report.sleep.reason = `woke it for the OpenClaw job due ${nextRunAt}: gateway ${state}`;
    }
  }
  log.info("watchdog run (sleep mode)", { ...report });
  return report;
}

export async function runWatchdog(
  env: Env,
  deps: Deps = {},
  options: WatchdogOptions = {},
): Promise<WatchdogReport | SleepReport | { skipped: string[] }> {
  const config = loadConfig(env);
  const log = createLogger(env, deps.logSink);
  if (config.missing.length > 0) {
    log.error("watchdog: configuration missing", { missing: config.missing });
    return { skipped: [...config.missing] };
  }
  const backend = selectBackend(config, deps);
  if (backend.kind === "sandbox" && config.sleepAfter !== "never") {
    const slept = await sleepWatch(config, deps, log, options);
    if (slept !== undefined) return slept;
  }
  const report: WatchdogReport = { gateway: { before: "unknown", after: "unknown" }, snapshot: { ok: false, status: 0 } };
  try {
    const before = await backend.status();
    report.gateway.before = before.state;
    report.gateway.after = before.state;
    if (backend.kind === "sandbox" && before.state === "not_running") {
      log.info("watchdog: gateway not running, starting it");
      report.gateway.after = (await backend.ensureRunning(config.startupTimeoutMs)).state;
    }
  } catch (error) {
    report.gateway.error = log.redact(errorMessage(error));
    log.error("watchdog: gateway check failed", { error: errorMessage(error) });
  }
  try {
    const result = await backend.snapshot();
    report.snapshot = result.ok
      ? { ok: true, status: result.status, result: result.body }
      : { ok: false, status: result.status, error: log.redact(result.error) };
  } catch (error) {
    report.snapshot = { ok: false, status: 500, error: log.redact(errorMessage(error)) };
  }
  // 409: the boot code is restoring or stopping and said so; not a failed backup.
  log.log(report.snapshot.ok || report.snapshot.status === 409 ? "info" : "warn", "watchdog run", { ...report });
  return report;
}
