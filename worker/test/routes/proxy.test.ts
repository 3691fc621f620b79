/** HTTP and WebSocket proxy through the origin backend to a real local fake gateway. */
import { describe, expect, it } from "vitest";
import { accessToken, call, GATEWAY_TOKEN, HOST, originEnv, request, secretsIn, SocketProbe } from "../helpers";
import { TOKEN_MISMATCH_HELP } from "../../src/gateway/token";

const env = originEnv("proxy");

async function openSocket(path = "/", extraHeaders: Record<string, string> = {}, environment = env) {
  const jwt = await accessToken();
  const { response, logs } = await call(
    environment,
    request(path, { jwt, headers: { upgrade: "websocket", origin: HOST, "x-forwarded-for": "198.51.100.9", ...extraHeaders } }),
  );
  expect(response.status).toBe(101);
  const socket = response.webSocket;
  if (socket === null) throw new Error("no websocket");
  return { probe: new SocketProbe(socket), logs };
}

describe("origin backend: HTTP", () => {
  it("proxies with the gateway token added and Access credentials and forwarded headers removed", async () => {
    const jwt = await accessToken();
    const { response, logs } = await call(
      env,
      request("/chat/api?x=1", {
        method: "POST",
        body: "hello",
        jwt,
        headers: { cookie: `CF_Authorization=${jwt}; lang=en`, "sec-fetch-site": "same-origin", "x-forwarded-for": "198.51.100.9", "x-real-ip": "198.51.100.9", forwarded: "for=1.2.3.4" },
      }),
    );
    expect(response.status).toBe(200);
    const echoed = (await response.json()) as { method: string; path: string; query: string; body: string; headers: Record<string, string> };
    expect(echoed).toMatchObject({ method: "POST", path: "/chat/api", query: "?x=1", body: "hello" });
    expect(echoed.headers.authorization).toBe(`Bearer ${GATEWAY_TOKEN}`);
    expect(echoed.headers["cf-access-jwt-assertion"]).toBeUndefined();
    expect(echoed.headers.cookie).toBe("lang=en");
    expect(echoed.headers["x-forwarded-for"]).toBeUndefined();
    expect(echoed.headers["x-real-ip"]).toBeUndefined();
    expect(echoed.headers.forwarded).toBeUndefined();
    expect(secretsIn(logs.join("\n"), [GATEWAY_TOKEN, jwt])).toEqual([]);
  });

  it("rebuilds X-Forwarded-* from CF-Connecting-IP and drops what the client sent", async () => {
    const jwt = await accessToken();
    const echo = async (ip: string) => {
      const { response } = await call(env, request("/x", { jwt, headers: { "cf-connecting-ip": ip, "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6" } }));
      return ((await response.json()) as { headers: Record<string, string | undefined> }).headers;
    };
    const remote = await echo("203.0.113.50");
    expect(remote["x-forwarded-for"]).toBe("203.0.113.50");
    expect(remote["x-forwarded-proto"]).toBe("https");
    expect(remote["x-forwarded-host"]).toBe("claw.example.com");
    expect(remote["x-real-ip"]).toBeUndefined();
    const local = await echo("127.0.0.1");
    expect(local["x-forwarded-for"]).toBeUndefined();
    expect(local["x-real-ip"]).toBeUndefined();
  });

  it("keeps secrets in URLs and headers out of the logs", async () => {
    const jwt = await accessToken();
    const { response, logs } = await call(env, request(`/chat?token=${GATEWAY_TOKEN}&x=1`, { jwt, headers: { "x-api-key": GATEWAY_TOKEN } }));
    expect(response.status).toBe(200);
    expect(logs.some((line) => line.includes("/chat?token=[REDACTED]&x=1"))).toBe(true);
    expect(secretsIn(logs.join("\n"), [GATEWAY_TOKEN, jwt])).toEqual([]);
  });

  it("turns a gateway 401 into a message that says what to do", async () => {
    const { response } = await call(env, request("/boom", { jwt: await accessToken() }));
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "gateway rejected the Worker", help: TOKEN_MISMATCH_HELP });
  });

  it("answers 502 when the origin is unreachable", async () => {
    const { response } = await call(originEnv("x", { GATEWAY_ORIGIN: "http://127.0.0.1:9" }), request("/x", { jwt: await accessToken() }));
    expect(response.status).toBe(502);
  });
});

describe("origin backend: WebSocket", () => {
  it("relays both ways, injects the token into the connect frame and keeps close codes", async () => {
    const { probe } = await openSocket();
    const challenge = await probe.nextJson();
    expect(challenge).toMatchObject({ type: "event", event: "connect.challenge" });
    probe.socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { client: { id: "openclaw-control-ui", mode: "webchat" }, role: "operator", scopes: [] } }));
    expect(await probe.nextJson()).toMatchObject({ type: "res", id: "c1", ok: true });
    probe.socket.send(JSON.stringify({ type: "req", id: "h", method: "debug.upgradeHeaders" }));
    const headers = ((await probe.nextJson()).payload as { headers: Record<string, string> }).headers;
    expect(headers.authorization).toBe(`Bearer ${GATEWAY_TOKEN}`);
    expect(headers["cf-access-jwt-assertion"]).toBeUndefined();
    expect(headers["x-forwarded-for"]).toBeUndefined();
    probe.socket.send("plain text");
    expect(await probe.next()).toBe("echo:plain text");
    probe.socket.send("close:4001:bye");
    expect(await probe.closed).toEqual({ code: 4001, reason: "bye" });
  });

  it("leaves a client-supplied token alone", async () => {
    const { probe } = await openSocket();
    await probe.nextJson();
    probe.socket.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: { auth: { token: "wrong-token" }, role: "operator", scopes: [] } }));
    const answer = await probe.nextJson();
    expect(answer).toMatchObject({ id: "c1", ok: false });
    const message = (answer.error as { message: string }).message;
    expect(message).toContain("restart it from /_admin/");
    const closed = await probe.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe("gateway token rejected: restart the gateway from /_admin/");
  });

  it("closes from the client side with the client's code", async () => {
    const { probe } = await openSocket();
    await probe.nextJson();
    probe.socket.close(4002, "client done");
    const closed = await probe.closed;
    expect([4002, 1005, 1006]).toContain(closed.code);
  });

  it("rejects cross-origin WebSocket upgrades", async () => {
    const { response } = await call(env, request("/", { jwt: await accessToken(), headers: { upgrade: "websocket", origin: "https://evil.example" } }));
    expect(response.status).toBe(403);
  });
});
