/**
 * GET /api/status: gateway state from the gateway's own /readyz (not just an open port), plus the
 * boot code's per-channel state (connected / connecting / not_configured / error with the reason)
 * and OpenClaw's next due cron job, from the control API's GET /status.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import type { Backend } from "../backend/types";
import { errorMessage, redactValue, type Logger } from "../lib/log";

export type ChannelState = "connected" | "connecting" | "not_configured" | "error" | "unknown";

export interface ChannelStatus {
  state: ChannelState;
  reason?: string | null;
  [key: string]: unknown;
}

export interface BootFacts {
  channels?: Record<string, ChannelStatus>;
  cron?: { enabled?: boolean | null; jobs?: number | null; next_run_at?: string | null };
  channels_error?: string;
}

const STATES = new Set<string>(["connected", "connecting", "not_configured", "error", "unknown"]);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Channel and cron facts from the boot code's status; never throws, never waits for a start. */
export async function bootFacts(backend: Backend, log: Logger, gatewayState: string): Promise<BootFacts> {
  if (gatewayState === "not_running") return { channels_error: "the gateway is not running, so no channel is online" };
  // Only a container that is up and booted is asked: a control call on a starting one would wait
  // for its start (Backend.control starts the boot first), and this route must answer at once.
  if (gatewayState === "starting") return { channels_error: "the gateway is starting: channel state follows once it runs" };
  const result = await backend.control("/status");
  if (!result.ok) return { channels_error: log.redact(result.error) };
  const body = asRecord(result.body) ?? {};
  const channels: Record<string, ChannelStatus> = {};
  for (const [name, raw] of Object.entries(asRecord(body.channels) ?? {})) {
    const entry = asRecord(raw);
    if (entry === undefined) continue;
    const state = typeof entry.state === "string" && STATES.has(entry.state) ? (entry.state as ChannelState) : "unknown";
    const clean = JSON.parse(log.redact(JSON.stringify(redactValue(entry)))) as Record<string, unknown>;
    channels[name] = { ...clean, state };
  }
  const cron = asRecord(body.cron) ?? {};
  return {
    channels,
    cron: {
      enabled: typeof cron.enabled === "boolean" ? cron.enabled : null,
      jobs: typeof cron.jobs === "number" ? cron.jobs : null,
      next_run_at: typeof cron.next_run_at === "string" ? cron.next_run_at : null,
    },
  };
}
import { importSummary } from "./admin-import";

export const status = new Hono<AppEnv>().get("/api/status", async (c) => {
  const backend = c.get("backend");
  const log = c.get("log");
  try {
    const gateway = await backend.status();
    // Only a booted container is asked (a control call on a starting one waits for its start).
    const booted = gateway.state !== "not_running" && gateway.state !== "starting";
    const [facts, imported] = await Promise.all([
      bootFacts(backend, log, gateway.state),
      // What the first boot imported from moltworker, if anything (docs/interfaces.md).
      booted ? importSummary(backend) : Promise.resolve(null),
    ]);
    return c.json({ ...gateway, ...facts, ...(imported ? { imported } : {}) }, 200, { "cache-control": "no-store" });
  } catch (error) {
    log.error("status failed", { error: errorMessage(error) });
    return c.json({ state: "not_responding", backend: backend.kind, detail: log.redact(errorMessage(error)) }, 200, {
      "cache-control": "no-store",
    });
  }
});
