import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processStartTicks } from "../lib/process-identity";
import { startTestServer } from "../testing";
import { DiskBlobStore } from "./disk-blob-store";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

/** A blob folder with one real blob, leftovers of killed uploads, and one upload in progress. */
async function blobFolder(root: string) {
  const folder = path.join(root, "ten_1", "docs");
  mkdirSync(folder, { recursive: true });
  const files = {
    blob: path.join(folder, "doc_1"),
    killedUpload: path.join(folder, `.tmp-${await deadPid()}-12345-0f1e`),
    oldStyleLeftover: path.join(root, ".tmp-6d1c0a4e-5f7b-4c1e-9d8a-1b2c3d4e5f60"),
    reusedPid: path.join(folder, `.tmp-${process.pid}-1-aa`), // our pid, another process's start
    liveUpload: path.join(folder, `.tmp-${process.pid}-${processStartTicks(process.pid) ?? 0}-bb`),
  };
  for (const file of Object.values(files)) writeFileSync(file, "x");
  // A delete moves the folder aside (`.trash-…` at the root) and then removes it: killed between
  // the two, the folder stays.
  const trash = {
    killedDelete: path.join(root, `.trash-${await deadPid()}-12345-0f1e`),
    oldStyleTrash: path.join(root, ".trash-6d1c0a4e-5f7b-4c1e-9d8a-1b2c3d4e5f60"),
    liveDelete: path.join(root, `.trash-${process.pid}-${processStartTicks(process.pid) ?? 0}-cc`),
  };
  for (const folder of Object.values(trash)) {
    mkdirSync(path.join(folder, "docs"), { recursive: true });
    writeFileSync(path.join(folder, "docs", "doc_9"), "x");
  }
  return { ...files, ...trash };
}

describe("temp files no upload owns, and trash no delete owns", () => {
  it("are removed from the blob folder; blobs and live uploads' temp files stay", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "vdb-blobs-"));
    dirs.push(root);
    const files = await blobFolder(root);
    const store = new DiskBlobStore({ root, publicUrl: "http://x", uploadSecret: "s".repeat(32) });
    expect(await store.removeOrphanedTempFiles()).toBe(processStartTicks(process.pid) ? 5 : 4);
    expect(existsSync(files.blob)).toBe(true);
    expect(existsSync(files.liveUpload)).toBe(true);
    expect(existsSync(files.liveDelete)).toBe(true);
    expect(existsSync(files.killedUpload)).toBe(false);
    expect(existsSync(files.oldStyleLeftover)).toBe(false);
    expect(existsSync(files.killedDelete)).toBe(false);
    expect(existsSync(files.oldStyleTrash)).toBe(false);
    // A delete names its trash for its own process and leaves none behind.
    await store.put("ten_2/docs/doc_3", new TextEncoder().encode("bye"));
    expect(await store.deletePrefix("ten_2/")).toBe(1);
    expect(readdirSync(root).filter((name) => name.startsWith(".trash-"))).toEqual([
      path.basename(files.liveDelete),
    ]);
    // A put names its temp file for its own process and leaves none behind.
    await store.put("ten_1/docs/doc_2", new TextEncoder().encode("hello"));
    expect(readdirSync(path.dirname(files.blob)).filter((name) => name.startsWith(".tmp-"))).toEqual([
      path.basename(files.liveUpload),
    ]);
  });

  it("are removed when the control plane starts", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-start-blobs-"));
    dirs.push(dataDir);
    const files = await blobFolder(path.join(dataDir, "blobs"));
    const server = await startTestServer({ env: { DATA_DIR: dataDir } });
    try {
      while (
        [files.killedUpload, files.oldStyleLeftover, files.killedDelete, files.oldStyleTrash].some(existsSync)
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(existsSync(files.blob)).toBe(true);
      expect(existsSync(files.liveUpload)).toBe(true);
    } finally {
      await server.close();
    }
  }, 300_000);
});
