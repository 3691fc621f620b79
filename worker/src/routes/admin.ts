/**
 * /_admin/ page and /api/admin/* API: device pairing over the gateway RPC, backups, snapshots,
 * restore and gateway restart through the boot-code control API. Every answer is JSON.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import type { ControlResult } from "../backend/types";
import { GatewayRpcError, gatewayRpc } from "../gateway/rpc";
import { errorMessage, redactValue } from "../lib/log";
import { jsonBody, paramMatching } from "../lib/validate";
import ADMIN_PAGE from "../pages/admin.html";
import { adminImport } from "./admin-import";

const REPOSITORY_PREFIX = "openclaw-edge/";
const MAX_LIST_PAGES = 10;

interface PairingList {
  pending: { requestId: string; deviceId?: string }[];
  paired: { deviceId?: string }[];
}

function asPairingList(value: unknown): PairingList {
  const record = (value ?? {}) as Partial<PairingList>;
  return { pending: Array.isArray(record.pending) ? record.pending : [], paired: Array.isArray(record.paired) ? record.paired : [] };
}

function rpcFailure(c: Context<AppEnv>, error: unknown): Response {
  const log = c.get("log");
  log.warn("gateway rpc failed", { error: errorMessage(error) });
  if (error instanceof GatewayRpcError) {
    const status = error.code === "PAIRING_REQUIRED" ? 409 : error.code === "TIMEOUT" ? 504 : error.code === "UNAVAILABLE" ? 503 : 502;
    return c.json({ ok: false, error: log.redact(error.message), code: error.code }, status);
  }
  return c.json({ ok: false, error: log.redact(errorMessage(error)) }, 502);
}

/** What to do about a failed control API call, by the status the Worker answers. */
const CONTROL_HELP: Partial<Record<number, string>> = {
  502: "The boot-code control API failed: read the container's logs (GET /debug/logs?id=<process id> where debug routes are on) and retry.",
  503: "The control API is not reachable (the container is starting or stopped): retry in a minute; GET /api/status shows the gateway state.",
  504: "The control API did not answer in time: retry later; a long restore may still be running.",
};

function controlAnswer(c: Context<AppEnv>, result: ControlResult, notFoundHelp?: string): Response {
  const log = c.get("log");
  if (result.ok) return c.json(redactValue(result.body) as object, 200);
  // These statuses say something true about this request; any other (the control API's 500 when
  // restic fails) is an upstream failure: 502.
  const status = [400, 404, 409, 501, 502, 503, 504].includes(result.status) ? result.status : 502;
  const help = status === 404 ? notFoundHelp : CONTROL_HELP[status];
  return c.json({ ok: false, error: log.redact(result.error), ...(help === undefined ? {} : { help }) }, status as 400);
}

// restic ids are 64 lower-case hex characters; `restic snapshots` shows the first 8 (short id).
const SNAPSHOT_ID = /^(latest|[0-9a-f]{8,64})$/;
const RESTORE_HELP = 'Send {"snapshot_id": "<id>"} with Content-Type: application/json, where <id> is "latest" or an id (or 8-character short id) from GET /api/admin/snapshots.';
const SNAPSHOT_NOT_FOUND_HELP = 'List the snapshots (GET /api/admin/snapshots, or "List snapshots" in /_admin/) and restore one of those ids.';

/** POST /api/admin/restore: `{"snapshot_id": "latest" | <hex id>}`. */
const restoreBody = jsonBody((body): { snapshot_id: string } | string => {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "the body is not a JSON object";
  const snapshotId = (body as { snapshot_id?: unknown }).snapshot_id;
  if (typeof snapshotId !== "string") return "snapshot_id is missing or not a string";
  if (!SNAPSHOT_ID.test(snapshotId)) return 'snapshot_id is neither "latest" nor a snapshot id (8 to 64 lower-case hex characters)';
  return { snapshot_id: snapshotId };
}, RESTORE_HELP);

/** What the gateway hands out as pairing request ids (UUIDs); the boot code checks the same shape. */
const REQUEST_ID = /^[A-Za-z0-9-]{1,128}$/;
const requestIdParam = paramMatching("requestId", REQUEST_ID, "invalid request id", "Use a request id from GET /api/admin/devices (letters, digits and dashes).");

function token(c: Context<AppEnv>): string {
  return c.var.config.gatewayToken;
}

/** Snapshot facts read straight from R2 (restic layout: one object per snapshot under snapshots/). */
async function bucketFacts(bucket: R2Bucket | undefined) {
  if (bucket === undefined) return null;
  let cursor: string | undefined;
  let count = 0;
  let latest: Date | undefined;
  let size = 0;
  let pages = 0;
  let truncated = false;
  do {
    const page = await bucket.list({ prefix: REPOSITORY_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) {
      size += object.size;
      if (object.key.startsWith(`${REPOSITORY_PREFIX}snapshots/`)) {
        count += 1;
        if (latest === undefined || object.uploaded > latest) latest = object.uploaded;
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
    pages += 1;
    if (cursor !== undefined && pages >= MAX_LIST_PAGES) {
      truncated = true;
      break;
    }
  } while (cursor !== undefined);
  return { snapshot_count: count, last_snapshot_time: latest?.toISOString() ?? null, repository_size: size, listing_truncated: truncated };
}

export const admin = new Hono<AppEnv>()
  .get("/_admin", (c) => c.redirect("/_admin/", 301))
  .get("/_admin/", (c) => c.html(ADMIN_PAGE, 200, { "cache-control": "no-store", "content-security-policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" }))
  .get("/api/admin/devices", async (c) => {
    try {
      const list = asPairingList(await gatewayRpc(c.get("backend"), token(c), (rpc) => rpc.call("device.pair.list")));
      return c.json(redactValue(list) as object);
    } catch (error) {
      return rpcFailure(c, error);
    }
  })
  .post("/api/admin/devices/approve-all", async (c) => {
    try {
      const results = await gatewayRpc(c.get("backend"), token(c), async (rpc) => {
        const { pending } = asPairingList(await rpc.call("device.pair.list"));
        const outcomes: { requestId: string; ok: boolean; error?: string }[] = [];
        for (const request of pending) {
          try {
            await rpc.call("device.pair.approve", { requestId: request.requestId });
            outcomes.push({ requestId: request.requestId, ok: true });
          } catch (error) {
            outcomes.push({ requestId: request.requestId, ok: false, error: errorMessage(error) });
          }
        }
        return outcomes;
      });
      return c.json({ ok: results.every((result) => result.ok), approved: results.filter((r) => r.ok).length, results });
    } catch (error) {
      return rpcFailure(c, error);
    }
  })
  .post("/api/admin/devices/:requestId/approve", requestIdParam, async (c) => {
    const { requestId } = c.req.valid("param");
    try {
      const result = await gatewayRpc(c.get("backend"), token(c), (rpc) => rpc.call("device.pair.approve", { requestId }));
      return c.json({ ok: true, result: redactValue(result) });
    } catch (error) {
      // OpenClaw answers INVALID_REQUEST "unknown requestId" (device.pair.approve in its devices module).
      if (error instanceof GatewayRpcError && error.code === "INVALID_REQUEST" && /unknown requestId/i.test(error.message)) {
        return c.json({ ok: false, error: `no pending pairing request ${requestId}`, help: "It was approved, rejected or has expired: refresh the device list (GET /api/admin/devices)." }, 404);
      }
      return rpcFailure(c, error);
    }
  })
  .get("/api/admin/backup", async (c) => {
    const [control, bucket] = await Promise.all([
      c.get("backend").control("/status"),
      bucketFacts(c.var.config.bindings.backupBucket).catch((error: unknown) => ({ error: errorMessage(error) })),
    ]);
    const status = control.ok ? (control.body as { backup?: unknown; restore?: unknown; gateway?: unknown }) : null;
    return c.json({
      backup: status?.backup ?? null,
      restore: status?.restore ?? null,
      gateway: status?.gateway ?? null,
      control_error: control.ok ? null : c.get("log").redact(control.error),
      bucket,
    });
  })
  .post("/api/admin/backup", async (c) => controlAnswer(c, await c.get("backend").snapshot()))
  .get("/api/admin/snapshots", async (c) => controlAnswer(c, await c.get("backend").control("/snapshots")))
  .post("/api/admin/restore", restoreBody, async (c) => {
    const { snapshot_id: snapshotId } = c.req.valid("json");
    const result = await c.get("backend").control("/restore", { method: "POST", body: { snapshot_id: snapshotId } });
    return controlAnswer(c, result, SNAPSHOT_NOT_FOUND_HELP);
  })
  .post("/api/admin/gateway/restart", async (c) => {
    try {
      return controlAnswer(c, await c.get("backend").restart());
    } catch (error) {
      c.get("log").error("restart failed", { error: errorMessage(error) });
      return c.json({ ok: false, error: c.get("log").redact(errorMessage(error)), help: CONTROL_HELP[502] }, 502);
    }
  })
  // Read-only: each baked-in tool's version command inside the container (boot.py selftest).
  .get("/api/admin/selftest", async (c) => {
    const result = await c.get("backend").control("/selftest");
    // Tool output is free text from inside the container: mask every known secret value too.
    return result.ok ? c.json(redactValue(result.body, c.var.config.secretValues) as object) : controlAnswer(c, result);
  })
  .route("/", adminImport);
