// Tests run inside workerd through @cloudflare/vitest-plugin; the JWKS, a fake gateway (HTTP +
// WebSocket RPC) and a fake control API are real local servers started by test/global-setup.ts.
// `main` is the real Worker plus the real Sandbox Durable Object whose ctx.container is the fake
// container of test/sandbox-double/ (the only layer below the SDK that is not real).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./test/sandbox-double/entry.ts",
      wrangler: { configPath: "./wrangler.jsonc" },
      // SANDBOX_LOG_LEVEL: the SDK's own logger (it reads process.env) stays quiet.
      miniflare: { bindings: { ENVIRONMENT: "test", SANDBOX_LOG_LEVEL: "error" } },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 20_000,
    // Test files share workers: the module state is the JWKS cache (keyed by URL) and the
    // verified-token cache (keyed by token, audience, issuer and JWKS URL).
    isolate: false,
  },
});
