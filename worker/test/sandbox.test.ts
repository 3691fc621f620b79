/** The Sandbox backend against a test double that records every SDK call. */
import { describe, expect, it } from "vitest";
import { BOOT_RUN, realSandboxFactory } from "../src/backend/sandbox";
import { accessToken, call, FakeSandbox, GATEWAY_TOKEN, HOST, request, sandboxEnv, SECRET_VALUES, secretsIn, SocketProbe } from "./helpers";

function deps(fake: FakeSandbox) {
  return { sandboxFactory: () => fake };
}

describe("sandbox backend", () => {
  it("starts the boot command with secrets as environment, waits for /readyz, then proxies with the token", async () => {
    const fake = new FakeSandbox();
    fake.readyAfterProbes = 2;
    const { response, logs } = await call(sandboxEnv(), request("/api/chat", { jwt: await accessToken() }), deps(fake));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ proxied: "/api/chat", authorization: `Bearer ${GATEWAY_TOKEN}` });

    const start = fake.calls.find((entry) => entry.method === "startProcess");
    expect(start?.args[0]).toBe(BOOT_RUN);
    const env = (start?.args[1] as { env: Record<string, string> }).env;
    expect(env.OPENCLAW_GATEWAY_TOKEN).toBe(GATEWAY_TOKEN);
    expect(env.MOLTBOT_GATEWAY_TOKEN).toBeUndefined();
    expect(env.BACKUP_PASSWORD).toBe(SECRET_VALUES.BACKUP_PASSWORD);
    expect(env.TELEGRAM_DM_ALLOW_FROM).toBe("111,222");
    expect(env.R2_BUCKET_NAME).toBe("bucket-test");
    expect(env.CF_ACCESS_AUD).toBeUndefined();
    expect(env.OPENCLAW_GATEWAY_BIND).toBe("lan");
    expect(secretsIn(String(start?.args[0]))).toEqual([]);

    const readyProbes = fake.calls.filter((entry) => entry.method === "containerFetch" && entry.args[1] === "/gateway/ready");
    expect(readyProbes.length).toBe(3);
    expect(readyProbes.every((entry) => entry.args[0] === 18790)).toBe(true);
    expect(fake.controlRequests.filter((entry) => entry.path === "/gateway/ready").every((entry) => entry.authorization === `Bearer ${GATEWAY_TOKEN}`)).toBe(true);
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("names the end user in X-Forwarded-For on proxied requests, but not on the control API", async () => {
    const fake = new FakeSandbox();
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    const controlForwarded: (string | null)[] = [];
    const original = fake.containerFetch.bind(fake);
    fake.containerFetch = async (req, port) => {
      if (port === 18790) controlForwarded.push(req.headers.get("x-forwarded-for"));
      return original(req, port);
    };
    await call(sandboxEnv(), request("/x", { jwt: await accessToken(), headers: { "cf-connecting-ip": "198.51.100.23" } }), deps(fake));
    expect(controlForwarded).toEqual([null]);
    expect(fake.gatewayRequests[0]?.headers.get("x-forwarded-for")).toBe("198.51.100.23");
  });

  it("passes the gateway's own reason on when it is not ready", async () => {
    const fake = new FakeSandbox();
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date(Date.now() - 10 * 60_000) });
    fake.ready = false;
    const { response } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), deps(fake));
    expect(await response.json()).toMatchObject({ state: "not_responding", detail: "/readyz answered HTTP 503 (failing: channels)" });
  });

  it("starts one gateway when two requests race on a cold container", async () => {
    const fake = new FakeSandbox();
    const jwt = await accessToken();
    const [first, second] = await Promise.all([
      call(sandboxEnv(), request("/a", { jwt }), deps(fake)),
      call(sandboxEnv(), request("/b", { jwt }), deps(fake)),
    ]);
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    expect(fake.processes.filter((process) => process.status === "running")).toHaveLength(1);
    expect(fake.calls.find((entry) => entry.method === "startProcess")?.args[1]).toMatchObject({ processId: "openclaw-gateway" });
  });

  it("does not start a second gateway when one is running", async () => {
    const fake = new FakeSandbox();
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    await call(sandboxEnv(), request("/x", { jwt: await accessToken() }), deps(fake));
    expect(fake.names()).not.toContain("startProcess");
  });

  it("serves the loading page to browsers during a cold start and starts the gateway in the background", async () => {
    const fake = new FakeSandbox();
    fake.ready = false;
    const { response } = await call(sandboxEnv(), request("/", { jwt: await accessToken(), browser: true }), deps(fake));
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Starting OpenClaw");
    expect(html).toContain("/api/status");
    expect(fake.names()).toContain("startProcess");
  });

  it("gives up after STARTUP_TIMEOUT_MS with 503", async () => {
    const fake = new FakeSandbox();
    fake.ready = false;
    const { response } = await call(sandboxEnv({ STARTUP_TIMEOUT_MS: "1500" }), request("/api/x", { jwt: await accessToken() }), deps(fake));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ state: "not_responding" });
  });

  it("reports status from /readyz: not_running, starting, running", async () => {
    const fake = new FakeSandbox();
    const jwt = await accessToken();
    const state = async () => ((await (await call(sandboxEnv(), request("/api/status", { jwt }), deps(fake))).response.json()) as { state: string }).state;
    expect(await state()).toBe("not_running");
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    fake.ready = false;
    expect(await state()).toBe("starting");
    fake.processes[0] = { id: "p1", command: BOOT_RUN, status: "running", startTime: new Date(Date.now() - 10 * 60_000) };
    expect(await state()).toBe("not_responding");
    fake.ready = true;
    expect(await state()).toBe("running");
  });

  it("proxies WebSockets through wsConnect with the token injected", async () => {
    const fake = new FakeSandbox();
    let upstreamFrames: string[] = [];
    let upstreamAuthorization: string | null = null;
    fake.wsHandler = (req) => {
      upstreamAuthorization = req.headers.get("authorization");
      const pair = new WebSocketPair();
      const gatewaySide = pair[1];
      gatewaySide.accept();
      gatewaySide.addEventListener("message", (event) => {
        upstreamFrames = [...upstreamFrames, String(event.data)];
        gatewaySide.send(`ack:${String(event.data).length}`);
        if (upstreamFrames.length === 2) gatewaySide.close(4100, "gateway done");
      });
      return new Response(null, { status: 101, webSocket: pair[0] });
    };
    const { response } = await call(
      sandboxEnv(),
      request("/", { jwt: await accessToken(), headers: { upgrade: "websocket", origin: HOST } }),
      deps(fake),
    );
    expect(response.status).toBe(101);
    const probe = new SocketProbe(response.webSocket as WebSocket);
    probe.socket.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: { auth: {} } }));
    expect(await probe.next()).toMatch(/^ack:/);
    probe.socket.send("second");
    expect(await probe.next()).toBe("ack:6");
    expect(await probe.closed).toEqual({ code: 4100, reason: "gateway done" });
    expect((JSON.parse(upstreamFrames[0] ?? "{}") as { params: { auth: { password: string } } }).params.auth.password).toBe(GATEWAY_TOKEN);
    expect(upstreamAuthorization).toBe(`Bearer ${GATEWAY_TOKEN}`);
    expect(fake.names()).toContain("wsConnect");
  });

  it("restarts through the control API, or by replacing the process when it is down", async () => {
    const fake = new FakeSandbox();
    fake.processes.push({ id: "p1", command: BOOT_RUN, status: "running", startTime: new Date() });
    const jwt = await accessToken();
    const first = await call(sandboxEnv(), request("/api/admin/gateway/restart", { method: "POST", jwt, headers: { "sec-fetch-site": "same-origin" } }), deps(fake));
    expect(first.response.status).toBe(200);
    expect(fake.controlRequests.at(-1)).toMatchObject({ method: "POST", path: "/gateway/restart", authorization: `Bearer ${GATEWAY_TOKEN}` });
    expect(fake.names()).not.toContain("killProcess");

    fake.controlUp = false;
    const second = await call(sandboxEnv(), request("/api/admin/gateway/restart", { method: "POST", jwt, headers: { "sec-fetch-site": "same-origin" } }), deps(fake));
    expect(second.response.status).toBe(200);
    expect(fake.calls.find((entry) => entry.method === "killProcess")?.args[0]).toBe("p1");
    expect(fake.calls.filter((entry) => entry.method === "startProcess").length).toBe(1);
  });
});

describe("real Sandbox SDK wiring", () => {
  // Building a real handle would make the SDK configure a Durable Object that has no container
  // here (local config), so only the export and the missing-binding error are checked.
  it("exports the Sandbox Durable Object class and requires the SANDBOX binding", async () => {
    const entry = await import("../src/index");
    expect(typeof entry.Sandbox).toBe("function");
    expect(() => realSandboxFactory({})).toThrow(/SANDBOX/);
  });
});
