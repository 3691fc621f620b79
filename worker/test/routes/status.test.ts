/** GET /api/status: per-channel state and the next OpenClaw job (routes/status.ts), and their rows in /_admin/. */
import { describe, expect, it } from "vitest";
import ADMIN_PAGE from "../../src/pages/admin.html";
import { accessToken, call, request, sandboxEnv, secretsIn } from "../helpers";
import { scenario } from "../sandbox-double";
import { BOOT_STATUS, booted } from "../boot-status";

describe("/api/status channels", () => {
  it("shows each channel's state and reason, with secrets redacted and unknown states named unknown", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    await booted(s);
    const { response, logs } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), s.deps);
    const text = await response.text();
    const body = JSON.parse(text) as { state: string; channels: Record<string, { state: string; reason?: string }>; cron: { next_run_at: string } };
    expect(body.state).toBe("running");
    expect(body.channels.discord).toMatchObject({ state: "connected", bot: "claw", plugin: { installed: true, version: "2026.9.6" } });
    expect(body.channels.telegram?.state).toBe("error");
    expect(body.channels.telegram?.reason).toContain("401 Unauthorized");
    expect(body.channels.slack).toMatchObject({ state: "not_configured" });
    expect(body.channels.weird?.state).toBe("unknown");
    expect(body.cron.next_run_at).toBe("2026-12-02T08:00:00Z");
    expect(secretsIn(text)).toEqual([]);
    expect(secretsIn(logs.join("\n"))).toEqual([]);
  });

  it("says why there is no channel information when the gateway is not running, without starting it", async () => {
    const s = scenario({ statusExtra: BOOT_STATUS });
    const { response } = await call(sandboxEnv(), request("/api/status", { jwt: await accessToken() }), s.deps);
    const body = (await response.json()) as { state: string; channels?: unknown; channels_error: string };
    expect(body.state).toBe("not_running");
    expect(body.channels).toBeUndefined();
    expect(body.channels_error).toContain("not running");
    expect(s.boot.runs).toEqual([]);
    expect(s.calls).not.toContain("startBoot");
  });

  it("is rendered by the admin page, one row per channel with the reason", () => {
    expect(ADMIN_PAGE).toContain('id="channel-rows"');
    expect(ADMIN_PAGE).toContain("renderChannels(s)");
    expect(ADMIN_PAGE).toContain("not configured");
  });
});
