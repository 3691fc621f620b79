/** The container's boot command and how to recognise its process in the SDK's process list. */

export const BOOT = "python3 /opt/openclaw-edge/boot.py";
export const BOOT_RUN = `${BOOT} run`;
/** Process ids of boot runs; each start gets a new one (the SDK reuses a duplicate id, see sandbox-do.ts). */
export const BOOT_PROCESS_PREFIX = "openclaw-boot-";

/** Statuses of a live process in the SDK (ProcessStatus of @cloudflare/sandbox). */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(["starting", "running"]);

export interface ProcessLike {
  readonly id: string;
  readonly command: string;
  readonly status: string;
}

export function isBootProcess(process: ProcessLike): boolean {
  return process.command.trim() === BOOT_RUN && ACTIVE_STATUSES.has(process.status);
}

export function bootProcessId(now = Date.now()): string {
  return `${BOOT_PROCESS_PREFIX}${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}
