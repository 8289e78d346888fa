/**
 * `hwfe serve`: the HTTP server on `Deno.serve`. Every request passes the
 * guard (server/http.ts), then goes to the reference engine's endpoints
 * (server/reference.ts), hwfe's API (server/api_v1.ts) or the page, three
 * files read from server/page/ once, at start (`deno compile` includes
 * them).
 *
 * @module
 */

import { errorText } from "../_util/errors.ts";
import type { Grants } from "../engine/grants.ts";
import type { Settings } from "../engine/settings.ts";
import { openStore } from "../store/store.ts";
import { apiV1 } from "./api_v1.ts";
import { errorJson, guard, HttpError, json, readJson } from "./http.ts";
import { openApiDocument } from "./openapi.ts";
import { referenceRun, referenceWorkflows } from "./reference.ts";
import { Runs } from "./runs.ts";

/** What `hwfe serve` is given. */
export interface ServeOptions {
  hostname: string;
  /** 0 for any free port. */
  port: number;
  /** Required on every API call as a bearer token, when set. */
  token?: string;
  maxRuns: number;
  dataDir: string;
  workflowsDir: string;
  settings: Settings;
  grants: Grants;
  /** Environment variables whose values every run masks (`--secret`). */
  secrets?: string[];
  version: string;
  cacheDir?: string;
  onWarning: (message: string) => void;
}

/** A running server. */
export interface Server {
  /** Where it listens, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  /** Takes no new runs, cancels its runs, closes its connections; resolves once all is recorded. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** The page's files: name, type. */
const PAGE_FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** The page may load only its own files and talk only to this server. */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
  "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
  "form-action 'self'";

async function readPage(): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const name of Object.keys(PAGE_FILES)) {
    try {
      files.set(name, await Deno.readFile(new URL(`./page/${name}`, import.meta.url)));
    } catch { /* served as a 404 naming the file */ }
  }
  return files;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Starts the server; the store is opened (and made) first, so a bad one stops it here. */
export async function startServer(options: ServeOptions): Promise<Server> {
  const store = openStore(options.dataDir);
  const runs = new Runs({ ...options });
  const page = await readPage();
  const stopping = new AbortController();
  const loopback = LOOPBACK.test(options.hostname);
  const ctx = {
    store,
    runs,
    workflowsDir: options.workflowsDir,
    cacheDir: options.cacheDir,
    stopping: stopping.signal,
  };

  const route = async (request: Request, url: URL): Promise<Response | undefined> => {
    const path = url.pathname;
    const method = request.method;
    if (path === "/api/workflows") {
      if (method !== "GET") throw new HttpError(405, "workflows are read with GET");
      return await referenceWorkflows(options.workflowsDir);
    }
    const reference = /^\/api\/workflows\/([^/]+)\/run$/.exec(path);
    if (reference) {
      if (method !== "POST") throw new HttpError(405, "a workflow is run with POST");
      // The reference engine's page posts no body; one that is sent must be JSON.
      if (request.body !== null && request.headers.get("content-type")) await readJson(request);
      let name: string;
      try {
        name = decodeURIComponent(reference[1]);
      } catch {
        throw new HttpError(400, "the workflow's name is not valid in a URL");
      }
      return await referenceRun(runs, name);
    }
    if (path === "/api/v1/openapi.json" && method === "GET") {
      return json(openApiDocument(options.version));
    }
    if (path.startsWith("/api/v1/")) return await apiV1(ctx, request, url, path.slice(8));
    if (method !== "GET" && method !== "HEAD") return undefined;
    const name = path === "/" ? "index.html" : path.slice(1);
    if (!(name in PAGE_FILES)) return undefined;
    const bytes = page.get(name);
    if (!bytes) throw new HttpError(404, `the page's ${name} is missing from this hwfe`);
    return new Response(bytes, {
      headers: {
        "content-type": PAGE_FILES[name],
        "content-security-policy": PAGE_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cache-control": "no-cache",
      },
    });
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    try {
      guard(request, url, { token: options.token, loopback });
      return await route(request, url) ??
        errorJson(404, `nothing at ${request.method} ${url.pathname.slice(0, 200)}`);
    } catch (error) {
      if (error instanceof HttpError) return errorJson(error.status, error.message);
      options.onWarning(`${request.method} ${url.pathname}: ${errorText(error)}`);
      return errorJson(500, `hwfe could not answer: ${errorText(error)}`);
    }
  };

  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => (listening = resolve));
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      listening(`http://${host}:${port}/`);
    },
    onError: (error) => {
      options.onWarning(`the server: ${errorText(error)}`);
      return errorJson(500, "hwfe could not answer");
    },
  }, handler);

  let stopped: Promise<void> | undefined;
  return {
    url: await url,
    finished: server.finished,
    shutdown: () =>
      stopped ??= (async () => {
        stopping.abort(); // event streams end, so connections can close
        await runs.shutdown();
        await server.shutdown();
        store.close();
      })(),
  };
}
