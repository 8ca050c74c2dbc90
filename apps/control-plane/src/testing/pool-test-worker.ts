/**
 * A `ProcessPool` worker for the pool's own tests: each task says how to behave (answer, fail,
 * spin forever, wait, hold memory, die), so the pool's limits are tested on real processes.
 */
import { serveProcessPoolTasks } from "../lib/process-pool-worker";

export type PoolTestTask =
  | { op: "echo"; value: unknown }
  | { op: "payload" }
  | { op: "throw"; message: string }
  | { op: "spin" }
  | { op: "wait"; ms: number }
  | { op: "heap"; mb: number }
  | { op: "buffers"; mb: number }
  | { op: "exit"; code: number };

const held: unknown[] = [];

serveProcessPoolTasks(
  async (input, payload) => {
    const task = input as PoolTestTask;
    switch (task.op) {
      case "echo":
        return { value: task.value, pid: process.pid };
      case "payload": {
        // What arrived on stdin: its length and a checksum of its bytes.
        let sum = 0;
        for (const byte of payload) sum = (sum * 31 + byte) >>> 0;
        return { value: { bytes: payload.byteLength, sum }, pid: process.pid };
      }
      case "throw":
        throw Object.assign(new Error(task.message), { code: "E_TEST" });
      case "spin":
        for (;;) {
          // a synchronous loop: nothing but a kill stops it
        }
      case "wait":
        // Time passing without CPU used, as for a task waiting for a core on a busy machine.
        await new Promise((resolve) => setTimeout(resolve, task.ms));
        return { value: "waited", pid: process.pid };
      case "heap":
        // Small objects on V8's heap, a megabyte at a time, then hold them and spin.
        for (let mb = 0; mb < task.mb; mb++) {
          held.push(Array.from({ length: 16_384 }, (_, i) => ({ i, s: `x${i}` })));
        }
        for (;;) {}
      case "buffers":
        // Memory outside V8's heap (as a zip inflates into): only the resident-memory watch sees it.
        for (let mb = 0; mb < task.mb; mb++) held.push(Buffer.alloc(1024 * 1024, 1));
        for (;;) {}
      case "exit":
        process.exit(task.code);
    }
  },
  (error) => ({ code: (error as { code?: unknown }).code }),
);
