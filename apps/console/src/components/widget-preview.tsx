import type { WidgetTheme } from "@vdb/schemas/widgets";
import { useEffect, useRef, useState } from "react";

type VdbWidget = ((command: string, options?: unknown) => void) & { q?: unknown[][] };

declare global {
  interface Window {
    VDBWidget?: VdbWidget;
  }
}

const LOADER_SRC = "/widget.js";
/** How long the real widget may take to appear before the drawn stand-in stays instead. */
const READY_TIMEOUT_MS = 5_000;

/**
 * Loads the widget's loader once per page. The preview call is queued before it loads, so the
 * core starts in preview mode (no network calls) inside our box, never over the console.
 */
function loadPreviewLoader(): Promise<void> {
  const existing = document.querySelector<HTMLScriptElement>("script[data-vdb-console-preview]");
  if (existing) return Promise.resolve();
  window.VDBWidget ??= Object.assign(
    (...args: unknown[]) => {
      const stub = window.VDBWidget as VdbWidget;
      stub.q = stub.q ?? [];
      stub.q.push(args);
    },
    { q: [] as unknown[][] },
  );
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = LOADER_SRC;
    script.async = true;
    script.dataset.vdbConsolePreview = "";
    script.onload = () => resolve();
    script.onerror = () => {
      script.remove();
      reject(new Error("the widget is not built"));
    };
    document.head.appendChild(script);
  });
}

/**
 * The real widget (apps/widget's preview API) rendered in a box with the unsaved theme, opened;
 * until it is there, or when the widget is not built, a drawn stand-in with the same theme.
 */
export function WidgetPreview({ theme }: { theme: WidgetTheme }) {
  const container = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "live" | "unavailable">("loading");

  useEffect(() => {
    let isCancelled = false;
    loadPreviewLoader().then(
      () => {
        const started = Date.now();
        const check = () => {
          if (isCancelled) return;
          if (container.current?.querySelector("vdb-chat-widget, *")) setState("live");
          else if (Date.now() - started > READY_TIMEOUT_MS) setState("unavailable");
          else setTimeout(check, 100);
        };
        check();
      },
      () => !isCancelled && setState("unavailable"),
    );
    return () => {
      isCancelled = true;
    };
  }, []);

  useEffect(() => {
    if (state === "unavailable" || !container.current) return;
    window.VDBWidget?.("preview", { container: container.current, open: true, theme });
  }, [theme, state]);

  return (
    <div className="widget-preview" data-preview-state={state}>
      <div ref={container} className="widget-preview-live" data-testid="widget-preview-live" />
      {state === "live" ? null : <DrawnPreview theme={theme} />}
    </div>
  );
}

/** The widget drawn with CSS: shown while the real one loads, or when it is not built. */
function DrawnPreview({ theme }: { theme: WidgetTheme }) {
  const side = theme.position === "bottom-left" ? "left" : "right";
  return (
    <div className="preview-drawn" role="img" aria-label="Preview of the widget on a page">
      <div className="preview-page" aria-hidden="true">
        <div className="preview-line wide" />
        <div className="preview-line" />
        <div className="preview-line" />
      </div>
      <div className={`preview-panel preview-${side}`}>
        <div className="preview-header" style={{ background: theme.primaryColor, color: theme.textColor }}>
          {theme.title}
        </div>
        <div className="preview-body">
          <div className="preview-bubble bot">{theme.greeting}</div>
          <div
            className="preview-bubble visitor"
            style={{ background: theme.primaryColor, color: theme.textColor }}
          >
            How do I get started?
          </div>
        </div>
        <div className="preview-input">Ask a question…</div>
      </div>
      <div
        className={`preview-launcher preview-${side}`}
        style={{ background: theme.primaryColor, color: theme.textColor }}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path
            d="M4 5h16v11H8l-4 4z"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinejoin="round"
          />
        </svg>
      </div>
    </div>
  );
}
