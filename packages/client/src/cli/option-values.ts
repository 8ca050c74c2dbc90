import type { OptionValues } from "./command";
import { UsageError } from "./errors";

/** A string flag's value, or undefined when it was not given. */
export function stringValue(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** An integer flag within `[min, max]`, or undefined when it was not given. */
export function integerValue(
  values: OptionValues,
  name: string,
  { min, max }: { min: number; max: number },
): number | undefined {
  const raw = stringValue(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A flag that takes one of a few words, e.g. `--mode keyword`, or undefined when it was not given. */
export function choiceValue<T extends string>(
  values: OptionValues,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = stringValue(values, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

/** A flag holding a JSON object, e.g. `--where '{"lang":"en"}'`. */
export function jsonObjectValue(values: OptionValues, name: string): Record<string, unknown> | undefined {
  const raw = stringValue(values, name);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--${name} must be a JSON object, like '{"lang":"en"}'`);
  }
  return parsed as Record<string, unknown>;
}

/** The one positional argument a command takes, e.g. the query of `vdb search`. */
export function singleArgument(args: string[], name: string): string {
  if (args.length === 0 || !args[0]) throw new UsageError(`missing ${name}`);
  if (args.length > 1) {
    throw new UsageError(`expected one ${name}, got ${args.length} arguments (quote it if it has spaces)`);
  }
  return args[0];
}
