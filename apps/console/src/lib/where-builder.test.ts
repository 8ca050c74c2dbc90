import { WhereFilter } from "@vdb/schemas/instances";
import { describe, expect, it } from "vitest";
import { buildWhere, type Condition, conditionToClause } from "./where-builder";

const condition = (patch: Partial<Condition>): Condition => ({
  field: "lang",
  operator: "$eq",
  value: "en",
  type: "string",
  ...patch,
});

describe("the metadata filter builder", () => {
  it("gives no filter for no conditions, the clause itself for one", () => {
    expect(buildWhere([], "$and")).toEqual({ ok: true, where: undefined });
    expect(buildWhere([condition({})], "$and")).toEqual({ ok: true, where: { lang: { $eq: "en" } } });
  });

  it("combines several with $and or $or", () => {
    const rows = [
      condition({}),
      condition({ field: "year", operator: "$gte", value: "2020", type: "number" }),
    ];
    expect(buildWhere(rows, "$or")).toEqual({
      ok: true,
      where: { $or: [{ lang: { $eq: "en" } }, { year: { $gte: 2020 } }] },
    });
  });

  it("types values: numbers, booleans and comma-separated lists", () => {
    expect(conditionToClause(condition({ field: "draft", value: "false", type: "boolean" }))).toEqual({
      draft: { $eq: false },
    });
    expect(conditionToClause(condition({ operator: "$in", value: "en, de ,fr" }))).toEqual({
      lang: { $in: ["en", "de", "fr"] },
    });
    expect(
      conditionToClause(condition({ field: "page", operator: "$nin", value: "1,2", type: "number" })),
    ).toEqual({ page: { $nin: [1, 2] } });
  });

  it("explains rows that cannot be sent, by row", () => {
    const result = buildWhere(
      [
        condition({}),
        condition({ field: "" }),
        condition({ operator: "$gt", value: "3" }),
        condition({ type: "number", value: "three" }),
        condition({ type: "boolean", value: "yes" }),
        condition({ operator: "$in", value: " , " }),
        condition({ field: "$and" }),
      ],
      "$and",
    );
    expect(result).toEqual({
      ok: false,
      errors: {
        1: "name a metadata field",
        2: '"greater than" compares numbers; set the type to number',
        3: '"three" is not a number',
        4: '"yes" is not true or false',
        5: "list at least one value, separated by commas",
        6: "field names cannot start with $",
      },
    });
  });

  it("only builds filters the shared WhereFilter schema accepts", () => {
    const built = buildWhere(
      [
        condition({}),
        condition({ field: "year", operator: "$lt", value: "2000", type: "number" }),
        condition({ operator: "$nin", value: "x,y" }),
      ],
      "$and",
    );
    expect(built.ok).toBe(true);
    if (built.ok) expect(WhereFilter.safeParse(built.where).success).toBe(true);
  });
});
