/** /cdp shim: 503 without binding or secret, constant-time secret check, tickets, WebSocket relay. */
import { describe, expect, it } from "vitest";
import { issueTicket, secretsEqual, ticketValid } from "../src/routes/cdp";
import { call, originEnv, request, SECRET_VALUES, secretsIn, SocketProbe } from "./helpers";

const secret = SECRET_VALUES.CDP_SECRET;

function fakeBrowser(): Fetcher & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      calls.push(`${req.method} ${new URL(req.url).pathname}`);
      if (req.method === "POST") return Response.json({ sessionId: "session-1" });
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].addEventListener("message", (event) => pair[1].send(`cdp:${String(event.data)}`));
      return new Response(null, { status: 101, webSocket: pair[0] });
    },
    connect: () => {
      throw new Error("not used");
    },
  } as unknown as Fetcher & { calls: string[] };
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
