/** Relays one WebSocket between the client and the gateway, with per-direction text transforms. */

export interface RelayOptions {
  toUpstream?: (data: string) => string;
  toClient?: (data: string) => string;
  closeReason?: (code: number, reason: string) => string;
  onClose?: (side: "client" | "upstream", code: number) => void;
}

/** Forwards a close, keeping the code when the runtime allows sending it. */
export function forwardClose(socket: WebSocket, code: number, reason: string): void {
  try {
    if (code === 1005) socket.close();
    else if (code === 1006 || code === 1015) socket.close(1011, "peer closed abnormally");
    else socket.close(code, reason);
  } catch {
    try {
      socket.close(1011, "relay error");
    } catch {
      // already closed
    }
  }
}

export function relayWebSocket(upstream: WebSocket, options: RelayOptions = {}): Response {
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  server.accept();
  upstream.accept();
  server.addEventListener("message", (event) => {
    const raw: string | ArrayBuffer = event.data as string | ArrayBuffer;
    const data = typeof raw === "string" && options.toUpstream ? options.toUpstream(raw) : raw;
    try {
      upstream.send(data);
    } catch {
      forwardClose(server, 1011, "gateway connection lost");
    }
  });
  upstream.addEventListener("message", (event) => {
    const raw: string | ArrayBuffer = event.data as string | ArrayBuffer;
    const data = typeof raw === "string" && options.toClient ? options.toClient(raw) : raw;
    try {
      server.send(data);
    } catch {
      forwardClose(upstream, 1001, "client gone");
    }
  });
  server.addEventListener("close", (event) => {
    options.onClose?.("client", event.code);
    forwardClose(upstream, event.code, event.reason);
  });
  upstream.addEventListener("close", (event) => {
    options.onClose?.("upstream", event.code);
    const reason = options.closeReason ? options.closeReason(event.code, event.reason) : event.reason;
    forwardClose(server, event.code, reason);
  });
  server.addEventListener("error", () => forwardClose(upstream, 1011, "client error"));
  upstream.addEventListener("error", () => forwardClose(server, 1011, "gateway error"));
  return new Response(null, { status: 101, webSocket: client });
}
