import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { CONSOLE_ROOT } from "./build-console";

export const ARTIFACTS_DIR = path.join(CONSOLE_ROOT, "artifacts");

/**
 * The run's Debian Chromium, headless (test/shared-chromium.ts launches it once): a connection of
 * this file's own, whose `close()` closes the contexts it made.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.connect(inject("chromiumWsEndpoint"));
}

/**
 * A page in a fresh browser context (its own cookies and storage: another person), 30 s waits
 * unless `timeoutMs`; the page's uncaught errors are pushed to `errors` when given.
 */
export async function newPage(
  browser: Browser,
  options?: BrowserContextOptions & { timeoutMs?: number; errors?: string[] },
): Promise<Page> {
  const { timeoutMs = 30_000, errors, ...contextOptions } = options ?? {};
  const page = await (await browser.newContext(contextOptions)).newPage();
  page.setDefaultTimeout(timeoutMs);
  if (errors) page.on("pageerror", (error) => errors.push(error.message));
  return page;
}

/**
 * Marks the page's current document; the returned check says whether that document is still the
 * one shown (a view meant to update live must never need a reload).
 *
 * @example
 * const notReloaded = await markDocument(page);
 * // … the state changes …
 * expect(await notReloaded()).toBe(true);
 */
export async function markDocument(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    (window as unknown as { __noReload: boolean }).__noReload = true;
  });
  return async () =>
    (await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)) === true;
}

/**
 * A first login with a temporary password an administrator handed over: the console asks for
 * the person's own before anything else; waits for that screen.
 */
export async function firstLogin(
  page: Page,
  baseUrl: string,
  email: string,
  temporary: string,
): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(temporary);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Choose your password" }).waitFor();
}

/** The "Choose your password" screen filled in and saved. */
export async function chooseOwnPassword(page: Page, temporary: string, own: string): Promise<void> {
  await page.getByLabel("Temporary password").fill(temporary);
  await page.getByLabel("New password", { exact: true }).fill(own);
  await page.getByLabel("Repeat the new password").fill(own);
  await page.getByRole("button", { name: "Save and continue" }).click();
}

/** A full-page screenshot into apps/console/artifacts/ (gitignored), for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  // From the top: a full-page capture of a scrolled page draws the sticky header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

/**
 * What a failed step saw, for the test log (CI shows only the log): the page's address, title and
 * the start of its visible text, plus a screenshot under artifacts/ named `name`.
 */
export async function describePage(page: Page, name: string): Promise<string> {
  try {
    await screenshot(page, name.replace(/[^a-z0-9]+/gi, "-").slice(0, 80));
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as a person saw it, is the point
    const text = await page.locator("body").innerText();
    return `page at ${page.url()} ("${await page.title()}") showed:\n${text.slice(0, 1500)}`;
  } catch (error) {
    return `page at ${page.url()} could not be read: ${(error as Error).message}`;
  }
}

export interface A11yReport {
  unlabelled: string[];
  landmarks: { header: number; nav: number; main: number };
}

/**
 * Every visible-or-hidden form control has an accessible name (label[for], a wrapping label,
 * aria-label or aria-labelledby), and the page has header, nav and main landmarks.
 */
export function accessibilityReport(page: Page): Promise<A11yReport> {
  return page.evaluate(() => {
    const controls = Array.from(document.querySelectorAll("input, select, textarea")).filter(
      (element) => (element as HTMLInputElement).type !== "hidden",
    );
    const unlabelled = controls
      .filter((element) => {
        const id = element.getAttribute("id");
        const hasFor = id ? document.querySelector(`label[for="${CSS.escape(id)}"]`) !== null : false;
        const isWrapped = element.closest("label") !== null;
        const ariaLabel = (element.getAttribute("aria-label") ?? "").trim() !== "";
        const labelledBy = (element.getAttribute("aria-labelledby") ?? "")
          .split(/\s+/)
          .some((ref) => ref && document.getElementById(ref)?.textContent?.trim());
        return !(hasFor || isWrapped || ariaLabel || labelledBy);
      })
      .map((element) => element.outerHTML.slice(0, 160));
    return {
      unlabelled,
      landmarks: {
        header: document.querySelectorAll("header, [role=banner]").length,
        nav: document.querySelectorAll("nav, [role=navigation]").length,
        main: document.querySelectorAll("main, [role=main]").length,
      },
    };
  });
}

/**
 * Tabs from the top of the page until a form control or button has focus, and returns its
 * computed focus ring (outline and box-shadow), so a test can assert it is visible.
 */
export async function focusRingOfFirstTabStop(
  page: Page,
): Promise<{ tag: string; outlineStyle: string; outlineWidth: string; boxShadow: string }> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  for (let presses = 0; presses < 30; presses++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element || element === document.body) return null;
      const style = getComputedStyle(element);
      return {
        tag: element.tagName.toLowerCase(),
        outlineStyle: style.outlineStyle,
        outlineWidth: style.outlineWidth,
        boxShadow: style.boxShadow,
        isControl: /^(a|button|input|select|textarea)$/i.test(element.tagName),
      };
    });
    if (focused?.isControl) {
      const { isControl: _isControl, ...ring } = focused;
      return ring;
    }
  }
  throw new Error("no control took focus within 30 Tab presses");
}

/** Logs in through the console's form and waits for the tenants list (where a login lands). */
export async function logIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL("**/tenants");
}
