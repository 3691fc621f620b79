/**
 * The Sandbox Durable Object: the SDK's class plus the one thing every Worker isolate must do
 * through a single place, starting `boot.py run`.
 *
 * Why here: `startProcess` with an id that already exists does not fail; the container's
 * process store overwrites the record and runs the command again (sandbox-container
 * src/services/process-store.ts `create`), so two requests that both find no gateway would both
 * start one. The Durable Object is single-threaded per sandbox, so it serialises the
 * list-then-start; `boot.py run`'s own lock (container/openclaw_boot/cli.py RunLock) is the
 * second line. The last start failure is kept in storage so a status poll can show it.
 */
import { Sandbox as SdkSandbox } from "@cloudflare/sandbox";
import { BOOT_RUN, bootProcessId, isBootProcess } from "./boot-command";

const LAST_START_ERROR_KEY = "openclaw-edge:lastStartError";

export interface BootStart {
  processId: string;
  /** False when a boot process was already running (nothing was started). */
  started: boolean;
}

export interface StartError {
  message: string;
  at: string;
}

export interface BootState {
  /** `Container.getState()` from DO storage (never starts the container): healthy, running, stopping, stopped, stopped_with_code. */
  container: string;
  exitCode?: number;
  lastStartError: StartError | null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Sandbox extends SdkSandbox {
  private bootStarting: Promise<BootStart> | undefined;

  /** Starts `boot.py run` with `env` unless one runs already; concurrent callers share one start. */
  async startBoot(env: Record<string, string>): Promise<BootStart> {
    this.bootStarting ??= this.startBootOnce(env).finally(() => {
      this.bootStarting = undefined;
    });
    return this.bootStarting;
  }

  /** The container's lifecycle state and the last start failure, without starting anything. */
  async bootState(): Promise<BootState> {
    const state = await this.getState();
    const lastStartError = (await this.ctx.storage.get<StartError>(LAST_START_ERROR_KEY)) ?? null;
    return {
      container: state.status,
      ...(state.status === "stopped_with_code" && typeof state.exitCode === "number" ? { exitCode: state.exitCode } : {}),
      lastStartError,
    };
  }

  private async startBootOnce(env: Record<string, string>): Promise<BootStart> {
    try {
      // listProcesses starts a stopped container and waits until the SDK server answers.
      const running = (await this.listProcesses()).find(isBootProcess);
      if (running !== undefined) return { processId: running.id, started: false };
      const process = await this.startProcess(BOOT_RUN, { env, processId: bootProcessId() });
      await this.ctx.storage.delete(LAST_START_ERROR_KEY);
      return { processId: process.id, started: true };
    } catch (error) {
      await this.ctx.storage.put(LAST_START_ERROR_KEY, { message: messageOf(error), at: new Date().toISOString() });
      throw error;
    }
  }
}
