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
