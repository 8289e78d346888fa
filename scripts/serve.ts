/**
 * Serves this repository over HTTP, so that `mod.ts` can be imported from
 * a URL as it would be from a release (tests/http_import_test.ts does).
 *
 *   deno run --allow-net=127.0.0.1 --allow-read scripts/serve.ts [PORT]
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

const TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".js": "application/javascript",
  ".json": "application/json",
};

/** Serves the repository's files on 127.0.0.1 (`port` 0: any free port). */
export function serveRepository(port = 0): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.split("/").includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(new URL(`.${path}`, ROOT));
      const type = TYPES[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

if (import.meta.main) {
  const server = serveRepository(Number(Deno.args[0] ?? 8000));
  console.log(`serving ${ROOT.pathname} at http://127.0.0.1:${server.addr.port}/`);
}
