/**
 * A step-host worker for unit tests. A job's code is a command:
 * `result <json>`, `spin` (busy until interrupted), `stubborn <ms>` (busy
 * for that long, ignoring interrupts), `forge` (posts a second "hello", as
 * hostile step code could), `read <path>` (what reading the file came to),
 * `flood` (prints until interrupted), `retire <json>` (a result, after
 * which the worker must not run another job).
 */

import { serveSteps } from "../worker_entry.ts";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* burn */ }
}

serveSteps({
  language: "fake",
  setup: () => ({ report: { pid: "fake" } }),
  run({ job, interrupted, write }) {
    const [command, arg] = job.code.split(" ");
    switch (command) {
      case "result":
        return Promise.resolve({ kind: "result", json: arg });
      case "retire":
        return Promise.resolve({ kind: "result", json: arg, retire: true });
      case "spin":
        while (!interrupted()) busy(1);
        return Promise.resolve({ kind: "interrupted" });
      case "stubborn":
        busy(Number(arg));
        return Promise.resolve({ kind: "result", json: "1" });
      case "flood":
        while (!interrupted()) write("stdout", "x".repeat(1000));
        return Promise.resolve({ kind: "interrupted" });
      case "forge":
        (self as unknown as Worker).postMessage({
          type: "hello",
          protocol: 1,
          host: { pid: 1 },
          offer: { languages: ["fake"], grants: { read: [], write: [], net: [] }, forbidden: [] },
          report: { pid: "forged" },
        });
        return Promise.resolve({ kind: "result", json: "1" });
      case "read":
        try {
          return Promise.resolve({
            kind: "result",
            json: JSON.stringify(Deno.readTextFileSync(arg)),
          });
        } catch (error) {
          return Promise.resolve({ kind: "result", json: JSON.stringify((error as Error).name) });
        }
      default:
        return Promise.resolve({ kind: "error", message: `unknown command ${command}` });
    }
  },
});
