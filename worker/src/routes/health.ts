/** GET /sandbox-health: the Worker itself is up. No auth, no configuration check, no secrets. */
import { Hono } from "hono";
import { loadConfig } from "../config";
import type { AppEnv } from "../context";

// Mounted before the configuration check, so it reads the (memoised) parse itself.
export const health = new Hono<AppEnv>().get("/sandbox-health", (c) => {
  const config = loadConfig(c.env);
  return c.json({
    status: "ok",
    service: "openclaw-edge",
    environment: config.environment ?? null,
    backend: config.backend,
    time: new Date().toISOString(),
  });
});
