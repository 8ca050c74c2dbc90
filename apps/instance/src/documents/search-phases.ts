import { appendFile } from "node:fs/promises";

/**
 * Where a search's time goes, phase by phase (ms): `embed`, `keyword`, `chroma` (the vector
 * query), `rows` (reading hits' fields after fusion, from the keyword index's rows file, else
 * the row cache or Chroma), `fuse`, `serialise`, `total`; `rowsRead` counts the rows not in the
 * rows file (asked of the row cache, or Chroma). Phases that run
 * side by side (hybrid embeds the query while it ranks by keyword) overlap, so they need not sum
 * to the total. Recorded only when `SEARCH_PHASES_FILE` names a file, for bench/retrieval.
 */
export type SearchPhases = Record<string, number>;

export interface SearchPhaseLog {
  /** Adds one search's phases (a JSON line with its mode) to the file, written in batches. */
  record(mode: string, phases: SearchPhases): void;
}

/** How often buffered lines are appended: off the searches' own path, never one write each. */
const FLUSH_MS = 500;

/** Appends each recorded search as `{"mode":…,"embed":…,…}` to `file`, in the background. */
export function createSearchPhaseLog(file: string): SearchPhaseLog {
  let lines: string[] = [];
  let writing = Promise.resolve();
  const flush = () => {
    if (lines.length === 0) return;
    const text = lines.join("");
    lines = [];
    writing = writing.then(() => appendFile(file, text)).catch(() => undefined);
  };
  setInterval(flush, FLUSH_MS).unref();
  return {
    record(mode, phases) {
      lines.push(`${JSON.stringify({ mode, ...phases })}\n`);
    },
  };
}

/** Records into `phases` (when timing is on) the time since `started` as `name`. */
export function phaseSince(phases: SearchPhases | undefined, name: string, started: number): void {
  if (phases) phases[name] = performance.now() - started;
}
