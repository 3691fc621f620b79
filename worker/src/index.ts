/** Worker entry: HTTP/WebSocket via the Hono app, the cron watchdog, and the Sandbox Durable Object class. */
import { createApp } from "./app";
import type { Env } from "./config";
import { runWatchdog } from "./cron";

export { Sandbox } from "./backend/sandbox-do";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runWatchdog(env, {}, { cron: controller.cron }).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
