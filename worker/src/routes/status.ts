/** GET /api/status: gateway state from the gateway's own /readyz (not just an open port). */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { errorMessage } from "../lib/log";
import { importSummary } from "./admin-import";

export const status = new Hono<AppEnv>().get("/api/status", async (c) => {
  try {
    const backend = c.get("backend");
    const gateway = await backend.status();
    // What the first boot imported from moltworker, if anything (docs/interfaces.md).
    const imported = gateway.state === "not_running" ? null : await importSummary(backend);
    return c.json({ ...gateway, ...(imported ? { imported } : {}) }, 200, { "cache-control": "no-store" });
  } catch (error) {
    c.get("log").error("status failed", { error: errorMessage(error) });
    return c.json({ state: "not_responding", backend: c.get("backend").kind, detail: c.get("log").redact(errorMessage(error)) }, 200, {
      "cache-control": "no-store",
    });
  }
});
