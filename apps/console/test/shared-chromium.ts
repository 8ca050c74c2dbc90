import { shareChromium } from "@vdb/control-plane/testing/browser";
import { chromium } from "playwright-core";
import type { TestProject } from "vitest/node";

/** vitest globalSetup: one Chromium for the run, which every test file connects to (launchChromium). */
export default ({ provide }: TestProject) => shareChromium(chromium, provide);
