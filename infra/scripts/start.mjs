// `npm start`: installs the locked dependencies, builds what the platform runs, then runs it; each
// step only when its inputs changed since it last succeeded, so a restart with nothing changed
// goes straight to the platform. Plain Node (no dependency: it runs before the install).
//
// - install: when node_modules is missing, or pnpm-lock.yaml / pnpm-workspace.yaml / a
//   package.json changed since the last successful install (stamp: node_modules/.vdb-install).
// - build, per package: when a file of the package or of a workspace package it depends on at run
//   time (`dependencies`, transitively; devDependencies such as the console's
//   `import type { AppRouter }` are erased from the bundle) changed, or the install did, since its
//   last successful build (stamp: <package>/dist/.vdb-build). Files are compared by path, size
//   and mtime; tests (`test/`, `*.test.*`) are not inputs. A build made another way (`pnpm build`,
//   turbo) has no stamp: it is kept, and stamped, when its output is newer than every input and
//   than the install's (the lockfile, every package.json); else it is redone.
// - run: `node apps/control-plane/dist/main.mjs` in a process group of its own. This process
//   forwards SIGINT/SIGTERM/SIGHUP to it once (a Ctrl-C reaches this process both from the
//   terminal and from npm), so `STOP_INSTANCES_ON_EXIT=auto` sees the signal the user sent, and a
//   second Ctrl-C still exits at once. It exits with the platform's exit code.
//
// Every step prints one line saying what it did or skipped and why (`start: ...`).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PNPM = ["-y", "pnpm@10.34.9"];
const INSTALL_STAMP = path.join(ROOT, "node_modules", ".vdb-install");
const BUILD_STAMP = ".vdb-build";
/** What the platform runs, in build order; `output` proves a build is there. */
const TARGETS = [
  { dir: "apps/instance", output: "dist/main.mjs" },
  { dir: "apps/control-plane", output: "dist/main.mjs" },
  { dir: "apps/console", output: "dist/index.html" },
  { dir: "apps/widget", output: "dist/core.js" },
];
/** Shared build code outside the packages (used by the esbuild builds). */
const SHARED_INPUTS = ["infra/scripts/node-dist.mjs"];
const SKIPPED_DIRS = new Set([
  "node_modules",
  "dist",
  ".turbo",
  "test",
  "dist-test",
  "dist-entry-test",
  "dist-npm-apart",
  "test-artifacts",
]);

const say = (line) => process.stdout.write(`start: ${line}\n`);

function fail(line) {
  process.stderr.write(`start: ${line}\n`);
  process.exit(1);
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(`Node.js ${process.versions.node} is too old: VDB needs 20.19 or newer (engines in package.json)`);
  }
}

/** Workspace packages by name → directory (relative to ROOT), from pnpm-workspace.yaml's globs. */
function workspacePackages() {
  const globs = readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8")
    .split("\n")
    .map((line) => /^\s+-\s+["']?([^"'#\s]+)/.exec(line)?.[1])
    .filter((glob) => glob && !glob.includes(":"));
  const dirs = [];
  for (const glob of globs) {
    if (glob.endsWith("/*")) {
      const parent = glob.slice(0, -2);
      if (!existsSync(path.join(ROOT, parent))) continue;
      for (const entry of readdirSync(path.join(ROOT, parent), { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.push(`${parent}/${entry.name}`);
      }
    } else {
      dirs.push(glob);
    }
  }
  const byName = new Map();
  for (const dir of dirs) {
    const file = path.join(ROOT, dir, "package.json");
    if (existsSync(file)) byName.set(JSON.parse(readFileSync(file, "utf8")).name, { dir, file });
  }
  return byName;
}

function sha256(text) {
  return createHash("sha256").update(text).digest("hex");
}

/** The install's inputs (relative to ROOT): the lockfile, the workspace file and every package.json. */
function installInputs(packages) {
  const files = [
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "package.json",
    ...[...packages.values()].map((p) => path.relative(ROOT, p.file)),
  ];
  return [...new Set(files)].sort();
}

/** Hash of the install's inputs (`installInputs`). */
function installHash(packages) {
  const hash = createHash("sha256");
  for (const file of installInputs(packages)) {
    hash.update(`${file}\0`);
    hash.update(existsSync(path.join(ROOT, file)) ? readFileSync(path.join(ROOT, file)) : "(missing)");
    hash.update("\0");
  }
  return hash.digest("hex");
}

function readStamp(file) {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

function run(command, args, what, cwd = ROOT) {
  const result = spawnSync(command, args, { cwd, stdio: "inherit" });
  if (result.error) fail(`${what} could not run ${command}: ${result.error.message}`);
  if (result.signal) process.kill(process.pid, result.signal);
  if (result.status !== 0)
    fail(`${what} failed (exit code ${result.status}); its output is above. Nothing was started.`);
}

function install(hash) {
  const nodeModules = path.join(ROOT, "node_modules");
  const reason = !existsSync(nodeModules)
    ? "node_modules is missing"
    : readStamp(INSTALL_STAMP) === undefined
      ? "no record of a completed install"
      : readStamp(INSTALL_STAMP) !== hash
        ? "pnpm-lock.yaml or a package.json changed since the last install"
        : undefined;
  if (!reason) {
    say("install skipped (pnpm-lock.yaml and every package.json unchanged since the last install)");
    return;
  }
  say(`install: ${reason}; running pnpm install --frozen-lockfile`);
  run("npx", [...PNPM, "install", "--frozen-lockfile"], "install");
  writeFileSync(INSTALL_STAMP, `${hash}\n`);
}

/** The package's run-time workspace dependencies, transitively, itself first. */
function closure(name, packages, seen = new Set()) {
  if (seen.has(name) || !packages.has(name)) return seen;
  seen.add(name);
  const manifest = JSON.parse(readFileSync(packages.get(name).file, "utf8"));
  for (const dep of Object.keys(manifest.dependencies ?? {})) closure(dep, packages, seen);
  return seen;
}

/** Every input file under dir (relative to ROOT) as "path size mtime" lines. */
function listFiles(dir, out) {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return;
  if (statSync(abs).isFile()) {
    const st = statSync(abs);
    out.push(`${dir} ${st.size} ${st.mtimeMs}`);
    return;
  }
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith(".")) listFiles(rel, out);
    } else if (entry.isFile() && !/\.test\.[cm]?[jt]sx?$/.test(entry.name)) {
      const st = statSync(path.join(ROOT, rel));
      out.push(`${rel} ${st.size} ${st.mtimeMs}`);
    }
  }
}

function buildInputs(dirs) {
  const lines = [];
  for (const dir of [...dirs, ...SHARED_INPUTS]) listFiles(dir, lines);
  return lines;
}

function buildHash(inputs, installStamp) {
  return sha256([`install ${installStamp}`, ...inputs].sort().join("\n"));
}

/** Whether `output` was written after every build input ("path size mtime" lines) and every install input changed. */
function builtAfterInputs(output, inputs, packages) {
  const newest = Math.max(
    ...inputs.map((line) => Number(line.slice(line.lastIndexOf(" ") + 1))),
    ...installInputs(packages)
      .filter((file) => existsSync(path.join(ROOT, file)))
      .map((file) => statSync(path.join(ROOT, file)).mtimeMs),
  );
  return statSync(output).mtimeMs > newest;
}

/**
 * What `build` will do for `target`: `kept` (built after its last source change, outside npm
 * start: only stamped), `current` (unchanged since npm start built it) or `build`, with why.
 */
function buildDecision(target, packages, installStamp) {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, target.dir, "package.json"), "utf8"));
  const dirs = [...closure(manifest.name, packages)].map((name) => packages.get(name).dir);
  const inputs = buildInputs(dirs);
  const hash = buildHash(inputs, installStamp);
  const stampFile = path.join(ROOT, target.dir, "dist", BUILD_STAMP);
  const stamp = readStamp(stampFile);
  const output = path.join(ROOT, target.dir, target.output);
  const decision = { name: manifest.name, hash, stampFile, output };
  if (existsSync(output) && stamp === undefined && builtAfterInputs(output, inputs, packages)) {
    return { ...decision, action: "kept" };
  }
  const reason = !existsSync(output)
    ? `${target.dir}/${target.output} is missing`
    : stamp === undefined
      ? "no record of a build by npm start, and sources changed since its output was written"
      : stamp !== hash
        ? `sources changed since the last build (${dirs.join(", ")})`
        : undefined;
  return { ...decision, action: reason ? "build" : "current", reason };
}

/**
 * Whether `npm start` would build any of the packages in `dirs` (e.g. `apps/instance`) if run
 * now: the control plane's tests ask, to know whether its test may run beside theirs.
 */
export function wouldBuild(...dirs) {
  const packages = workspacePackages();
  const installStamp = installHash(packages);
  return dirs.some((dir) => {
    const target = TARGETS.find((candidate) => candidate.dir === dir);
    if (!target) throw new Error(`npm start builds no package in ${dir}`);
    return buildDecision(target, packages, installStamp).action === "build";
  });
}

function build(target, packages, installStamp) {
  const { name, hash, stampFile, output, action, reason } = buildDecision(target, packages, installStamp);
  if (action === "kept") {
    say(`build ${name} skipped (built after its last source change, outside npm start)`);
    writeFileSync(stampFile, `${hash}\n`);
    return;
  }
  if (action === "current") {
    say(`build ${name} skipped (unchanged since its last build)`);
    return;
  }
  say(`build ${name}: ${reason}; building`);
  rmSync(stampFile, { force: true });
  run("npx", [...PNPM, "--filter", name, "run", "build"], `build of ${name}`);
  if (!existsSync(output)) {
    fail(`build of ${name} finished but ${target.dir}/${target.output} is missing`);
  }
  writeFileSync(stampFile, `${hash}\n`);
}

/** Runs the platform; forwards each signal once to its process group; exits as it does. */
function runPlatform() {
  const main = path.join(ROOT, "apps/control-plane/dist/main.mjs");
  say("running the platform (node apps/control-plane/dist/main.mjs)");
  const child = spawn(process.execPath, [main], { cwd: ROOT, stdio: "inherit", detached: true });
  const lastForwarded = new Map();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      // One Ctrl-C arrives twice (terminal and npm): count signals of a kind 500 ms apart as one.
      const now = Date.now();
      if (now - (lastForwarded.get(signal) ?? Number.NEGATIVE_INFINITY) < 500) return;
      lastForwarded.set(signal, now);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on("error", (error) => fail(`the platform could not start: ${error.message}`));
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

// Run as a script (`node infra/scripts/start.mjs`, by any path to it), not imported for `wouldBuild`.
// `--install-only`: the install step alone (`npm test` installs through it, so that the install
// stamp is the same whichever command made it, and a later `npm start` does not install again).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  checkNode();
  const packages = workspacePackages();
  const hash = installHash(packages);
  install(hash);
  if (!process.argv.includes("--install-only")) {
    for (const target of TARGETS) build(target, packages, hash);
    runPlatform();
  }
}
