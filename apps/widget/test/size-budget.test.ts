import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));

/** Budgets from the widget's issue: what a tenant's visitors download, gzipped. */
const BUDGETS = { "widget.js": 2 * 1024, "core.js": 40 * 1024 };

describe("size budget", () => {
  for (const [file, budget] of Object.entries(BUDGETS)) {
    it(`${file} is at most ${budget / 1024} kB gzipped`, () => {
      const content = readFileSync(path.join(DIST, file));
      const gzipped = gzipSync(content, { level: 9 }).length;
      console.info(`${file}: ${content.length} B, ${gzipped} B gzipped (budget ${budget} B)`);
      expect(gzipped).toBeLessThanOrEqual(budget);
    });
  }

  it("the core carries no zod (schemas are imported as types only)", () => {
    const core = readFileSync(path.join(DIST, "core.js"), "utf8");
    expect(core).not.toMatch(/ZodError|\$ZodType/);
  });
});
