/**
 * Moving in from moltworker: what the container's first boot imported from the reference's R2
 * layout (control API GET /import), and the explicit, confirmed deletion of those plain-text
 * legacy objects (POST /import/delete-legacy), offered only after a verified import.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import type { Backend } from "../backend/types";
import { redactValue } from "../lib/log";
import { jsonBody } from "../lib/validate";

export const DELETE_CONFIRMATION = "delete-legacy-objects";
const SUMMARY_TIMEOUT_MS = 5_000;

export interface ImportSummary {
  state: string;
  layout: string | null;
  files: number | null;
  bytes: number | null;
  last_sync: string | null;
  at: string | null;
  verified: boolean | null;
  message: string | null;
}

function field<T>(value: unknown, guard: (item: unknown) => item is T): T | null {
  return guard(value) ? value : null;
}
const isString = (item: unknown): item is string => typeof item === "string";
const isNumber = (item: unknown): item is number => typeof item === "number";
const isBoolean = (item: unknown): item is boolean => typeof item === "boolean";

/** The import in a few fields, or null when nothing was imported or attempted (or no control API). */
export async function importSummary(backend: Backend): Promise<ImportSummary | null> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), SUMMARY_TIMEOUT_MS);
  });
  const result = await Promise.race([backend.control("/import"), late]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
  if (result === null || !result.ok || typeof result.body !== "object" || result.body === null) return null;
  const body = result.body as Record<string, unknown>;
  const state = field(body.state, isString);
  if (state === null || state === "none" || state === "disabled") return null;
  const source = (typeof body.source === "object" && body.source !== null ? body.source : {}) as Record<string, unknown>;
  return {
    state,
    layout: field(body.layout, isString),
    files: field(body.files, isNumber),
    bytes: field(body.bytes, isNumber),
    last_sync: field(source.last_sync, isString) ?? field(body.last_sync, isString),
    at: field(body.at, isString),
    verified: field(body.verified, isBoolean),
    message: field(body.message, isString),
  };
}

const DELETE_HELP = `body must be {"confirm": "${DELETE_CONFIRMATION}", "plan": "<delete_plan from GET /api/admin/import>"}`;

/** POST /api/admin/import/delete-legacy: the confirmation word and a 32-hex delete plan. */
const deleteBody = jsonBody((body): { plan: string } | string => {
  const { confirm, plan } = (typeof body === "object" && body !== null ? body : {}) as { confirm?: unknown; plan?: unknown };
  return confirm === DELETE_CONFIRMATION && typeof plan === "string" && /^[0-9a-f]{32}$/.test(plan) ? { plan } : DELETE_HELP;
}, DELETE_HELP);

export const adminImport = new Hono<AppEnv>()
  .get("/api/admin/import", async (c) => {
    const result = await c.get("backend").control("/import");
    if (!result.ok) return c.json({ ok: false, error: c.get("log").redact(result.error) }, result.status === 501 ? 501 : 502);
    return c.json(redactValue(result.body) as object, 200, { "cache-control": "no-store" });
  })
  .post("/api/admin/import/delete-legacy", deleteBody, async (c) => {
    const { plan } = c.req.valid("json");
    const result = await c.get("backend").control("/import/delete-legacy", {
      method: "POST",
      body: { confirm: DELETE_CONFIRMATION, plan },
    });
    const log = c.get("log");
    if (result.ok) {
      log.info("legacy objects deleted", { answer: redactValue(result.body) });
      return c.json(redactValue(result.body) as object, 200);
    }
    // The boot code refuses (400) when the import is not verified or the plan changed.
    const status = result.status === 400 || result.status === 501 ? result.status : 502;
    return c.json({ ok: false, error: log.redact(result.error) }, status);
  });
