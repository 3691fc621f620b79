// What one Access JWT verification costs, against a cache hit (worker/src/auth/access.ts):
// jose's jwtVerify (RS256, a local key set: no JWKS fetch) in a loop, on Node 24 (V8 and
// WebCrypto, as workerd; not workerd itself). Prints JSON; no network.
//   scripts/with-toolchain node bench/jwt_profile.mjs
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "../worker/node_modules/jose/dist/webapi/index.js";

const { publicKey, privateKey } = await generateKeyPair("RS256");
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" }] });
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ email: "bench@example.com" })
  .setProtectedHeader({ alg: "RS256", kid: "k1" })
  .setAudience("aud")
  .setIssuer("https://team.example.com")
  .setIssuedAt(now)
  .setExpirationTime(now + 600)
  .sign(privateKey);
const options = { audience: "aud", issuer: "https://team.example.com" };
const rounds = 2000;
for (let i = 0; i < 50; i += 1) await jwtVerify(token, jwks, options);
let started = performance.now();
for (let i = 0; i < rounds; i += 1) await jwtVerify(token, jwks, options);
const verifyMs = (performance.now() - started) / rounds;
const cache = new Map([[`aud\nhttps://team.example.com\njwks\n${token}`, { until: Date.now() + 60_000 }]]);
started = performance.now();
for (let i = 0; i < rounds; i += 1) {
  const hit = cache.get(`aud\nhttps://team.example.com\njwks\n${token}`);
  if (hit === undefined || Date.now() >= hit.until) throw new Error("miss");
}
const hitMs = (performance.now() - started) / rounds;
console.log(JSON.stringify({ jwtVerifyRs256Ms: Number(verifyMs.toFixed(4)), cacheHitMs: Number(hitMs.toFixed(5)) }));
