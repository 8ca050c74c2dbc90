/** The allowed-origins textarea as a list: one per line (commas also split), blanks dropped. */
export function parseOrigins(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The tag a tenant pastes into its site. */
export function embedSnippet(publicUrl: string, widgetId: string): string {
  return `<script src="${publicUrl.replace(/\/$/, "")}/widget.js" data-widget-id="${widgetId}" async></script>`;
}
