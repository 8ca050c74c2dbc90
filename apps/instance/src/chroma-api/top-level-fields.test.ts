import { describe, expect, it } from "vitest";
import { topLevelFields } from "./top-level-fields";

const fields = (json: string, names: string[]) => topLevelFields(Buffer.from(json, "utf8"), names);

describe("topLevelFields", () => {
  it("finds top-level fields wherever they are, ignoring the same names nested deeper", () => {
    const body = JSON.stringify({
      metadatas: [{ ids: ["nested"] }],
      documents: ['has "quotes", {braces}, [brackets] and \\ backslashes \\"'],
      ids: ["a", "b\\"],
      n_results: 3,
    });
    const found = fields(body, ["ids", "n_results"]);
    expect(JSON.parse(found?.get("ids") ?? "")).toEqual(["a", "b\\"]);
    expect(found?.get("n_results")).toBe("3");
  });

  it("reads the last field of the object, whitespace and escaped keys included", () => {
    const found = fields('  {\n "x" : 1 ,\n "\\u0069ds" : [ "z" ] \n}\n', ["ids"]);
    expect(found?.get("ids")).toBe('[ "z" ]');
  });

  it("leaves out fields the body lacks, and answers null for anything but an object", () => {
    expect(fields('{"documents":["ids"]}', ["ids"])?.has("ids")).toBe(false);
    expect(fields('["ids"]', ["ids"])).toBeNull();
    expect(fields("", ["ids"])).toBeNull();
    expect(fields("not json", ["ids"])).toBeNull();
  });

  it("gives an unterminated value as far as it goes, for JSON.parse to refuse", () => {
    const found = fields('{"ids":["a","b', ["ids"]);
    expect(() => JSON.parse(found?.get("ids") ?? "")).toThrow();
  });
});
