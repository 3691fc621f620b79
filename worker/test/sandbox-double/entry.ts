/**
 * The Worker as the tests run it: the real entry (src/index.ts) and the real Sandbox Durable
 * Object class (src/backend/sandbox-do.ts on top of @cloudflare/sandbox), whose `ctx.container`
 * is the fake container of ./container.ts. Used as vitest's `main` (vitest.config.ts).
 */
import { Sandbox as OpenClawSandbox } from "../../src/backend/sandbox-do";
import { attachFakeContainer } from "./container";

export { default } from "../../src/index";

export class Sandbox extends OpenClawSandbox {
  constructor(ctx: DurableObjectState<Record<string, never>>, env: unknown) {
    attachFakeContainer(ctx);
    super(ctx, env);
  }
}
