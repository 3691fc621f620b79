/** What a failed container start means for the user, from the Sandbox SDK's error texts. */
import { TimeoutError } from "./control";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a failed start means for the user, from the SDK's error texts (realm-safe: messages, not classes). */
export function describeStartError(error: unknown): { state: "starting" | "not_running"; detail: string; retryAfterSeconds?: number } {
  const message = messageOf(error);
  const lower = message.toLowerCase();
  if (error instanceof TimeoutError) {
    return { state: "starting", detail: `the container is still starting (${message})`, retryAfterSeconds: 10 };
  }
  // @cloudflare/sandbox CONTAINER_UNAVAILABLE_SIGNATURES, and the 503 "Container is starting" bodies of Sandbox.containerFetch.
  if (
    lower.includes("no container instance") ||
    lower.includes("maximum number of running container instances") ||
    lower.includes("container is starting") ||
    (error instanceof Error && error.name === "ContainerUnavailableError")
  ) {
    return {
      state: "starting",
      detail:
        "Cloudflare has no container ready for this sandbox yet: it is being provisioned (the first minutes after a deploy) or the account's container limit is reached. It keeps trying; retry in a minute.",
      retryAfterSeconds: 30,
    };
  }
  // Sandbox.isPermanentStartupError (sandbox.js): out of memory, no such image, no application...
  if (/permanent error|ran out of memory|too many subprocesses|no such image|no application that matches|no container application/.test(lower)) {
    return {
      state: "not_running",
      detail: `The container cannot start: ${message} Check the image and instance type of the deploy (wrangler deploy output, Containers dashboard); retrying will not help.`,
    };
  }
  return { state: "not_running", detail: `The container did not start: ${message}` };
}
