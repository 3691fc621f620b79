/** /debug/* exists only with DEBUG_ROUTES=true, shows names not values, has no exec route. */
import { describe, expect, it } from "vitest";
import { BOOT_RUN } from "../../src/backend/sandbox";
import { accessToken, call, GATEWAY_TOKEN, originEnv, request, sandboxEnv, secretsIn } from "../helpers";
import { scenario } from "../sandbox-double";

describe("debug routes", () => {
  it("are 404 unless DEBUG_ROUTES=true", async () => {
    const jwt = await accessToken();
    for (const value of [undefined, "false", "1", "TRUE"]) {
      const env = originEnv("debug", value === undefined ? {} : { DEBUG_ROUTES: value });
      for (const path of ["/debug/env", "/debug/version", "/debug/processes"]) {
        const { response } = await call(env, request(path, { jwt }));
        expect(response.status, `${path} with ${String(value)}`).toBe(404);
      }
    }
  });

  it("check the logs query before asking the backend", async () => {
    const s = scenario();
    const env = sandboxEnv({ DEBUG_ROUTES: "true" });
    const jwt = await accessToken();
    const cases = [
      ["/debug/logs?source=other", "source must be gateway or boot"],
      ["/debug/logs", "query parameter id=<process id> or source=gateway|boot is required"],
      ["/debug/logs?id=..%2Fetc%2Fpasswd", "query parameter id=<process id> or source=gateway|boot is required"],
    ] as const;
    for (const [path, error] of cases) {
      const { response } = await call(env, request(path, { jwt }), s.deps);
      expect(response.status, path).toBe(400);
      expect(await response.json(), path).toEqual({ error });
    }
    expect(s.container.requests).toEqual([]);
  });

  it("show which names are set, never values", async () => {
    const s = scenario();
    const { response } = await call(sandboxEnv({ DEBUG_ROUTES: "true" }), request("/debug/env", { jwt: await accessToken() }), s.deps);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(secretsIn(text)).toEqual([]);
    const body = JSON.parse(text) as { entries: { name: string; set: boolean }[] };
    expect(body.entries).toContainEqual({ name: "MOLTBOT_GATEWAY_TOKEN", kind: "secret", set: true });
    expect(body.entries).toContainEqual({ name: "DISCORD_BOT_TOKEN", kind: "secret", set: false });
  });

  it("list processes and redact logs and config", async () => {
    const s = scenario({
      banner: `gateway up, token=${GATEWAY_TOKEN}\n`,
      config: { gateway: { auth: { mode: "token", token: "test-gateway-token-6f1c2a9e" }, port: 18789 }, channels: { telegram: { botToken: "123456:telegram-test-token", dmPolicy: "pairing" } } },
    });
    const env = sandboxEnv({ DEBUG_ROUTES: "true" });
    const jwt = await accessToken();
    const before = await call(env, request("/debug/processes", { jwt }), s.deps);
    expect(await before.response.json()).toEqual({ processes: [] }); // a stopped container is not started for a listing
    expect(s.container.starts).toBe(0);
    await call(env, request("/warm", { jwt }), s.deps);
    const processes = await call(env, request("/debug/processes", { jwt }), s.deps);
    const listed = (await processes.response.json()) as { processes: { id: string; command: string }[] };
    expect(listed.processes).toMatchObject([{ command: BOOT_RUN, status: "running" }]);
    const logs = await (await call(env, request(`/debug/logs?id=${listed.processes[0]?.id ?? ""}`, { jwt }), s.deps)).response.text();
    expect(logs).toContain("gateway up");
    expect(secretsIn(logs)).toEqual([]);
    const config = await (await call(env, request("/debug/container-config", { jwt }), s.deps)).response.text();
    expect(secretsIn(config)).toEqual([]);
    expect(JSON.parse(config)).toMatchObject({ gateway: { port: 18789, auth: { mode: "token" } }, channels: { telegram: { dmPolicy: "pairing" } } });
  });

  it("have no command execution route", async () => {
    const s = scenario();
    const { response } = await call(sandboxEnv({ DEBUG_ROUTES: "true" }), request("/debug/cli?cmd=id", { jwt: await accessToken() }), s.deps);
    expect(s.container.requests.filter((line) => line.includes("/api/execute"))).toEqual([]);
    expect(response.status).not.toBe(200);
  });
});
