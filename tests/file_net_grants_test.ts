/**
 * Grants for files and hosts, end to end: a step reads and writes exactly
 * the paths it declares and the run grants, reaches exactly the hosts,
 * in every language (docs/SECURITY.md has the table), and a run that
 * grants too little, or that hwfe itself cannot give, is refused first.
 */

import assert from "node:assert/strict";
import { deno, hwfe, runJson, TESTDATA, writeWorkflow } from "./_helpers.ts";

/** A working directory with data/ (to read), out/ (to write) and a secret beside them. */
async function workspace(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-files-" });
  await Deno.mkdir(`${dir}/data/private`, { recursive: true });
  await Deno.mkdir(`${dir}/out`);
  await Deno.writeTextFile(`${dir}/data/in.csv`, "a,1\nb,2\n");
  await Deno.writeFile(`${dir}/data/blob.bin`, new Uint8Array([0, 1, 0xff, 0x80, 10]));
  await Deno.writeTextFile(`${dir}/data/private/p.txt`, "private");
  await Deno.writeTextFile(`${dir}/secret.txt`, "secret");
  return dir;
}

/** A local HTTP server: `/` answers JSON, `/redirect` sends to `other`. */
function server(other?: number): { port: number; close(): Promise<void> } {
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/redirect") return Response.redirect(`http://127.0.0.1:${other}/`, 302);
    return Response.json({ path: url.pathname, method: request.method });
  });
  return { port: s.addr.port, close: () => s.shutdown() };
}

/** A WASI module that prints data/in.csv (pre-opened as fd 3) and writes out/wasi.txt (fd 5). */
const WASI_FILES = await Deno.readTextFile(`${TESTDATA}wasm/wasi_files.wat`);

Deno.test("file and host grants: each language reads, writes and fetches what it was granted", async () => {
  const dir = await workspace();
  const api = server();
  try {
    const net = `127.0.0.1:${api.port}`;
    const url = `http://${net}/hello`;
    const grants = { read: ["data"], write: ["out"] };
    const file = await writeWorkflow("files", {
      lua: {
        language: "lua",
        permissions: grants,
        code: `function run()
  local rows = {}
  for line in io.lines("data/in.csv") do rows[#rows + 1] = line end
  local blob = assert(io.open("data/blob.bin", "rb")):read("a")
  local f = assert(io.open("out/lua.txt", "w"))
  f:write("from lua ", #rows, "\\n")
  f:close()
  local copy = assert(io.open("out/blob.bin", "wb"))
  copy:write(blob)
  copy:close()
  local g = assert(io.open("out/lua-append.txt", "a"))
  g:write("one\\n")
  g:close()
  g = assert(io.open("out/lua-append.txt", "a"))
  g:write("two\\n") -- left open: written when run() returns
  return { rows = rows, bytes = #blob }
end`,
      },
      python: {
        language: "python",
        permissions: { read: ["data", "out"], write: ["out"], net: [net] },
        code: `import os
from pyodide.http import pyfetch

async def run():
    rows = open("data/in.csv").read().split()
    blob = open(os.path.abspath("data/blob.bin"), "rb").read()
    with open("out/python.txt", "w") as f:
        f.write("from python\\n")
    response = await pyfetch("${url}")
    return {"rows": rows, "bytes": len(blob), "listing": sorted(os.listdir("data")),
            "fetched": await response.json(), "cwd": os.getcwd()}
`,
      },
      javascript: {
        language: "javascript",
        permissions: { ...grants, net: [net] },
        code: `async function run() {
  const rows = hwfe.readTextFile("data/in.csv").trim().split("\\n");
  hwfe.writeTextFile("out/javascript.txt", "from js\\n");
  hwfe.writeTextFile("out/javascript.txt", "more\\n", { append: true });
  const response = await hwfe.fetch("${url}", { method: "POST", body: "x" });
  return { rows, status: response.status, ok: response.ok, body: await response.json(),
           type: response.headers.get("content-type") };
}`,
      },
      typescript: {
        language: "typescript",
        permissions: grants,
        code: `declare const hwfe: {
  readTextFile(path: string): string;
  writeTextFile(path: string, text: string): void;
};
function run(): number {
  const rows: string[] = hwfe.readTextFile("data/in.csv").trim().split("\\n");
  hwfe.writeTextFile("out/typescript.txt", "from ts\\n");
  return rows.length;
}`,
      },
      wasi: { language: "wasm", permissions: grants, code: WASI_FILES },
    });
    const result = await hwfe(
      ["run", "--json", "--allow-read=data,out", "--allow-write=out", `--allow-net=${net}`, file],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const s = runJson(result).steps;
    assert.deepEqual(s.lua.result, { rows: ["a,1", "b,2"], bytes: 5 });
    assert.deepEqual(s.python.result, {
      rows: ["a,1", "b,2"],
      bytes: 5,
      listing: ["blob.bin", "in.csv", "private"],
      fetched: { path: "/hello", method: "GET" },
      cwd: dir,
    });
    assert.deepEqual(s.javascript.result, {
      rows: ["a,1", "b,2"],
      status: 200,
      ok: true,
      body: { path: "/hello", method: "POST" },
      type: "application/json",
    });
    assert.deepEqual(s.typescript.result, { value: 2 });
    assert.deepEqual(s.wasi.result, { exit_code: 0, stderr: "", stdout: "a,1\nb,2\n00" });
    const out = (name: string) => Deno.readTextFile(`${dir}/out/${name}`);
    assert.equal(await out("lua.txt"), "from lua 2\n");
    assert.equal(await out("lua-append.txt"), "one\ntwo\n");
    assert.deepEqual(
      await Deno.readFile(`${dir}/out/blob.bin`),
      new Uint8Array([0, 1, 0xff, 0x80, 10]),
      "binary bytes survive Lua's io both ways",
    );
    assert.equal(await out("python.txt"), "from python\n");
    assert.equal(await out("javascript.txt"), "from js\nmore\n");
    assert.equal(await out("typescript.txt"), "from ts\n");
    assert.equal(await out("wasi.txt"), "wasi wrote\n");
  } finally {
    await api.close();
  }
});

Deno.test("file grants: a step gets only what it declares, even when the run grants more", async () => {
  const dir = await workspace();
  const file = await writeWorkflow("undeclared", {
    declared: {
      language: "lua",
      permissions: { read: ["data/in.csv"] },
      code: `function run() return { csv = assert(io.open("data/in.csv")):read("a"),
  other = select(2, io.open("data/private/p.txt")) } end`,
    },
    python_file: {
      language: "python",
      permissions: { read: ["data/in.csv"] },
      code: `import os
def run():
    out = {"csv": open("data/in.csv").read()}
    for name, attempt in [("listing", lambda: os.listdir("data")),
                          ("other", lambda: open("data/private/p.txt").read())]:
        try:
            attempt()
            out[name] = "ESCAPED"
        except PermissionError:
            out[name] = "denied"
    return out
`,
    },
    undeclared: {
      language: "javascript",
      code:
        `function run() { try { return hwfe.readTextFile("data/in.csv"); } catch (e) { return e.name; } }`,
    },
  });
  const result = await hwfe(["run", "--json", "-A", file], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const s = runJson(result).steps;
  assert.deepEqual(s.declared.result, {
    csv: "a,1\nb,2\n",
    other:
      "data/private/p.txt: Permission denied (not granted to this step: declare it in permissions.read and run with --allow-read)",
  });
  assert.deepEqual(s.python_file.result, { csv: "a,1\nb,2\n", listing: "denied", other: "denied" });
  assert.deepEqual(
    s.undeclared.result,
    { value: "PermissionDenied" },
    "-A grants nothing a step does not declare",
  );
});

Deno.test("file grants: too little granted is refused before the run, with the flags to add", async () => {
  const dir = await workspace();
  const file = await writeWorkflow("missing", {
    a: {
      language: "lua",
      permissions: { read: ["data"], write: ["out"], net: ["example.com"] },
      code: "function run() return 1 end",
    },
  });
  const result = await hwfe(["run", "--allow-read=other", file], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /step 'a' needs to read data/);
  assert.match(result.stderr, /step 'a' needs to write to out/);
  assert.match(result.stderr, /step 'a' needs to reach example\.com/);
  // The flags to add keep what was already granted.
  assert.match(
    result.stderr,
    /rerun as: hwfe run --allow-read=other,data --allow-write=out --allow-net=example\.com /,
  );
  assert.doesNotMatch(result.stderr, /rerun as: .*--allow-read=other .*--allow-read/);
  assert.equal(runOutputs(dir), 0, "nothing ran");
});

function runOutputs(dir: string): number {
  return [...Deno.readDirSync(`${dir}/out`)].length;
}

Deno.test("file grants: --deny-read wins; a deny inside a grant is enforced in a child process", async () => {
  const dir = await workspace();
  const file = await writeWorkflow("deny", {
    lua: {
      language: "lua",
      permissions: { read: ["data"] },
      code: `function run() return { csv = #assert(io.open("data/in.csv")):read("a"),
  private = select(2, io.open("data/private/p.txt")) } end`,
    },
    python: {
      language: "python",
      permissions: { read: ["data"] },
      code: `def run():
    try:
        open("data/private/p.txt").read()
        return "READ"
    except PermissionError:
        return len(open("data/in.csv").read())
`,
    },
    javascript: {
      language: "javascript",
      permissions: { read: ["data"] },
      code:
        `function run() { try { return hwfe.readTextFile("data/private/p.txt"); } catch (e) { return e.name; } }`,
    },
  });
  const result = await hwfe(
    ["run", "--json", "--allow-read", "--deny-read=data/private", file],
    { cwd: dir },
  );
  assert.equal(result.code, 0, result.stderr);
  const s = runJson(result).steps;
  assert.deepEqual(s.lua.result, {
    csv: 8,
    private:
      "data/private/p.txt: Permission denied (not granted to this step: declare it in permissions.read and run with --allow-read)",
  });
  assert.equal(s.python.result, 8);
  assert.deepEqual(s.javascript.result, { value: "PermissionDenied" });

  const denied = await hwfe(["run", "--allow-read", "--deny-read=data", file], { cwd: dir });
  assert.equal(denied.code, 2);
  assert.match(
    denied.stderr,
    /reading data \(needed by steps 'javascript', 'lua', 'python'\) is denied by --deny-read/,
  );
  assert.doesNotMatch(denied.stderr, /rerun as/);
});

Deno.test("file grants: a symbolic link leading out of a grant is refused before the run", async () => {
  const dir = await workspace();
  await Deno.symlink(`${dir}/secret.txt`, `${dir}/data/private/link`);
  const file = await writeWorkflow("link", {
    a: { language: "lua", permissions: { read: ["data"] }, code: "function run() return 1 end" },
  });
  const result = await hwfe(["run", "--allow-read", file], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /step 'a': .*data\/private\/link is a symbolic link to .*secret\.txt, outside what the step may read/,
  );
  // A link that stays inside the grant is fine.
  await Deno.remove(`${dir}/data/private/link`);
  await Deno.symlink(`${dir}/data/in.csv`, `${dir}/data/private/link`);
  const inside = await hwfe(["run", "--allow-read", file], { cwd: dir });
  assert.equal(inside.code, 0, inside.stderr);
});

Deno.test("grants: hwfe started without the Deno permission a grant needs says which deno flag", async () => {
  const dir = await workspace();
  const file = await writeWorkflow("deno-flags", {
    a: { language: "lua", permissions: { write: ["out"] }, code: "function run() return 1 end" },
  });
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const output = await deno(
    [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      cli,
      "run",
      "--allow-write",
      file,
    ],
    { cwd: dir },
  );
  const stderr = output.stderr;
  assert.equal(output.code, 2, stderr);
  assert.match(
    stderr,
    new RegExp(
      `hwfe itself was started without the Deno permissions these grants need: run it with deno run --allow-write=${dir}/out`,
    ),
  );
});

Deno.test("grants: a URL given as a host is refused with the host to write instead", async () => {
  const file = await writeWorkflow("url", { a: { language: "lua", code: "function run() end" } });
  const result = await hwfe(["run", "--allow-net=https://api.example.com/v1", file]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /--allow-net: 'https:\/\/api\.example\.com\/v1' is not a host; write the host alone: --allow-net=api\.example\.com/,
  );
});

Deno.test("file grants: a Python step's file written outside its grants fails instead of vanishing", async () => {
  const dir = await workspace();
  const file = await writeWorkflow("stray", {
    p: {
      language: "python",
      permissions: { read: ["out"], write: ["out"] },
      code: `def run():
    open("out/kept.txt", "w").write("kept")
    try:
        open("stray.txt", "w").write("lost?")
        return "written"
    except PermissionError as e:
        return "refused: " + e.strerror
`,
    },
  });
  const result = await hwfe(["run", "--json", "--allow-read", "--allow-write", file], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(runJson(result).steps.p.result, "refused: Permission denied");
  assert.equal(await Deno.readTextFile(`${dir}/out/kept.txt`), "kept");
  assert.throws(() => Deno.statSync(`${dir}/stray.txt`), Deno.errors.NotFound);
});
