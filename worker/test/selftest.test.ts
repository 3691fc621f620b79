/** GET /api/admin/selftest: the container's tool self-test through the control API, behind Access. */
import { describe, expect, it } from "vitest";
import { accessToken, call, FakeSandbox, GATEWAY_TOKEN, request, sandboxEnv, SECRET_VALUES, secretsIn } from "./helpers";

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

class SelftestSandbox extends FakeSandbox {
  constructor(private readonly answer: Response | (() => Response)) {
    super();
    this.processes.push({ id: "p1", command: "python3 /opt/openclaw-edge/boot.py run", status: "running", startTime: new Date() });
  }

  override async containerFetch(request: Request, port: number): Promise<Response> {
    if (port === 18790 && new URL(request.url).pathname === "/selftest") {
      this.controlRequests.push({ method: request.method, path: "/selftest", authorization: request.headers.get("authorization"), body: await request.text() });
      return typeof this.answer === "function" ? this.answer() : this.answer.clone();
    }
    return super.containerFetch(request, port);
  }
}

describe("tool self-test", () => {
  it("asks the control API with the gateway token and passes the answer on, redacted", async () => {
    const fake = new SelftestSandbox(Response.json(SELFTEST));
    const { response, logs } = await call(sandboxEnv(), request("/api/admin/selftest", { jwt: await accessToken({ serviceToken: "verify.access" }) }), {
      sandboxFactory: () => fake,
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text) as typeof SELFTEST;
    expect(body.passed).toBe(false);
    expect(body.failed).toEqual(["gh"]);
    expect(body.environment.sandbox_version).toBe("0.12.10");
    expect(fake.controlRequests).toEqual([{ method: "GET", path: "/selftest", authorization: `Bearer ${GATEWAY_TOKEN}`, body: "" }]);
    expect(secretsIn(text)).toEqual([]);
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("needs Access like every admin route", async () => {
    const fake = new SelftestSandbox(Response.json(SELFTEST));
    const { response } = await call(sandboxEnv(), request("/api/admin/selftest"), { sandboxFactory: () => fake });
    expect(response.status).toBe(401);
    expect(fake.controlRequests).toEqual([]);
  });

  it("says why when the boot code cannot run it", async () => {
    const fake = new SelftestSandbox(() => Response.json({ ok: false, error: "no route GET /selftest" }, { status: 404 }));
    const { response } = await call(sandboxEnv(), request("/api/admin/selftest", { jwt: await accessToken() }), { sandboxFactory: () => fake });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error: "no route GET /selftest" });
  });
});
