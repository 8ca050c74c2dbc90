import { readFile } from "node:fs/promises";
import os from "node:os";

/** Small pieces every benchmark script uses: env options, logging, number formatting, JSON calls. */

/** A positive whole number from an environment variable, else `fallback`. */
export function positiveInt(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Progress lines prefixed with the benchmark's name, e.g. `[bench:search] …`. */
export function benchLog(name: string): (message: string) => void {
  return (message) => console.log(`[bench:${name}] ${message}`);
}

/** The `p`th percentile (0–100) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** The Date, Node and CPU rows every results table starts with (markdown table rows, one per line). */
/** The middle of `values` (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

/**
 * User + system CPU seconds from a `/proc` stat file: a process's, all its threads
 * (`/proc/<pid>/stat`), or one thread's (`/proc/<pid>/task/<tid>/stat`).
 */
export async function cpuSecondsOf(statFile: string): Promise<number> {
  const stat = await readFile(statFile, "utf8");
  // Fields after the command name "(…)": state is field 3, utime 14 and stime 15, in USER_HZ ticks.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Milliseconds for a table cell: whole, or "n/a" when not measured. */
export function ms(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value)) : "n/a";
}

export function machineRows(date = new Date()): string {
  return [
    `| Date | ${date.toISOString()} |`,
    `| Node | ${process.version} |`,
    `| CPU | ${os.cpus()[0]?.model ?? "unknown"} |`,
  ].join("\n");
}

/**
 * What the machine's cores were shared with while a benchmark ran, for its results table. Set
 * `BENCH_SHARED_WITH` (e.g. "3 other engineers' builds and tests") when the run was not alone on
 * the machine; the load averages beside the timings show how busy it was either way.
 */
export function coresShared(cores: number): string {
  const sharedWith = process.env.BENCH_SHARED_WITH?.trim();
  return sharedWith
    ? `${cores}, shared with ${sharedWith} while this ran (their load is in the load averages)`
    : `${cores}, no other work started on the machine during the run (see the load averages)`;
}

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

export function signed(value: number, digits: number): string {
  return `${value > 0 ? "+" : ""}${fixed(value, digits)}`;
}

export interface JsonInit {
  /** Default: POST with a body, GET without. */
  method?: string;
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  body?: unknown;
  /**
   * A 429 is waited out (its Retry-After) and the call sent again, as a well-behaved client
   * does, up to 60 times; called once per 429 so the bench can report them.
   */
  onRateLimited?: () => void;
}

/** One JSON call, whatever the status: the status and the parsed body (null when empty). */
export async function requestJson<T>(url: string, init: JsonInit = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    if (res.status === 429 && init.onRateLimited && attempt < 60) {
      init.onRateLimited();
      const seconds = Number(res.headers.get("retry-after")) || 1;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

/** One JSON call that must answer `expect`; its parsed body. */
export async function callJson<T>(url: string, init: JsonInit = {}, expect = 200): Promise<T> {
  const { status, body } = await requestJson<T>(url, init);
  if (status !== expect) {
    throw new Error(
      `${init.method ?? (init.body === undefined ? "GET" : "POST")} ${url}: HTTP ${status} ${JSON.stringify(body)}`,
    );
  }
  return body;
}
