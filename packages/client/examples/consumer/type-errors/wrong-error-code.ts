// Deliberately wrong: "NOPE" is not in the closed set of error codes. `src/client.test.ts` asserts tsc rejects this file.
import { isVdbError } from "@vdb/client";

export function isNope(err: unknown): boolean {
  return isVdbError(err) && err.data.appCode === "NOPE";
}
