/**
 * hwfe's own API, under `/api/v1/` (docs/SERVER.md): workflows with their
 * plan and laid-out DAG, runs started asynchronously (202 and an id), the
 * history paged and filtered, a step's log, cancel and resume, and each
 * run's events as Server-Sent Events.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { errorText } from "../_util/errors.ts";
import { parseJsonExact } from "../_util/json.ts";
import { runDetailJson, runJson } from "../api/history_json.ts";
import type { RecordedRunStatus } from "../store/rows.ts";
import type { RunStore } from "../store/store.ts";
import { eventStream } from "./events.ts";
import { HttpError, json, readJson } from "./http.ts";
import type { RunRequest, Runs } from "./runs.ts";
import { graphJson, loadNamed, workflowFile, workflowJson, workflowNames } from "./workflows.ts";

/** What the handlers share. */
export interface ApiContext {
  store: RunStore;
  runs: Runs;
  workflowsDir: string;
  cacheDir?: string;
  /** Aborts when the server stops: open event streams end. */
  stopping: AbortSignal;
}

const STATUSES: RecordedRunStatus[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "interrupted",
];
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

/** A workflow as listed, with its last run; its error when it does not load. */
async function workflowEntry(ctx: ApiContext, name: string) {
  const file = workflowFile(ctx.workflowsDir, name);
  const last = ctx.store.getRun("last", { file: resolve(file) });
  const lastRun = last
    ? { id: last.id, status: last.status, started: new Date(last.startedAt).toISOString() }
    : null;
  try {
    const { workflow } = await loadNamed(ctx.workflowsDir, name, { cacheDir: ctx.cacheDir });
    return { ...workflowJson(name, file, workflow), last_run: lastRun };
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) throw error;
    return { name, file, error: errorText(error), last_run: lastRun };
  }
}

/** The response of `/api/v1/<path>`, or undefined when no route matches. */
export async function apiV1(
  ctx: ApiContext,
  request: Request,
  url: URL,
  path: string,
): Promise<Response | undefined> {
  const method = request.method;
  const parts = path.split("/").filter((p) => p !== "").map(decoded);
  const [head, id, sub, step, leaf] = parts;
  if (method === "GET" && path === "openapi.json") return undefined; // served by app.ts
  if (head === "workflows") {
    if (method !== "GET") throw new HttpError(405, "workflows are read with GET");
    if (parts.length === 1) {
      const names = await workflowNames(ctx.workflowsDir);
      return json({ workflows: await Promise.all(names.map((n) => workflowEntry(ctx, n))) });
    }
    if (parts.length === 2) return json(await workflowEntry(ctx, id));
    if (parts.length === 3 && sub === "graph") {
      const { workflow } = await loadNamed(ctx.workflowsDir, id, { cacheDir: ctx.cacheDir });
      return json(graphJson(id, workflow));
    }
    return undefined;
  }
  if (head !== "runs") return undefined;
  if (parts.length === 1) {
    if (method === "POST") return await submit(ctx, await readJson(request));
    if (method === "GET") return list(ctx, url);
    throw new HttpError(405, "runs are listed with GET and started with POST");
  }
  const runId = Number(id);
  if (!/^[1-9]\d{0,14}$/.test(id)) throw new HttpError(400, `'${id}' is not a run's id`);
  const run = ctx.store.getRun(runId);
  if (!run) throw new HttpError(404, `no run ${runId} in hwfe's history`);
  if (parts.length === 2 && method === "GET") {
    return json(runDetailJson(run, ctx.store.steps(runId)));
  }
  if (parts.length === 3 && sub === "events" && method === "GET") {
    const last = request.headers.get("last-event-id") ?? url.searchParams.get("after") ?? "0";
    const after = /^\d{1,15}$/.test(last) ? Number(last) : 0;
    return eventStream(ctx.store, runId, after, ctx.stopping);
  }
  if (parts.length === 3 && sub === "cancel" && method === "POST") {
    await readJson(request); // a JSON POST, as every POST: no cross-site form
    if (ctx.runs.cancel(runId)) return json({ id: runId, status: "cancelling" }, 202);
    if (run.status === "running" || run.status === "queued") {
      throw new HttpError(
        409,
        `run ${runId} was started by another process (pid ${run.pid} on ${run.host}): stop it there`,
      );
    }
    throw new HttpError(409, `run ${runId} has ended (${run.status})`);
  }
  if (parts.length === 3 && sub === "resume" && method === "POST") {
    await readJson(request);
    if (run.status === "running" || run.status === "queued") {
      throw new HttpError(409, `run ${runId} has not ended: resume it once it has`);
    }
    const file = run.file;
    if (!file || resolve(dirname(file)) !== resolve(ctx.workflowsDir)) {
      throw new HttpError(
        409,
        `run ${runId} is of ${file ?? "a workflow built in code"}, not of the workflows directory`,
      );
    }
    const params = run.params === undefined ? undefined : parseJsonExact(run.params);
    return await submit(ctx, {
      workflow: basename(file, ".lua"),
      ...(params && typeof params === "object" ? { params } : {}),
      resume: runId,
    });
  }
  if (parts.length === 5 && sub === "steps" && leaf === "log" && method === "GET") {
    if (!ctx.store.steps(runId).some((s) => s.name === step)) {
      throw new HttpError(404, `run ${runId} has no step '${step}'`);
    }
    const after = Number(url.searchParams.get("after") ?? 0);
    const limit = Math.min(Number(url.searchParams.get("limit") ?? 5000) || 5000, 10_000);
    const lines = ctx.store.output(runId, step, {
      afterSeq: Number.isSafeInteger(after) ? after : 0,
      limit,
    });
    return json({
      lines: lines.map((l) => ({
        seq: l.seq,
        at: new Date(l.at).toISOString(),
        stream: l.stream,
        line: l.line,
      })),
      next: lines.length ? lines[lines.length - 1].seq : after,
    });
  }
  return undefined;
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `'${part.slice(0, 200)}' is not a valid part of a URL`);
  }
}

async function submit(ctx: ApiContext, body: unknown): Promise<Response> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, `send a JSON object: {"workflow": "<name>", "params": {...}}`);
  }
  const { id } = await ctx.runs.submit(body as RunRequest);
  const status = ctx.store.getRun(id)?.status ?? "queued";
  return json({ id, status, url: `/api/v1/runs/${id}` }, 202, { location: `/api/v1/runs/${id}` });
}

function list(ctx: ApiContext, url: URL): Response {
  const q = url.searchParams;
  const status = q.get("status") || undefined;
  if (status !== undefined && !STATUSES.includes(status as RecordedRunStatus)) {
    throw new HttpError(400, `status must be one of ${STATUSES.join(", ")}`);
  }
  const number = (name: string, fallback: number, max: number) => {
    const text = q.get(name);
    if (text === null || text === "") return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw new HttpError(400, `${name} must be a whole number from 0 to ${max}`);
    }
    return n;
  };
  const limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT);
  const offset = number("offset", 0, Number.MAX_SAFE_INTEGER);
  const filter = {
    workflow: q.get("workflow") || undefined,
    status: status as RecordedRunStatus | undefined,
  };
  const runs = ctx.store.listRuns({ ...filter, limit, offset });
  return json({ runs: runs.map(runJson), total: ctx.store.countRuns(filter), limit, offset });
}
