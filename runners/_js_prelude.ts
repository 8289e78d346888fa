/**
 * JavaScript run inside every fresh QuickJS context before a step's code:
 * a Node-style `console` that prints objects readably, the globals
 * `inputs` and `outputResult(value)` the reference engine defines, and
 * `__hwfe.call`, which calls the step's `run(inputs)` and converts its
 * result (or what `outputResult` was given) to JSON text as JSON.stringify
 * does, a primitive wrapped as `{"value": x}` as the reference engine does,
 * tagged: R<json> a result, B<what> a result JSON.stringify would throw on,
 * N neither run() nor outputResult(). An async `run` gives a promise of
 * such a string.
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
 * which become `hwfe.env`), `__hwfe_inputs` (JSON of the step's inputs), `__hwfe_params` (JSON of the workflow's parameters), `__hwfe_fs(op, path, text)` (files, for
 * `hwfe.readTextFile`, `writeTextFile`, `remove`) and
 * `__hwfe_fetch(url, initJson) -> id` (for `hwfe.fetch`, settled later
 * through `__hwfe.settle`) are provided by the worker and removed from the
 * global scope here.
 *
 * @module
 */

/** The object printer: what `console.log` prints for anything but strings. */
const LAZY_PRINTER = String.raw`
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

  const format = (args) =>
    args.map((a) => typeof a === "string" ? a : inspect(a, 0, new Set())).join(" ");
`;

/**
 * The path-tracking converter: JSON.stringify's conversion of a result, with
 * where each change was made for the warning.
 */
const LAZY_CONVERTER = String.raw`
  const MAX_DEPTH = 500;
  const where = (path) => "result" + path.map((k) =>
    typeof k === "number" ? "[" + k + "]" : /^[A-Za-z_$][\w$]*$/.test(k) ? "." + k : "[" + quote(k) + "]"
  ).join("");

  class NotJson {
    constructor(message) { this.message = message; }
  }

  const SKIP = {}; // JSON.stringify leaves it out of an object, null in an array
  const describe = (value) =>
    typeof value === "function" ? "a function" + (value.name ? " (" + value.name + ")" : "")
    : typeof value === "symbol" ? "a symbol (" + value.toString() + ")"
    : typeof value === "number" ? "the number " + value
    : value instanceof Map ? "a Map of " + value.size
    : value instanceof Set ? "a Set of " + value.size
    : "a Promise";

  // JSON.stringify's conversion, with the path of every change for the
  // warning: NaN and Infinity become null, functions and symbols are left out
  // of objects (null in arrays), a Map, Set or Promise gives its own keys
  // ({}). What JSON.stringify throws on (a BigInt, a cycle) fails, named.
  function toData(value, key, path, active, changed) {
    if (value !== null && (typeof value === "object" || typeof value === "bigint") &&
        typeof value.toJSON === "function") {
      value = value.toJSON(key);
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) {
      value = value.valueOf();
    }
    switch (typeof value) {
      case "string": case "boolean": return value;
      case "undefined": return SKIP;
      case "number":
        if (Number.isFinite(value)) return value;
        changed.push(describe(value) + " at " + where(path) + " (now null)");
        return null;
      case "function": case "symbol":
        changed.push(describe(value) + " at " + where(path) +
          (typeof path[path.length - 1] === "number" ? " (now null)" : " (left out)"));
        return SKIP;
      case "bigint":
        throw new NotJson("a BigInt (" + value + "n) at " + where(path) + ", which JSON.stringify cannot convert; convert it (String or Number) before returning");
    }
    if (value === null) return null;
    if (path.length >= MAX_DEPTH) throw new NotJson("a value nested more than " + MAX_DEPTH + " levels deep");
    if (active.has(value)) throw new NotJson("a value that contains itself at " + where(path));
    if (value instanceof Promise || ((value instanceof Map || value instanceof Set) && value.size > 0)) {
      changed.push(describe(value) + " at " + where(path) + " (now {})");
    }
    active.add(value);
    try {
      if (Array.isArray(value)) {
        return value.map((v, i) => {
          const data = toData(v, String(i), path.concat([i]), active, changed);
          return data === SKIP ? null : data;
        });
      }
      const out = Object.create(null); // as in plainData: any key is data
      for (const k of Object.keys(value)) {
        const data = toData(value[k], k, path.concat([k]), active, changed);
        if (data !== SKIP) out[k] = data;
      }
      return out;
    } finally {
      active.delete(value);
    }
  }
`;

/** What hwfe's file and fetch calls need: the host's replies read, fetches awaiting theirs. */
const LAZY_HOST_CALLS = String.raw`
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
`;

/** The value of the lazy half: the helpers the eager half calls. */
const LAZY_HELPERS = String.raw`
  return {
    log(stream, args) { host.write(stream, format(args) + "\n"); },
    // The result's data when the fast path met something unusual (after one
    // warning line if anything changed on the way), or B<why not>.
    toJsonData(result) {
      const changed = [];
      let data;
      try {
        data = toData(result, "", [], new Set(), changed);
      } catch (problem) {
        if (problem instanceof NotJson) return { problem: "B" + problem.message };
        throw problem;
      }
      if (changed.length) {
        const more = changed.length > 1 ? " and " + (changed.length - 1) + " more" : "";
        host.write(2, "warning: the result held " + changed[0] + more +
          ", which JSON cannot hold: converted as JSON.stringify does\n");
      }
      return { data: data === SKIP ? null : data };
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
`;

/**
 * Evaluated on first use: a function of the worker's host functions whose
 * value holds the object printer, the path-tracking converter, and hwfe's
 * file and fetch calls. Its body is the pieces above in one scope, whose
 * declarations LAZY_HELPERS returns as methods.
 */
export const JS_PRELUDE_LAZY = `
((host) => {${LAZY_PRINTER}${LAZY_CONVERTER}${LAZY_HOST_CALLS}${LAZY_HELPERS}})
`;

export const JS_PRELUDE = String.raw`
(() => {
  const g = globalThis;
  const host = { write: g.__hwfe_write, fs: g.__hwfe_fs, fetch: g.__hwfe_fetch };
  const lazySource = g.__hwfe_lazy;
  const envJson = g.__hwfe_env;
  const inputs = JSON.parse(g.__hwfe_inputs);
  // The workflow's parameters: read-only, a global before the code runs.
  const params = Object.freeze(JSON.parse(g.__hwfe_params));
  for (const name of ["__hwfe_write", "__hwfe_lazy", "__hwfe_env", "__hwfe_fs", "__hwfe_fetch", "__hwfe_inputs", "__hwfe_params"]) {
    delete g[name];
  }
  g.params = params; // a plain global, as inputs: a step may name a variable params
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
  const SKIP = {}; // undefined: left out of an object, null in an array
  // The common case, fast: plain objects, arrays and primitives, no paths
  // kept, as JSON.stringify converts them; anything else goes to toJsonData.
  function plainData(value, depth) {
    switch (typeof value) {
      case "string": case "boolean": return value;
      case "number": if (Number.isFinite(value)) return value; throw UNUSUAL;
      case "undefined": return SKIP;
      case "object": break;
      default: throw UNUSUAL;
    }
    if (value === null) return null;
    if (depth >= 500) throw UNUSUAL; // too deep, or a cycle: toJsonData says which
    if (Array.isArray(value)) {
      const out = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const data = plainData(value[i], depth + 1);
        out[i] = data === SKIP ? null : data;
      }
      return out;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw UNUSUAL;
    // No prototype: on a {}, out["__proto__"] = v would set the prototype
    // instead of adding the key, and JSON data may hold any key.
    const out = Object.create(null);
    for (const k of Object.keys(value)) {
      const data = plainData(value[k], depth + 1);
      if (data !== SKIP) out[k] = data;
    }
    return out;
  }
  // As the reference engine gives a result: a primitive wrapped as
  // {"value": x}, nothing (return; or null) as {}. result = "json" on the
  // step (raw) takes the value as it is.
  function encode(result, raw) {
    let data;
    try {
      data = plainData(result, 0);
      if (data === SKIP) data = null;
    } catch (error) {
      if (error !== UNUSUAL) throw error;
      const converted = helpers().toJsonData(result);
      if (converted.problem) return converted.problem;
      data = converted.data;
    }
    if (!raw) {
      if (data === null) data = {};
      else if (typeof data !== "object") data = { value: data };
    }
    return "R" + JSON.stringify(data);
  }

  Object.defineProperty(g, "__hwfe", {
    value: Object.freeze({
      settle: (id, ok, json) => helpers().settle(id, ok, json),
      call(raw) {
        const orOutput = (result) =>
          encode(result === undefined && output ? output.value : result, raw);
        // run may be a function declaration or a top-level const/let.
        if (typeof run !== "function") return output ? encode(output.value, raw) : "N";
        const result = run(inputs);
        return result instanceof Promise ? result.then(orOutput) : orOutput(result);
      },
    }),
  });
})();
`;
