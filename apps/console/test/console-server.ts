import path from "node:path";
import { startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { CONSOLE_ROOT, WIDGET_DIST_FOR_TESTS } from "./build-console";

type ServerOptions = NonNullable<Parameters<typeof startTestServer>[0]>;

/**
 * A real control plane started in-process (startTestServer) that serves the console built for
 * this run, and the widget its live preview loads; `opts.env` adds to (or overrides) that.
 */
export function startConsoleServer(opts: ServerOptions = {}): Promise<TestServer> {
  return startTestServer({
    ...opts,
    env: {
      CONSOLE_DIR: path.join(CONSOLE_ROOT, "dist"),
      WIDGET_DIST_DIR: WIDGET_DIST_FOR_TESTS,
      ...opts.env,
    },
  });
}
