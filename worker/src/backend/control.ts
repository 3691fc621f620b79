/** Client for the boot-code control API (docs/interfaces.md): bearer token, JSON in and out. */
import type { ControlResult } from "./types";

const CONTROL_TIMEOUT_MS = 60_000;

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${Math.round(ms / 1000)} s`);
    this.name = "TimeoutError";
  }
}

/**
 * Bounds a promise Worker-side. A `Request.signal` does not cross a Durable Object call (the
 * Sandbox SDK's containerFetch runs in the Durable Object), so a timeout must be enforced here.
 * The work itself is not cancelled: its answer is dropped.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * `send` gets the request and an abort signal to use where it can (plain fetch). The request
 * itself carries none: workerd refuses to pass an AbortSignal through a Durable Object call
 * ("AbortSignal serialization is not enabled"), which is where the Sandbox SDK's
 * containerFetch runs.
 */
export async function callControl(
  send: (request: Request, signal: AbortSignal) => Promise<Response>,
  url: string,
  token: string,
  init?: { method?: string; body?: unknown; timeoutMs?: number },
): Promise<ControlResult> {
  const headers = new Headers({ authorization: `Bearer ${token}`, accept: "application/json" });
  const method = init?.method ?? "GET";
  const timeoutMs = init?.timeoutMs ?? CONTROL_TIMEOUT_MS;
  let body: string | undefined;
  if (init?.body !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.body);
  }
  try {
    const response = await withTimeout(
      send(new Request(url, { method, headers, body }), AbortSignal.timeout(timeoutMs)),
      timeoutMs,
      `control API ${method} ${new URL(url).pathname}`,
    );
    const text = await withTimeout(response.text(), timeoutMs, "control API answer");
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a non-JSON answer is passed on as text
    }
    if (!response.ok) {
      const error =
        parsed !== null && typeof parsed === "object" && "error" in parsed && typeof parsed.error === "string"
          ? parsed.error
          : `control API answered HTTP ${response.status}${typeof parsed === "string" && parsed ? `: ${parsed.slice(0, 200)}` : ""}`;
      return { ok: false, status: response.status, error };
    }
    return { ok: true, status: response.status, body: parsed };
  } catch (error) {
    const status = error instanceof TimeoutError ? 504 : 503;
    return { ok: false, status, error: `control API unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
