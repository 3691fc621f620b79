/**
 * Structured logging that cannot print secrets: known secret values, sensitive URL parameters,
 * sensitive headers and sensitive JSON/form fields are replaced before anything reaches the console.
 */
import { secretValues, type Env } from "../config";

const REDACTED = "[REDACTED]";
const SENSITIVE = /token|secret|passw|api[-_]?key|apikey|authori[sz]ation|cookie|credential|jwt|assertion|signature|ticket|private|^key$|_key$|-key$/i;

export function isSensitiveName(name: string): boolean {
  return SENSITIVE.test(name);
}

const QUERY_PARAM = /([?&;])([^=&;#\s]+)=([^&;#\s"']*)/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JSON_FIELD = /("([^"\\]*(?:\\.[^"\\]*)*)"\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
const ASSIGNMENT = /\b([A-Za-z0-9_.-]*(?:token|secret|password|passwd|api[_-]?key)[A-Za-z0-9_.-]*)\s*[=:]\s*([^\s,;&"'#[]+)/gi;

/** Redacts secrets from free text: known values first, then anything shaped like a credential. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(JSON_FIELD, (match, prefix: string, key: string) =>
    isSensitiveName(key) ? `${prefix}"${REDACTED}"` : match,
  );
  out = out.replace(QUERY_PARAM, (match, sep: string, key: string) =>
    isSensitiveName(key) ? `${sep}${key}=${REDACTED}` : match,
  );
  out = out.replace(ASSIGNMENT, (_m, key: string) => `${key}=${REDACTED}`);
  return out;
}

export function redactUrl(url: string, secrets: readonly string[] = []): string {
  return redactText(url, secrets);
}

export function redactHeaders(headers: Headers, secrets: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = isSensitiveName(name) ? REDACTED : redactText(value, secrets);
  });
  return out;
}

/** Deep-copies a JSON value with sensitive keys and known secret values redacted. */
export function redactValue(value: unknown, secrets: readonly string[] = []): unknown {
  if (typeof value === "string") return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        isSensitiveName(key) && (typeof item === "string" || typeof item === "number")
          ? REDACTED
          : redactValue(item, secrets);
    }
    return out;
  }
  return value;
}

export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: Level, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Redacts a string with this logger's secret list (for responses built from upstream text). */
  redact(text: string): string;
}

export type Sink = (line: string) => void;

const defaultSink: Sink = (line) => {
  console.log(line);
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A logger bound to one request's secrets. */
export function createLogger(env: Env, sink: Sink = defaultSink): Logger {
  const secrets = secretValues(env);
  const logger: Logger = {
    log(level, message, fields = {}) {
      const line = JSON.stringify(redactValue({ level, message, ...fields }, secrets));
      sink(redactText(line, secrets));
    },
    info: (message, fields) => logger.log("info", message, fields),
    warn: (message, fields) => logger.log("warn", message, fields),
    error: (message, fields) => logger.log("error", message, fields),
    redact: (text) => redactText(text, secrets),
  };
  return logger;
}
