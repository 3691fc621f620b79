/**
 * The Sandbox backend against the real @cloudflare/sandbox Durable Object, whose container is the
 * fake of test/sandbox-double/ (the SDK server's protocol, the boot code's contract).
 */
import { describe, expect, it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import { BOOT_RUN, DEFAULT_LIMITS, readinessCallBudget, realSandboxFactory, sandboxOptions } from "../../src/backend/sandbox";
import { loadConfig } from "../../src/config";
import { accessToken, call, callOpen, GATEWAY_TOKEN, HOST, request, SAME_ORIGIN, sandboxEnv, SECRET_VALUES, secretsIn, SocketProbe } from "../helpers";
import { Gate, sandboxNamespace, scenario } from "../sandbox-double";

const jwt = () => accessToken();

async function until(check: () => boolean | Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

const starts = (requests: string[]) => requests.filter((line) => line === "3000 POST /api/process/start").length;

describe("sandbox backend", () => {
  it("starts the boot command with secrets as environment, waits for readiness, then proxies with the token", async () => {
    const s = scenario({ gatewayReadyMs: 300 });
    const { response, logs } = await call(sandboxEnv(), request("/api/chat", { jwt: await jwt() }), s.deps);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ proxied: "/api/chat", authorization: `Bearer ${GATEWAY_TOKEN}` });

    const [run] = s.boot.runs;
    expect(run?.process.command).toBe(BOOT_RUN);
    expect(run?.env.OPENCLAW_GATEWAY_TOKEN).toBe(GATEWAY_TOKEN);
    expect(run?.env.MOLTBOT_GATEWAY_TOKEN).toBeUndefined();
    expect(run?.env.BACKUP_PASSWORD).toBe(SECRET_VALUES.BACKUP_PASSWORD);
    expect(run?.env.TELEGRAM_DM_ALLOW_FROM).toBe("111,222");
    expect(run?.env.R2_BUCKET_NAME).toBe("bucket-test");
    expect(run?.env.CF_ACCESS_AUD).toBeUndefined();
    expect(run?.env.OPENCLAW_GATEWAY_BIND).toBe("lan");
    expect(secretsIn(run?.process.command ?? "x")).toEqual([]);

    const probes = s.boot.controlRequests.filter((entry) => entry.path === "/gateway/ready");
    expect(probes.length).toBeGreaterThan(1);
    expect(probes.every((entry) => entry.authorization === `Bearer ${GATEWAY_TOKEN}`)).toBe(true);
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("names the end user in X-Forwarded-For on proxied requests, but not on the control API", async () => {
    const s = scenario();
    const { response } = await call(sandboxEnv(), request("/x", { jwt: await jwt(), headers: { "cf-connecting-ip": "198.51.100.23" } }), s.deps);
    expect(await response.json()).toMatchObject({ forwardedFor: "198.51.100.23" });
    expect(s.boot.controlRequests.length).toBeGreaterThan(0);
    expect(s.boot.controlRequests.every((entry) => entry.forwardedFor === null)).toBe(true);
  });

  it("passes the gateway's own reason on when it is not ready", async () => {
    const s = scenario({ gatewayReadyMs: 60_000 });
    const env = sandboxEnv({ STARTUP_TIMEOUT_MS: "1" });
    await call(env, request("/warm", { jwt: await jwt() }), s.deps);
    let body: { state?: string; detail?: string } = {};
    await until(async () => {
      body = (await (await call(env, request("/api/status", { jwt: await jwt() }), s.deps)).response.json()) as typeof body;
      return body.detail !== undefined && !body.detail.includes("restored");
    }, "past the restore");
    expect(body).toMatchObject({ state: "not_responding", detail: "/readyz answered HTTP 503" });
  });

  // Item 2: the SDK runs a duplicate process id again, so two starts mean two boots.
  it("starts exactly one boot for many concurrent cold requests", async () => {
    const s = scenario({ gatewayReadyMs: 200 });
    const token = await jwt();
    const paths = ["/", "/favicon.ico", "/api/a", "/api/b", "/api/c", "/assets/x.js", "/api/d", "/api/e"];
    const answers = await Promise.all(paths.map((path) => call(sandboxEnv(), request(path, { jwt: token, browser: path === "/" }), s.deps)));
    expect(answers.map((a) => a.response.status)).toEqual(paths.map(() => 200));
    expect(starts(s.container.requests)).toBe(1);
    expect(s.boot.runs.map((r) => r.outcome)).toEqual(["booted"]);
    expect(s.container.live().filter((p) => p.command === BOOT_RUN)).toHaveLength(1);
  });

  it("does not start a second boot when one is running", async () => {
    const s = scenario();
    await call(sandboxEnv(), request("/one", { jwt: await jwt() }), s.deps);
    await call(sandboxEnv(), request("/two", { jwt: await jwt() }), s.deps);
    expect(starts(s.container.requests)).toBe(1);
  });

  // Item 9: the loading page does not wait for the container.
  it("serves the loading page at once while the container is still being provisioned", async () => {
    const s = scenario();
    s.container.provisioning = new Gate();
    const { response, settled } = await callOpen(sandboxEnv(), request("/", { jwt: await jwt(), browser: true }), s.deps);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Starting OpenClaw");
    expect(html).toContain("/api/status");
    await until(() => s.container.starts === 1, "the background start began");
    const status = await call(sandboxEnv(), request("/api/status", { jwt: await jwt() }), s.deps);
    expect(await status.response.json()).toMatchObject({ state: "starting", detail: "the container is starting" });
    s.container.provisioning.open();
    await settled;
    expect(s.boot.runs.map((r) => r.outcome)).toEqual(["booted"]);
  });

  it("gives up after STARTUP_TIMEOUT_MS with 503 and Retry-After", async () => {
    const s = scenario({ gatewayReadyMs: 60_000 });
    const { response } = await call(sandboxEnv({ STARTUP_TIMEOUT_MS: "1500" }), request("/api/x", { jwt: await jwt() }), s.deps);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("10");
    expect(await response.json()).toMatchObject({ state: "not_responding" });
  });

  // Item 9: a start error is a clear answer, not a 500.
  it("turns a container that cannot start into a clear 503 and a status the loading page shows", async () => {
    const s = scenario();
    s.container.startError = "no such image: registry.cloudflare.com/openclaw-edge:gone";
    const api = await call(sandboxEnv(), request("/api/x", { jwt: await jwt() }), s.deps);
    expect(api.response.status).toBe(503);
    const body = (await api.response.json()) as { state: string; detail: string };
    expect(body.state).toBe("not_running");
    expect(body.detail).toMatch(/cannot start.*permanent error.*retrying will not help/s);
    const page = await call(sandboxEnv(), request("/", { jwt: await jwt(), browser: true }), s.deps);
    expect(page.response.status).toBe(200);
    expect(await page.response.text()).toContain("Starting OpenClaw");
    const status = await call(sandboxEnv(), request("/api/status", { jwt: await jwt() }), s.deps);
    expect(((await status.response.json()) as { detail: string }).detail).toMatch(/^last start failed .*cannot start/);
  });

  it("reports status without starting anything: not_running, starting, running", async () => {
    const s = scenario({ gatewayReadyMs: 1_000 });
    const state = async () =>
      ((await (await call(sandboxEnv(), request("/api/status", { jwt: await jwt() }), s.deps)).response.json()) as { state: string }).state;
    expect(await state()).toBe("not_running");
    expect(s.container.starts).toBe(0);
    await call(sandboxEnv({ STARTUP_TIMEOUT_MS: "1" }), request("/api/kick", { jwt: await jwt() }), s.deps);
    expect(await state()).toBe("starting");
    await until(async () => (await state()) === "running", "running");
  });

  // Item 1 (proxy side): the browser's upgrade is re-sent with both headers.
  it("proxies WebSockets through wsConnect with both upgrade headers and the token injected", async () => {
    let upstreamFrames: string[] = [];
    let upstreamHeaders: Headers | undefined;
    const s = scenario({
      gateway: (req) => {
        upstreamHeaders = req.headers;
        const pair = new WebSocketPair();
        const gatewaySide = pair[1];
        gatewaySide.accept();
        gatewaySide.addEventListener("message", (event) => {
          upstreamFrames = [...upstreamFrames, String(event.data)];
          gatewaySide.send(`ack:${String(event.data).length}`);
          if (upstreamFrames.length === 2) gatewaySide.close(4100, "gateway done");
        });
        return new Response(null, { status: 101, webSocket: pair[0] });
      },
    });
    await call(sandboxEnv(), request("/warm", { jwt: await jwt() }), s.deps);
    // Only `Upgrade`, as a Worker can receive it: the SDK needs `Connection: upgrade` too.
    const { response } = await call(sandboxEnv(), request("/", { jwt: await jwt(), headers: { upgrade: "websocket", origin: HOST } }), s.deps);
    expect(response.status).toBe(101);
    const probe = new SocketProbe(response.webSocket as WebSocket);
    probe.socket.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: { auth: {} } }));
    expect(await probe.next()).toMatch(/^ack:/);
    probe.socket.send("second");
    expect(await probe.next()).toBe("ack:6");
    expect(await probe.closed).toEqual({ code: 4100, reason: "gateway done" });
    expect((JSON.parse(upstreamFrames[0] ?? "{}") as { params: { auth: { password: string } } }).params.auth.password).toBe(GATEWAY_TOKEN);
    expect(upstreamHeaders?.get("authorization")).toBe(`Bearer ${GATEWAY_TOKEN}`);
    expect(s.calls).toContain("wsConnect");
  });

  // Item 9: control calls start the boot first instead of waiting 90 s for a closed port.
  it("starts the boot before an admin control call on a stopped container", async () => {
    const s = scenario();
    const { response } = await call(sandboxEnv(), request("/api/admin/backup", { jwt: await jwt() }), s.deps);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ backup: { configured: true }, control_error: null });
    expect(s.boot.runs).toHaveLength(1);
  });

  // Item 11: restart picks up the current configuration.
  it("restarts into a new process with the current configuration, after a graceful stop", async () => {
    const s = scenario();
    await call(sandboxEnv(), request("/warm", { jwt: await jwt() }), s.deps);
    const changed = sandboxEnv({ TELEGRAM_DM_ALLOW_FROM: "333" });
    const { response } = await call(changed, request("/api/admin/gateway/restart", { method: "POST", jwt: await jwt(), headers: SAME_ORIGIN }), s.deps);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, restarted: "process", stop: "graceful" });
    expect(s.boot.runs.map((r) => r.env.TELEGRAM_DM_ALLOW_FROM)).toEqual(["111,222", "333"]);
    expect(s.boot.runs[0]?.process.running).toBe(false);
    expect(s.boot.snapshots.map((snap) => snap.trigger)).toEqual(["shutdown"]);
    expect(s.container.live().filter((p) => p.command === BOOT_RUN)).toHaveLength(1);
  });

  // Item 11: backups go on across a gateway-token rotation.
  it("keeps backing up after the gateway token was rotated", async () => {
    const s = scenario();
    await call(sandboxEnv(), request("/warm", { jwt: await jwt() }), s.deps);
    const rotated = sandboxEnv({ MOLTBOT_GATEWAY_TOKEN: "rotated-gateway-token-0d7e" });
    const { response } = await call(rotated, request("/api/admin/backup", { method: "POST", jwt: await accessToken(), headers: SAME_ORIGIN }), s.deps);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, restarted: { stop: "killed" } });
    expect(s.boot.snapshots.map((snap) => snap.trigger)).toEqual(["shutdown"]);
    expect(s.boot.runs.at(-1)?.env.OPENCLAW_GATEWAY_TOKEN).toBe("rotated-gateway-token-0d7e");
    await until(async () => ((await (await call(rotated, request("/api/status", { jwt: await jwt() }), s.deps)).response.json()) as { state: string }).state === "running", "new boot up");
    const again = await call(rotated, request("/api/admin/backup", { method: "POST", jwt: await accessToken(), headers: SAME_ORIGIN }), s.deps);
    expect(await again.response.json()).toMatchObject({ ok: true, reason: "manual" });
  });

  // Item 4 + Also: the lifetime and the timeouts the SDK stores.
  it("turns keepAlive off in the Durable Object when sleepAfter is a duration, and clamps the port timeout", async () => {
    const s = scenario();
    const stub = sandboxNamespace().get(sandboxNamespace().idFromName(s.id));
    const stored = () =>
      runInDurableObject(stub, async (_instance, state: DurableObjectState) => ({
        keepAlive: await state.storage.get<boolean>("keepAliveEnabled"),
        timeouts: await state.storage.get<{ portReadyTimeoutMS: number }>("containerTimeouts"),
      }));
    await call(sandboxEnv({ SANDBOX_SLEEP_AFTER: "never" }), request("/api/status", { jwt: await jwt() }), s.deps);
    await until(async () => (await stored()).keepAlive === true, "keepAlive on");
    await call(sandboxEnv({ SANDBOX_SLEEP_AFTER: "10m", STARTUP_TIMEOUT_MS: "5000" }), request("/api/status", { jwt: await jwt() }), s.deps);
    await until(async () => (await stored()).keepAlive === false, "keepAlive off");
    await until(async () => (await stored()).timeouts?.portReadyTimeoutMS === 10_000, "port timeout clamped to the SDK's minimum");
    expect(sandboxOptions(loadConfig(sandboxEnv({ STARTUP_TIMEOUT_MS: "3600000" }))).containerTimeouts.portReadyTimeoutMS).toBe(600_000);
  });

  // Also: the Durable Object calls one wait makes stay far below the 1000-subrequest limit.
  it("bounds the Durable Object calls of the longest allowed wait far below 1000", () => {
    expect(readinessCallBudget(90_000)).toBeLessThan(40);
    expect(readinessCallBudget(600_000)).toBeLessThan(200);
  });

  it("waits for readiness with a bounded number of Durable Object calls", async () => {
    const s = scenario({ gatewayReadyMs: 6_000 }, { ...DEFAULT_LIMITS, controlPortWaitMs: 5_000 });
    const { response } = await call(sandboxEnv(), request("/api/x", { jwt: await jwt() }), s.deps);
    expect(response.status).toBe(200);
    // Old loop: a probe and a process list every second (2 calls/s, over 1000 in 600 s).
    expect(s.calls.length).toBeLessThanOrEqual(12);
  });

  // Item 5: /debug/logs returns a tail, not everything the SDK kept.
  it("returns only a tail of a process's output", async () => {
    const s = scenario({ banner: "x".repeat(1024 * 1024) + "\nthe end\n" });
    await call(sandboxEnv(), request("/warm", { jwt: await jwt() }), s.deps);
    const id = s.container.list().find((record) => record.command === BOOT_RUN)?.id ?? "";
    const { response } = await call(sandboxEnv({ DEBUG_ROUTES: "true" }), request(`/debug/logs?id=${id}`, { jwt: await jwt() }), s.deps);
    const body = (await response.json()) as { stdout: string };
    expect(body.stdout.length).toBeLessThanOrEqual(64 * 1024);
    expect(body.stdout.endsWith("the end\n")).toBe(true);
    const gateway = await call(sandboxEnv({ DEBUG_ROUTES: "true" }), request("/debug/logs?source=gateway&lines=50", { jwt: await jwt() }), s.deps);
    const text = await gateway.response.text();
    expect(gateway.response.status).toBe(200);
    expect(text).toContain("gateway up");
    expect(secretsIn(text)).toEqual([]);
  });
});

describe("real Sandbox SDK wiring", () => {
  it("exports the project's Sandbox Durable Object class and requires the SANDBOX binding", async () => {
    const entry = await import("../../src/index");
    const sdk = await import("@cloudflare/sandbox");
    expect(typeof entry.Sandbox).toBe("function");
    expect(entry.Sandbox.prototype instanceof sdk.Sandbox).toBe(true);
    expect(() => realSandboxFactory(loadConfig({}))).toThrow(/SANDBOX/);
  });
});
