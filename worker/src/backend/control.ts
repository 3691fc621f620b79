/** Client for the boot-code control API (docs/interfaces.md): bearer token, JSON in and out. */
import type { ControlResult } from "./types";

const CONTROL_TIMEOUT_MS = 60_000;

export async function callControl(
  send: (request: Request) => Promise<Response>,
  url: string,
  token: string,
  init?: { method?: string; body?: unknown; timeoutMs?: number },
): Promise<ControlResult> {
  const headers = new Headers({ authorization: `Bearer ${token}`, accept: "application/json" });
  const method = init?.method ?? "GET";
  let body: string | undefined;
  if (init?.body !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.body);
  }
  try {
    const response = await send(
      new Request(url, { method, headers, body, signal: AbortSignal.timeout(init?.timeoutMs ?? CONTROL_TIMEOUT_MS) }),
    );
    const text = await response.text();
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
          : `control API answered HTTP ${response.status}`;
      return { ok: false, status: response.status, error };
    }
    return { ok: true, status: response.status, body: parsed };
  } catch (error) {
    return { ok: false, status: 503, error: `control API unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
