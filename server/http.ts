/**
 * What every request of the server goes through: the token, the checks
 * that keep other sites out (a JSON content type on POSTs, the Origin and,
 * on loopback, the Host), bodies read within a cap, and errors as JSON.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";

/** An error with the HTTP status it answers with; its message is shown to the client. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

/** The largest request body read: any request hwfe takes is far smaller. */
export const MAX_BODY_BYTES = 64 * 1024;

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** A JSON response. */
export function json(value: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...SECURITY_HEADERS,
      ...headers,
    },
  });
}

/** An error as JSON: `{"error": {"status", "message"}}`. */
export function errorJson(status: number, message: string): Response {
  return json({ error: { status, message } }, status);
}

/** The request's body as JSON within {@link MAX_BODY_BYTES}: 413, 415 or 400 otherwise. */
export async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, "send the body as JSON, with Content-Type: application/json");
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ?? []) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "the body is not valid JSON");
  }
}

function tooLarge(): HttpError {
  return new HttpError(413, `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
}

/** Who may call the API: the token (if any), and whether the server listens on loopback. */
export interface Guard {
  token?: string;
  loopback: boolean;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Refuses a request another site could have made, or one without the
 * token: throws an {@link HttpError}. `url.pathname` decides whether the
 * token is needed (the API) or not (the page, which asks for it).
 */
export function guard(request: Request, url: URL, rules: Guard): void {
  if (rules.loopback) {
    // DNS rebinding: a name that resolves to 127.0.0.1 must not reach the server.
    const host = url.hostname.toLowerCase();
    if (!LOOPBACK_HOSTS.has(host) && !host.startsWith("127.")) {
      throw new HttpError(403, `the Host '${url.host}' is not this server's: use 127.0.0.1`);
    }
  }
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== url.origin) {
    throw new HttpError(403, `requests from ${origin.slice(0, 200)} are refused`);
  }
  if (!url.pathname.startsWith("/api/") || rules.token === undefined) return;
  const given = bearer(request) ??
    // EventSource cannot set headers: the events stream alone takes ?token=.
    (url.pathname.endsWith("/events") ? url.searchParams.get("token") : null);
  if (given === null || !sameToken(given, rules.token)) {
    throw new HttpError(401, "this server needs its token: Authorization: Bearer <token>");
  }
}

function bearer(request: Request): string | null {
  const header = request.headers.get("authorization");
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match ? match[1].trim() : null;
}

/** Compares in constant time, so the answer's timing tells nothing of the token. */
function sameToken(given: string, token: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
