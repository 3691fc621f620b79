/**
 * A short-lived client for the gateway's WebSocket RPC (protocol 4): waits for connect.challenge,
 * connects with the shared token and the Worker's signed device identity, then calls methods.
 * Works over either backend because the socket comes from Backend.connectWebSocket.
 */
import type { Backend } from "../backend/types";
import { deriveDeviceIdentity, signChallenge } from "./device";
import { applyForwarded } from "../lib/forwarded";

const PROTOCOL = 4;
const CLIENT = { id: "cli", version: "openclaw-edge-worker", platform: "linux", mode: "cli" } as const;
export const ADMIN_SCOPES = ["operator.admin", "operator.pairing", "operator.read", "operator.write"];
const STEP_TIMEOUT_MS = 15_000;

interface Frame {
  type?: string;
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: unknown;
  error?: { code?: string; message?: string; details?: Record<string, unknown>; retryable?: boolean; retryAfterMs?: number };
}

export class GatewayRpcError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details: Record<string, unknown> = {},
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "GatewayRpcError";
  }
}

/** The Worker's own device is not approved yet (first admin call against this gateway). */
export class WorkerDeviceNotPaired extends GatewayRpcError {
  constructor(readonly requestId: string, readonly deviceId: string) {
    super("the Worker's admin device is waiting for approval", "PAIRING_REQUIRED", { requestId, deviceId });
    this.name = "WorkerDeviceNotPaired";
  }
}

export interface RpcSession {
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  readonly deviceId: string;
}

interface Waiter {
  match: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
}

class FrameQueue {
  private frames: Frame[] = [];
  private waiters: Waiter[] = [];
  private closedWith: Error | undefined;

  push(frame: Frame): void {
    const index = this.waiters.findIndex((waiter) => waiter.match(frame));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter?.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }

  close(error: Error): void {
    this.closedWith = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  next(match: (frame: Frame) => boolean, what: string): Promise<Frame> {
    const index = this.frames.findIndex(match);
    if (index >= 0) return Promise.resolve(this.frames.splice(index, 1)[0] as Frame);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<Frame>((resolve, reject: (error: Error) => void) => {
      const waiter: Waiter = { match, resolve, reject };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
        reject(new GatewayRpcError(`gateway did not answer ${what} within ${STEP_TIMEOUT_MS} ms`, "TIMEOUT"));
      }, STEP_TIMEOUT_MS);
      waiter.resolve = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      waiter.reject = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.waiters.push(waiter);
    });
  }
}

/**
 * Both upgrade headers, always: the Sandbox SDK treats a request as a WebSocket only with
 * `Upgrade: websocket` and a `Connection` containing `upgrade` (Sandbox.fetch); anything else
 * goes to the SDK's own server on port 3000, which answers 200 "Hello from Bun server".
 */
export const UPGRADE_HEADERS = { upgrade: "websocket", connection: "Upgrade" } as const;

async function openSocket(backend: Backend, token: string): Promise<WebSocket> {
  if (backend.kind === "sandbox") {
    // Start before the RPC: a WebSocket to a stopped container waits 90 s for a port that only
    // `boot.py run` opens.
    const state = await backend.ensureRunning(backend.startupTimeoutMs);
    if (state.state !== "running") {
      throw new GatewayRpcError(`the gateway is not running: ${state.detail ?? state.state}`, "UNAVAILABLE", { state: state.state });
    }
  }
  const headers = new Headers({ ...UPGRADE_HEADERS, authorization: `Bearer ${token}` });
  applyForwarded(headers, backend.clientIp, "https://gateway.internal/");
  const request = new Request("http://gateway.internal/", { headers });
  const response = await backend.connectWebSocket(request);
  const socket = response.webSocket;
  if (response.status !== 101 || socket === null) {
    await response.body?.cancel();
    throw new GatewayRpcError(`gateway refused the WebSocket upgrade (HTTP ${response.status})`, "UPGRADE_FAILED");
  }
  socket.accept();
  return socket;
}

/** Opens a session, runs `use`, always closes the socket. */
export async function withGatewayRpc<T>(backend: Backend, token: string, use: (session: RpcSession) => Promise<T>): Promise<T> {
  const identity = await deriveDeviceIdentity(token);
  const socket = await openSocket(backend, token);
  const queue = new FrameQueue();
  socket.addEventListener("message", (event) => {
    try {
      const raw: string | ArrayBuffer = event.data as string | ArrayBuffer;
      queue.push(JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw)) as Frame);
    } catch {
      // non-JSON frames are not part of the protocol
    }
  });
  socket.addEventListener("close", (event) => {
    queue.close(new GatewayRpcError(`gateway closed the connection (${event.code}${event.reason ? `: ${event.reason}` : ""})`, "CLOSED"));
  });
  let counter = 0;
  const send = (method: string, params: Record<string, unknown>): string => {
    const id = `edge-${++counter}`;
    socket.send(JSON.stringify({ type: "req", id, method, params }));
    return id;
  };
  const response = async (id: string, what: string): Promise<unknown> => {
    const frame = await queue.next((candidate) => candidate.type === "res" && candidate.id === id, what);
    if (frame.ok) return frame.payload;
    const error = frame.error ?? {};
    const details = error.details ?? {};
    if (details.code === "PAIRING_REQUIRED" && details.deviceId === identity.deviceId && typeof details.requestId === "string") {
      throw new WorkerDeviceNotPaired(details.requestId, identity.deviceId);
    }
    const code = typeof details.code === "string" ? details.code : (error.code ?? "ERROR");
    const retryAfter = error.retryable === true ? Math.max(100, Math.min(error.retryAfterMs ?? 1_000, 3_000)) : undefined;
    throw new GatewayRpcError(error.message ?? `${what} failed`, code, details, retryAfter);
  };
  try {
    const challenge = await queue.next((frame) => frame.type === "event" && frame.event === "connect.challenge", "connect.challenge");
    const payload = (challenge.payload ?? {}) as { nonce?: unknown; ts?: unknown };
    if (typeof payload.nonce !== "string" || typeof payload.ts !== "number") {
      throw new GatewayRpcError("malformed connect.challenge", "PROTOCOL");
    }
    const device = await signChallenge(identity, {
      clientId: CLIENT.id,
      clientMode: CLIENT.mode,
      role: "operator",
      scopes: ADMIN_SCOPES,
      signedAtMs: payload.ts,
      token,
      nonce: payload.nonce,
      platform: CLIENT.platform,
    });
    const connectId = send("connect", {
      minProtocol: PROTOCOL,
      maxProtocol: PROTOCOL,
      client: CLIENT,
      role: "operator",
      scopes: ADMIN_SCOPES,
      caps: [],
      auth: { token },
      device,
    });
    await response(connectId, "connect");
    return await use({
      deviceId: identity.deviceId,
      call: (method, params = {}) => response(send(method, params), method),
    });
  } finally {
    try {
      socket.close(1000, "done");
    } catch {
      // already closed
    }
  }
}

const RETRY_BUDGET_MS = 12_000;

/** Retries while the gateway answers "retryable" (e.g. still starting its sidecars), within a budget. */
async function withRetries<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      const wait = error instanceof GatewayRpcError ? error.retryAfterMs : undefined;
      if (wait === undefined || Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Like withGatewayRpc, plus: retries retryable answers, and approves the Worker's own device once
 * (where the backend can do that from inside the gateway host) before retrying.
 */
export async function gatewayRpc<T>(backend: Backend, token: string, use: (session: RpcSession) => Promise<T>): Promise<T> {
  try {
    return await withRetries(() => withGatewayRpc(backend, token, use));
  } catch (error) {
    if (!(error instanceof WorkerDeviceNotPaired)) throw error;
    const approval = await backend.selfApproveDevice(error.requestId);
    if (!approval.ok) throw new GatewayRpcError(approval.error, "PAIRING_REQUIRED", { requestId: error.requestId, deviceId: error.deviceId });
    return withRetries(() => withGatewayRpc(backend, token, use));
  }
}
