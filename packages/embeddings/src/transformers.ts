import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { assertValidDimension } from "./dimension";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import type { EmbeddingProvider } from "./provider";

/** Not a dependency of this package (its ONNX runtimes weigh ~450 MB); installed by those who use it. */
export const TRANSFORMERS_PACKAGE = "@huggingface/transformers";
/** The version this provider was checked against on Node 20. */
export const TRANSFORMERS_TESTED_VERSION = "4.3.2";
const DEFAULT_BATCH_SIZE = 32;

/** Where transformers.js looks for the ONNX file, in our order of preference, and how to ask for it. */
const ONNX_CANDIDATES = [
  { file: "onnx/model.onnx", dtype: "fp32", subfolder: "onnx" },
  { file: "onnx/model_quantized.onnx", dtype: "q8", subfolder: "onnx" },
  { file: "model.onnx", dtype: "fp32", subfolder: "" },
] as const;
type OnnxCandidate = (typeof ONNX_CANDIDATES)[number];
const REQUIRED_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"] as const;

const HOW_TO_GET_A_MODEL =
  "Models are never downloaded at run time. Copy a transformers.js export into the directory on a " +
  "machine with internet access, e.g. from the Hugging Face Hub repository Xenova/all-MiniLM-L6-v2 " +
  "(384-d): config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx " +
  "(`huggingface-cli download Xenova/all-MiniLM-L6-v2 --local-dir <dir>`).";

/** The few parts of transformers.js we use, typed here because the package is optional. */
interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
  pipeline(
    task: "feature-extraction",
    model: string,
    options: Record<string, unknown>,
  ): Promise<FeatureExtractor>;
}
type FeatureExtractor = (
  texts: string[],
  options: { pooling: "mean" | "cls"; normalize: boolean },
) => Promise<{ tolist(): unknown }>;

export interface TransformersModelFiles {
  /** Absolute path of the model directory. */
  dir: string;
  onnx: OnnxCandidate;
  /** The model's hidden size, from config.json, when it states one. */
  hiddenSize: number | undefined;
  /** `cls` when a sentence-transformers `1_Pooling/config.json` asks for it, else `mean`. */
  pooling: "mean" | "cls";
}

/**
 * Checks that `modelDir` holds a transformers.js model (config.json, tokenizer.json,
 * tokenizer_config.json and an ONNX file) and reads what the provider needs from it. Throws an
 * {@link EmbeddingConfigError} naming every missing file and how to obtain them.
 *
 * @example
 * ```ts
 * const files = inspectTransformersModelDir("./models/all-MiniLM-L6-v2");
 * files.onnx.file; // "onnx/model.onnx"
 * files.hiddenSize; // 384
 * ```
 */
export function inspectTransformersModelDir(modelDir: string): TransformersModelFiles {
  const dir = path.resolve(modelDir);
  const label = `transformers:${modelDir}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EmbeddingConfigError(
      `${label}: the model directory ${dir} does not exist. ${HOW_TO_GET_A_MODEL}`,
    );
  }
  const missing: string[] = REQUIRED_FILES.filter((file) => !existsSync(path.join(dir, file)));
  const onnx = ONNX_CANDIDATES.find((candidate) => existsSync(path.join(dir, candidate.file)));
  if (!onnx) missing.push(`an ONNX model (${ONNX_CANDIDATES.map((candidate) => candidate.file).join(", ")})`);
  if (missing.length > 0) {
    throw new EmbeddingConfigError(
      `${label}: the model directory ${dir} is missing ${missing.join(", ")}. ${HOW_TO_GET_A_MODEL}`,
    );
  }

  const config = readJson(path.join(dir, "config.json"), label);
  const hiddenSize = [config.hidden_size, config.d_model, config.dim, config.n_embd].find(
    (value): value is number => typeof value === "number",
  );
  const poolingFile = path.join(dir, "1_Pooling", "config.json");
  const pooling =
    existsSync(poolingFile) && readJson(poolingFile, label).pooling_mode_cls_token === true ? "cls" : "mean";
  return { dir, onnx: onnx!, hiddenSize, pooling };
}

/**
 * Sentence embeddings from a local transformers.js model directory (e.g. all-MiniLM-L6-v2,
 * 384-d), mean- (or CLS-) pooled and L2-normalised, in batches of `batchSize` (32). Nothing is
 * ever downloaded: the directory is checked at creation, remote models are disabled.
 *
 * Needs the optional package `@huggingface/transformers` (not installed by default: its ONNX
 * runtimes weigh ~450 MB); creation fails with instructions when it is absent.
 *
 * @example
 * ```ts
 * const provider = createTransformersProvider({ modelDir: "/models/all-MiniLM-L6-v2" });
 * provider.name; // "transformers:/models/all-MiniLM-L6-v2"
 * provider.dimension; // 384, from the model's config.json
 * ```
 */
export function createTransformersProvider(options: {
  modelDir: string;
  dimension?: number;
  batchSize?: number;
}): EmbeddingProvider {
  const { modelDir, batchSize = DEFAULT_BATCH_SIZE } = options;
  const name = `transformers:${modelDir}`;
  if (modelDir.trim() === "") {
    throw new EmbeddingConfigError(
      "transformers: a model directory is required, e.g. transformers:/models/all-MiniLM-L6-v2",
    );
  }
  const files = inspectTransformersModelDir(modelDir);
  const dimension = resolveDimension(name, files.hiddenSize, options.dimension);
  assertTransformersInstalled(name);

  let extractorPromise: Promise<FeatureExtractor> | undefined;
  function loadExtractor(): Promise<FeatureExtractor> {
    if (!extractorPromise) {
      extractorPromise = (async () => {
        const transformers = await importTransformers();
        transformers.env.allowRemoteModels = false;
        transformers.env.allowLocalModels = true;
        transformers.env.localModelPath = path.dirname(files.dir);
        // An absolute path is never taken for a hub id, so it is read as is.
        return transformers.pipeline("feature-extraction", files.dir, {
          local_files_only: true,
          dtype: files.onnx.dtype,
          subfolder: files.onnx.subfolder,
        });
      })();
      extractorPromise.catch(() => {
        extractorPromise = undefined;
      });
    }
    return extractorPromise;
  }

  return {
    name,
    dimension,
    // transformers.js truncates to the model's own maximum without saying which texts it cut.
    maxInputTokens: null,
    async embed(texts) {
      if (texts.length === 0) return { vectors: [], truncated: [] };
      let extractor: FeatureExtractor;
      try {
        extractor = await loadExtractor();
      } catch (error) {
        throw new EmbeddingRequestError(
          `${name}: loading the model from ${files.dir} failed: ${String(error)}`,
          {
            cause: error,
          },
        );
      }
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize);
        const output = (
          await extractor(batch, { pooling: files.pooling, normalize: true })
        ).tolist() as number[][];
        if (output.length !== batch.length || output.some((vector) => vector.length !== dimension)) {
          throw new EmbeddingRequestError(
            `${name}: the model returned ${output.length} vectors of ${output[0]?.length ?? 0} numbers for ` +
              `${batch.length} texts, expected ${dimension}-d vectors`,
          );
        }
        vectors.push(...output);
      }
      return { vectors, truncated: [] };
    },
  };
}

function resolveDimension(
  name: string,
  hiddenSize: number | undefined,
  requested: number | undefined,
): number {
  if (requested !== undefined) {
    assertValidDimension(requested, name);
    if (hiddenSize !== undefined && requested !== hiddenSize) {
      throw new EmbeddingConfigError(
        `${name}: the model produces ${hiddenSize}-d vectors (config.json) but dimension ${requested} was requested: ` +
          `set the dimension to ${hiddenSize}`,
      );
    }
    return requested;
  }
  if (hiddenSize === undefined) {
    throw new EmbeddingConfigError(
      `${name}: config.json states no hidden_size: give the dimension explicitly`,
    );
  }
  return hiddenSize;
}

function assertTransformersInstalled(name: string): void {
  try {
    createRequire(import.meta.url).resolve(TRANSFORMERS_PACKAGE);
  } catch {
    throw new EmbeddingConfigError(
      `${name}: install ${TRANSFORMERS_PACKAGE} to use transformers:* models ` +
        `(\`ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip pnpm --filter @vdb/embeddings add ` +
        `${TRANSFORMERS_PACKAGE}@${TRANSFORMERS_TESTED_VERSION}\`, ~450 MB); it is not installed by default`,
    );
  }
}

async function importTransformers(): Promise<TransformersModule> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const specifier: string = TRANSFORMERS_PACKAGE;
  return (await import(/* @vite-ignore */ specifier)) as TransformersModule;
}

function readJson(file: string, label: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch (error) {
    throw new EmbeddingConfigError(`${label}: ${file} is not valid JSON (${String(error)})`);
  }
  throw new EmbeddingConfigError(`${label}: ${file} does not hold a JSON object`);
}
