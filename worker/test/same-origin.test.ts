/**
 * No other site can drive a state change: every state-changing route × the ways a request can
 * arrive (the Worker's own page, another site's form or text/plain post, no browser headers at all,
 * an Access service token), WebSocket handshakes by Origin, the JSON rule, and honest statuses.
 * The header sets are what Chromium sends (see the e2e test tests/e2e/test_cross_site.py).
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { inject } from "vitest";
import { accessToken, call, GATEWAY_TOKEN, HOST, originEnv, request } from "./helpers";

const EVIL = "https://evil.example";
const SERVICE_TOKEN_ID = "0123456789abcdef0123456789abcdef.access";

let scenarioCounter = 0;
/** A fresh fake-gateway scenario with the control API and debug routes on. */
function freshEnv(prefix = "xsite") {
  const env = originEnv(`${prefix}-${++scenarioCounter}`);
  return { ...env, CONTROL_ORIGIN: `${env.GATEWAY_ORIGIN as string}/control`, DEBUG_ROUTES: "true" };
}

// Every fetch the Worker makes to the fake gateway or its control API (not the JWKS).
let fetchSpy: MockInstance<typeof fetch>;
beforeEach(() => {
  fetchSpy = vi.spyOn(globalThis, "fetch");
});
afterEach(() => {
  fetchSpy.mockRestore();
});
function upstreamCalls(): string[] {
  const gateway = inject("gatewayOrigin");
  return fetchSpy.mock.calls
    .map(([input]) => (input instanceof Request ? input.url : String(input)))
    .filter((url) => url.startsWith(gateway));
}

interface Route {
  method: string;
  path: string;
  /** The JSON body a legitimate caller sends (none for the body-less admin actions). */
  json?: string;
  /** Whether an accepted request reaches the gateway or its control API. */
  upstream: boolean;
}

const ROUTES: Route[] = [
  { method: "POST", path: "/api/admin/devices/approve-all", upstream: true },
  { method: "POST", path: "/api/admin/devices/req-browser-1/approve", upstream: true },
  { method: "POST", path: "/api/admin/backup", upstream: true },
  { method: "POST", path: "/api/admin/restore", json: '{"snapshot_id":"latest"}', upstream: true },
  { method: "POST", path: "/api/admin/gateway/restart", upstream: true },
  // No debug route changes state; a POST ends in the debug catch-all (404), never the proxy.
  { method: "POST", path: "/debug/version", upstream: false },
  // The gateway's own HTTP API under `/`: tools/invoke is full operator access with the token.
  { method: "POST", path: "/tools/invoke", json: '{"tool":"sessions_list","args":{}}', upstream: true },
  // A call the Control UI itself makes (same-origin, JSON).
  { method: "PUT", path: "/api/channels/nostr/default/profile", json: '{"name":"x"}', upstream: true },
  { method: "DELETE", path: "/some/gateway/state", upstream: true },
];

type Kind = "own page" | "cross-site form" | "cross-site text/plain" | "no Origin, no Sec-Fetch-Site" | "service token";

async function send(route: Route, kind: Kind, env: ReturnType<typeof freshEnv>) {
  const user = await accessToken();
  const json = route.json ?? "";
  const init: Record<Kind, () => Promise<Request>> = {
    // The admin page's fetch: Chromium adds Origin and Sec-Fetch-Site: same-origin by itself.
    "own page": async () =>
      request(route.path, { method: route.method, cookieJwt: user, body: json || undefined, headers: { origin: HOST, "sec-fetch-site": "same-origin", "content-type": "application/json" } }),
    // <form method=post action=...> auto-submitted by another site's page.
    "cross-site form": async () =>
      request(route.path, { method: route.method, cookieJwt: user, body: "snapshot_id=latest", headers: { origin: EVIL, "sec-fetch-site": "cross-site", "content-type": "application/x-www-form-urlencoded" } }),
    // <form enctype="text/plain"> whose field name and value spell a JSON object.
    "cross-site text/plain": async () =>
      request(route.path, { method: route.method, cookieJwt: user, body: '{"snapshot_id":"latest","x":"="}\r\n', headers: { origin: EVIL, "sec-fetch-site": "cross-site", "content-type": "text/plain" } }),
    "no Origin, no Sec-Fetch-Site": async () =>
      request(route.path, { method: route.method, cookieJwt: user, body: json || undefined, headers: { "content-type": "application/json" } }),
    // A script logged in with CF-Access-Client-Id/-Secret: Access hands the Worker a service-token JWT.
    "service token": async () =>
      request(route.path, { method: route.method, jwt: await accessToken({ serviceToken: SERVICE_TOKEN_ID }), body: json || undefined, headers: { "content-type": "application/json" } }),
  };
  fetchSpy.mockClear();
  const { response, logs } = await call(env, await init[kind]());
  const body = await response.text();
  return { status: response.status, body, logs, upstream: upstreamCalls() };
}

describe("every state-changing route refuses other sites", () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: only the Worker's own pages and service tokens get through`, async () => {
      for (const kind of ["cross-site form", "cross-site text/plain", "no Origin, no Sec-Fetch-Site"] as const) {
        const refused = await send(route, kind, freshEnv());
        expect(refused.status, `${kind}: ${refused.body}`).toBe(403);
        expect(JSON.parse(refused.body)).toMatchObject({ ok: false, error: "cross-site request refused" });
        expect(refused.upstream, kind).toEqual([]);
      }
      for (const kind of ["own page", "service token"] as const) {
        const accepted = await send(route, kind, freshEnv());
        expect(accepted.status, `${kind}: ${accepted.body}`).not.toBe(403);
        expect(accepted.status, `${kind}: ${accepted.body}`).not.toBe(415);
        if (route.upstream) expect(accepted.upstream.length, kind).toBeGreaterThan(0);
        else expect(accepted.status, kind).toBe(404);
      }
    });
  }

  it("names the reason and logs the refusal without the cookie or the Access JWT", async () => {
    const route = ROUTES.find((r) => r.path === "/api/admin/restore") as Route;
    const cases = {
      "cross-site form": /Sec-Fetch-Site is cross-site/,
      "no Origin, no Sec-Fetch-Site": /neither Sec-Fetch-Site nor Origin/,
    } as const;
    for (const [kind, reason] of Object.entries(cases) as [Kind, RegExp][]) {
      const refused = await send(route, kind, freshEnv());
      const answer = JSON.parse(refused.body) as { reason: string; help: string };
      expect(answer.reason).toMatch(reason);
      expect(answer.help).toContain("service token");
      const line = refused.logs.find((l) => l.includes("cross-site request refused"));
      expect(line, refused.logs.join("\n")).toBeDefined();
      expect(JSON.parse(line as string)).toMatchObject({ level: "warn", method: "POST", path: "/api/admin/restore", reason: expect.stringMatching(reason) as unknown });
      const everything = refused.logs.join("\n");
      expect(everything).not.toContain("CF_Authorization");
      expect(everything).not.toContain("theme=dark");
      expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT, whole or in part
      expect(everything).not.toContain(GATEWAY_TOKEN);
    }
  });
});

describe("what decides", () => {
  const restart = ROUTES.find((r) => r.path === "/api/admin/gateway/restart") as Route;
  async function restartWith(headers: Record<string, string>, jwt?: string) {
    fetchSpy.mockClear();
    const init = jwt === undefined ? { cookieJwt: await accessToken() } : { jwt };
    const { response } = await call(freshEnv(), request(restart.path, { method: "POST", ...init, headers }));
    return { status: response.status, upstream: upstreamCalls().length, body: await response.text() };
  }

  it("refuses a sibling subdomain (same-site): SameSite=Lax cookies do reach the Worker from it", async () => {
    const sibling = await restartWith({ origin: "https://blog.example.com", "sec-fetch-site": "same-site" });
    expect(sibling.status).toBe(403);
    expect(sibling.body).toContain("another origin of the same site");
    expect(sibling.upstream).toBe(0);
  });

  it("falls back to Origin where Sec-Fetch-Site is absent, and refuses Origin: null", async () => {
    expect((await restartWith({ origin: HOST })).status).toBe(200);
    for (const origin of [EVIL, "null", `${HOST}.evil.example`, "http://claw.example.com"]) {
      const refused = await restartWith({ origin });
      expect(refused.status, origin).toBe(403);
      expect(refused.upstream, origin).toBe(0);
    }
  });

  it("lets Sec-Fetch-Site win over Origin, accepts a user's own navigation (none), refuses unknown values", async () => {
    expect((await restartWith({ "sec-fetch-site": "none" })).status).toBe(200);
    expect((await restartWith({ "sec-fetch-site": "cross-site", origin: HOST })).status).toBe(403);
    expect((await restartWith({ "sec-fetch-site": "sideways" })).status).toBe(403);
  });

  it("refuses a browser that says cross-site even with a service token, and a user token without headers", async () => {
    const service = await accessToken({ serviceToken: SERVICE_TOKEN_ID });
    expect((await restartWith({}, service)).status).toBe(200);
    expect((await restartWith({ "sec-fetch-site": "cross-site", origin: EVIL }, service)).status).toBe(403);
    // A JWT in the header is no proof of a script: Access adds that header to browser requests too.
    expect((await restartWith({}, await accessToken())).status).toBe(403);
    // Only Access's service-token shape counts (common_name = client id, no email, empty sub).
    expect((await restartWith({}, await accessToken({ serviceToken: "not-a-client-id" }))).status).toBe(403);
  });

  it("leaves reads alone and never grants a CORS preflight", async () => {
    const jwt = await accessToken();
    const read = await call(freshEnv(), request("/api/status", { cookieJwt: jwt, headers: { origin: EVIL, "sec-fetch-site": "cross-site" } }));
    expect(read.response.status).toBe(200);
    expect(read.response.headers.get("access-control-allow-origin")).toBeNull();
    fetchSpy.mockClear();
    const preflight = await call(
      freshEnv(),
      request("/api/admin/restore", { method: "OPTIONS", cookieJwt: jwt, headers: { origin: EVIL, "sec-fetch-site": "cross-site", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } }),
    );
    expect(preflight.response.status).toBe(403);
    expect(preflight.response.headers.get("access-control-allow-origin")).toBeNull();
    expect(upstreamCalls()).toEqual([]);
  });
});

describe("JSON bodies need Content-Type: application/json on the Worker's API", () => {
  const page = { origin: HOST, "sec-fetch-site": "same-origin" };

  it("answers 415 for form and text bodies from the Worker's own origin, before anything runs", async () => {
    const jwt = await accessToken();
    for (const [path, type, body] of [
      ["/api/admin/restore", "text/plain", '{"snapshot_id":"latest"}'],
      ["/api/admin/restore", "application/x-www-form-urlencoded", "snapshot_id=latest"],
      ["/api/admin/backup", "multipart/form-data; boundary=x", "--x--"],
    ] as const) {
      fetchSpy.mockClear();
      const { response } = await call(freshEnv(), request(path, { method: "POST", cookieJwt: jwt, body, headers: { ...page, "content-type": type } }));
      expect(response.status, `${path} ${type}`).toBe(415);
      expect(await response.json()).toMatchObject({ ok: false, error: "unsupported media type", help: expect.stringContaining("application/json") as unknown });
      expect(upstreamCalls()).toEqual([]);
    }
    const untyped = new Request(`${HOST}/api/admin/restore`, {
      method: "POST",
      body: new Blob(['{"snapshot_id":"latest"}']).stream(),
      headers: { ...page, cookie: `CF_Authorization=${jwt}` },
    });
    expect((await call(freshEnv(), untyped)).response.status).toBe(415);

    // Still accepted: JSON with a charset, body-less actions without a type, and the gateway's
    // own API (proxied under `/`), whose body types are the gateway's business.
    const typed = await call(freshEnv(), request("/api/admin/restore", { method: "POST", cookieJwt: jwt, body: '{"snapshot_id":"latest"}', headers: { ...page, "content-type": "application/json; charset=utf-8" } }));
    expect(typed.response.status).toBe(200);
    const bare = await call(freshEnv(), request("/api/admin/backup", { method: "POST", cookieJwt: jwt, headers: page }));
    expect(bare.response.status).toBe(200);
    fetchSpy.mockClear();
    const proxied = await call(freshEnv(), request("/upload", { method: "POST", cookieJwt: jwt, body: "a,b", headers: { ...page, "content-type": "text/csv" } }));
    expect(proxied.response.status).toBe(200);
    expect(upstreamCalls().length).toBeGreaterThan(0);
  });
});

describe("WebSocket handshakes", () => {
  async function handshake(headers: Record<string, string>) {
    fetchSpy.mockClear();
    const { response, logs } = await call(freshEnv(), request("/", { cookieJwt: await accessToken(), headers: { upgrade: "websocket", ...headers } }));
    response.webSocket?.accept();
    response.webSocket?.close(1000, "test done");
    return { status: response.status, upstream: upstreamCalls().length, logs };
  }

  it("refuses another origin (browsers send the cookie on cross-site handshakes), accepts its own and none", async () => {
    for (const origin of [EVIL, "null", "https://blog.example.com"]) {
      const refused = await handshake({ origin });
      expect(refused.status, origin).toBe(403);
      expect(refused.upstream, origin).toBe(0);
      expect(refused.logs.join("\n")).toContain("cross-site request refused");
    }
    expect((await handshake({ origin: EVIL, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await handshake({ origin: HOST, "sec-fetch-site": "cross-site" })).status).toBe(403);
    const own = await handshake({ origin: HOST });
    expect(own.status).toBe(101);
    expect(own.upstream).toBeGreaterThan(0);
    // Without Origin: only non-browser clients omit it (RFC 6455 section 4.1), and they carry no
    // cookie another page could borrow.
    expect((await handshake({})).status).toBe(101);
  });
});

describe("honest status codes for restore and device approval", () => {
  const page = { origin: HOST, "sec-fetch-site": "same-origin", "content-type": "application/json" };
  async function restore(body: string | undefined, env = freshEnv()) {
    const { response } = await call(env, request("/api/admin/restore", { method: "POST", cookieJwt: await accessToken(), body, headers: page }));
    return { status: response.status, body: (await response.json()) as { ok: boolean; error: string; help?: string; snapshot_id?: string } };
  }

  it("400 for a malformed body or id, 404 for an id no snapshot has, each saying what to do", async () => {
    for (const body of [undefined, "not json", "[]", "{}", '{"snapshot_id":42}', '{"snapshot_id":"../../etc"}', '{"snapshot_id":"zzzzzzzz"}', '{"snapshot_id":"ABCDEF01"}']) {
      const answer = await restore(body);
      expect(answer.status, body).toBe(400);
      expect(answer.body.help, body).toContain("GET /api/admin/snapshots");
    }
    const unknown = await restore('{"snapshot_id":"0badc0de"}');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain("0badc0de");
    expect(unknown.body.help).toContain("List the snapshots");
    const known = await restore('{"snapshot_id":"abcdef01"}');
    expect(known).toMatchObject({ status: 200, body: { ok: true, snapshot_id: "abcdef0123" } });
  });

  it("502 when the control API itself fails, with what to do", async () => {
    const env = originEnv("control-broken-1");
    const broken = await restore('{"snapshot_id":"latest"}', { ...env, CONTROL_ORIGIN: `${env.GATEWAY_ORIGIN as string}/control`, DEBUG_ROUTES: "true" });
    expect(broken.status).toBe(502);
    expect(broken.body.error).toContain("restic");
    expect(broken.body.help).toContain("logs");
  });

  it("404 for a pairing request the gateway does not know", async () => {
    const { response } = await call(freshEnv(), request("/api/admin/devices/req-gone-1/approve", { method: "POST", cookieJwt: await accessToken(), headers: page }));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ ok: false, error: "no pending pairing request req-gone-1", help: expect.stringContaining("refresh") as unknown });
  });
});
