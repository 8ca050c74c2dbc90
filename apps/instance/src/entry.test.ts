import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { INSTANCE_DIR, instanceEntry, isBuildCurrent, SOURCE_MAIN } from "./entry";

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

describe("whether a build is current", () => {
  it("a source newer than the build makes it stale; a test or a testing/ harness file does not", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "vdb-build-current-"));
    try {
      const src = path.join(root, "src");
      const dist = path.join(root, "dist");
      await mkdir(path.join(src, "testing"), { recursive: true });
      await mkdir(dist);
      const past = new Date(Date.now() - 60_000);
      for (const file of ["main.ts", "main.test.ts", "testing/harness.ts"]) {
        await writeFile(path.join(src, file), "");
        await utimes(path.join(src, file), past, past);
      }
      await writeFile(path.join(dist, "BUILT"), "");
      expect(isBuildCurrent(dist, [src])).toBe(true);

      const later = new Date(Date.now() + 60_000);
      await utimes(path.join(src, "main.test.ts"), later, later);
      await utimes(path.join(src, "testing/harness.ts"), later, later);
      expect(isBuildCurrent(dist, [src])).toBe(true);

      await utimes(path.join(src, "main.ts"), later, later);
      expect(isBuildCurrent(dist, [src])).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
