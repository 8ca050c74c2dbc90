/**
 * The search playground's metadata filter builder: rows of `field operator value` combined with
 * all (`$and`) or any (`$or`), turned into Chroma's `where` JSON.
 */
export const OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"] as const;
export type Operator = (typeof OPERATORS)[number];

export const OPERATOR_LABELS: Record<Operator, string> = {
  $eq: "equals",
  $ne: "does not equal",
  $gt: "greater than",
  $gte: "at least",
  $lt: "less than",
  $lte: "at most",
  $in: "is one of",
  $nin: "is none of",
};

export type ValueType = "string" | "number" | "boolean";

export interface Condition {
  field: string;
  operator: Operator;
  /** As typed; lists (`$in`, `$nin`) are comma-separated. */
  value: string;
  type: ValueType;
}

export type Combinator = "$and" | "$or";

type Scalar = string | number | boolean;
export type Where = Record<string, unknown>;

export type BuildResult =
  | { ok: true; where: Where | undefined }
  | { ok: false; errors: Record<number, string> };

const NUMERIC_ONLY: readonly Operator[] = ["$gt", "$gte", "$lt", "$lte"];

function parseScalar(raw: string, type: ValueType): Scalar | Error {
  const text = raw.trim();
  if (type === "string") return raw;
  if (type === "number") {
    if (text === "" || !Number.isFinite(Number(text))) return new Error(`"${raw}" is not a number`);
    return Number(text);
  }
  if (text === "true") return true;
  if (text === "false") return false;
  return new Error(`"${raw}" is not true or false`);
}

/** One condition as a Chroma clause, or why it cannot be one. */
export function conditionToClause(condition: Condition): Where | Error {
  const field = condition.field.trim();
  if (field === "") return new Error("name a metadata field");
  if (field.startsWith("$")) return new Error("field names cannot start with $");
  if (NUMERIC_ONLY.includes(condition.operator) && condition.type !== "number") {
    return new Error(`"${OPERATOR_LABELS[condition.operator]}" compares numbers; set the type to number`);
  }
  if (condition.operator === "$in" || condition.operator === "$nin") {
    const parts = condition.value.split(",").filter((part) => part.trim() !== "");
    if (parts.length === 0) return new Error("list at least one value, separated by commas");
    const values: Scalar[] = [];
    for (const part of parts) {
      const value = parseScalar(condition.type === "string" ? part.trim() : part, condition.type);
      if (value instanceof Error) return value;
      values.push(value);
    }
    return { [field]: { [condition.operator]: values } };
  }
  const value = parseScalar(condition.value, condition.type);
  if (value instanceof Error) return value;
  // `{ field: value }` is Chroma's shorthand for $eq; the explicit form reads the same everywhere.
  return { [field]: { [condition.operator]: value } };
}

/**
 * The `where` filter for a list of conditions: undefined for none, the clause itself for one,
 * `{ $and | $or: [...] }` for several; or the row-indexed problems.
 *
 * @example
 * buildWhere([{ field: "lang", operator: "$eq", value: "en", type: "string" }], "$and");
 * // { ok: true, where: { lang: { $eq: "en" } } }
 */
export function buildWhere(conditions: readonly Condition[], combinator: Combinator): BuildResult {
  const clauses: Where[] = [];
  const errors: Record<number, string> = {};
  conditions.forEach((condition, index) => {
    const clause = conditionToClause(condition);
    if (clause instanceof Error) errors[index] = clause.message;
    else clauses.push(clause);
  });
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (clauses.length === 0) return { ok: true, where: undefined };
  if (clauses.length === 1) return { ok: true, where: clauses[0] };
  return { ok: true, where: { [combinator]: clauses } };
}

export function emptyCondition(): Condition {
  return { field: "", operator: "$eq", value: "", type: "string" };
}
