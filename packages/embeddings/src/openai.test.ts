import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import { createOpenAIProvider } from "./openai";

/** The stub's vectors: a pure function of the text, so a test can tell which input a vector belongs to. */
function expectedVector(text: string, dimension: number): number[] {
  let seed = 7;
  for (const char of text) seed = (seed * 31 + (char.codePointAt(0) ?? 0)) % 10_007;
  return Array.from({ length: dimension }, (_, index) => Math.fround(Math.sin(seed + index)));
}

const NATIVE_DIMENSION = 8;
const API_KEY = "sk-test";

interface RecordedRequest {
  authorization: string | undefined;
  body: { model: string; input: string[]; dimensions?: number; encoding_format?: string };
  /** The `index` order the stub answered with. */
  answeredIndexes?: number[];
}

/**
 * A tiny OpenAI-compatible server: POST /v1/embeddings answers with `expectedVector` of each
 * input, honours `dimensions`, lists the items in a shuffled `index` order, answers 401 to any
 * key but API_KEY, and for the model `wrong-dimension` ignores `dimensions`.
 */
async function startStub(): Promise<{ server: Server; baseURL: string; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/v1/embeddings")
      return send(404, { error: { message: "not found" } });
    const body = JSON.parse(await readBody(req)) as RecordedRequest["body"];
    const request: RecordedRequest = { authorization: req.headers.authorization, body };
    requests.push(request);
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      return send(401, {
        error: {
          message: "Incorrect API key provided",
          type: "invalid_request_error",
          code: "invalid_api_key",
        },
      });
    }
    const dimension =
      body.model === "wrong-dimension" ? NATIVE_DIMENSION : (body.dimensions ?? NATIVE_DIMENSION);
    const data = body.input.map((text, index) => ({
      object: "embedding",
      index,
      embedding: expectedVector(text, dimension),
    }));
    const shuffled = shuffle(data, body.input.length);
    request.answeredIndexes = shuffled.map((item) => item.index);
    send(200, {
      object: "list",
      data: shuffled,
      model: body.model,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { server, baseURL: `http://127.0.0.1:${port}/v1`, requests };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Seeded Fisher-Yates: shuffled, but the same on every run. */
function shuffle<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed + 1;
  for (let index = result.length - 1; index > 0; index--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

describe("openai provider against an OpenAI-compatible stub", () => {
  let stub: Awaited<ReturnType<typeof startStub>>;
  beforeAll(async () => {
    stub = await startStub();
  });
  afterAll(() => {
    stub.server.close();
  });

  it("embeds in batches of 256 and returns vectors in input order despite shuffled indexes", async () => {
    const provider = createOpenAIProvider({
      model: "text-embedding-3-small",
      dimension: 16,
      apiKey: API_KEY,
      baseURL: stub.baseURL,
    });
    expect(provider.name).toBe("openai:text-embedding-3-small");
    expect(provider.dimension).toBe(16);

    const texts = Array.from({ length: 600 }, (_, index) => `text number ${index}`);
    stub.requests.length = 0;
    const { vectors } = await provider.embed(texts);

    expect(vectors).toHaveLength(600);
    vectors.forEach((vector, index) => {
      expect(vector).toEqual(expectedVector(texts[index]!, 16));
    });
    expect(stub.requests.map((request) => request.body.input.length)).toEqual([256, 256, 88]);
    expect(stub.requests[2]?.body.input[0]).toBe("text number 512");
    for (const { authorization, body, answeredIndexes } of stub.requests) {
      expect(answeredIndexes).not.toEqual([...(answeredIndexes ?? [])].sort((a, b) => a - b));
      expect(authorization).toBe(`Bearer ${API_KEY}`);
      expect(body).toMatchObject({
        model: "text-embedding-3-small",
        dimensions: 16,
        encoding_format: "float",
      });
    }
  });

  it("does not send dimensions for models that cannot shorten vectors, and accepts their native size", async () => {
    const provider = createOpenAIProvider({
      model: "nomic-embed-text",
      dimension: NATIVE_DIMENSION,
      apiKey: API_KEY,
      baseURL: stub.baseURL,
    });
    stub.requests.length = 0;
    const {
      vectors: [vector],
    } = await provider.embed(["hello"]);
    expect(vector).toEqual(expectedVector("hello", NATIVE_DIMENSION));
    expect(stub.requests[0]?.body).not.toHaveProperty("dimensions");
  });

  it("returns nothing and sends no request for no texts", async () => {
    const provider = createOpenAIProvider({
      model: "m",
      dimension: 8,
      apiKey: API_KEY,
      baseURL: stub.baseURL,
    });
    stub.requests.length = 0;
    expect(await provider.embed([])).toEqual({ vectors: [], truncated: [] });
    expect(stub.requests).toHaveLength(0);
  });

  it("fails clearly when the endpoint returns vectors of another length", async () => {
    const provider = createOpenAIProvider({
      model: "wrong-dimension",
      dimension: 16,
      apiKey: API_KEY,
      baseURL: stub.baseURL,
    });
    const failure = provider.embed(["a", "b"]);
    await expect(failure).rejects.toThrow(EmbeddingRequestError);
    await expect(failure).rejects.toThrow(
      "openai:wrong-dimension: the endpoint returned 8-d vectors but this provider is configured for 16-d",
    );
  });

  it("fails clearly on a 401 without retrying", async () => {
    const provider = createOpenAIProvider({
      model: "text-embedding-3-small",
      dimension: 16,
      apiKey: "sk-wrong",
      baseURL: stub.baseURL,
    });
    stub.requests.length = 0;
    const failure = provider.embed(["a"]);
    await expect(failure).rejects.toThrow(EmbeddingRequestError);
    await expect(failure).rejects.toThrow(
      /openai:text-embedding-3-small: embedding request to .* failed \(401 Incorrect API key provided/,
    );
    await expect(failure).rejects.toThrow(/Incorrect API key provided/);
    expect(stub.requests).toHaveLength(1);
  });

  it("fails clearly when the endpoint cannot be reached", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const { port } = closed.address() as AddressInfo;
    closed.close();
    const provider = createOpenAIProvider({
      model: "m",
      dimension: 8,
      apiKey: API_KEY,
      baseURL: `http://127.0.0.1:${port}/v1`,
      maxRetries: 0,
    });
    await expect(provider.embed(["a"])).rejects.toThrow(
      /openai:m: embedding request to http:\/\/127\.0\.0\.1:\d+\/v1 failed \(Connection error\..*ECONNREFUSED/,
    );
  });

  it("refuses to be created without an API key, a model or a valid dimension", () => {
    expect(() => createOpenAIProvider({ model: "m", dimension: 8 })).toThrow(EmbeddingConfigError);
    expect(() => createOpenAIProvider({ model: "m", dimension: 8, apiKey: "" })).toThrow(
      "openai:m: an API key is required (set OPENAI_API_KEY",
    );
    expect(() => createOpenAIProvider({ model: " ", dimension: 8, apiKey: API_KEY })).toThrow(
      /a model is required/,
    );
    expect(() => createOpenAIProvider({ model: "m", dimension: 0, apiKey: API_KEY })).toThrow(
      "openai:m: dimension must be a whole number",
    );
  });
});
