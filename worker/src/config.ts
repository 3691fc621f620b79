/**
 * The Worker's view of its configuration: the `Env` type, the names it reads (all looked up in
 * env-catalog.json, so a name typed here that the catalogue lacks fails at module load), and
 * `loadConfig`, which reads the environment once into a typed `WorkerConfig`: every value parsed,
 * the missing-configuration check, the secret list for redaction and the environment handed to
 * the Sandbox container. Routes read `c.var.config` (set by the configuration middleware in
 * app.ts); nothing else parses `env`.
 */
import type { Sandbox } from "./backend/sandbox-do";
import catalog from "./env-catalog.json";

interface SecretEntry {
  name: string;
  /** Other fields (description, source) are the stack's business. */
  required: "always" | "llm" | "optional";
  container: boolean;
  containerName?: string;
}
interface VarEntry {
  name: string;
  required: boolean;
  container: boolean;
  containerName?: string;
}

export const SECRETS: readonly SecretEntry[] = catalog.secrets as SecretEntry[];
export const VARS: readonly VarEntry[] = catalog.vars;
const KNOWN = new Set([...SECRETS, ...VARS].map((entry) => entry.name));

function known<N extends string>(name: N): N {
  if (!KNOWN.has(name)) throw new Error(`${name} is not in worker/src/env-catalog.json`);
  return name;
}

/** Every catalogue name the Worker's own code reads. */
export const N = {
  gatewayToken: known("MOLTBOT_GATEWAY_TOKEN"),
  accessTeamDomain: known("CF_ACCESS_TEAM_DOMAIN"),
  accessAud: known("CF_ACCESS_AUD"),
  accessJwksUrl: known("CF_ACCESS_JWKS_URL"),
  accessLoginOrigin: known("CF_ACCESS_LOGIN_ORIGIN"),
  gatewayOrigin: known("GATEWAY_ORIGIN"),
  controlOrigin: known("CONTROL_ORIGIN"),
  debugRoutes: known("DEBUG_ROUTES"),
  environment: known("ENVIRONMENT"),
  sleepAfter: known("SANDBOX_SLEEP_AFTER"),
  startupTimeoutMs: known("STARTUP_TIMEOUT_MS"),
  openclawVersion: known("OPENCLAW_VERSION"),
  cdpSecret: known("CDP_SECRET"),
} as const;

/** Bindings (wrangler.jsonc / rendered deploy config) plus catalogue strings. */
export interface Env {
  SANDBOX?: DurableObjectNamespace<Sandbox>;
  BACKUP_BUCKET?: R2Bucket;
  BROWSER?: Fetcher;
  readonly [name: string]: unknown;
}

/** A catalogue value: a non-empty string, or undefined when unset or blank. */
export function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

export const GATEWAY_PORT = 18789;
export const CONTROL_PORT = 18790;
export const DEFAULT_STARTUP_TIMEOUT_MS = 90_000;

export type EnvPresence = { name: string; kind: "secret" | "var"; set: boolean }[];

/** Everything the Worker reads from its environment, parsed once per environment object. */
export interface WorkerConfig {
  /** GATEWAY_ORIGIN set: a plain upstream; otherwise the Sandbox container. */
  readonly backend: "sandbox" | "origin";
  /** Names of required configuration that is missing (never values); empty when complete. */
  readonly missing: readonly string[];
  /** Cloudflare Access: issuer `https://<team domain>`, audience, key set, where browsers log in. */
  readonly access: {
    readonly teamOrigin: string;
    readonly aud: string;
    readonly jwksUrl: string;
    readonly loginOrigin: string;
  };
  /** MOLTBOT_GATEWAY_TOKEN ("" when missing: the request never gets past the check). */
  readonly gatewayToken: string;
  readonly gatewayOrigin: string | undefined;
  readonly controlOrigin: string | undefined;
  readonly cdpSecret: string | undefined;
  /** DEBUG_ROUTES=true. */
  readonly debugRoutes: boolean;
  readonly environment: string | undefined;
  readonly openclawVersion: string | undefined;
  /** SANDBOX_SLEEP_AFTER: "never" (the default) or a duration the SDK accepts. */
  readonly sleepAfter: string;
  /** STARTUP_TIMEOUT_MS as a positive number, else the default. */
  readonly startupTimeoutMs: number;
  /** Every secret value currently set (at least 4 characters), for log and response redaction. */
  readonly secretValues: readonly string[];
  /** Environment for `boot.py run` (see containerEnv). */
  readonly containerEnv: Readonly<Record<string, string>>;
  /** Names of every catalogue entry and whether it is set: never the values. */
  readonly presence: EnvPresence;
  readonly bindings: {
    readonly sandbox: DurableObjectNamespace<Sandbox> | undefined;
    readonly backupBucket: R2Bucket | undefined;
    readonly browser: Fetcher | undefined;
  };
}

function positiveNumber(raw: string | undefined, fallback: number): number {
  const parsed = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

/**
 * Names of required configuration that is missing (never values). The origin backend only needs
 * what the Worker itself uses; the sandbox backend also needs what the container needs.
 */
function missingOf(env: Env, origin: boolean): string[] {
  const missing: string[] = [];
  for (const entry of VARS) {
    if (entry.required && read(env, entry.name) === undefined) missing.push(entry.name);
  }
  for (const entry of SECRETS) {
    if (entry.required !== "always") continue;
    if (origin && entry.name !== N.gatewayToken) continue;
    if (read(env, entry.name) === undefined) missing.push(entry.name);
  }
  if (!origin) {
    const llm = SECRETS.filter((entry) => entry.required === "llm");
    if (llm.length > 0 && llm.every((entry) => read(env, entry.name) === undefined)) {
      missing.push(`one of ${llm.map((entry) => entry.name).join(", ")}`);
    }
    if (env.SANDBOX === undefined) missing.push("SANDBOX (Durable Object binding)");
  }
  return missing;
}

/**
 * Environment for `boot.py run`: every catalogue entry marked `container`, under its
 * `containerName`. Passed as process environment, never on a command line.
 */
function containerEnvOf(env: Env): Record<string, string> {
  const out: Record<string, string> = {
    // The gateway must listen on the container interface for containerFetch/wsConnect.
    OPENCLAW_GATEWAY_BIND: "lan",
  };
  for (const entry of [...SECRETS, ...VARS]) {
    if (!entry.container) continue;
    const value = read(env, entry.name);
    if (value !== undefined) out[entry.containerName ?? entry.name] = value;
  }
  return out;
}

function parse(env: Env): WorkerConfig {
  const gatewayOrigin = read(env, N.gatewayOrigin);
  const origin = gatewayOrigin !== undefined;
  const secretValues: string[] = [];
  for (const entry of SECRETS) {
    const value = read(env, entry.name);
    if (value !== undefined && value.length >= 4) secretValues.push(value);
  }
  const teamOrigin = `https://${(read(env, N.accessTeamDomain) ?? "").replace(/^https?:\/\//, "").replace(/\/+$/, "")}`;
  return Object.freeze({
    backend: origin ? "origin" : "sandbox",
    missing: Object.freeze(missingOf(env, origin)),
    access: Object.freeze({
      teamOrigin,
      aud: read(env, N.accessAud) ?? "",
      jwksUrl: read(env, N.accessJwksUrl) ?? `${teamOrigin}/cdn-cgi/access/certs`,
      // The issuer stays the team origin; only where the browser logs in can be overridden.
      loginOrigin: (read(env, N.accessLoginOrigin) ?? teamOrigin).replace(/\/+$/, ""),
    }),
    gatewayToken: read(env, N.gatewayToken) ?? "",
    gatewayOrigin,
    controlOrigin: read(env, N.controlOrigin),
    cdpSecret: read(env, N.cdpSecret),
    debugRoutes: read(env, N.debugRoutes) === "true",
    environment: read(env, N.environment),
    openclawVersion: read(env, N.openclawVersion),
    sleepAfter: read(env, N.sleepAfter) ?? "never",
    startupTimeoutMs: positiveNumber(read(env, N.startupTimeoutMs), DEFAULT_STARTUP_TIMEOUT_MS),
    secretValues: Object.freeze(secretValues),
    containerEnv: Object.freeze(containerEnvOf(env)),
    presence: [
      ...SECRETS.map((entry) => ({ name: entry.name, kind: "secret" as const, set: read(env, entry.name) !== undefined })),
      ...VARS.map((entry) => ({ name: entry.name, kind: "var" as const, set: read(env, entry.name) !== undefined })),
    ],
    bindings: Object.freeze({ sandbox: env.SANDBOX, backupBucket: env.BACKUP_BUCKET, browser: env.BROWSER }),
  } satisfies WorkerConfig);
}

// workerd hands a Worker the same `env` object for every request of an isolate, so each one is
// parsed once; a new deployment (changed secrets or vars) is a new isolate with a new `env`.
const parsed = new WeakMap<Env, WorkerConfig>();

/** The typed configuration of `env`, parsed on first use. */
export function loadConfig(env: Env): WorkerConfig {
  let config = parsed.get(env);
  if (config === undefined) {
    config = parse(env);
    parsed.set(env, config);
  }
  return config;
}

/** Shorthands over loadConfig for callers outside a request (cron, logger, tests). */
export const missingConfig = (env: Env): string[] => [...loadConfig(env).missing];
export const containerEnv = (env: Env): Record<string, string> => ({ ...loadConfig(env).containerEnv });
export const secretValues = (env: Env): readonly string[] => loadConfig(env).secretValues;
