import { describe, expect, it } from "vitest";
import { appRouter } from "./router";

/** Answers no schema needs to shape: the plans are a constant of the code, not a row. */
const WITHOUT_OUTPUT = new Set(["plans"]);

interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  output?: { parse(value: unknown): unknown };
}

const procedures = Object.entries(
  (appRouter as unknown as { _def: { procedures: Record<string, { _def: ProcedureDef }> } })._def.procedures,
).map(([path, procedure]) => ({ path, ...procedure._def }));

describe("the tRPC router's answers", () => {
  it("every query and mutation declares its output schema, as its REST route does", () => {
    const missing = procedures
      .filter(({ type, output, path }) => type !== "subscription" && !output && !WITHOUT_OUTPUT.has(path))
      .map(({ path }) => path);
    expect(missing).toEqual([]);
    expect(procedures.filter(({ output }) => output).length).toBeGreaterThan(60);
  });

  it("an output schema drops what it does not name: a column passed on by mistake never reaches a client", () => {
    const get = procedures.find(({ path }) => path === "tenants.get");
    const tenant = {
      id: "ten_0123456789abcdefghij",
      name: "Acme",
      slug: "acme",
      plan: "starter",
      tier: "dedicated",
      createdAt: "2026-12-04T15:00:00.000Z",
      updatedAt: "2026-12-04T15:00:00.000Z",
    };
    const answer = get?.output?.parse({ ...tenant, secretColumn: "s3cr3t" });
    expect(answer).not.toHaveProperty("secretColumn");
  });
});
