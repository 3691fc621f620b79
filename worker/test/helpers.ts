/** Test helpers that run inside workerd: environments, Access tokens, app calls, sockets. The Sandbox double is in ./sandbox-double/. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import "./provided";
import { SignJWT, importJWK, type JWK } from "jose";
import { createApp } from "../src/app";
import type { Env } from "../src/config";
import type { Deps } from "../src/context";
import { AUD, GATEWAY_TOKEN, SECRET_VALUES, TEAM_DOMAIN } from "./fixtures/constants";
import { sandboxNamespace } from "./sandbox-double";

export { AUD, GATEWAY_TOKEN, SECRET_VALUES, TEAM_DOMAIN };
export const ISSUER = `https://${TEAM_DOMAIN}`;
export const HOST = "https://claw.example.com";
/** What a browser sends on the admin page's own POSTs (auth/same-origin.ts checks it). */
export const SAME_ORIGIN = { "sec-fetch-site": "same-origin" } as const;

/** Access + token configuration for the origin backend, pointing at the fake gateway. */
export function originEnv(scenario: string, overrides: Record<string, unknown> = {}): Env {
  const origin = inject("gatewayOrigin");
  return {
    CF_ACCESS_TEAM_DOMAIN: TEAM_DOMAIN,
    CF_ACCESS_AUD: AUD,
    CF_ACCESS_JWKS_URL: inject("jwksUrl"),
    MOLTBOT_GATEWAY_TOKEN: GATEWAY_TOKEN,
    GATEWAY_ORIGIN: `${origin}/g/${scenario}`,
    ...overrides,
  };
}

/** Everything the sandbox backend requires; SANDBOX is the real Durable Object binding (whose container is faked). */
export function sandboxEnv(overrides: Record<string, unknown> = {}): Env {
  return {
    CF_ACCESS_TEAM_DOMAIN: TEAM_DOMAIN,
    CF_ACCESS_AUD: AUD,
    CF_ACCESS_JWKS_URL: inject("jwksUrl"),
    MOLTBOT_GATEWAY_TOKEN: GATEWAY_TOKEN,
    ...SECRET_VALUES,
    R2_BUCKET_NAME: "bucket-test",
    TELEGRAM_DM_ALLOW_FROM: "111,222",
    SANDBOX: sandboxNamespace(),
    ...overrides,
  };
}

export interface TokenOptions {
  key?: "rsa" | "ec" | "rogue";
  kid?: string;
  aud?: string;
  iss?: string;
  exp?: number;
  nbf?: number;
  email?: string;
  /** A service-token login (`common_name` = client id, no email, empty subject), as Access issues. */
  serviceToken?: string;
}

export async function accessToken(options: TokenOptions = {}): Promise<string> {
  const keys = inject("accessKeys");
  const which = options.key ?? "rsa";
  const jwk: JWK = keys[which];
  const alg = which === "ec" ? "ES256" : "RS256";
  const now = Math.floor(Date.now() / 1000);
  const key = await importJWK(jwk, alg);
  const claims = options.serviceToken === undefined ? { email: options.email ?? "ops@example.com", type: "app" } : { common_name: options.serviceToken, type: "app" };
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid: options.kid ?? jwk.kid ?? "rsa-1" })
    .setAudience([options.aud ?? AUD])
    .setIssuer(options.iss ?? ISSUER)
    .setIssuedAt(now)
    .setNotBefore(options.nbf ?? now - 10)
    .setExpirationTime(options.exp ?? now + 600)
    .setSubject(options.serviceToken === undefined ? "user-1" : "")
    .sign(key);
}

export interface Called {
  response: Response;
  logs: string[];
}

export async function call(env: Env, request: Request, deps: Deps = {}): Promise<Called> {
  const logs: string[] = [];
  const app = createApp({ ...deps, logSink: (line) => logs.push(line) });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return { response, logs };
}

/** Like call(), but hands the response over at once, as the runtime does; `settled` is the waitUntil work. */
export async function callOpen(env: Env, request: Request, deps: Deps = {}): Promise<Called & { settled: Promise<void> }> {
  const logs: string[] = [];
  const app = createApp({ ...deps, logSink: (line) => logs.push(line) });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, env, ctx);
  return { response, logs, settled: waitOnExecutionContext(ctx) };
}

export function request(path: string, init: RequestInit & { jwt?: string; cookieJwt?: string; browser?: boolean } = {}): Request {
  const headers = new Headers(init.headers);
  if (init.jwt) headers.set("cf-access-jwt-assertion", init.jwt);
  if (init.cookieJwt) headers.set("cookie", `theme=dark; CF_Authorization=${init.cookieJwt}`);
  if (init.browser) headers.set("accept", "text/html,application/xhtml+xml");
  const { jwt: _jwt, cookieJwt: _cookie, browser: _browser, ...rest } = init;
  return new Request(`${HOST}${path}`, { ...rest, headers });
}

/** Collects messages of an accepted WebSocket and lets tests await them in order. */
export class SocketProbe {
  private messages: string[] = [];
  private waiting: ((message: string) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly socket: WebSocket) {
    socket.accept();
    socket.addEventListener("message", (event) => {
      const raw: string | ArrayBuffer = event.data as string | ArrayBuffer;
      const data = typeof raw === "string" ? raw : new TextDecoder().decode(raw);
      const waiter = this.waiting.shift();
      if (waiter) waiter(data);
      else this.messages.push(data);
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
    });
  }

  next(): Promise<string> {
    const message = this.messages.shift();
    if (message !== undefined) return Promise.resolve(message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message within 5 s")), 5_000);
      this.waiting.push((data) => {
        clearTimeout(timer);
        resolve(data);
      });
    });
  }

  async nextJson(): Promise<Record<string, unknown>> {
    return JSON.parse(await this.next()) as Record<string, unknown>;
  }
}

/** Asserts a text contains none of the given secret values. */
export function secretsIn(text: string, values: readonly string[] = [GATEWAY_TOKEN, ...Object.values(SECRET_VALUES)]): string[] {
  return values.filter((value) => text.includes(value));
}
