// Tests run inside workerd through @cloudflare/vitest-plugin; the JWKS, a fake gateway (HTTP +
// WebSocket RPC) and a fake control API are real local servers started by test/global-setup.ts.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: { bindings: { ENVIRONMENT: "test" } },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 20_000,
    // Test files share workers: the only module state is the JWKS cache, keyed by URL.
    isolate: false,
  },
});
