import path from "node:path";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { api, tenantWithKey } from "@vdb/control-plane/testing/http";
import type { Plan } from "@vdb/schemas/plans";
import type { Page } from "playwright-core";
import { logIn } from "./browser";
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

/**
 * A new tenant on `plan` with an API key, launched, and its page open in the console as the
 * admin once the page shows its instance running.
 */
export async function openRunningTenant(
  page: Page,
  server: TestServer,
  name: string,
  plan: Plan,
): Promise<{ tenantId: string; key: string }> {
  const { tenantId, key } = await tenantWithKey(server.url, server.adminToken, name, plan);
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${server.url}/tenants/${tenantId}`);
  await page.locator('.instance-state [data-status="running"]').waitFor({ timeout: 90_000 });
  return { tenantId, key };
}
