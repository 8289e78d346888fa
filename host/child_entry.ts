/**
 * The child-process side of a step-host worker: started by
 * `ChildWorker` (host/child_process.ts) with Deno permissions narrowed to
 * the runtime's files and a V8 heap limit, it runs the runtime's worker
 * module in a worker of its own (so that interrupts can still reach it
 * through a SharedArrayBuffer) and relays framed messages between that
 * worker and the parent over stdin and stdout.
 *
 * Usage: child_entry.ts <worker module URL> <JSON of the worker's permissions>.
 * A compiled `hwfe` cannot `deno run` a module, so it starts itself as
 * `hwfe __hwfe-step-child ...` instead, and cli.ts calls
 * {@link serveAsStepChild} (see host/child_process.ts).
 *
 * @module
 */

import { ExitCode } from "../_util/errors.ts";
import { encodeFrame, readFrames } from "./frames.ts";
import { type HostMessage, parseHostMessage, raiseInterrupt, takeOutput } from "./protocol.ts";
import { sandboxedWorker } from "./sandboxed_worker.ts";

/** The first argument with which a compiled `hwfe` runs as a step child. */
export const STEP_CHILD_COMMAND = "__hwfe-step-child";

/**
 * Serves the parent over stdin and stdout until it closes stdin, then
 * exits. `args`: the worker module's URL and its permissions as JSON.
 */
export async function serveAsStepChild(args: string[]): Promise<never> {
  // Ctrl-C in a terminal reaches the whole process group: the parent
  // decides what to cancel, and kills this process when it is done with it.
  Deno.addSignalListener("SIGINT", () => {});

  let worker: Worker;
  try {
    const [moduleUrl, permissionsJson] = args;
    worker = sandboxedWorker(new URL(moduleUrl), "hwfe-child", JSON.parse(permissionsJson));
  } catch {
    console.error(
      `${STEP_CHILD_COMMAND} is how hwfe starts its own child processes, with a worker ` +
        `module URL and its permissions as JSON; it is not meant to be run by hand`,
    );
    return Deno.exit(2);
  }
  const flags = new Map<string, Int32Array>();
  const flows = new Map<string, Int32Array>();
  const stdout = Deno.stdout.writable.getWriter();
  let sending = Promise.resolve();
  const send = (message: unknown, written?: () => void) => {
    const frame = encodeFrame(message);
    sending = sending.then(() => stdout.write(frame)).then(written);
  };

  worker.onmessage = ({ data }) => {
    if (data?.type === "done") {
      flags.delete(data.id);
      flows.delete(data.id);
    }
    // Output counts as read once the parent's pipe has taken it, so the
    // worker waits for a slow parent rather than pile frames up here.
    const flow = data?.type === "output" ? flows.get(data.id) : undefined;
    const chars = typeof data?.text === "string" ? data.text.length : 0;
    send(data, flow && (() => takeOutput(flow, chars)));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    console.error(`the runtime crashed: ${event.message}`);
    Deno.exit(ExitCode.internal);
  };

  for await (const frame of readFrames(Deno.stdin.readable)) {
    const m = parseHostMessage(frame);
    if (!m || m.type === "shutdown") {
      if (!m) {
        send({ type: "protocol_error", message: "a frame of a kind or shape it does not know" });
      }
      break;
    }
    if (m.type === "interrupt") {
      const flag = flags.get(m.id);
      if (flag) raiseInterrupt(flag);
    } else if (m.type === "run") {
      // Shared memory cannot cross processes: the child makes its own.
      const interrupt = new SharedArrayBuffer(8);
      const flow = new SharedArrayBuffer(4);
      flags.set(m.id, new Int32Array(interrupt));
      flows.set(m.id, new Int32Array(flow));
      worker.postMessage({ ...m, interrupt, flow } satisfies HostMessage);
    } else {
      worker.postMessage(m);
    }
  }
  // The parent closed stdin or said shutdown: it is gone or done with us.
  await sending.catch(() => {});
  return Deno.exit(0);
}

if (import.meta.main) await serveAsStepChild(Deno.args);
