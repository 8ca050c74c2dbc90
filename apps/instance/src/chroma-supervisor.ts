import { type ChromaProcess, type StartChromaOptions, startChromaProcess } from "./chroma-process";
import type { Logger } from "./logger";

/** `running`: answering; `restarting`: crashed and being started again; `failed`: given up. */
export type ChromaState = "running" | "restarting" | "failed" | "stopped";

export interface ChromaSupervisorOptions {
  /** Chroma's persistence directory. */
  path: string;
  logger?: Logger;
  /**
   * Pause before each restart attempt after a crash, in order; its length is how many attempts
   * are made before giving up. The first is 0: a single crash is repaired at once.
   */
  backoffMs?: number[];
  /** Running this long without a crash forgets earlier crashes (the next one restarts at once). */
  healthyResetMs?: number;
  /** Called once when every attempt failed: the instance cannot serve and should exit. */
  onGiveUp?: (error: Error) => void;
  /** Called on every state change (tests and logs). */
  onStateChange?: (state: ChromaState) => void;
  startTimeoutMs?: number;
  /** See StartChromaOptions: how many HNSW indexes Chroma keeps loaded (a pool's bound). */
  hnswCacheCapacity?: number;
}

const DEFAULT_BACKOFF_MS = [0, 250, 1_000, 2_000, 4_000];
const DEFAULT_HEALTHY_RESET_MS = 60_000;

/**
 * The instance's own Chroma, restarted in place when it crashes: the instance process, its
 * loaded model and open connections stay, and only Chroma (about 0.3 s to its first heartbeat)
 * starts again, on the same port so every client of it keeps its URL. Crashes in a row back off;
 * after the last attempt `onGiveUp` lets the instance exit for its own supervisor to replace.
 *
 * @example
 * const chroma = await ChromaSupervisor.start({ path: "./data/chroma", onGiveUp: () => process.exit(1) });
 * if (!chroma.isAvailable()) throw new AppError({ code: "SERVICE_UNAVAILABLE", ... });
 */
export class ChromaSupervisor {
  private state_: ChromaState = "running";
  private crashesInARow = 0;
  private healthySince = Date.now();
  private restarting: Promise<void> | null = null;

  private constructor(
    private current: ChromaProcess,
    private readonly opts: ChromaSupervisorOptions,
  ) {}

  /** Starts Chroma (reclaiming one a killed predecessor left) and watches it. */
  static async start(opts: ChromaSupervisorOptions): Promise<ChromaSupervisor> {
    let supervisor: ChromaSupervisor | null = null;
    const first = await startChromaProcess({
      ...chromaOptions(opts),
      onUnexpectedExit: () => supervisor?.crashed(),
    });
    supervisor = new ChromaSupervisor(first, opts);
    return supervisor;
  }

  get state(): ChromaState {
    return this.state_;
  }

  /** Base URL; the same across restarts. */
  get url(): string {
    return this.current.url;
  }

  get pid(): number {
    return this.current.pid;
  }

  private isStopped(): boolean {
    return this.state_ === "stopped";
  }

  isAvailable(): boolean {
    return this.state_ === "running";
  }

  async stop(): Promise<void> {
    this.setState("stopped");
    await this.restarting?.catch(() => undefined);
    await this.current.stop();
  }

  private setState(state: ChromaState): void {
    if (this.state_ === state || this.state_ === "stopped") return;
    this.state_ = state;
    this.opts.onStateChange?.(state);
  }

  private crashed(): void {
    if (this.state_ !== "running") return;
    if (Date.now() - this.healthySince >= (this.opts.healthyResetMs ?? DEFAULT_HEALTHY_RESET_MS)) {
      this.crashesInARow = 0;
    }
    this.setState("restarting");
    this.restarting = this.restart().finally(() => {
      this.restarting = null;
    });
  }

  private async restart(): Promise<void> {
    const backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    let lastError: Error = new Error("Chroma exited");
    while (this.crashesInARow < backoff.length) {
      const pause = backoff[this.crashesInARow] ?? 0;
      this.crashesInARow += 1;
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      if (this.isStopped()) return;
      this.opts.logger?.warn({ attempt: this.crashesInARow, port: this.current.port }, "restarting Chroma");
      try {
        const next = await startChromaProcess({
          ...chromaOptions(this.opts),
          port: this.current.port,
          onUnexpectedExit: () => this.crashed(),
        });
        if (this.isStopped()) {
          await next.stop();
          return;
        }
        this.current = next;
        this.healthySince = Date.now();
        this.setState("running");
        this.opts.logger?.info({ pid: next.pid, url: next.url }, "Chroma restarted");
        return;
      } catch (error) {
        lastError = error as Error;
        this.opts.logger?.error({ err: error, attempt: this.crashesInARow }, "Chroma did not restart");
      }
    }
    this.setState("failed");
    this.opts.onGiveUp?.(lastError);
  }
}

function chromaOptions(opts: ChromaSupervisorOptions): StartChromaOptions {
  return {
    path: opts.path,
    logger: opts.logger,
    startTimeoutMs: opts.startTimeoutMs,
    hnswCacheCapacity: opts.hnswCacheCapacity,
  };
}
