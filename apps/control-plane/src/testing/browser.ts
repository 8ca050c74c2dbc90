/**
 * How the console's and the widget's end-to-end tests start Chromium (with playwright-core's
 * `chromium.launch`): Debian's package, headless, never a downloaded browser, with nothing that
 * reaches the network on its own (CI has none but the registries).
 *
 * @example
 * const browser = await chromium.launch(chromiumLaunchOptions());
 */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's shared Chromium (`shareChromium`), for playwright-core's `chromium.connect`. */
    chromiumWsEndpoint: string;
  }
}

/** What `shareChromium` needs of playwright-core's `chromium` (this package does not depend on it). */
interface ChromiumLauncher {
  launchServer(options: ReturnType<typeof chromiumLaunchOptions>): Promise<{
    wsEndpoint(): string;
    close(): Promise<void>;
  }>;
}

/**
 * A Vitest globalSetup's body: one Chromium for the whole run, its endpoint provided to every
 * test file, which connects to it (`chromium.connect(inject("chromiumWsEndpoint"))`) and works in
 * browser contexts of its own (cookies, storage: nothing shared). Closing a connected browser
 * closes its contexts and leaves the others'. Returns the teardown. Measured (six files' worth,
 * a page each, twice): a Chromium launched per file cost ~1.4 s of CPU a file (launch, page,
 * close), a connection to the shared one ~0.6 s; the console's suite has thirteen such files.
 *
 * @example
 * // test/shared-chromium.ts, listed in vitest.config.ts' globalSetup
 * export default ({ provide }: TestProject) => shareChromium(chromium, provide);
 */
export async function shareChromium(
  chromium: ChromiumLauncher,
  provide: (key: "chromiumWsEndpoint", endpoint: string) => void,
): Promise<() => Promise<void>> {
  const server = await chromium.launchServer(chromiumLaunchOptions());
  provide("chromiumWsEndpoint", server.wsEndpoint());
  return () => server.close();
}
