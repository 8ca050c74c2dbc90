import { mkdir, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { INSTANCE_DIR, instanceEntry, SOURCE_MAIN } from "./entry";

// A stand-in build beside dist/ (instanceEntry only looks at its files and their times).
const distDir = path.join(INSTANCE_DIR, "dist-entry-test");
afterAll(() => rm(distDir, { recursive: true, force: true }));

describe("which instance entry a runtime starts", () => {
  it("the compiled build when it is newer than every source, else the source through tsx", async () => {
    expect(instanceEntry(distDir)).toEqual({
      args: ["--import", "tsx", SOURCE_MAIN],
      script: SOURCE_MAIN,
      isCompiled: false,
    });

    await mkdir(distDir, { recursive: true });
    await writeFile(path.join(distDir, "main.mjs"), "");
    await writeFile(path.join(distDir, "BUILT"), "");
    const compiled = path.join(distDir, "main.mjs");
    expect(instanceEntry(distDir)).toEqual({ args: [compiled], script: compiled, isCompiled: true });

    // Built before the sources' last change: stale, so the source runs.
    await utimes(path.join(distDir, "BUILT"), new Date(0), new Date(0));
    expect(instanceEntry(distDir)).toMatchObject({ isCompiled: false, script: SOURCE_MAIN });
  });
});
