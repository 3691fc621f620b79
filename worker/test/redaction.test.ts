/** Log redaction of tokens, secrets, keys and passwords in URLs, headers and bodies. */
import { describe, expect, it } from "vitest";
import { createLogger, redactHeaders, redactText, redactValue } from "../src/lib/log";
import { BOOT_RUN } from "../src/backend/sandbox";
import { accessToken, call, GATEWAY_TOKEN, request, sandboxEnv, SECRET_VALUES, secretsIn } from "./helpers";
import { scenario } from "./sandbox-double";

describe("redaction", () => {
  it("removes sensitive URL parameters", () => {
    const out = redactText("https://h/x?token=abc123&page=2&secret=s3&api_key=k&password=p#frag");
    expect(out).toBe("https://h/x?token=[REDACTED]&page=2&secret=[REDACTED]&api_key=[REDACTED]&password=[REDACTED]#frag");
  });

  it("removes sensitive headers", () => {
    const headers = new Headers({ authorization: "Bearer abc", cookie: "CF_Authorization=x", "x-api-key": "k", "cf-access-jwt-assertion": "j", accept: "text/html" });
    expect(redactHeaders(headers)).toEqual({
      authorization: "[REDACTED]", cookie: "[REDACTED]", "x-api-key": "[REDACTED]", "cf-access-jwt-assertion": "[REDACTED]", accept: "text/html",
    });
  });

  it("removes sensitive fields in JSON bodies and free text", () => {
    expect(redactText('{"botToken":"123:abc","name":"bot","password":"hunter2"}')).toBe('{"botToken":"[REDACTED]","name":"bot","password":"[REDACTED]"}');
    expect(redactText("Authorization: Bearer eyJhbGciOi.x.y done")).toBe("Authorization: Bearer [REDACTED] done");
    expect(redactText("OPENAI_API_KEY=sk-123 other=1")).toBe("OPENAI_API_KEY=[REDACTED] other=1");
    expect(redactValue({ nested: { apiKey: "k", list: [{ secret: "s" }], count: 3 } })).toEqual({ nested: { apiKey: "[REDACTED]", list: [{ secret: "[REDACTED]" }], count: 3 } });
  });

  it("removes every configured secret value wherever it appears", () => {
    const lines: string[] = [];
    const log = createLogger(sandboxEnv(), (line) => lines.push(line));
    log.info(`failure talking to gateway with ${GATEWAY_TOKEN}`, { detail: `r2 ${SECRET_VALUES.R2_SECRET_ACCESS_KEY}`, harmless: SECRET_VALUES.TELEGRAM_BOT_TOKEN });
    expect(lines).toHaveLength(1);
    expect(secretsIn(lines[0] ?? "")).toEqual([]);
    expect(lines[0]).toContain("failure talking to gateway");
  });
});

describe("no secret value in any response or log line", () => {
  it("holds across the route table with every secret set and debug routes on", async () => {
    const s = scenario({
      banner: `gateway up, token=${GATEWAY_TOKEN}\nAuthorization: Bearer ${GATEWAY_TOKEN}\n`,
      config: { gateway: { auth: { mode: "token", token: GATEWAY_TOKEN } }, channels: { telegram: { botToken: SECRET_VALUES.TELEGRAM_BOT_TOKEN } } },
    });
    await call(sandboxEnv(), request("/warm", { jwt: await accessToken() }), s.deps);
    const id = s.container.list().find((record) => record.command === BOOT_RUN)?.id ?? "none";
    const cdpBrowser = { fetch: async () => Response.json({ sessionId: "s" }) } as unknown as Fetcher;
    const env = sandboxEnv({ DEBUG_ROUTES: "true", BROWSER: cdpBrowser });
    const jwt = await accessToken();
    const paths = ["/sandbox-health", "/api/status", "/_admin/", "/api/admin/backup", "/api/admin/snapshots", "/debug/version", "/debug/env", "/debug/processes", `/debug/logs?id=${id}`, "/debug/logs?source=gateway", "/debug/container-config"];
    const seen: string[] = [];
    for (const path of paths) {
      const { response, logs } = await call(env, request(path, { jwt, headers: { "cf-connecting-ip": "203.0.113.1" } }), s.deps);
      const headers = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join("\n");
      seen.push(path, headers, await response.text(), ...logs);
    }
    // Proxied gateway answers are not included: the double echoes request headers on purpose.
    const cdp = await call(env, request("/cdp/json/version", { headers: { "x-cdp-secret": SECRET_VALUES.CDP_SECRET } }), s.deps);
    seen.push(await cdp.response.text(), ...cdp.logs);
    expect(cdp.response.status).toBe(200);
    expect(secretsIn(seen.join("\n"), [GATEWAY_TOKEN, ...Object.values(SECRET_VALUES), jwt])).toEqual([]);
  });
});
