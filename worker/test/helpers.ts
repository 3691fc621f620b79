/** Test helpers that run inside workerd: environments, Access tokens, app calls, sockets, a Sandbox double. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import "./provided";
import { SignJWT, importJWK, type JWK } from "jose";
import { createApp } from "../src/app";
import type { Env } from "../src/config";
import type { Deps } from "../src/context";
import type { ExecOutcome, SandboxLike, SandboxProcess } from "../src/backend/sandbox";
import { AUD, GATEWAY_TOKEN, SECRET_VALUES, TEAM_DOMAIN } from "./fixtures/constants";

export { AUD, GATEWAY_TOKEN, SECRET_VALUES, TEAM_DOMAIN };
export const ISSUER = `https://${TEAM_DOMAIN}`;
export const HOST = "https://claw.example.com";

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

/** Everything the sandbox backend requires, plus a SANDBOX stand-in (the factory is replaced anyway). */
export function sandboxEnv(overrides: Record<string, unknown> = {}): Env {
  return {
    CF_ACCESS_TEAM_DOMAIN: TEAM_DOMAIN,
    CF_ACCESS_AUD: AUD,
    CF_ACCESS_JWKS_URL: inject("jwksUrl"),
    MOLTBOT_GATEWAY_TOKEN: GATEWAY_TOKEN,
    ...SECRET_VALUES,
    R2_BUCKET_NAME: "bucket-test",
    TELEGRAM_DM_ALLOW_FROM: "111,222",
    // Never used: tests replace the factory; the sandbox backend only checks the binding exists.
    SANDBOX: {} as unknown as Env["SANDBOX"],
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

export interface Recorded {
  method: string;
  args: unknown[];
}

/** A Sandbox SDK double that records every call; behaviour is set per test. */
export class FakeSandbox implements SandboxLike {
  calls: Recorded[] = [];
  processes: SandboxProcess[] = [];
  ready = true;
  controlUp = true;
  readyAfterProbes = 0;
  controlRequests: { method: string; path: string; authorization: string | null; body: string }[] = [];
  gatewayRequests: Request[] = [];
  execResults: Record<string, ExecOutcome> = {};
  wsHandler: ((request: Request) => Response) | undefined;

  private record(method: string, ...args: unknown[]) {
    this.calls.push({ method, args });
  }

  names(): string[] {
    return this.calls.map((entry) => entry.method);
  }

  async startProcess(command: string, options: { env: Record<string, string>; processId?: string }): Promise<SandboxProcess> {
    this.record("startProcess", command, options);
    const id = options.processId ?? `proc-${this.processes.length + 1}`;
    if (this.processes.some((process) => process.id === id && process.status === "running")) throw new Error(`process ${id} already exists`);
    const process = { id, command, status: "running", startTime: new Date() };
    this.processes.push(process);
    return process;
  }

  async listProcesses(): Promise<SandboxProcess[]> {
    this.record("listProcesses");
    return this.processes;
  }

  async killProcess(id: string, signal?: string): Promise<void> {
    this.record("killProcess", id, signal);
    this.processes = this.processes.map((process) => (process.id === id ? { ...process, status: "killed" } : process));
  }

  async containerFetch(request: Request, port: number): Promise<Response> {
    const url = new URL(request.url);
    this.record("containerFetch", port, url.pathname);
    if (port === 18790) {
      const body = await request.text();
      this.controlRequests.push({ method: request.method, path: url.pathname, authorization: request.headers.get("authorization"), body });
      if (!this.controlUp) throw new Error("connection refused on 18790");
      if (url.pathname === "/snapshot") return Response.json({ ok: true, snapshot_id: "s1", skipped: false, reason: "changed" });
      if (url.pathname === "/gateway/restart") return Response.json({ ok: true });
      if (url.pathname === "/gateway/ready") {
        if (this.readyAfterProbes > 0) {
          this.readyAfterProbes -= 1;
          return Response.json({ ok: true, ready: false, http_status: 503, detail: "/readyz answered HTTP 503" });
        }
        return Response.json(this.ready ? { ok: true, ready: true, http_status: 200, detail: null } : { ok: true, ready: false, http_status: 503, detail: "/readyz answered HTTP 503 (failing: channels)" });
      }
      return Response.json({ ok: true, path: url.pathname });
    }
    // Like the real gateway behind containerFetch, where the Worker's side is a trusted proxy
    // address that must name the client: a probe straight to /readyz without one gets 403.
    if (url.pathname === "/readyz" && request.headers.get("x-forwarded-for") === null) {
      return Response.json({ error: { message: "Proxy client attribution is required.", type: "proxy_attribution_required" } }, { status: 403 });
    }
    this.gatewayRequests.push(request);
    return Response.json({ proxied: url.pathname, authorization: request.headers.get("authorization") });
  }

  async wsConnect(request: Request, port: number): Promise<Response> {
    this.record("wsConnect", port, new URL(request.url).pathname);
    if (this.wsHandler) return this.wsHandler(request);
    return new Response("no websocket", { status: 502 });
  }

  async exec(command: string, options: { env?: Record<string, string>; timeout?: number }): Promise<ExecOutcome> {
    this.record("exec", command, options);
    return this.execResults[command] ?? { success: true, exitCode: 0, stdout: JSON.stringify({ ok: true, snapshot_id: "fallback-1" }), stderr: "" };
  }

  async getProcessLogs(id: string): Promise<{ stdout: string; stderr: string }> {
    this.record("getProcessLogs", id);
    return { stdout: `gateway up, token=${GATEWAY_TOKEN}`, stderr: `Authorization: Bearer ${GATEWAY_TOKEN}` };
  }

  async writeFile(path: string, content: string): Promise<unknown> {
    this.record("writeFile", path, content.length);
    return { success: true };
  }
}

/** Asserts a text contains none of the given secret values. */
export function secretsIn(text: string, values: readonly string[] = [GATEWAY_TOKEN, ...Object.values(SECRET_VALUES)]): string[] {
  return values.filter((value) => text.includes(value));
}
