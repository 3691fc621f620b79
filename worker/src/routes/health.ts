/** GET /sandbox-health: the Worker itself is up. No auth, no configuration check, no secrets. */
import { Hono } from "hono";
import { N, isOriginMode, read } from "../config";
import type { AppEnv } from "../context";

export const health = new Hono<AppEnv>().get("/sandbox-health", (c) =>
  c.json({
    status: "ok",
    service: "openclaw-edge",
    environment: read(c.env, N.environment) ?? null,
    backend: isOriginMode(c.env) ? "origin" : "sandbox",
    time: new Date().toISOString(),
  }),
);
