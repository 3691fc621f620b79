/**
 * The Worker's own gateway device identity: an Ed25519 key derived from the gateway token (HKDF),
 * so it needs no storage and changes when the token is rotated. Signs the connect challenge (v3).
 */

const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const encoder = new TextEncoder();

export interface DeviceIdentity {
  deviceId: string;
  publicKey: string;
  privateKey: CryptoKey;
}

export function base64Url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const normalized = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(normalized + "=".repeat((4 - (normalized.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function deriveDeviceIdentity(gatewayToken: string): Promise<DeviceIdentity> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(gatewayToken), "HKDF", false, ["deriveBits"]);
  const seed = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("openclaw-edge"), info: encoder.encode("worker-admin-device/v1") },
    ikm,
    256,
  );
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(new Uint8Array(seed), PKCS8_ED25519_PREFIX.length);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  if (typeof jwk.x !== "string") throw new Error("Ed25519 key export lacks the public part");
  const publicRaw = fromBase64Url(jwk.x);
  return {
    deviceId: hex(await crypto.subtle.digest("SHA-256", publicRaw)),
    publicKey: base64Url(publicRaw),
    privateKey,
  };
}

export interface SignatureInput {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: string[];
  signedAtMs: number;
  token: string;
  nonce: string;
  platform: string;
}

/** The gateway's v3 device-auth payload (packages/gateway-client/src/device-auth.ts). */
export function deviceAuthPayloadV3(deviceId: string, input: SignatureInput): string {
  return [
    "v3",
    deviceId,
    input.clientId,
    input.clientMode,
    input.role,
    input.scopes.join(","),
    String(input.signedAtMs),
    input.token,
    input.nonce,
    input.platform.trim().toLowerCase(),
    "",
  ].join("|");
}

export async function signChallenge(identity: DeviceIdentity, input: SignatureInput) {
  const payload = deviceAuthPayloadV3(identity.deviceId, input);
  const signature = await crypto.subtle.sign("Ed25519", identity.privateKey, encoder.encode(payload));
  return {
    id: identity.deviceId,
    publicKey: identity.publicKey,
    signature: base64Url(signature),
    signedAt: input.signedAtMs,
    nonce: input.nonce,
  };
}
