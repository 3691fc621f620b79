/**
 * Cron watchdog: start the gateway when it is not running (so chat channels answer without anyone
 * opening the UI) and trigger a snapshot every run. The snapshot never depends on the gateway:
 * the boot code skips it when nothing changed; in the sandbox, when no boot process exists but
 * the container does, `boot.py snapshot` runs in a session of its own; when the boot process
 * holds an older gateway token (rotated secret), it is restarted with the current one.
 */
import { missingConfig, startupTimeoutMs, type Env } from "./config";
import type { Deps } from "./context";
import { selectBackend } from "./backend";
import { createLogger, errorMessage } from "./lib/log";

export interface WatchdogReport {
  gateway: { before: string; after: string; error?: string };
  snapshot: { ok: boolean; status: number; result?: unknown; error?: string };
}

export async function runWatchdog(env: Env, deps: Deps = {}): Promise<WatchdogReport | { skipped: string[] }> {
  const log = createLogger(env, deps.logSink);
  const missing = missingConfig(env);
  if (missing.length > 0) {
    log.error("watchdog: configuration missing", { missing });
    return { skipped: missing };
  }
  const backend = selectBackend(env, deps);
  const report: WatchdogReport = { gateway: { before: "unknown", after: "unknown" }, snapshot: { ok: false, status: 0 } };
  try {
    const before = await backend.status();
    report.gateway.before = before.state;
    report.gateway.after = before.state;
    if (backend.kind === "sandbox" && before.state === "not_running") {
      log.info("watchdog: gateway not running, starting it");
      report.gateway.after = (await backend.ensureRunning(startupTimeoutMs(env))).state;
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
