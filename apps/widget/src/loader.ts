/**
 * The tag tenants paste: `<script src="https://HOST/widget.js" data-widget-id="wid_…" async>`.
 * It stays tiny (budget: 2 kB gzipped): it installs the `VDBWidget(...)` queue, notes where it
 * was loaded from and what its tag says, and injects the real widget (`widget/core.js`) from the
 * same place. Calls made before the core arrives wait in `VDBWidget.q` (cal.com's pattern).
 */
import type { LoaderInfo, WidgetGlobal } from "./core/global";

const w = window as unknown as { VDBWidget?: WidgetGlobal };
const script = document.currentScript as HTMLScriptElement | null;
const api: WidgetGlobal =
  w.VDBWidget ??
  function (this: unknown) {
    api.q = api.q ?? [];
    // biome-ignore lint/complexity/noArguments: the queue keeps calls exactly as made
    api.q.push(arguments);
  };
w.VDBWidget = api;

if (script && !api.l) {
  const info: LoaderInfo = {
    src: script.src,
    widgetId: script.getAttribute("data-widget-id"),
    preview: script.hasAttribute("data-preview"),
    theme: script.getAttribute("data-theme"),
  };
  api.l = info;
  const core = document.createElement("script");
  core.async = true;
  core.src = new URL("widget/core.js", script.src).href;
  (document.head || document.documentElement).appendChild(core);
}
