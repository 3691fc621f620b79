/** Assembles the Hono app: logging, health, configuration check, CDP shim, Access, routes, proxy. */
import { Hono } from "hono";
import { loadConfig } from "./config";
import type { AppEnv, Deps } from "./context";
import { selectBackend } from "./backend";
import { isBrowserNavigation, requireAccess } from "./auth/access";
import { requireSameOrigin } from "./auth/same-origin";
import { createLogger, errorMessage } from "./lib/log";
import { clientAddress } from "./lib/forwarded";
import { configErrorPage } from "./lib/pages";
import { admin } from "./routes/admin";
import { cdp } from "./routes/cdp";
import { debug } from "./routes/debug";
import { health } from "./routes/health";
import { proxy } from "./routes/proxy";
import { status } from "./routes/status";

const isCdpPath = (path: string) => path === "/cdp" || path.startsWith("/cdp/");

export function createApp(deps: Deps = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    const log = createLogger(c.env, deps.logSink);
    c.set("log", log);
    const started = Date.now();
    await next();
    log.info("request", { method: c.req.method, url: c.req.url, status: c.res.status, ms: Date.now() - started });
  });

  app.route("/", health);

  // The environment is read here, once, into c.var.config; the routes read nothing else.
  app.use("*", async (c, next) => {
    const config = loadConfig(c.env);
    const { missing } = config;
    if (missing.length > 0) {
      c.get("log").error("configuration missing", { missing });
      if (isBrowserNavigation(c.req.raw)) return c.html(configErrorPage([...missing]), 503);
      return c.json({ error: "configuration error", missing }, 503);
    }
    c.set("config", config);
    c.set("backend", selectBackend(config, deps, clientAddress(c.req.raw)));
    await next();
  });

  app.route("/", cdp);

  const access = requireAccess();
  app.use("*", (c, next) => (isCdpPath(c.req.path) ? next() : access(c as Parameters<typeof access>[0], next)));
  // No other site may drive a state change or open a WebSocket with the user's Access cookie.
  const sameOrigin = requireSameOrigin();
  app.use("*", (c, next) => (isCdpPath(c.req.path) ? next() : sameOrigin(c as Parameters<typeof sameOrigin>[0], next)));

  app.route("/", status);
  app.route("/", admin);
  app.route("/", debug);
  app.route("/", proxy);

  app.onError((error, c) => {
    const log = c.get("log");
    log.error("unhandled error", { error: errorMessage(error) });
    return c.json({ error: "internal error", detail: log.redact(errorMessage(error)) }, 500);
  });
  return app;
}
