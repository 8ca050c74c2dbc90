import { availableParallelism } from "node:os";
import path from "node:path";
import { TenantId } from "@vdb/schemas/ids";
import { Plan } from "@vdb/schemas/plans";
import { z } from "zod";

const optional = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/**
 * Every setting of an instance, from its environment (the local runtime and the ECS task
 * definition inject exactly these; a test keeps `infra/` in sync with this schema).
 */
export const InstanceConfigSchema = z.object({
  TENANT_ID: TenantId,
  PLAN: Plan.default("starter"),
  /** Embedding model: `use-lite` | `hash` | `openai:<model>` | `transformers:<dir>`. */
  MODEL_NAME: z.string().min(1).default("use-lite"),
  DIMENSION: z.coerce.number().int().min(1).max(8_192).default(512),
  MAX_DOCS: z.coerce.number().int().min(1).default(100_000),
  /**
   * Worker threads that run a CPU model (use-lite, transformers:*), each with its own copy of it
   * (use-lite: ~150-200 MB RSS each); one per core by default. `hash` and `openai:*` use none.
   */
  EMBED_WORKERS: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
  /** An existing Chroma server (an ECS sidecar); without it the instance runs `chroma run` itself. */
  CHROMA_URL: optional.pipe(z.url().optional()),
  /** Where the instance's own Chroma keeps its files (used without CHROMA_URL). */
  DATA_DIR: z.string().default("./data/instance"),
  /** The control plane's JWKS, to verify instance tokens without holding a secret. */
  JWKS_URL: z.url(),
  /**
   * How old the list of revoked API keys (read from the control plane beside JWKS_URL) may get
   * before a request refreshes it: a revoked key's tokens are refused within about twice this.
   */
  REVOCATION_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** The control plane's URL: the `iss` every instance token must carry. */
  TOKEN_ISSUER: z.string().min(1),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  OPENAI_API_KEY: optional,
  OPENAI_BASE_URL: optional,
});

export type InstanceConfig = z.infer<typeof InstanceConfigSchema>;

/** The environment variables an instance reads: what a runtime must provide (or may). */
export const INSTANCE_ENV_VARS = Object.keys(InstanceConfigSchema.shape) as (keyof InstanceConfig)[];

export function loadInstanceConfig(env: Record<string, string | undefined> = process.env): InstanceConfig {
  const parsed = InstanceConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid instance configuration:\n${lines.join("\n")}`);
  }
  return { ...parsed.data, DATA_DIR: path.resolve(parsed.data.DATA_DIR) };
}
