// `pnpm --filter @vdb/control-plane build`: dist/main.mjs (what `npm start` and the Docker image
// run) and the entries of the processes and threads it starts (see infra/scripts/node-dist.mjs).
// `node build.mjs --outdir <dir> --npm-apart` builds elsewhere in apps/control-plane with every npm
// package unbundled (bench/provision/compiled.ts compares).
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { buildNodeDist } from "../../infra/scripts/node-dist.mjs";

const { values } = parseArgs({ options: { outdir: { type: "string" }, "npm-apart": { type: "boolean" } } });
await buildNodeDist(esbuild, {
  appDir: fileURLToPath(new URL(".", import.meta.url)),
  outdir: values.outdir,
  npmApart: values["npm-apart"],
  entries: {
    main: "src/main.ts",
    // A separate ingestion worker process (`node dist/worker.mjs`).
    worker: "src/worker.ts",
    // The parse sandbox's child processes (documents/parsing/parse-sandbox.ts).
    "parse-worker": "src/documents/parsing/parse-worker.ts",
    // The operator's password reset (`npm run reset-password`; the tests run this build of it).
    "reset-password": "src/reset-password.ts",
    // @vdb/embeddings' worker threads, if this process embeds with a CPU model.
    "embed-worker": "../../packages/embeddings/src/embed-worker.ts",
  },
});
