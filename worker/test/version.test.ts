/** The Sandbox SDK pin and the container base image tag must be the same version. */
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import workerPackage from "../package.json";

describe("versions", () => {
  it("pins @cloudflare/sandbox exactly", () => {
    expect(workerPackage.dependencies["@cloudflare/sandbox"]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("matches container/Dockerfile FROM docker.io/cloudflare/sandbox:<version>", () => {
    const tag = inject("dockerfileSandboxTag");
    expect(tag, "container/Dockerfile needs a `FROM docker.io/cloudflare/sandbox:<version>` line").not.toBeNull();
    expect(tag).toBe(workerPackage.dependencies["@cloudflare/sandbox"]);
  });
});
