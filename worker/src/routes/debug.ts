/**
 * /debug/* (only with DEBUG_ROUTES=true, otherwise 404): versions, processes, logs, which
 * configuration names are set (never values) and the container's OpenClaw config, redacted.
 * There is deliberately no command-execution route.
 */
import { Hono } from "hono";
import { validator } from "hono/validator";
import workerPackage from "../../package.json";
import type { AppEnv } from "../context";
import { errorMessage, redactValue } from "../lib/log";

const PROCESS_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * `?source=gateway|boot[&lines=N]` (the boot code's rotating logs, N clamped to 1-2000, default
 * 200) or `?id=<process id>` (what the SDK kept of one process's output).
 */
type LogsQuery = { source: "gateway" | "boot"; lines: number; id?: undefined } | { id: string; source?: undefined; lines?: undefined };
const checked = (query: LogsQuery): LogsQuery => query;

const logsQuery = validator("query", (query: Record<string, string | string[]>, c) => {
  const one = (name: string): string | undefined => {
    const value = query[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const source = one("source");
  if (source !== undefined) {
    if (source !== "gateway" && source !== "boot") return c.json({ error: "source must be gateway or boot" }, 400);
    const lines = Math.min(2000, Math.max(1, Number(one("lines") ?? "200") || 200));
    return checked({ source, lines });
  }
  const id = one("id");
  if (!id || !PROCESS_ID.test(id)) return c.json({ error: "query parameter id=<process id> or source=gateway|boot is required" }, 400);
  return checked({ id });
});

export const debug = new Hono<AppEnv>()
  .use("/debug/*", async (c, next) => {
    if (!c.var.config.debugRoutes) return c.json({ error: "not found" }, 404);
    await next();
  })
  .get("/debug/version", async (c) => {
    const status = await c.get("backend").status().catch((error: unknown) => ({ state: "unknown", detail: errorMessage(error) }));
    return c.json({
      sandboxSdk: workerPackage.dependencies["@cloudflare/sandbox"],
      worker: workerPackage.version,
      openclawVersion: c.var.config.openclawVersion ?? null,
      environment: c.var.config.environment ?? null,
      backend: c.get("backend").kind,
      gateway: status,
    });
  })
  .get("/debug/processes", async (c) => {
    const processes = await c.get("backend").processes();
    if (processes === null) return c.json({ error: "process list is only available for the sandbox backend" }, 501);
    return c.json({ processes: redactValue(processes) });
  })
  // Tails only: `?source=gateway|boot` reads the boot code's rotating logs (control API), `?id=`
  // the last 64 KiB of what the SDK kept of a process's output.
  .get("/debug/logs", logsQuery, async (c) => {
    const log = c.get("log");
    const query = c.req.valid("query");
    if (query.source !== undefined) {
      const result = await c.get("backend").bootLogs(query.source, query.lines);
      if (!result.ok) return c.json({ error: log.redact(result.error) }, result.status === 501 ? 501 : 503);
      return c.json(JSON.parse(log.redact(JSON.stringify(redactValue(result.body)))) as object);
    }
    const { id } = query;
    const logs = await c.get("backend").processLogs(id).catch((error: unknown) => ({ error: errorMessage(error) }));
    if (logs === null) return c.json({ error: "logs are only available for the sandbox backend" }, 501);
    if ("error" in logs) return c.json({ error: log.redact(logs.error) }, 404);
    return c.json({ id, stdout: log.redact(logs.stdout), stderr: log.redact(logs.stderr) });
  })
  .get("/debug/env", (c) => {
    const { presence, bindings } = c.var.config;
    return c.json({ backend: c.get("backend").kind, entries: presence, bindings: {
      SANDBOX: bindings.sandbox !== undefined, BACKUP_BUCKET: bindings.backupBucket !== undefined, BROWSER: bindings.browser !== undefined } });
  })
  .get("/debug/container-config", async (c) => {
    const config = await c.get("backend").containerConfig().catch((error: unknown) => ({ error: errorMessage(error) }));
    if (config === null) return c.json({ error: "the container config is only available for the sandbox backend" }, 501);
    const log = c.get("log");
    return c.json(JSON.parse(log.redact(JSON.stringify(redactValue(config)))) as object);
  })
  // Unknown debug paths end here instead of reaching the gateway proxy.
  .all("/debug/*", (c) => c.json({ error: "not found" }, 404));
