/** Admin API and page (routes/admin.ts): device pairing over the gateway RPC (both backends), backups, restore, the tool self-test. */
import { describe, expect, it } from "vitest";
import { env as bindings } from "cloudflare:workers";
import { deriveDeviceIdentity } from "../../src/gateway/device";
import { inject } from "vitest";
import { accessToken, call, GATEWAY_TOKEN, originEnv, request, SAME_ORIGIN, sandboxEnv, SECRET_VALUES, secretsIn } from "../helpers";
import { BOOT_RUN } from "../../src/backend/boot-command";
import { forwardTo, scenario } from "../sandbox-double";

// What the admin page's own fetch calls carry (a browser adds Sec-Fetch-Site itself).
const PAGE = { "sec-fetch-site": "same-origin", "content-type": "application/json" };
const withControl = (scenario: string) => originEnv(scenario, { CONTROL_ORIGIN: `${originEnv(scenario).GATEWAY_ORIGIN as string}/control` });

describe("admin page", () => {
  it("serves the page behind Access", async () => {
    const { response } = await call(originEnv("admin"), request("/_admin/", { jwt: await accessToken(), browser: true }));
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("/api/admin/devices");
    expect(html).toContain("Back up now");
    expect(html).toContain('id="recovery-point"');
    expect(secretsIn(html)).toEqual([]);
  });
});

describe("devices over the gateway RPC (origin backend)", () => {
  it("lists and approves pending devices with a signed Worker device", async () => {
    const env = originEnv("devices-a");
    const jwt = await accessToken();
    const listed = await call(env, request("/api/admin/devices", { jwt }));
    expect(listed.response.status).toBe(200);
    const list = (await listed.response.json()) as { pending: { requestId: string }[]; paired: { deviceId: string }[] };
    expect(list.pending.map((p) => p.requestId)).toEqual(["req-browser-1"]);
    const own = await deriveDeviceIdentity(GATEWAY_TOKEN);
    expect(list.paired.map((p) => p.deviceId)).toContain(own.deviceId);

    const approved = await call(env, request("/api/admin/devices/req-browser-1/approve", { method: "POST", headers: PAGE, jwt }));
    expect(approved.response.status).toBe(200);
    const after = (await (await call(env, request("/api/admin/devices", { jwt }))).response.json()) as { pending: unknown[] };
    expect(after.pending).toEqual([]);
    expect(secretsIn(approved.logs.join("\n"))).toEqual([]);
  });

  it("approves all pending devices", async () => {
    const { response } = await call(originEnv("devices-b"), request("/api/admin/devices/approve-all", { method: "POST", headers: PAGE, jwt: await accessToken() }));
    expect(await response.json()).toMatchObject({ ok: true, approved: 1 });
  });

  it("explains the one-time approval of the Worker's device when the gateway is remote", async () => {
    const { response } = await call(originEnv("unpaired-1"), request("/api/admin/devices", { jwt: await accessToken() }));
    expect(response.status).toBe(409);
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(/openclaw devices approve req-/);
  });

  it("retries while the gateway is still starting its sidecars", async () => {
    const { response } = await call(originEnv("starting-1"), request("/api/admin/devices", { jwt: await accessToken() }));
    expect(response.status).toBe(200);
  });

  it("rejects malformed request ids", async () => {
    const { response } = await call(originEnv("devices-c"), request("/api/admin/devices/..%2Fx/approve", { method: "POST", headers: PAGE, jwt: await accessToken() }));
    expect(response.status).toBe(400);
  });
});

/** A gateway that refuses the Worker's device with PAIRING_REQUIRED until `approved()` says yes. */
function unpairedGateway(approved: () => boolean): () => Response {
  return () => {
    const pair = new WebSocketPair();
    const gateway = pair[1];
    gateway.accept();
    gateway.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n1", ts: 1700000000000 } }));
    gateway.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { id: string; method: string; params: { device?: { id: string } } };
      if (frame.method === "connect") {
        if (!approved()) {
          gateway.send(JSON.stringify({ type: "res", id: frame.id, ok: false, error: { code: "NOT_PAIRED", message: "pairing required", details: { code: "PAIRING_REQUIRED", requestId: "req-worker", deviceId: frame.params.device?.id } } }));
          gateway.close(1008, "pairing required");
          return;
        }
        gateway.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: { type: "hello-ok" } }));
      } else if (frame.method === "device.pair.list") {
        gateway.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: { pending: [], paired: [] } }));
      }
    });
    return new Response(null, { status: 101, webSocket: pair[0] });
  };
}

describe("devices over the gateway RPC (sandbox backend)", () => {
  // Item 1: the RPC's upgrade reaches the gateway only with both upgrade headers.
  it("lists and approves devices through wsConnect, against the protocol-4 gateway", async () => {
    const s = scenario({ gateway: forwardTo(`${inject("gatewayOrigin")}/g/devices-sandbox`) });
    const jwt = await accessToken();
    const listed = await call(sandboxEnv(), request("/api/admin/devices", { jwt }), s.deps);
    expect(listed.response.status).toBe(200);
    expect(((await listed.response.json()) as { pending: { requestId: string }[] }).pending.map((p) => p.requestId)).toEqual(["req-browser-1"]);
    const approved = await call(sandboxEnv(), request("/api/admin/devices/req-browser-1/approve", { method: "POST", jwt, headers: SAME_ORIGIN }), s.deps);
    expect(approved.response.status).toBe(200);
    expect(s.calls.filter((name) => name === "wsConnect")).toHaveLength(2);
  });

  it("self-approves the Worker's device inside the container, then retries", async () => {
    let approved = false;
    const s = scenario({
      approve: () => {
        approved = true;
        return { ok: true };
      },
      gateway: unpairedGateway(() => approved),
    });
    const { response } = await call(sandboxEnv(), request("/api/admin/devices", { jwt: await accessToken() }), s.deps);
    expect(response.status).toBe(200);
    // Through the boot code's control API (container/openclaw_boot/devices.py), not an exec.
    const approvals = s.boot.controlRequests.filter((entry) => entry.path === "/devices/approve");
    expect(approvals).toEqual([{ path: "/devices/approve", authorization: `Bearer ${GATEWAY_TOKEN}`, forwardedFor: null, body: { request_id: "req-worker" } }]);
    expect(s.calls).not.toContain("createSession");
    expect(s.container.processesStarted.map((process) => process.command)).toEqual([BOOT_RUN]);
    expect(s.calls.filter((name) => name === "wsConnect")).toHaveLength(2);
  });

  it("answers 409 with the boot code's reason when the self-approval is refused", async () => {
    const s = scenario({
      approve: () => ({ ok: false, error: "unknown requestId" }),
      gateway: unpairedGateway(() => false),
    });
    const { response } = await call(sandboxEnv(), request("/api/admin/devices", { jwt: await accessToken() }), s.deps);
    expect(response.status).toBe(409);
    const body = (await response.json()) as { code: string; error: string };
    expect(body.code).toBe("PAIRING_REQUIRED");
    expect(body.error).toBe("self-approval failed: gateway refused device.pair.approve: unknown requestId");
    expect(s.calls.filter((name) => name === "wsConnect")).toHaveLength(1);
  });
});

describe("backups through the control API", () => {
  it("reports backup status from the control API and from R2", async () => {
    await bindings.BACKUP_BUCKET?.put("openclaw-edge/snapshots/aaa", "x".repeat(10));
    await bindings.BACKUP_BUCKET?.put("openclaw-edge/data/bb", "y".repeat(100));
    const env = { ...withControl("backup-a"), BACKUP_BUCKET: bindings.BACKUP_BUCKET };
    const { response } = await call(env, request("/api/admin/backup", { jwt: await accessToken() }));
    const body = (await response.json()) as { backup: { repository_size: number }; bucket: { snapshot_count: number; repository_size: number } };
    expect(body.backup.repository_size).toBe(1234);
    expect(body.bucket).toMatchObject({ snapshot_count: 1, repository_size: 110 });
  });

  it("backs up, lists snapshots, restores and restarts", async () => {
    const env = withControl("backup-b");
    const jwt = await accessToken();
    const backup = await call(env, request("/api/admin/backup", { method: "POST", headers: PAGE, jwt }));
    expect(await backup.response.json()).toMatchObject({ ok: true, snapshot_id: "snap1" });
    const list = await call(env, request("/api/admin/snapshots", { jwt }));
    expect(await list.response.json()).toMatchObject({ snapshots: [{ short_id: "abcdef01" }] });
    const restore = await call(env, request("/api/admin/restore", { method: "POST", headers: PAGE, jwt, body: JSON.stringify({ snapshot_id: "abcdef0123" }) }));
    expect(await restore.response.json()).toMatchObject({ ok: true, snapshot_id: "abcdef0123" });
    const bad = await call(env, request("/api/admin/restore", { method: "POST", headers: PAGE, jwt, body: JSON.stringify({ snapshot_id: "../../etc" }) }));
    expect(bad.response.status).toBe(400);
    expect(await bad.response.json()).toMatchObject({ ok: false, error: 'snapshot_id is neither "latest" nor a snapshot id (8 to 64 lower-case hex characters)', help: expect.stringContaining("GET /api/admin/snapshots") as unknown });
    for (const [body, error] of [["{not json", "the body is not JSON"], ["[]", "the body is not a JSON object"], ["{}", "snapshot_id is missing or not a string"]] as const) {
      const refused = await call(env, request("/api/admin/restore", { method: "POST", headers: PAGE, jwt, body }));
      expect(refused.response.status, body).toBe(400);
      expect(await refused.response.json(), body).toMatchObject({ ok: false, error });
    }
    const restart = await call(env, request("/api/admin/gateway/restart", { method: "POST", headers: PAGE, jwt }));
    expect(await restart.response.json()).toEqual({ ok: true });
  });

  it("answers 501 with an explanation when the origin backend has no CONTROL_ORIGIN", async () => {
    const { response } = await call(originEnv("backup-c"), request("/api/admin/backup", { method: "POST", headers: PAGE, jwt: await accessToken() }));
    expect(response.status).toBe(501);
    expect(((await response.json()) as { error: string }).error).toContain("CONTROL_ORIGIN");
  });
});

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
