/** What the widget's Chromium end-to-end tests share: local HTTP servers and the browser. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromiumLaunchOptions } from "@vdb/control-plane/testing/browser";
import { type Browser, chromium } from "playwright-core";

/** Listens on a free port of 127.0.0.1; returns the server's origin. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Debian's Chromium, headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch(chromiumLaunchOptions());
}
