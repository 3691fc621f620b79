/** Gateway-token injection into connect frames and translation of gateway auth failures. */
import { describe, expect, it } from "vitest";
import { explainCloseReason, explainConnectFailure, injectConnectToken, ORIGIN_HELP, PAIRING_HELP, TOKEN_MISMATCH_HELP } from "../src/gateway/token";

const connect = (auth?: Record<string, unknown>) => JSON.stringify({ type: "req", id: "c9", method: "connect", params: { role: "operator", ...(auth ? { auth } : {}) } });
const message = (frame: string) => (JSON.parse(frame) as { error: { message: string } }).error.message;
const failure = (code: string, text = "rejected") => JSON.stringify({ type: "res", id: "c9", ok: false, error: { code: "INVALID_REQUEST", message: text, details: { code } } });

describe("connect frame", () => {
  it("adds the token as auth.password and keeps the device token the browser signed", () => {
    const out = injectConnectToken(connect({ deviceToken: "dt" }), "T0KEN");
    expect(out.connectId).toBe("c9");
    expect(JSON.parse(out.data)).toMatchObject({ params: { auth: { deviceToken: "dt", password: "T0KEN" } } });
    expect((JSON.parse(out.data) as { params: { auth: Record<string, unknown> } }).params.auth.token).toBeUndefined();
  });

  it("leaves frames alone that are not connect requests or that carry a secret already", () => {
    const other = JSON.stringify({ type: "req", id: "x", method: "chat.send", params: {} });
    expect(injectConnectToken(other, "T0KEN")).toEqual({ data: other });
    expect(injectConnectToken("not json", "T0KEN")).toEqual({ data: "not json" });
    expect(JSON.parse(injectConnectToken(connect({ token: "own" }), "T0KEN").data)).toMatchObject({ params: { auth: { token: "own" } } });
  });

  it("explains token, pairing and origin failures of the connect answer only", () => {
    expect(message(explainConnectFailure(failure("AUTH_TOKEN_MISMATCH"), "c9"))).toBe(`rejected — ${TOKEN_MISMATCH_HELP}`);
    expect(message(explainConnectFailure(failure("PAIRING_REQUIRED"), "c9"))).toContain(PAIRING_HELP);
    expect(message(explainConnectFailure(failure("CONTROL_UI_ORIGIN_NOT_ALLOWED"), "c9"))).toContain(ORIGIN_HELP);
    expect(explainConnectFailure(failure("AUTH_TOKEN_MISMATCH"), "other-id")).toBe(failure("AUTH_TOKEN_MISMATCH"));
    expect(explainConnectFailure(failure("SOMETHING_ELSE", "boom"), "c9")).toBe(failure("SOMETHING_ELSE", "boom"));
  });

  it("keeps close reasons within 123 bytes", () => {
    for (const reason of ["unauthorized: gateway token mismatch", "pairing required", "origin not allowed (open the Control UI…)"]) {
      expect(new TextEncoder().encode(explainCloseReason(1008, reason)).length).toBeLessThanOrEqual(123);
    }
    expect(explainCloseReason(4001, "bye")).toBe("bye");
  });
});
