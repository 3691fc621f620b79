// Starts the real loopback servers the workerd tests talk to and hands their addresses (and the
// Access signing keys) to the tests through vitest's provide/inject.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import "./provided";
import type { TestProject } from "vitest/node";
import { makeAccessKeys, startFakeGateway, startJwksServer } from "./fixtures/servers";
import { GATEWAY_TOKEN } from "./fixtures/constants";

function dockerfileSandboxTag(): string | null {
  try {
    const text = readFileSync(fileURLToPath(new URL("../../container/Dockerfile", import.meta.url)), "utf8");
    return /^FROM\s+docker\.io\/cloudflare\/sandbox:(\S+)/m.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

export default async function setup(project: TestProject) {
  const keys = await makeAccessKeys();
  const jwks = await startJwksServer(keys);
  const gateway = await startFakeGateway(GATEWAY_TOKEN);
  project.provide("jwksUrl", jwks.url);
  project.provide("accessKeys", keys);
  project.provide("gatewayOrigin", gateway.origin);
  project.provide("dockerfileSandboxTag", dockerfileSandboxTag());
  return async () => {
    await gateway.close();
    await jwks.close();
  };
}
