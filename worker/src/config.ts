/**
 * The Worker's view of its configuration: the `Env` type, the names it reads (all looked up in
 * env-catalog.json, so a name typed here that the catalogue lacks fails at module load), the
 * missing-configuration check and the environment handed to the Sandbox container.
 */
import type { Sandbox } from "./backend/sandbox-do";
import catalog from "./env-catalog.json";

interface SecretEntry {
  name: string;
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

export function isOriginMode(env: Env): boolean {
  return read(env, N.gatewayOrigin) !== undefined;
}

export const GATEWAY_PORT = 18789;
export const CONTROL_PORT = 18790;
export const DEFAULT_STARTUP_TIMEOUT_MS = 90_000;

export function startupTimeoutMs(env: Env): number {
  const raw = read(env, N.startupTimeoutMs);
  const parsed = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : DEFAULT_STARTUP_TIMEOUT_MS;
}

/**
 * Names of required configuration that is missing (never values). The origin backend only needs
 * what the Worker itself uses; the sandbox backend also needs what the container needs.
 */
export function missingConfig(env: Env): string[] {
  const missing: string[] = [];
  const origin = isOriginMode(env);
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
export function containerEnv(env: Env): Record<string, string> {
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

/** Every secret value currently set, for log and response redaction. */
export function secretValues(env: Env): string[] {
  const values: string[] = [];
  for (const entry of SECRETS) {
    const value = read(env, entry.name);
    if (value !== undefined && value.length >= 4) values.push(value);
  }
  return values;
}

/** Names of every catalogue entry and whether it is set: never the values. */
export function envPresence(env: Env): { name: string; kind: "secret" | "var"; set: boolean }[] {
  return [
    ...SECRETS.map((entry) => ({ name: entry.name, kind: "secret" as const, set: read(env, entry.name) !== undefined })),
    ...VARS.map((entry) => ({ name: entry.name, kind: "var" as const, set: read(env, entry.name) !== undefined })),
  ];
}
