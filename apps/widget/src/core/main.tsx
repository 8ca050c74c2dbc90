/**
 * The widget (budget: 40 kB gzipped), injected by the loader. It replaces the loader's queue
 * with the real `VDBWidget(command, options)` and replays the calls made so far:
 *
 * - `VDBWidget("open")`, `VDBWidget("close")`, `VDBWidget("destroy")`;
 * - `VDBWidget("preview", { theme?, container?, open? })`: render with that theme and no network
 *   (messages get a canned reply); call again to update. See README.md.
 */
import type { WidgetTheme } from "@vdb/schemas/widgets";
import { render } from "preact";
import { type ChatBackend, ChatWidget, type Message } from "./chat-widget";
import { EmbedClient, WidgetError } from "./embed-client";
import type { LoaderInfo, WidgetGlobal } from "./global";
import { DEFAULT_THEME, mergeTheme, previewBackend } from "./preview";
import { STYLES } from "./styles";

interface PreviewOptions {
  theme?: Partial<WidgetTheme>;
  /** Render inside this element (position it; the widget fills it) instead of over the page. */
  container?: HTMLElement | null;
  open?: boolean;
}

const UNAVAILABLE = "Sorry, this chat is unavailable on this site right now.";

class WidgetInstance {
  private readonly host: HTMLElement;
  private readonly mount: HTMLElement;
  private theme: WidgetTheme = DEFAULT_THEME;
  private isOpen = false;
  private backend: ChatBackend | null = null;
  private unavailable: string | null = null;
  private client: EmbedClient | null = null;

  constructor(private readonly container: HTMLElement | null) {
    this.host = document.createElement("vdb-chat-widget");
    const shadow = this.host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLES;
    this.mount = document.createElement("div");
    shadow.append(style, this.mount);
    if (container) this.host.setAttribute("data-contained", "");
    (container ?? document.body).appendChild(this.host);
  }

  get isPreview(): boolean {
    return this.backend === previewBackend;
  }

  /** Connects to the control plane for `widgetId`. */
  connect(apiBase: string, widgetId: string): void {
    const client = new EmbedClient(apiBase, widgetId);
    this.client = client;
    this.render();
    client.start().then(
      (theme) => {
        this.theme = theme;
        this.backend = {
          history: async () => (await client.conversation()).messages.map(toMessage),
          ask: (message, onText) => client.ask(message, onText),
        };
        this.render();
      },
      (error: unknown) => {
        this.unavailable = UNAVAILABLE;
        const reason = error instanceof WidgetError ? error.message : String(error);
        console.warn(`VDB chat widget ${widgetId} is unavailable: ${reason}`);
        this.render();
      },
    );
  }

  preview(options: PreviewOptions): void {
    this.theme = mergeTheme(this.isPreview ? this.theme : DEFAULT_THEME, options.theme);
    this.backend = previewBackend;
    this.unavailable = null;
    if (options.open !== undefined) this.isOpen = options.open;
    this.render();
  }

  setOpen(isOpen: boolean): void {
    this.isOpen = isOpen;
    this.render();
  }

  destroy(): void {
    this.client?.stop();
    render(null, this.mount);
    this.host.remove();
  }

  belongsTo(container: HTMLElement | null): boolean {
    return this.container === container;
  }

  private render(): void {
    render(
      <ChatWidget
        theme={this.theme}
        isOpen={this.isOpen}
        onOpenChange={(isOpen) => this.setOpen(isOpen)}
        backend={this.backend}
        unavailable={this.unavailable}
        isContained={this.container !== null}
      />,
      this.mount,
    );
  }
}

function toMessage(message: {
  id: string;
  role: "user" | "assistant";
  content: string;
  citations: Message["citations"];
}): Message {
  return { id: message.id, role: message.role, content: message.content, citations: message.citations };
}

function parseTheme(json: string | null): Partial<WidgetTheme> | undefined {
  if (!json) return undefined;
  try {
    return JSON.parse(json) as Partial<WidgetTheme>;
  } catch {
    return undefined;
  }
}

function start(): void {
  const w = window as unknown as { VDBWidget?: WidgetGlobal };
  const queued = w.VDBWidget?.q ?? [];
  const info: LoaderInfo | undefined = w.VDBWidget?.l;
  let instance: WidgetInstance | null = null;

  const api: WidgetGlobal = (command: string, options?: unknown) => {
    if (command === "preview") {
      const opts = (options ?? {}) as PreviewOptions;
      const container = opts.container ?? null;
      if (instance && (!instance.isPreview || !instance.belongsTo(container))) {
        instance.destroy();
        instance = null;
      }
      instance ??= new WidgetInstance(container);
      instance.preview(opts);
    } else if (command === "open" || command === "close") {
      instance?.setOpen(command === "open");
    } else if (command === "destroy") {
      instance?.destroy();
      instance = null;
    } else {
      console.warn(`VDBWidget: unknown command "${command}"`);
    }
  };
  if (info) api.l = info;
  w.VDBWidget = api;

  const wantsPreview = info?.preview || Array.from(queued).some((args) => args[0] === "preview");
  if (info && !wantsPreview) {
    if (info.widgetId) {
      instance = new WidgetInstance(null);
      instance.connect(new URL(".", info.src).href, info.widgetId);
    } else {
      console.warn('VDB chat widget: the script tag needs data-widget-id="wid_…" (or data-preview)');
    }
  } else if (info?.preview) {
    api("preview", { theme: parseTheme(info.theme) });
  }
  for (const args of Array.from(queued)) api(args[0] as string, args[1]);
}

if (document.body) start();
else document.addEventListener("DOMContentLoaded", start);
