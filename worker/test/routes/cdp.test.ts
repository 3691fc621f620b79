/** /cdp shim: 503 without binding or secret, constant-time secret check, tickets, WebSocket relay. */
import { describe, expect, it } from "vitest";
import { issueTicket, secretsEqual, ticketValid } from "../../src/routes/cdp";
import { call, callOpen, originEnv, request, SECRET_VALUES, secretsIn, SocketProbe } from "../helpers";

const secret = SECRET_VALUES.CDP_SECRET;

/**
 * The Browser Rendering binding as its routes are (miniflare's local implementation,
 * node_modules/miniflare/dist/src/workers/browser-rendering/binding.worker.js:
 * POST /v1/devtools/browser acquires, GET /v1/devtools/browser/:id connects, DELETE closes).
 */
function fakeBrowser(options: { refuseUpgrade?: boolean } = {}): Fetcher & { calls: string[]; upgradeHeaders: Headers[]; closed: Promise<void> } {
  const calls: string[] = [];
  const upgradeHeaders: Headers[] = [];
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  return {
    calls,
    upgradeHeaders,
    closed,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      calls.push(`${req.method} ${new URL(req.url).pathname}${new URL(req.url).search}`);
      if (req.method === "POST") return Response.json({ sessionId: "session-1" });
      if (req.method === "DELETE") {
        markClosed();
        return Response.json({ status: "closed" });
      }
      upgradeHeaders.push(req.headers);
      if (options.refuseUpgrade) return new Response("no", { status: 500 });
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].addEventListener("message", (event) => pair[1].send(`cdp:${String(event.data)}`));
      return new Response(null, { status: 101, webSocket: pair[0] });
    },
    connect: () => {
      throw new Error("not used");
    },
  } as unknown as Fetcher & { calls: string[]; upgradeHeaders: Headers[]; closed: Promise<void> };
}

describe("CDP shim", () => {
  it("answers 503 without the Browser binding or without CDP_SECRET", async () => {
    const noBinding = await call(originEnv("cdp", { CDP_SECRET: secret }), request(`/cdp/json/version?secret=${secret}`));
    expect(noBinding.response.status).toBe(503);
    const noSecret = await call(originEnv("cdp", { BROWSER: fakeBrowser() }), request("/cdp/json/version?secret=x"));
    expect(noSecret.response.status).toBe(503);
  });

  it("rejects a missing or wrong secret with 401, without Access", async () => {
    const env = originEnv("cdp", { CDP_SECRET: secret, BROWSER: fakeBrowser() });
    expect((await call(env, request("/cdp/json/version"))).response.status).toBe(401);
    expect((await call(env, request("/cdp/json/version?secret=wrong"))).response.status).toBe(401);
    expect((await call(env, request(`/cdp/json/version?secret=${secret}x`))).response.status).toBe(401);
  });

  it("serves discovery with a ticket instead of the secret", async () => {
    const env = originEnv("cdp", { CDP_SECRET: secret, BROWSER: fakeBrowser() });
    const { response, logs } = await call(env, request("/cdp/json/version", { headers: { "x-cdp-secret": secret } }));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(secretsIn(text, [secret])).toEqual([]);
    expect(secretsIn(logs.join("\n"), [secret])).toEqual([]);
    const url = new URL((JSON.parse(text) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl);
    expect(url.protocol).toBe("wss:");
    expect(url.pathname).toBe("/cdp");
    const list = await call(env, request(`/cdp/json/list?ticket=${url.searchParams.get("ticket") ?? ""}`));
    expect(list.response.status).toBe(200);
  });

  it("relays the DevTools WebSocket from the Browser Rendering binding", async () => {
    const browser = fakeBrowser();
    const env = originEnv("cdp", { CDP_SECRET: secret, BROWSER: browser });
    const { response, logs } = await call(env, request(`/cdp?secret=${secret}`, { headers: { upgrade: "websocket" } }));
    expect(response.status).toBe(101);
    const probe = new SocketProbe(response.webSocket as WebSocket);
    probe.socket.send('{"id":1,"method":"Browser.getVersion"}');
    expect(await probe.next()).toBe('cdp:{"id":1,"method":"Browser.getVersion"}');
    expect(browser.calls).toEqual(["POST /v1/devtools/browser", "GET /v1/devtools/browser/session-1"]);
    expect(secretsIn(logs.join("\n"), [secret])).toEqual([]);
    probe.socket.close(1000, "done");
  });

  // Item 3: a session per connection, ended when the client goes (not 10 minutes later).
  it("closes the Browser Rendering session when the client disconnects", async () => {
    const browser = fakeBrowser();
    const env = originEnv("cdp", { CDP_SECRET: secret, BROWSER: browser });
    const { response } = await callOpen(env, request(`/cdp?secret=${secret}`, { headers: { upgrade: "websocket" } }));
    const probe = new SocketProbe(response.webSocket as WebSocket);
    probe.socket.send("ping");
    expect(await probe.next()).toBe("cdp:ping");
    probe.socket.close(1000, "client done");
    await browser.closed;
    expect(browser.calls).toEqual(["POST /v1/devtools/browser", "GET /v1/devtools/browser/session-1", "DELETE /v1/devtools/browser/session-1"]);
  });

  it("sends the headers a DevTools client sends on the upgrade, and frees a session it could not connect", async () => {
    const browser = fakeBrowser({ refuseUpgrade: true });
    const env = originEnv("cdp", { CDP_SECRET: secret, BROWSER: browser });
    const { response } = await call(env, request(`/cdp?secret=${secret}`, { headers: { upgrade: "websocket" } }));
    expect(response.status).toBe(502);
    const [headers] = browser.upgradeHeaders;
    expect(headers?.get("upgrade")).toBe("websocket");
    expect(headers?.get("connection")).toBe("Upgrade");
    expect(headers?.get("sec-websocket-version")).toBe("13");
    expect(browser.calls).toContain("DELETE /v1/devtools/browser/session-1");
  });

  it("never lets /cdp paths fall through to the gateway proxy without Access", async () => {
    const env = originEnv("cdp", { CDP_SECRET: secret, BROWSER: fakeBrowser() });
    expect((await call(env, request("/cdp/other"))).response.status).toBe(404);
    expect((await call(env, request(`/cdp/json/new?secret=${secret}`))).response.status).toBe(404);
    expect((await call(env, request("/cdp", { method: "POST" }))).response.status).toBe(405);
  });

  it("compares secrets and tickets correctly", async () => {
    expect(await secretsEqual(secret, secret)).toBe(true);
    expect(await secretsEqual(secret, `${secret}!`)).toBe(false);
    expect(await secretsEqual("", secret)).toBe(false);
    const now = 1_800_000_000;
    const ticket = await issueTicket(secret, now);
    expect(await ticketValid(ticket, secret, now + 10)).toBe(true);
    expect(await ticketValid(ticket, secret, now + 1000)).toBe(false);
    expect(await ticketValid(ticket, "other-secret", now)).toBe(false);
    expect(await ticketValid(`${now + 100}.AAAA`, secret, now)).toBe(false);
  });
});
