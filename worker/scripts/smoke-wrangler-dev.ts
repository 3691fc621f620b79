/**
 * Acceptance smoke run: `wrangler dev` on the checked-in wrangler.jsonc with --var GATEWAY_ORIGIN /
 * CF_ACCESS_JWKS_URL pointing at loopback stand-ins (fake gateway + JWKS from test/fixtures), then
 * the route table: health, Access (valid header/cookie, every forged token → 401), HTTP and
 * WebSocket proxy with the token injected, admin devices, /debug 404, and no secret in any output.
 * Run: `npm run smoke` (Node 24 strips the types).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { SignJWT, importJWK, type JWK } from "jose";
import type { WebSocket as WsClient } from "ws";
import { AUD, GATEWAY_TOKEN, TEAM_DOMAIN } from "../test/fixtures/constants.ts";
import { makeAccessKeys, startFakeGateway, startJwksServer } from "../test/fixtures/servers.ts";

const WebSocketClient = createRequire(import.meta.url)("ws") as typeof WsClient;
const workerDir = fileURLToPath(new URL("..", import.meta.url));
const ISSUER = `https://${TEAM_DOMAIN}`;
let failures = 0;

function check(name: string, ok: boolean, detail = ""): void {
  if (!ok) failures += 1;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail && !ok ? ` — ${detail}` : ""}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function sign(jwk: JWK, alg: "RS256" | "ES256", claims: Record<string, unknown>, kid = jwk.kid ?? "rsa-1"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: "ops@example.com", ...claims })
    .setProtectedHeader({ alg, kid })
    .setAudience((claims.aud as string | undefined) ?? AUD)
    .setIssuer((claims.iss as string | undefined) ?? ISSUER)
    .setNotBefore((claims.nbf as number | undefined) ?? now - 10)
    .setExpirationTime((claims.exp as number | undefined) ?? now + 600)
    .sign(await importJWK(jwk, alg));
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function waitForHealth(base: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const response = await fetch(`${base}/sandbox-health`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

interface WsOutcome {
  hello: boolean;
  authorization: string | undefined;
  closeCode: number;
}

function websocketRoundTrip(url: string, jwt: string, origin: string): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocketClient(url, { headers: { "cf-access-jwt-assertion": jwt, origin } });
    const outcome: WsOutcome = { hello: false, authorization: undefined, closeCode: 0 };
    const timer = setTimeout(() => reject(new Error("websocket round trip timed out")), 20_000);
    socket.on("message", (raw: Buffer) => {
      const frame = JSON.parse(raw.toString("utf8")) as { type: string; event?: string; id?: string; ok?: boolean; payload?: { headers?: Record<string, string> } };
      if (frame.event === "connect.challenge") {
        socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { role: "operator", scopes: [], client: { id: "openclaw-control-ui", mode: "webchat" } } }));
      } else if (frame.id === "c1") {
        outcome.hello = frame.ok === true;
        socket.send(JSON.stringify({ type: "req", id: "h1", method: "debug.upgradeHeaders" }));
      } else if (frame.id === "h1") {
        outcome.authorization = frame.payload?.headers?.authorization;
        socket.send("close:4001:bye");
      }
    });
    socket.on("close", (code: number) => {
      clearTimeout(timer);
      outcome.closeCode = code;
      resolve(outcome);
    });
    socket.on("error", (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function main(): Promise<void> {
  const keys = await makeAccessKeys();
  const jwks = await startJwksServer(keys);
  const gateway = await startFakeGateway(GATEWAY_TOKEN);
  const port = await freePort();
  const inspectorPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--log-level", "log",
    "--var", `GATEWAY_ORIGIN:${gateway.origin}/g/smoke`,
    "--var", `CF_ACCESS_JWKS_URL:${jwks.url}`,
    "--var", `CF_ACCESS_TEAM_DOMAIN:${TEAM_DOMAIN}`,
    "--var", `CF_ACCESS_AUD:${AUD}`,
    "--var", `MOLTBOT_GATEWAY_TOKEN:${GATEWAY_TOKEN}`,
  ];
  const output: string[] = [];
  const child = spawn(process.execPath, [fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url)), ...args], {
    cwd: workerDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const tokens: string[] = [];
  try {
    const up = await waitForHealth(base, child);
    check("wrangler dev serves /sandbox-health", up, output.join("").slice(-2000));
    if (!up) return;

    const valid = await sign(keys.rsa, "RS256", {});
    const validEc = await sign(keys.ec, "ES256", {});
    tokens.push(valid, validEc);
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: "manual" });

    const status = await get("/api/status", { "cf-access-jwt-assertion": valid });
    check("GET /api/status with a valid header JWT → 200 running", status.status === 200 && ((await status.json()) as { state: string }).state === "running");

    const viaCookie = await get("/some/path?q=1", { cookie: `CF_Authorization=${validEc}` });
    const echoed = (await viaCookie.json()) as { path: string; headers: Record<string, string> };
    check("cookie JWT → proxied to the origin with the gateway token", viaCookie.status === 200 && echoed.path === "/some/path" && echoed.headers.authorization === `Bearer ${GATEWAY_TOKEN}` && echoed.headers.cookie === undefined);

    const now = Math.floor(Date.now() / 1000);
    const forged: Record<string, string> = {
      expired: await sign(keys.rsa, "RS256", { exp: now - 120, nbf: now - 600 }),
      "nbf in the future": await sign(keys.rsa, "RS256", { nbf: now + 3600, exp: now + 7200 }),
      "wrong aud": await sign(keys.rsa, "RS256", { aud: "other" }),
      "wrong iss": await sign(keys.rsa, "RS256", { iss: "https://evil.example" }),
      "wrong key": await sign(keys.rogue, "RS256", {}),
      "unknown kid": await sign(keys.rogue, "RS256", {}, "nobody"),
      "alg none": `${b64({ alg: "none" })}.${b64({ aud: AUD, iss: ISSUER, exp: now + 600 })}.`,
      "HS256 with the public key": await new SignJWT({ aud: AUD, iss: ISSUER, exp: now + 600 })
        .setProtectedHeader({ alg: "HS256", kid: "rsa-1" })
        .sign(new TextEncoder().encode(JSON.stringify(keys.rsaPublic))),
      malformed: "a.b.c",
    };
    for (const [name, token] of Object.entries(forged)) {
      tokens.push(token);
      const header = await get("/api/status", { "cf-access-jwt-assertion": token });
      const cookie = await get("/api/status", { cookie: `CF_Authorization=${token}` });
      check(`forged token (${name}) → 401 via header and cookie`, header.status === 401 && cookie.status === 401, `${header.status}/${cookie.status}`);
    }
    check("no token → 401 for API calls", (await get("/api/status")).status === 401);
    const login = await get("/", { accept: "text/html" });
    check("no token → 302 to the Access login for browsers", login.status === 302 && (login.headers.get("location") ?? "").startsWith(`${ISSUER}/cdn-cgi/access/login/`));
    check("/debug/env → 404 without DEBUG_ROUTES", (await get("/debug/env", { "cf-access-jwt-assertion": valid })).status === 404);

    const devices = await get("/api/admin/devices", { "cf-access-jwt-assertion": valid });
    check("GET /api/admin/devices over the gateway RPC → 200", devices.status === 200, await devices.clone().text());
    const admin = await get("/_admin/", { "cf-access-jwt-assertion": valid, accept: "text/html" });
    check("GET /_admin/ → 200", admin.status === 200);

    const ws = await websocketRoundTrip(`ws://127.0.0.1:${port}/`, valid, base);
    check("WebSocket: connect accepted with the injected token", ws.hello);
    check("WebSocket: upgrade carries the gateway bearer token", ws.authorization === `Bearer ${GATEWAY_TOKEN}`);
    check("WebSocket: gateway close code 4001 reaches the client", ws.closeCode === 4001, String(ws.closeCode));
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    await gateway.close();
    await jwks.close();
  }
  const logText = output.join("");
  if (process.env.SMOKE_SHOW_LOG === "1") console.log(logText);
  check("wrangler logged the requests (the leak check saw real output)", logText.includes("\"message\":\"request\""));
  const leaked = [GATEWAY_TOKEN, ...tokens].filter((secret) => logText.includes(secret));
  check("no secret value in any wrangler log line", leaked.length === 0, `${leaked.length} leaked`);
}

main()
  .catch((error: unknown) => {
    failures += 1;
    console.error(error);
  })
  .finally(() => {
    console.log(failures === 0 ? "smoke: all checks passed" : `smoke: ${failures} check(s) failed`);
    process.exit(failures === 0 ? 0 : 1);
  });
