import { defineConfig } from "drizzle-kit";

// `pnpm db:generate` writes a new migration into ./drizzle from src/lib/db/schema.ts.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/lib/db/schema.ts",
  out: "./drizzle",
});
