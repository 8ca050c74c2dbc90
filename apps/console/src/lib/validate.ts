import type { z } from "zod";

export type FieldErrors = Record<string, string>;

export type Validated<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/**
 * Checks form values against a shared schema from `@vdb/schemas` before anything is sent:
 * the parsed value, or the first message per field keyed by dotted path (`form` for the whole).
 *
 * @example
 * const result = validate(CreateTenantInput, { slug: "A", name: "" });
 * // { ok: false, errors: { slug: "must be at least 3 characters", name: "must not be empty" } }
 */
export function validate<S extends z.ZodType>(schema: S, values: unknown): Validated<z.output<S>> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.map(String).join(".") || "form";
    if (!(key in errors)) errors[key] = issue.message;
  }
  return { ok: false, errors };
}
