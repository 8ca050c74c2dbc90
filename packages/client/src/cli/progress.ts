export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 24;
const CLEAR_LINE = "\r\x1b[2K";

/**
 * Progress of a batch of files on stderr. On a terminal: one line, redrawn in place, with a bar
 * of files done and what each file in flight is doing; finished files scroll by above it.
 * Elsewhere (CI logs, pipes): a line per finished file and a status line every `intervalMs`,
 * because carriage returns would turn a log into one unreadable line.
 */
export class FileProgress {
  readonly #stream: ProgressStream;
  readonly #total: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #active = new Map<string, string>();
  #done = 0;
  #lastLineAt: number;
  #barShown = false;

  constructor(
    stream: ProgressStream,
    total: number,
    options: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.#stream = stream;
    this.#total = total;
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#lastLineAt = this.#now();
  }

  get #isTTY(): boolean {
    return this.#stream.isTTY === true;
  }

  /** What `file` is doing now: "uploading", "12/40 chunks"… */
  update(file: string, status: string): void {
    this.#active.set(file, status);
    if (this.#isTTY) {
      this.#drawBar();
    } else if (this.#now() - this.#lastLineAt >= this.#intervalMs) {
      this.#lastLineAt = this.#now();
      this.#stream.write(`${this.#counter()} files done; ${this.#activeSummary()}\n`);
    }
  }

  /** `file` is finished; `outcome` is its one-line result ("ready, 12 chunks", "failed: …"). */
  complete(file: string, outcome: string): void {
    this.#active.delete(file);
    this.#done += 1;
    const line = `${this.#counter()} ${file}: ${outcome}\n`;
    if (this.#isTTY) {
      this.#stream.write(`${CLEAR_LINE}${line}`);
      this.#barShown = false;
      if (this.#done < this.#total) this.#drawBar();
    } else {
      this.#stream.write(line);
    }
  }

  /** Removes the bar, leaving the lines of finished files. */
  stop(): void {
    if (this.#isTTY && this.#barShown) this.#stream.write(CLEAR_LINE);
    this.#barShown = false;
  }

  #counter(): string {
    const width = String(this.#total).length;
    return `[${String(this.#done).padStart(width)}/${this.#total}]`;
  }

  #activeSummary(): string {
    return [...this.#active].map(([file, status]) => `${file} ${status}`).join(", ") || "waiting";
  }

  #drawBar(): void {
    const filled = this.#total === 0 ? BAR_WIDTH : Math.round((this.#done / this.#total) * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const line = `${bar} ${this.#done}/${this.#total} files │ ${this.#activeSummary()}`;
    // One character short of the width: writing the last column wraps on some terminals.
    const columns = (this.#stream.columns || 80) - 1; // 0 on a terminal of unknown size
    const fitted = line.length > columns ? `${line.slice(0, Math.max(0, columns - 1))}…` : line;
    this.#stream.write(`${CLEAR_LINE}${fitted}`);
    this.#barShown = true;
  }
}

/**
 * Progress of one job counted in records (a backup, a restore) on stderr: a bar redrawn in place
 * on a terminal; elsewhere a line every `intervalMs` and at the end.
 */
export class RecordProgress {
  readonly #stream: ProgressStream;
  readonly #label: string;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastLineAt = Number.NEGATIVE_INFINITY;
  #barShown = false;

  constructor(
    stream: ProgressStream,
    label: string,
    options: { intervalMs?: number; now?: () => number } = {},
  ) {
    this.#stream = stream;
    this.#label = label;
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  update(done: number, total: number): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const counter = `${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} records`;
    if (this.#stream.isTTY === true) {
      const filled = Math.round(ratio * BAR_WIDTH);
      const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
      this.#stream.write(`${CLEAR_LINE}${bar} ${Math.round(ratio * 100)}% ${this.#label}: ${counter}`);
      this.#barShown = true;
    } else if (this.#now() - this.#lastLineAt >= this.#intervalMs) {
      this.#lastLineAt = this.#now();
      this.#stream.write(`${this.#label}: ${counter}\n`);
    }
  }

  /** Removes the bar. */
  stop(): void {
    if (this.#barShown) this.#stream.write(CLEAR_LINE);
    this.#barShown = false;
  }
}
