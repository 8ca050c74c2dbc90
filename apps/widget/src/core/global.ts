/** What the loader learned from its own `<script>` tag. */
export interface LoaderInfo {
  /** The loader's URL: the core and the control plane's API are found relative to it. */
  src: string;
  widgetId: string | null;
  /** `data-preview` present: render without network calls. */
  preview: boolean;
  /** `data-theme`: a JSON theme for previews. */
  theme: string | null;
}

/** `window.VDBWidget`: a function, with the loader's queue (`q`) and info (`l`) on it. */
export interface WidgetGlobal {
  (command: string, options?: unknown): void;
  q?: ArrayLike<unknown>[];
  l?: LoaderInfo;
}
