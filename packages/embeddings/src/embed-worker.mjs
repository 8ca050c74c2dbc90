// The entry of an embedding worker thread (worker-pool.ts). A worker thread inherits `--import tsx`
// when the process was started with it (the instance), but not a test runner's own transform:
// registering tsx here loads the TypeScript handler either way.
import { register } from "tsx/esm/api";

register();
const { embedTask } = await import("./embed-worker.ts");

export default embedTask;
