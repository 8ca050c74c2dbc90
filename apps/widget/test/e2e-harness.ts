/** What the widget's Chromium end-to-end tests share: local HTTP servers and the run's browser. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { inject } from "vitest";

/** Listens on a free port of 127.0.0.1; returns the server's origin. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * The run's Debian Chromium, headless (test/shared-chromium.ts launches it once): a connection of
 * this file's own, whose `close()` closes the contexts it made.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.connect(inject("chromiumWsEndpoint"));
}
