// `pnpm --filter @vdb/instance build`: dist/main.mjs, run by the local runtime, `npm start` and
// the Docker image instead of the TypeScript through tsx (see infra/scripts/node-dist.mjs).
// `node build.mjs --outdir <dir>` builds elsewhere in apps/instance (the test of the build);
// `--npm-apart` leaves every npm package unbundled (bench/provision/compiled.ts compares).
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
    // Beside main.mjs, where @vdb/embeddings' worker pool looks for it (`./embed-worker.mjs`).
    "embed-worker": "../../packages/embeddings/src/embed-worker.ts",
  },
});
