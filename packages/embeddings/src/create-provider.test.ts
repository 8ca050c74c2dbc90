import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assertCompatible, createEmbeddingProvider } from "./create-provider";
import { EmbeddingConfigError, EmbeddingMismatchError } from "./errors";

describe("createEmbeddingProvider", () => {
  const emptyDir = mkdtempSync(path.join(tmpdir(), "vdb-embeddings-"));
  afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

  it("creates each kind of provider from its model name", () => {
    expect(createEmbeddingProvider({ model: "use-lite" })).toMatchObject({
      name: "use-lite",
      dimension: 512,
    });
    expect(createEmbeddingProvider({ model: "use-lite", dimension: 512 }).dimension).toBe(512);
    expect(createEmbeddingProvider({ model: "hash", dimension: 384 })).toMatchObject({
      name: "hash",
      dimension: 384,
    });
    expect(
      createEmbeddingProvider({
        model: "openai:text-embedding-3-small",
        dimension: 1536,
        openai: { apiKey: "sk-test", baseURL: "http://127.0.0.1:1/v1" },
      }),
    ).toMatchObject({ name: "openai:text-embedding-3-small", dimension: 1536 });
  });

  it("embeds through the created provider", async () => {
    const {
      vectors: [vector],
    } = await createEmbeddingProvider({ model: "hash", dimension: 16 }).embed(["hello"]);
    expect(vector).toHaveLength(16);
  });

  it.each([
    [
      { model: "" },
      'unknown embedding model "": use use-lite, hash, openai:<model> or transformers:<model dir>',
    ],
    [{ model: "USE-LITE" }, 'unknown embedding model "USE-LITE"'],
    [{ model: "openai" }, 'unknown embedding model "openai"'],
    [{ model: "bert" }, 'unknown embedding model "bert"'],
    [{ model: "openai:", dimension: 8 }, '"openai:" names no model'],
    [{ model: "transformers:" }, '"transformers:" names no model directory'],
    [{ model: "hash" }, "hash needs an explicit dimension"],
    [{ model: "hash", dimension: 0 }, "hash: dimension must be a whole number from 1 to 65536, got 0"],
    [
      { model: "openai:text-embedding-3-small", openai: { apiKey: "k" } },
      "openai:text-embedding-3-small needs an explicit dimension",
    ],
    [{ model: "openai:text-embedding-3-small", dimension: 1536 }, "an API key is required"],
    [{ model: "use-lite", dimension: 384 }, "use-lite always produces 512-d vectors"],
    [{ model: `transformers:${path.join("/nonexistent", "minilm")}` }, "does not exist"],
  ])("rejects %j with a clear error", (options, message) => {
    expect(() => createEmbeddingProvider(options)).toThrow(EmbeddingConfigError);
    expect(() => createEmbeddingProvider(options)).toThrow(message);
  });

  it("names the missing files of a transformers model directory", () => {
    expect(() => createEmbeddingProvider({ model: `transformers:${emptyDir}` })).toThrow(
      /is missing config\.json, tokenizer\.json, tokenizer_config\.json, an ONNX model/,
    );
  });
});

describe("assertCompatible", () => {
  const useLite = createEmbeddingProvider({ model: "use-lite" });
  const hash384 = createEmbeddingProvider({ model: "hash", dimension: 384 });

  it("accepts the provider a collection was created with", () => {
    expect(() => assertCompatible({ model: "use-lite", dimension: 512 }, useLite)).not.toThrow();
    expect(() => assertCompatible({ model: "hash", dimension: 384 }, hash384)).not.toThrow();
  });

  it("rejects another model", () => {
    expect(() => assertCompatible({ model: "hash", dimension: 512 }, useLite)).toThrow(
      EmbeddingMismatchError,
    );
    expect(() => assertCompatible({ model: "hash", dimension: 512 }, useLite)).toThrow(
      "the collection was created with hash (512-d) but this instance embeds with use-lite (512-d)",
    );
  });

  it("rejects the same model with another dimension", () => {
    expect(() => assertCompatible({ model: "hash", dimension: 256 }, hash384)).toThrow(
      "the collection was created with hash (256-d) but this instance embeds with hash (384-d)",
    );
  });
});
