/** GET /api/admin/selftest: the container's tool self-test through the control API, behind Access. */
import { describe, expect, it } from "vitest";
import { accessToken, call, GATEWAY_TOKEN, request, sandboxEnv, SECRET_VALUES, secretsIn } from "./helpers";
import { scenario } from "./sandbox-double";

const SELFTEST = {
  ok: true,
  passed: false,
  failed: ["gh"],
  tools: [
    { name: "gh", ok: false, error: "gh not found on PATH", output: "", required: true },
    // A tool that echoes a secret from its environment: the Worker must not pass it on.
    { name: "openclaw", ok: true, version: "2026.9.6", output: `OpenClaw 2026.9.6 ${SECRET_VALUES.ANTHROPIC_API_KEY}`, required: true },
  ],
  environment: { sandbox_version: "0.12.10", openclaw_version: "2026.9.6" },
};

describe("tool self-test", () => {
  it("asks the control API with the gateway token and passes the answer on, redacted", async () => {
    const s = scenario({ selftest: () => Response.json(SELFTEST) });
    const { response, logs } = await call(sandboxEnv(), request("/api/admin/selftest", { jwt: await accessToken({ serviceToken: "verify.access" }) }), s.deps);
    expect(response.status).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text) as typeof SELFTEST;
    expect(body.passed).toBe(false);
    expect(body.failed).toEqual(["gh"]);
    expect(body.environment.sandbox_version).toBe("0.12.10");
    expect(s.boot.controlRequests.filter((entry) => entry.path === "/selftest")).toEqual([{ path: "/selftest", authorization: `Bearer ${GATEWAY_TOKEN}`, forwardedFor: null }]);
    expect(secretsIn(text)).toEqual([]);
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("needs Access like every admin route", async () => {
    const s = scenario({ selftest: () => Response.json(SELFTEST) });
    const { response } = await call(sandboxEnv(), request("/api/admin/selftest"), s.deps);
    expect(response.status).toBe(401);
    expect(s.boot.controlRequests).toEqual([]);
    expect(s.container.starts).toBe(0);
  });

  it("says why when the boot code cannot run it", async () => {
    const s = scenario(); // a boot code without the route
    const { response } = await call(sandboxEnv(), request("/api/admin/selftest", { jwt: await accessToken() }), s.deps);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error: "no route GET /selftest" });
  });
});
