/**
 * JavaScript run inside every fresh QuickJS context before a step's code:
 * a Node-style `console` that prints objects readably, the globals
 * `inputs` and `outputResult(value)` the reference engine defines, and
 * `__hwfe.call`, which calls the step's `run(inputs)` and converts its
 * result (or what `outputResult` was given) to JSON text, tagged: R<json>
 * a result, B<what> a result that is not JSON data, N neither run() nor
 * outputResult(). An async `run` gives a promise of such a string.
 *
 * The prelude is split for speed: QuickJS compiles about 8 KB/ms and
 * nothing is cached across contexts, so only the common path (JS_PRELUDE:
 * printing strings, converting plain data) is evaluated for every step;
 * the object printer, the path-tracking converter and hwfe's file and
 * fetch calls (JS_PRELUDE_LAZY) the first time a step needs them. The
 * eager half went from 4.4 KB (0.63 ms a step) to 2.8 KB.
 *
 * `__hwfe_write(stream, text)` (1 stdout, 2 stderr), `__hwfe_lazy` (the
 * lazy source), `__hwfe_env` (JSON of the granted environment variables,
 * which become `hwfe.env`), `__hwfe_inputs` (JSON of the step's inputs), `__hwfe_fs(op, path, text)` (files, for
 * `hwfe.readTextFile`, `writeTextFile`, `remove`) and
 * `__hwfe_fetch(url, initJson) -> id` (for `hwfe.fetch`, settled later
 * through `__hwfe.settle`) are provided by the worker and removed from the
 * global scope here.
 *
 * @module
 */

/**
 * Evaluated on first use: a function of the worker's host functions whose
 * value holds the object printer, the path-tracking converter, and hwfe's
 * file and fetch calls.
 */
export const JS_PRELUDE_LAZY = String.raw`
((host) => {
  const MAX_DEPTH = 500;
  const quote = (s) => JSON.stringify(s);
  // "__proto__" in brackets, as Node prints it: bare, it would read as a prototype.
  const keyText = (k) =>
    k === "__proto__" ? "[" + quote(k) + "]" : /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);

  function inspect(value, depth, seen) {
    switch (typeof value) {
      case "string": return depth === 0 ? value : quote(value);
      case "undefined": return "undefined";
      case "function": return "[Function: " + (value.name || "(anonymous)") + "]";
      case "symbol": return value.toString();
      case "bigint": return value + "n";
      case "number": return Object.is(value, -0) ? "-0" : String(value);
      case "boolean": return String(value);
    }
    if (value === null) return "null";
    if (seen.has(value)) return "[Circular]";
    if (value instanceof Error) return value.stack ? value.name + ": " + value.message + "\n" + value.stack.trimEnd() : String(value);
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (depth > 4) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen.add(value);
    try {
      if (Array.isArray(value)) {
        const items = value.map((v) => inspect(v, depth + 1, seen));
        return items.length ? "[ " + items.join(", ") + " ]" : "[]";
      }
      if (value instanceof Map) {
        return "Map(" + value.size + ") { " + [...value].map(([k, v]) => inspect(k, depth + 1, seen) + " => " + inspect(v, depth + 1, seen)).join(", ") + " }";
      }
      if (value instanceof Set) {
        return "Set(" + value.size + ") { " + [...value].map((v) => inspect(v, depth + 1, seen)).join(", ") + " }";
      }
      const entries = Object.keys(value).map((k) => keyText(k) + ": " + inspect(value[k], depth + 1, seen));
      // The class from the prototype: data may have a "constructor" key of its own.
      const proto = Object.getPrototypeOf(value);
      const made = proto === null ? undefined : proto.constructor;
      const name = typeof made === "function" && made !== Object && made.name ? made.name + " " : "";
      return entries.length ? name + "{ " + entries.join(", ") + " }" : name + "{}";
    } finally {
      seen.delete(value);
    }
  }
  const where = (path) => "result" + path.map((k) =>
    typeof k === "number" ? "[" + k + "]" : /^[A-Za-z_$][\w$]*$/.test(k) ? "." + k : "[" + quote(k) + "]"
  ).join("");

  class NotJson {
    constructor(message) { this.message = message; }
  }

  function kindOf(value) {
    if (typeof value === "bigint") return "a BigInt (" + value + "n)";
    if (typeof value === "symbol") return "a symbol (" + value.toString() + ")";
    if (typeof value === "function") return "a function" + (value.name ? " (" + value.name + ")" : "");
    if (value instanceof Map) return "a Map";
    if (value instanceof Set) return "a Set";
    if (value instanceof Promise) return "a Promise";
    return undefined;
  }

  function toData(value, path, active) {
    if (value === undefined || value === null) return null;
    if (typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new NotJson("the number " + value + " at " + where(path) + ", which JSON cannot hold");
      return value;
    }
    const kind = kindOf(value);
    if (kind) {
      throw new NotJson(kind + " at " + where(path) + ", which is not JSON data; convert it before returning");
    }
    if (typeof value.toJSON === "function") return toData(value.toJSON(), path, active);
    if (path.length >= MAX_DEPTH) throw new NotJson("a value nested more than " + MAX_DEPTH + " levels deep");
    if (active.has(value)) throw new NotJson("a value that contains itself at " + where(path));
    active.add(value);
    try {
      if (Array.isArray(value)) return value.map((v, i) => toData(v, path.concat([i]), active));
      const out = Object.create(null); // as in plainData: any key is data
      for (const k of Object.keys(value)) out[k] = toData(value[k], path.concat([k]), active);
      return out;
    } finally {
      active.delete(value);
    }
  }

  const format = (args) =>
    args.map((a) => typeof a === "string" ? a : inspect(a, 0, new Set())).join(" ");

  // Host replies: T<text>, K (done), E<ErrorName>|<message>.
  const reply = (r) => {
    if (r[0] !== "E") return r[0] === "T" ? r.slice(1) : undefined;
    const bar = r.indexOf("|");
    const error = new Error(r.slice(bar + 1));
    error.name = r.slice(1, bar);
    throw error;
  };
  const fetches = new Map();
  function response(r) {
    const headers = new Map(r.headers);
    return Object.freeze({
      ok: r.status >= 200 && r.status < 300, status: r.status, statusText: r.statusText, url: r.url,
      headers: Object.freeze({ get: (name) => headers.get(String(name).toLowerCase()) ?? null }),
      text: async () => r.body,
      json: async () => JSON.parse(r.body),
    });
  }

  return {
    log(stream, args) { host.write(stream, format(args) + "\n"); },
    // The result when the fast path met something unusual: data, or B<why not>.
    encodeUnusual(result) {
      try {
        return "R" + JSON.stringify(toData(result, [], new Set()));
      } catch (problem) {
        if (problem instanceof NotJson) return "B" + problem.message;
        throw problem;
      }
    },
    // hwfe's file calls: what the run granted this step. Paths outside its
    // grants fail with PermissionDenied (the worker's Deno permissions decide).
    file: (op, path, text) => reply(host.fs(op, String(path), text === undefined ? undefined : String(text))),
    fetch: (url, init) => new Promise((resolve, reject) => {
      fetches.set(host.fetch(String(url), JSON.stringify(init ?? {})), { resolve, reject });
    }),
    // The worker settles hwfe.fetch promises: ok with the response, or an error.
    settle(id, ok, json) {
      const pending = fetches.get(id);
      fetches.delete(id);
      const data = JSON.parse(json);
      if (ok) return pending.resolve(response(data));
      const error = new Error(data.message);
      error.name = data.name;
      pending.reject(error);
    },
  };
})
`;

export const JS_PRELUDE = String.raw`
(() => {
  const g = globalThis;
  const host = { write: g.__hwfe_write, fs: g.__hwfe_fs, fetch: g.__hwfe_fetch };
  const lazySource = g.__hwfe_lazy;
  const envJson = g.__hwfe_env;
  const inputs = JSON.parse(g.__hwfe_inputs);
  for (const name of ["__hwfe_write", "__hwfe_lazy", "__hwfe_env", "__hwfe_fs", "__hwfe_fetch", "__hwfe_inputs"]) {
    delete g[name];
  }
  // As the reference engine does: inputs is a global before the code runs, and
  // outputResult(value) gives the step's result when run is missing or returns nothing.
  g.inputs = inputs;
  let output;
  g.outputResult = (value) => { output = { value }; };
  const evaluate = eval; // kept: step code may replace the global one
  let lazy;
  const helpers = () => lazy ??= evaluate(lazySource)(host);

  const log = (stream) => (...args) => {
    // Strings, the common case, without the lazy half.
    if (args.every((a) => typeof a === "string")) host.write(stream, args.join(" ") + "\n");
    else helpers().log(stream, args);
  };
  g.console = { log: log(1), info: log(1), debug: log(1), warn: log(2), error: log(2), trace: log(2) };
  g.hwfe = Object.freeze({
    env: Object.freeze(JSON.parse(envJson || "{}")),
    readTextFile: (path) => helpers().file("read", path),
    writeTextFile: (path, text, options) =>
      helpers().file(options && options.append ? "append" : "write", path, text),
    remove: (path) => helpers().file("remove", path),
    fetch: (url, init) => helpers().fetch(url, init),
  });

  const UNUSUAL = {};
  // The common case, fast: plain objects, arrays and primitives, no paths kept.
  function plainData(value, depth) {
    switch (typeof value) {
      case "string": case "boolean": return value;
      case "number": if (Number.isFinite(value)) return value; throw UNUSUAL;
      case "undefined": return null;
      case "object": break;
      default: throw UNUSUAL;
    }
    if (value === null) return null;
    if (depth >= 500) throw UNUSUAL; // too deep, or a cycle: toData says which
    if (Array.isArray(value)) {
      const out = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = plainData(value[i], depth + 1);
      return out;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw UNUSUAL;
    // No prototype: on a {}, out["__proto__"] = v would set the prototype
    // instead of adding the key, and JSON data may hold any key.
    const out = Object.create(null);
    for (const k of Object.keys(value)) out[k] = plainData(value[k], depth + 1);
    return out;
  }
  function encode(result) {
    let data;
    try {
      data = plainData(result, 0);
    } catch (error) {
      if (error !== UNUSUAL) throw error;
      return helpers().encodeUnusual(result);
    }
    return "R" + JSON.stringify(data);
  }

  Object.defineProperty(g, "__hwfe", {
    value: Object.freeze({
      settle: (id, ok, json) => helpers().settle(id, ok, json),
      call() {
        const orOutput = (result) => encode(result === undefined && output ? output.value : result);
        // run may be a function declaration or a top-level const/let.
        if (typeof run !== "function") return output ? encode(output.value) : "N";
        const result = run(inputs);
        return result instanceof Promise ? result.then(orOutput) : orOutput(result);
      },
    }),
  });
})();
`;
