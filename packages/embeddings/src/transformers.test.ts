import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddingConfigError } from "./errors";
import {
  createTransformersProvider,
  inspectTransformersModelDir,
  TRANSFORMERS_PACKAGE,
  TRANSFORMERS_TESTED_VERSION,
} from "./transformers";

const root = mkdtempSync(path.join(tmpdir(), "vdb-transformers-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `files` (relative path → contents) into a fresh directory under `root`. */
function modelDir(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = path.join(root, name);
  for (const [file, contents] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), contents);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("transformers provider: model directory checks", () => {
  it("fails clearly when the directory does not exist", () => {
    const missing = path.join(root, "no-such-model");
    expect(() => createTransformersProvider({ modelDir: missing })).toThrow(EmbeddingConfigError);
    expect(() => createTransformersProvider({ modelDir: missing })).toThrow(
      `transformers:${missing}: the model directory ${missing} does not exist. Models are never downloaded at run time.`,
    );
  });

  it("names every missing file and how to obtain them", () => {
    const dir = modelDir("only-config", { "config.json": JSON.stringify({ hidden_size: 384 }) });
    const create = () => createTransformersProvider({ modelDir: dir });
    expect(create).toThrow(
      `the model directory ${dir} is missing tokenizer.json, tokenizer_config.json, ` +
        "an ONNX model (onnx/model.onnx, onnx/model_quantized.onnx, model.onnx)",
    );
    expect(create).toThrow(/Xenova\/all-MiniLM-L6-v2/);
  });

  it("finds a quantized or root-level ONNX file and reads the hidden size and pooling", () => {
    const quantized = modelDir("quantized", {
      "config.json": JSON.stringify({ hidden_size: 384 }),
      "tokenizer.json": "{}",
      "tokenizer_config.json": "{}",
      "onnx/model_quantized.onnx": "",
      "1_Pooling/config.json": JSON.stringify({ pooling_mode_cls_token: true }),
    });
    expect(inspectTransformersModelDir(quantized)).toMatchObject({
      hiddenSize: 384,
      pooling: "cls",
      onnx: { file: "onnx/model_quantized.onnx", dtype: "q8" },
    });
    const rootLevel = modelDir("root-level", {
      "config.json": JSON.stringify({ d_model: 768 }),
      "tokenizer.json": "{}",
      "tokenizer_config.json": "{}",
      "model.onnx": "",
    });
    expect(inspectTransformersModelDir(rootLevel)).toMatchObject({
      hiddenSize: 768,
      pooling: "mean",
      onnx: { file: "model.onnx", subfolder: "" },
    });
  });

  it("rejects a dimension other than the model's, and a config.json that is not JSON", () => {
    const dir = modelDir("minilm-like", {
      "config.json": JSON.stringify({ hidden_size: 384 }),
      "tokenizer.json": "{}",
      "tokenizer_config.json": "{}",
      "onnx/model.onnx": "",
    });
    expect(() => createTransformersProvider({ modelDir: dir, dimension: 512 })).toThrow(
      "the model produces 384-d vectors (config.json) but dimension 512 was requested: set the dimension to 384",
    );
    const broken = modelDir("broken-config", {
      "config.json": "{not json",
      "tokenizer.json": "{}",
      "tokenizer_config.json": "{}",
      "onnx/model.onnx": "",
    });
    expect(() => createTransformersProvider({ modelDir: broken })).toThrow(/config\.json is not valid JSON/);
  });

  it("asks servers to install the version of @huggingface/transformers these tests run on", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    expect(manifest.devDependencies[TRANSFORMERS_PACKAGE]).toBe(TRANSFORMERS_TESTED_VERSION);
  });
});

// A real transformers.js pipeline (the package is a dev dependency here; servers install it to use
// transformers:* models) over a tiny ONNX model written below (an embedding lookup), so no weights
// need downloading.
describe("transformers provider: real pipeline on a tiny local model", () => {
  const vocabulary = ["[PAD]", "[UNK]", "cat", "kitten", "mat", "revenue", "grew"];
  const table = [
    // [PAD] is far from everything: it would show if padding leaked into the mean.
    [0, 0, 0, 5],
    [0, 0, 0, 1],
    [1, 0.2, 0, 0],
    [0.9, 0.3, 0, 0],
    [0.2, 1, 0, 0],
    [0, 0, 1, 0.1],
    [0, 0.1, 0.9, 0],
  ];
  const expected = (words: string[]) => {
    const ids = words.map((word) => Math.max(1, vocabulary.indexOf(word)));
    const mean = [0, 1, 2, 3].map(
      (column) => ids.reduce((sum, id) => sum + table[id]![column]!, 0) / ids.length,
    );
    const norm = Math.hypot(...mean);
    return mean.map((value) => value / norm);
  };

  it("embeds in input order with mean pooling, padding-independent", async () => {
    const dir = writeTinyModel(path.join(root, "tiny"), vocabulary, table);
    const provider = createTransformersProvider({ modelDir: dir, batchSize: 2 });
    expect(provider).toMatchObject({ name: `transformers:${dir}`, dimension: 4 });
    const texts = ["cat", "kitten mat", "revenue grew", "cat kitten mat zebra", "mat"];
    const { vectors } = await provider.embed(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const [index, vector] of vectors.entries()) {
      const want = expected(texts[index]!.split(" "));
      for (const [column, value] of vector.entries()) expect(value).toBeCloseTo(want[column]!, 5);
    }
  });

  it("reports a model file ONNX Runtime cannot load as a failed embed, not a crash", async () => {
    const dir = writeTinyModel(path.join(root, "corrupt"), vocabulary, table);
    writeFileSync(path.join(dir, "onnx", "model.onnx"), "not an onnx model");
    const provider = createTransformersProvider({ modelDir: dir });
    await expect(provider.embed(["cat"])).rejects.toThrow(
      `transformers:${dir}: loading the model from ${dir} failed`,
    );
  });
});

/** A transformers.js model directory whose ONNX graph is `Gather(table, input_ids)`. */
function writeTinyModel(dir: string, vocabulary: string[], table: number[][]): string {
  const hidden = table[0]!.length;
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: ["[PAD]", "[UNK]"].map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: {
      type: "WordLevel",
      vocab: Object.fromEntries(vocabulary.map((word, id) => [word, id])),
      unk_token: "[UNK]",
    },
  };
  return modelDir(path.relative(root, dir), {
    "config.json": JSON.stringify({ model_type: "bert", architectures: ["BertModel"], hidden_size: hidden }),
    "tokenizer.json": JSON.stringify(tokenizer),
    "tokenizer_config.json": JSON.stringify({
      tokenizer_class: "PreTrainedTokenizerFast",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      model_max_length: 64,
    }),
    "onnx/model.onnx": gatherModel(table),
  });
}

// Minimal protobuf writer for the few ONNX messages needed (field numbers from onnx.proto).
const varint = (value: number): number[] => {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
};
const intField = (field: number, value: number) => [...varint(field << 3), ...varint(value)];
const bytesField = (field: number, value: number[] | Uint8Array) => [
  ...varint((field << 3) | 2),
  ...varint(value.length),
  ...value,
];
const stringField = (field: number, value: string) => bytesField(field, new TextEncoder().encode(value));

function gatherModel(table: number[][]): Uint8Array {
  const rows = table.length;
  const hidden = table[0]!.length;
  const FLOAT = 1;
  const INT64 = 7;
  const dim = (value: string | number) =>
    bytesField(1, typeof value === "string" ? stringField(2, value) : intField(1, value));
  const valueInfo = (name: string, elemType: number, dims: (string | number)[]) => [
    ...stringField(1, name),
    ...bytesField(2, bytesField(1, [...intField(1, elemType), ...bytesField(2, dims.flatMap(dim))])),
  ];
  const weights = new Uint8Array(new Float32Array(table.flat()).buffer);
  const initializer = [
    ...intField(1, rows),
    ...intField(1, hidden),
    ...intField(2, FLOAT),
    ...stringField(8, "table"),
    ...bytesField(9, weights),
  ];
  const node = [
    ...stringField(1, "table"),
    ...stringField(1, "input_ids"),
    ...stringField(2, "last_hidden_state"),
    ...stringField(3, "lookup"),
    ...stringField(4, "Gather"),
  ];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, "tiny"),
    ...bytesField(5, initializer),
    ...bytesField(11, valueInfo("input_ids", INT64, ["batch", "sequence"])),
    ...bytesField(12, valueInfo("last_hidden_state", FLOAT, ["batch", "sequence", hidden])),
  ];
  const opset = [...stringField(1, ""), ...intField(2, 13)];
  return new Uint8Array([
    ...intField(1, 8),
    ...stringField(2, "vdb-test"),
    ...bytesField(7, graph),
    ...bytesField(8, opset),
  ]);
}
