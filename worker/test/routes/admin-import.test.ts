/** Moving in from moltworker: the import report in /api/status and /api/admin/import, and the
 * confirmed deletion of the legacy objects (the boot code's control API is the fake one). */
import { describe, expect, it } from "vitest";
import { accessToken, call, originEnv, request, SAME_ORIGIN, secretsIn } from "../helpers";

const PLAN = "0123456789abcdef0123456789abcdef"; // the fake control API's delete plan
const withControl = (scenario: string) => originEnv(scenario, { CONTROL_ORIGIN: `${originEnv(scenario).GATEWAY_ORIGIN as string}/control` });

describe("import report", () => {
  it("shows what the first boot imported", async () => {
    const { response } = await call(withControl("import-a"), request("/api/admin/import", { jwt: await accessToken() }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ state: "imported", layout: "moltworker-rclone", files: 19, bytes: 31429, verified: true, delete_offer: true, delete_plan: PLAN });
    expect(secretsIn(JSON.stringify(body))).toEqual([]);
  });

  it("adds a summary to /api/status only when something was imported", async () => {
    const jwt = await accessToken();
    const imported = (await (await call(withControl("import-b"), request("/api/status", { jwt }))).response.json()) as Record<string, unknown>;
    expect(imported).toMatchObject({
      state: "running",
      imported: { state: "imported", layout: "moltworker-rclone", files: 19, bytes: 31429, last_sync: "2026-12-02T08:04:33Z", at: "2026-12-02T08:04:36Z", verified: true },
    });
    const plain = (await (await call(withControl("plain-status"), request("/api/status", { jwt }))).response.json()) as Record<string, unknown>;
    expect(plain.state).toBe("running");
    expect(plain).not.toHaveProperty("imported");
  });

  it("answers 501 when the origin backend has no control API", async () => {
    const { response } = await call(originEnv("import-c"), request("/api/admin/import", { jwt: await accessToken() }));
    expect(response.status).toBe(501);
  });
});

describe("deleting the legacy objects", () => {
  it("needs the exact confirmation and plan; the default is to keep them", async () => {
    const env = withControl("import-d");
    const jwt = await accessToken();
    const bodies = [{}, { confirm: true, plan: PLAN }, { confirm: "delete-legacy-objects" }, { confirm: "delete-legacy-objects", plan: "../x" }].map((body) => JSON.stringify(body));
    for (const body of [...bodies, "{not json", "null"]) {
      const { response } = await call(env, request("/api/admin/import/delete-legacy", { method: "POST", jwt, headers: { ...SAME_ORIGIN, "content-type": "application/json" }, body }));
      expect(response.status, body).toBe(400);
      const answer = (await response.json()) as { ok: boolean; error: string; help: string };
      expect(answer.ok).toBe(false);
      expect(answer.error).toBe(body === "{not json" ? "the body is not JSON" : answer.help);
      expect(answer.help).toBe('body must be {"confirm": "delete-legacy-objects", "plan": "<delete_plan from GET /api/admin/import>"}');
    }
    const stale = await call(env, request("/api/admin/import/delete-legacy", { method: "POST", jwt, headers: { ...SAME_ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ confirm: "delete-legacy-objects", plan: "f".repeat(32) }) }));
    expect(stale.response.status).toBe(400); // the boot code refuses a plan that is not the current one
    expect(((await (await call(env, request("/api/admin/import", { jwt }))).response.json()) as { delete_offer: boolean }).delete_offer).toBe(true);

    const done = await call(env, request("/api/admin/import/delete-legacy", { method: "POST", jwt, headers: { ...SAME_ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ confirm: "delete-legacy-objects", plan: PLAN }) }));
    expect(done.response.status).toBe(200);
    expect(await done.response.json()).toMatchObject({ ok: true, deleted: 21, kept_changed: ["openclaw/workspace/MEMORY.md"] });
    const after = (await (await call(env, request("/api/admin/import", { jwt }))).response.json()) as Record<string, unknown>;
    expect(after).toMatchObject({ delete_offer: false, deleted: { objects: 21 } });
  });

  it("is behind Access like every admin route", async () => {
    const { response } = await call(withControl("import-e"), request("/api/admin/import/delete-legacy", { method: "POST", body: JSON.stringify({ confirm: "delete-legacy-objects", plan: PLAN }) }));
    expect(response.status).toBe(401);
  });
});

describe("admin page", () => {
  it("has the import section, with the delete offer unticked and its button disabled", async () => {
    const { response } = await call(originEnv("import-page"), request("/_admin/", { jwt: await accessToken(), browser: true }));
    const html = await response.text();
    expect(html).toContain('<section id="import" hidden>');
    expect(html).toContain("/api/admin/import");
    expect(html).toMatch(/<input type="checkbox" id="import-delete-confirm">/);
    expect(html).toContain('<button id="import-delete-button" disabled>');
    expect(html).toContain('confirm: "delete-legacy-objects"');
  });
});
