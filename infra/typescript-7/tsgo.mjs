#!/usr/bin/env node
// Runs TypeScript 7's compiler, a native binary from the package for this platform, with our
// arguments: `tsgo -b` in a package is what `tsc -b` was, about four times faster (README,
// "Developing"). What `typescript@7`'s own `tsc` launcher does, without that package (see
// package.json's description).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const platformPackage = `@typescript/typescript-${process.platform}-${process.arch}`;
let binary;
try {
  const root = path.dirname(createRequire(import.meta.url).resolve(`${platformPackage}/package.json`));
  binary = path.join(root, "lib", process.platform === "win32" ? "tsc.exe" : "tsc");
} catch {
  console.error(
    `tsgo: ${platformPackage} is not installed: TypeScript 7 has no binary for this platform in infra/typescript-7/package.json (add it there, or run the root's TypeScript 5.9.3: npx tsc -b)`,
  );
  process.exit(1);
}
const run = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (run.error) throw run.error;
process.exit(run.status ?? 1);
