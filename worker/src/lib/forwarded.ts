/**
 * Client attribution for the gateway. The container's gateway trusts proxies on loopback and
 * private ranges and then *requires* X-Forwarded-For naming a non-loopback client; a direct
 * loopback request without forwarded headers counts as local. So the Worker drops whatever the
 * client sent and, when Cloudflare told it the real client address (CF-Connecting-IP), sets
 * X-Forwarded-For/-Proto/-Host itself; for loopback clients (local dev) it sends none.
 */

const FORWARDED = /^(forwarded|x-real-ip|x-forwarded-.*)$/i;

export function isLoopback(ip: string): boolean {
  const value = ip.trim().toLowerCase();
  return value === "::1" || value === "localhost" || value.startsWith("127.") || value.startsWith("::ffff:127.");
}

/** The end user's address, when Cloudflare supplied one that is worth forwarding. */
export function clientAddress(request: Request): string | undefined {
  const ip = request.headers.get("cf-connecting-ip")?.trim();
  return ip && !isLoopback(ip) && /^[0-9a-fA-F:.]+$/.test(ip) ? ip : undefined;
}

export function applyForwarded(headers: Headers, clientIp: string | undefined, publicUrl: string): void {
  for (const name of [...headers.keys()]) {
    if (FORWARDED.test(name)) headers.delete(name);
  }
  if (clientIp === undefined) return;
  const url = new URL(publicUrl);
  headers.set("x-forwarded-for", clientIp);
  headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
  headers.set("x-forwarded-host", url.host);
}
