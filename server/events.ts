/**
 * A run's events as Server-Sent Events, read from the run store: every
 * event from the one after `Last-Event-ID` on, then new ones as the run's
 * writer records them (it writes every 100 ms; the stream looks as
 * often), until the run ends. Reading the store rather than the run in
 * memory means a client that reconnects misses nothing, and a run started
 * by `hwfe run` in a terminal can be watched as well as the server's own.
 *
 * @module
 */

import { sleep } from "../_util/abort.ts";
import type { RunStore } from "../store/store.ts";
import type { EventRow } from "../store/rows.ts";

/** How often a live run's new events are looked for. */
export const POLL_MS = 100;
/** A comment this often keeps idle connections (and proxies) open. */
const KEEPALIVE_MS = 15_000;
/** Events read at once: memory stays bounded however much a run wrote. */
const PAGE = 1000;

const ENDED = new Set(["succeeded", "failed", "cancelled", "interrupted"]);

/**
 * One event as an SSE message: `id`, `event`, and as JSON `data` its
 * fields as `RunEvent` has them, but what the store keeps elsewhere: a
 * finished step's report has no result (the run's steps have it),
 * `run_started` no levels (the run has them), `run_finished`'s result
 * only its status and duration.
 */
export function sseMessage(row: EventRow): string {
  const data = parseData(row.data);
  const step = row.step !== undefined ? { step: row.step } : {};
  const fields = row.type === "step_output"
    ? { step: row.step, stream: row.stream, line: row.line }
    : row.type === "step_finished"
    ? { report: data }
    : row.type === "run_finished"
    ? { result: data }
    : { ...step, ...data };
  return `id: ${row.seq}\nevent: ${row.type}\ndata: ${JSON.stringify(fields)}\n\n`;
}

function parseData(data: string | undefined): Record<string, unknown> {
  if (data === undefined) return {};
  try {
    const value = JSON.parse(data);
    return typeof value === "object" && value !== null ? value : { value };
  } catch {
    return {};
  }
}

/**
 * The response streaming run `runId`'s events after `afterSeq` from
 * `store` (which the caller keeps open), ending when the run has ended
 * and every event is sent, or when `signal` aborts (the server stops).
 */
export function eventStream(
  store: RunStore,
  runId: number,
  afterSeq: number,
  signal: AbortSignal,
): Response {
  const encoder = new TextEncoder();
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      let seq = afterSeq;
      let quietSince = Date.now();
      send("retry: 1000\n\n");
      try {
        while (!closed && !signal.aborted) {
          // The status first: events written before the run ended are read after it.
          const status = store.getRun(runId)?.status;
          for (;;) {
            const rows = store.events(runId, { afterSeq: seq, limit: PAGE });
            for (const row of rows) send(sseMessage(row));
            if (rows.length) {
              seq = rows[rows.length - 1].seq;
              quietSince = Date.now();
            }
            if (rows.length < PAGE) break;
          }
          if (status === undefined || ENDED.has(status)) break;
          if (Date.now() - quietSince > KEEPALIVE_MS) {
            send(": keepalive\n\n");
            quietSince = Date.now();
          }
          await sleep(POLL_MS, signal);
        }
        send(`event: end\ndata: {}\n\n`);
      } catch {
        // The store went away (the server stops): the client reconnects later.
      }
      if (!closed) {
        closed = true;
        controller.close();
      }
    },
    cancel() {
      closed = true; // the client went away
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-accel-buffering": "no",
    },
  });
}
