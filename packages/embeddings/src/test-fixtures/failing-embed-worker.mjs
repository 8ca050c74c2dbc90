// A stand-in embedding worker for worker-pool.test.ts: it fails the ways a real model's thread can
// (an exception, the thread dying) on the texts that ask for it, and embeds anything else as [1, 0].
export default async function embedTask({ texts }) {
  if (texts.includes("throw")) throw new Error("the model failed on purpose");
  if (texts.includes("exit")) process.exit(3);
  return { vectors: texts.map(() => [1, 0]), truncated: [] };
}
