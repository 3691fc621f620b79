/** Cloudflare Access JWT verification against a JWKS served by a real local HTTP server. */
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { SignJWT } from "jose";
import { accessToken, AUD, call, ISSUER, originEnv, request, secretsIn } from "./helpers";

const env = originEnv("access");
const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const now = () => Math.floor(Date.now() / 1000);
const claims = () => ({ aud: [AUD], iss: ISSUER, sub: "user-1", exp: now() + 600, nbf: now() - 10, iat: now() });

async function status(jwt: string | undefined, via: "header" | "cookie" = "header") {
  const req = request("/api/status", via === "header" ? { jwt } : { cookieJwt: jwt });
  const { response, logs } = await call(env, req);
  return { status: response.status, body: await response.text(), logs };
}

describe("Access", () => {
  it("accepts a valid RS256 token in the header", async () => {
    const result = await status(await accessToken());
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ state: "running", backend: "origin" });
  });

  it("accepts a valid ES256 token in the CF_Authorization cookie", async () => {
    expect((await status(await accessToken({ key: "ec" }), "cookie")).status).toBe(200);
  });

  it("accepts a service-token login (no email), as the latency probe's token gets", async () => {
    const result = await status(await accessToken({ serviceToken: "0123456789abcdef.access" }));
    expect(result.status).toBe(200);
  });

  const forged: [string, () => Promise<string>][] = [
    ["expired", () => accessToken({ exp: now() - 120, nbf: now() - 600 })],
    ["not yet valid (nbf in the future)", () => accessToken({ nbf: now() + 3600, exp: now() + 7200 })],
    ["wrong audience", () => accessToken({ aud: "someone-else" })],
    ["wrong issuer", () => accessToken({ iss: "https://evil.cloudflareaccess.com" })],
    ["signed by a key not in the JWKS (same kid)", () => accessToken({ key: "rogue" })],
    ["unknown kid", () => accessToken({ key: "rogue", kid: "nobody" })],
    ["alg none", async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`],
    [
      "HS256 signed with the public key",
      async () => {
        const publicJwk = inject("accessKeys").rsaPublic;
        const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
        return new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).sign(secret);
      },
    ],
    ["malformed", async () => "not.a.jwt"],
    ["garbage", async () => "%%%"],
  ];

  for (const [name, make] of forged) {
    it(`rejects ${name} (header) with 401`, async () => {
      const token = await make();
      const result = await status(token);
      expect(result.status).toBe(401);
      expect(result.body).not.toContain(token);
      expect(result.logs.join("\n")).not.toContain(token);
    });
    it(`rejects ${name} (cookie) with 401`, async () => {
      expect((await status(await make(), "cookie")).status).toBe(401);
    });
  }

  it("answers 401 JSON without a token for API calls", async () => {
    const { response } = await call(env, request("/api/status"));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "unauthorized" });
  });

  it("redirects browser navigations without a token to the Access login", async () => {
    const { response } = await call(env, request("/some/page?x=1", { browser: true }));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.origin).toBe(ISSUER);
    expect(location.pathname).toBe("/cdn-cgi/access/login/claw.example.com");
    expect(location.searchParams.get("kid")).toBe(AUD);
    expect(location.searchParams.get("redirect_url")).toBe("/some/page?x=1");
  });

  it("sends the login to CF_ACCESS_LOGIN_ORIGIN when set, issuer unchanged", async () => {
    const local = { ...env, CF_ACCESS_LOGIN_ORIGIN: "http://127.0.0.1:8790/" };
    const { response } = await call(local, request("/", { browser: true }));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.origin).toBe("http://127.0.0.1:8790");
    expect(location.pathname).toBe("/cdn-cgi/access/login/claw.example.com");
    const good = await accessToken();
    expect((await call(local, request("/api/status", { jwt: good }))).response.status).not.toBe(401);
  });

  it("prefers the header over the cookie", async () => {
    const good = await accessToken();
    const { response } = await call(env, request("/api/status", { jwt: "bad.token.here", cookieJwt: good }));
    expect(response.status).toBe(401);
  });

  it("protects admin and debug routes too", async () => {
    for (const path of ["/_admin/", "/api/admin/devices", "/debug/env", "/anything"]) {
      const { response } = await call(originEnv("access", { DEBUG_ROUTES: "true" }), request(path));
      expect(response.status, path).toBe(401);
    }
  });

  it("never logs the Access token", async () => {
    const token = await accessToken();
    const result = await status(token);
    expect(secretsIn(result.logs.join("\n"), [token])).toEqual([]);
  });
});
