/** Missing configuration: 503 listing names (never values) everywhere but /sandbox-health. */
import { describe, expect, it } from "vitest";
import { containerEnv, DEFAULT_STARTUP_TIMEOUT_MS, loadConfig, missingConfig, SECRETS, VARS } from "../src/config";
import { accessToken, call, GATEWAY_TOKEN, originEnv, request, sandboxEnv, secretsIn } from "./helpers";

describe("configuration errors", () => {
  it("keep /sandbox-health answering", async () => {
    const { response } = await call({}, request("/sandbox-health"));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  it("answer 503 JSON with the missing names for API calls", async () => {
    const env = { MOLTBOT_GATEWAY_TOKEN: GATEWAY_TOKEN, GATEWAY_ORIGIN: "http://127.0.0.1:1" };
    for (const path of ["/api/status", "/_admin/", "/cdp/json/version", "/anything"]) {
      const { response } = await call(env, request(path, { jwt: await accessToken() }));
      expect(response.status, path).toBe(503);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: "configuration error", missing: ["CF_ACCESS_TEAM_DOMAIN", "CF_ACCESS_AUD"] });
      expect(secretsIn(text)).toEqual([]);
    }
  });

  it("answer an HTML page for browsers", async () => {
    const { response } = await call({ BACKUP_PASSWORD: "backup-password-91d3e2" }, request("/", { browser: true }));
    expect(response.status).toBe(503);
    const html = await response.text();
    expect(html).toContain("<code>MOLTBOT_GATEWAY_TOKEN</code>");
    expect(html).not.toContain("backup-password-91d3e2");
  });

  it("require the container's secrets, an LLM key and the SANDBOX binding for the sandbox backend", () => {
    expect(missingConfig(sandboxEnv())).toEqual([]);
    const missing = missingConfig(sandboxEnv({ BACKUP_PASSWORD: "", ANTHROPIC_API_KEY: undefined, SANDBOX: undefined }));
    expect(missing).toEqual(["BACKUP_PASSWORD", "one of ANTHROPIC_API_KEY, OPENAI_API_KEY", "SANDBOX (Durable Object binding)"]);
    expect(missingConfig(originEnv("cfg"))).toEqual([]);
  });

  it("map every container entry of the catalogue to its container name", () => {
    const env: Record<string, string> = {};
    for (const entry of [...SECRETS, ...VARS]) env[entry.name] = `value-of-${entry.name}`;
    const out = containerEnv(env);
    for (const entry of [...SECRETS, ...VARS]) {
      const target = entry.containerName ?? entry.name;
      if (entry.container) expect(out[target], entry.name).toBe(`value-of-${entry.name}`);
      else expect(out[entry.name], entry.name).toBeUndefined();
    }
    expect(out.TELEGRAM_DM_ALLOW_FROM).toBe("value-of-TELEGRAM_DM_ALLOW_FROM");
  });

  it("are read once per environment into typed values", () => {
    const env = sandboxEnv({ STARTUP_TIMEOUT_MS: "1500", DEBUG_ROUTES: "true", SANDBOX_SLEEP_AFTER: "10m" });
    const config = loadConfig(env);
    expect(loadConfig(env)).toBe(config);
    expect(Object.isFrozen(config)).toBe(true);
    expect(config).toMatchObject({ backend: "sandbox", missing: [], gatewayToken: GATEWAY_TOKEN, startupTimeoutMs: 1500, debugRoutes: true, sleepAfter: "10m" });
    expect(config.secretValues).toContain(GATEWAY_TOKEN);
    expect(config.containerEnv.OPENCLAW_GATEWAY_TOKEN).toBe(GATEWAY_TOKEN);
    expect(config.presence).toContainEqual({ name: "MOLTBOT_GATEWAY_TOKEN", kind: "secret", set: true });
    expect(loadConfig(sandboxEnv())).not.toBe(config);
  });

  it("derive the Access issuer, key set and login origin from the team domain", () => {
    const plain = loadConfig({ CF_ACCESS_TEAM_DOMAIN: "https://team.example.com/", CF_ACCESS_AUD: "aud-1" }).access;
    expect(plain).toEqual({ teamOrigin: "https://team.example.com", aud: "aud-1", jwksUrl: "https://team.example.com/cdn-cgi/access/certs", loginOrigin: "https://team.example.com" });
    const local = loadConfig({ CF_ACCESS_TEAM_DOMAIN: "team.example.com", CF_ACCESS_JWKS_URL: "http://127.0.0.1:9/certs", CF_ACCESS_LOGIN_ORIGIN: "http://127.0.0.1:8/" }).access;
    expect(local).toMatchObject({ teamOrigin: "https://team.example.com", jwksUrl: "http://127.0.0.1:9/certs", loginOrigin: "http://127.0.0.1:8" });
  });

  it("fall back to the defaults for unset or unusable values", () => {
    for (const raw of [undefined, "", "abc", "-5", "0"]) {
      expect(loadConfig(originEnv("cfg", { STARTUP_TIMEOUT_MS: raw })).startupTimeoutMs, String(raw)).toBe(DEFAULT_STARTUP_TIMEOUT_MS);
    }
    const config = loadConfig(originEnv("cfg", { DEBUG_ROUTES: "yes" }));
    expect(config).toMatchObject({ backend: "origin", debugRoutes: false, sleepAfter: "never", cdpSecret: undefined, controlOrigin: undefined });
  });
});
