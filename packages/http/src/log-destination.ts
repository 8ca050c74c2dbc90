import { writeSync } from "node:fs";
import pino from "pino";

/** A busy pipe (EAGAIN) is waited for this long in all before its line is dropped. */
const BUSY_RETRIES = 20;
const BUSY_WAIT_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where a service's JSON log lines go: standard output, written synchronously, and never a reason
 * to stop serving. pino's own destination (sonic-boom) throws on a failed write, and when flushing
 * retries one that failed for good (ENOSPC) forever: an instance whose log file sat on a full disk
 * stopped answering anything, health checks included, until it was killed as hung. Here a line that
 * cannot be written is dropped and counted (a busy pipe is waited for briefly first), and the next
 * line that can be written says how many were lost.
 */
export function logDestination(
  fd = 1,
  write: (bytes: Buffer, offset: number, length: number) => number = (bytes, offset, length) =>
    writeSync(fd, bytes, offset, length),
): { write(line: string): void } {
  let dropped = 0;
  let lastError = "";
  /** A line was cut off mid-way: the next one starts on a new line. */
  let isMidLine = false;
  const writeAll = (text: string) => {
    const bytes = Buffer.from(text);
    let busy = 0;
    for (let offset = 0; offset < bytes.length; ) {
      try {
        offset += write(bytes, offset, bytes.length - offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || ++busy > BUSY_RETRIES) {
          isMidLine ||= offset > 0;
          throw error;
        }
        Atomics.wait(sleeper, 0, 0, BUSY_WAIT_MS);
      }
    }
  };
  return {
    write(line) {
      try {
        if (isMidLine) {
          writeAll("\n");
          isMidLine = false;
        }
        if (dropped > 0) {
          const notice = {
            level: 40,
            time: new Date().toISOString(),
            droppedLines: dropped,
            lastError,
            msg: "log lines were dropped: their destination refused them",
          };
          writeAll(`${JSON.stringify(notice)}\n`);
          dropped = 0;
        }
        writeAll(line);
      } catch (error) {
        dropped += 1;
        lastError = (error as NodeJS.ErrnoException).code ?? String(error);
      }
    },
  };
}

/**
 * A service's JSON logger: ISO timestamps, `service` (and `base`) on every line, written through
 * logDestination. The control plane's and the instance's loggers are this one.
 */
export function createJsonLogger(opts: {
  service: string;
  level: string;
  base?: Record<string, unknown>;
}): pino.Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service, ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    logDestination(),
  );
}
