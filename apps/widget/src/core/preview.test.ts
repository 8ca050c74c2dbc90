import { WidgetTheme } from "@vdb/schemas/widgets";
import { describe, expect, it } from "vitest";
import { DEFAULT_THEME, mergeTheme } from "./preview";

describe("mergeTheme", () => {
  it("starts from the same defaults as the schema", () => {
    expect(DEFAULT_THEME).toEqual(WidgetTheme.parse({}));
  });

  it("lays well-formed fields over the base and keeps the last good value for the rest", () => {
    const theme = mergeTheme(DEFAULT_THEME, {
      primaryColor: "#0f766e",
      textColor: "#12", // half-typed
      position: "bottom-left",
      title: "  Help  ",
      greeting: "",
      extra: "ignored",
    });
    expect(theme).toEqual({
      ...DEFAULT_THEME,
      primaryColor: "#0f766e",
      position: "bottom-left",
      title: "Help",
      greeting: "",
    });
    expect(mergeTheme(theme, null)).toBe(theme);
    expect(mergeTheme(theme, { position: "top" }).position).toBe("bottom-left");
  });
});
