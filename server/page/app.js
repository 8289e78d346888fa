// @ts-check
/**
 * The page of `hwfe serve` (docs/SERVER.md): workflows, their graphs, runs
 * followed live, and the run history, from the same-origin API only.
 *
 * Plain JavaScript, no build step, no library. Everything the API says is
 * put in the page with `textContent` or as an attribute value, never parsed
 * as markup: step names and their output are written by whoever wrote the
 * workflow. The server's Content-Security-Policy allows no inline script
 * or style, so styles change through `element.style` and classes only.
 */

const API = "/api/v1";
const TOKEN_KEY = "hwfe-token";
/** Output lines kept on the page for one step; the rest is in `hwfe logs`. */
const MAX_OUTPUT_LINES = 20_000;
/** Log pages read for one step, at most, and lines asked for in each. */
const MAX_LOG_PAGES = 100;
const LOG_PAGE_LINES = 5000;
/** Runs per page of the history. */
const PAGE_SIZE = 25;
/** How often live durations and bars move, in milliseconds. */
const TICK_MS = 250;

/** @typedef {"pending" | "running" | "succeeded" | "failed" | "cancelled" | "skipped" | "reused" | "interrupted"} StepShown */

/** The mark beside each status word: colour is never the only sign. */
const MARKS = /** @type {Record<string, string>} */ ({
  queued: "◷",
  pending: "○",
  running: "◐",
  succeeded: "✓",
  failed: "✗",
  cancelled: "■",
  skipped: "⤼",
  reused: "↺",
  interrupted: "⚠",
});
const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "interrupted"];
const ENDED = new Set(["succeeded", "failed", "cancelled", "interrupted"]);
const STEP_CLASSES = [
  "pending",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "skipped",
  "reused",
  "interrupted",
].map((status) => `s-${status}`);

// ---------------------------------------------------------------------------
// Elements

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attrs
 */

/**
 * An element with attributes (`on<event>` ones are listeners) and children
 * (strings become text nodes).
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An SVG element, as {@link h}.
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {SVGElement}
 */
function s(tag, attrs = {}, ...children) {
  return fill(/** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag)), attrs, children);
}

/**
 * @template {Element} E
 * @param {E} element
 * @param {Attrs} attrs
 * @param {(Child | Child[])[]} children
 * @returns {E}
 */
function fill(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * A name as the page shows it: control characters and those that reorder
 * text (bidi overrides) written as `\uXXXX`, so a name cannot pass for
 * another.
 * @param {string} text
 */
function shown(text) {
  return String(text).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * A status as a mark and a word, in an element that CSS colours by class.
 * @param {string} status
 * @param {string} [tag]
 */
function badge(status, tag = "span") {
  return h(
    tag,
    { class: `status s-${status}`, "data-status": status },
    h("span", { class: "mark", "aria-hidden": "true" }, MARKS[status] ?? "?"),
    " ",
    status,
  );
}

/** @param {number | null | undefined} seconds */
function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** @param {string | number | null | undefined} time */
function when(time) {
  if (time === null || time === undefined) return "—";
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toLocaleString();
}

/** @param {string | null | undefined} time */
function ms(time) {
  if (!time) return undefined;
  const value = Date.parse(time);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * A result as pretty JSON.
 * @param {unknown} result
 */
function pretty(result) {
  return JSON.stringify(result, null, 2) ?? String(result);
}

/**
 * The workflow name that the API's `/workflows/{name}` takes (the file's
 * stem) for a run, from its file.
 * @param {{workflow: string, file?: string | null}} run
 */
function stemOf(run) {
  const base = run.file ? run.file.split(/[/\\]/).pop() ?? "" : "";
  const stem = base.replace(/\.[^.]*$/, "");
  return stem || run.workflow;
}

/** @param {string} text */
function announce(text) {
  const live = document.getElementById("announce");
  if (live) live.textContent = text;
}

// ---------------------------------------------------------------------------
// The API

class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** The token when sessionStorage is not available. */
let fallbackToken = "";

/** The token given in this tab, or "". */
function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? fallbackToken;
  } catch {
    return fallbackToken;
  }
}

/**
 * Calls the API; a 401 asks for the token.
 * @param {string} path under /api/v1
 * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [options]
 * @returns {Promise<any>}
 */
async function api(path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  const sent = token();
  if (sent) headers.Authorization = `Bearer ${sent}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${API}${path}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: "no-store",
    credentials: "same-origin",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the status says enough.
  }
  if (response.status === 401) {
    askToken(sent !== "");
    throw new ApiError(401, "This server needs its token");
  }
  if (!response.ok) {
    const message = data?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return data;
}

/** @param {boolean} refused whether the token sent was refused */
function askToken(refused) {
  const section = /** @type {HTMLElement} */ (document.getElementById("token"));
  const message = /** @type {HTMLElement} */ (document.getElementById("token-message"));
  if (refused) {
    fallbackToken = "";
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Storage may be off: the form still works for this page.
    }
    message.textContent = "The server refused that token. Give the one it was started with.";
  }
  if (section.hidden) {
    section.hidden = false;
    document.getElementById("token-input")?.focus();
  }
}

function setUpTokenForm() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById("token-form"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("token"));
    const value = input.value.trim();
    if (!value) return;
    try {
      sessionStorage.setItem(TOKEN_KEY, value);
    } catch {
      // Without storage the token lives as long as this page: kept below.
    }
    fallbackToken = value;
    input.value = "";
    /** @type {HTMLElement} */ (document.getElementById("token")).hidden = true;
    route();
  });
}

/**
 * The events URL of a run: EventSource sends no headers, so the token goes
 * in the query (the server takes it there on this path only).
 * @param {number | string} id
 */
function eventsUrl(id) {
  const sent = token();
  const query = sent ? `?token=${encodeURIComponent(sent)}` : "";
  return `${API}/runs/${encodeURIComponent(String(id))}/events${query}`;
}

// ---------------------------------------------------------------------------
// Routing

/**
 * What a view may hold until the page moves on: its fetches abort, its
 * timers stop, its event source closes.
 */
class View {
  constructor() {
    this.controller = new AbortController();
    /** @type {(() => void)[]} */
    this.cleanups = [];
  }
  get signal() {
    return this.controller.signal;
  }
  get alive() {
    return !this.controller.signal.aborted;
  }
  /** @param {() => void} cleanup */
  onDispose(cleanup) {
    this.cleanups.push(cleanup);
  }
  dispose() {
    this.controller.abort();
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // A cleanup that fails must not keep the others from running.
      }
    }
  }
}

/** @type {View | null} */
let view = null;
let lastRouteKey = "";

function parseHash() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [path, search = ""] = hash.split("?", 2);
  const parts = path.split("/").filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return { parts, query: new URLSearchParams(search) };
}

function route() {
  view?.dispose();
  const current = new View();
  view = current;
  const focused = document.activeElement?.id;
  const main = /** @type {HTMLElement} */ (document.getElementById("main"));
  const { parts, query } = parseHash();
  const key = parts.slice(0, 2).join("/");
  const moved = lastRouteKey !== "" && key !== lastRouteKey;
  lastRouteKey = key;
  main.replaceChildren();
  // Busy until the view has what it first shows (assistive technology and tests wait for it).
  main.setAttribute("aria-busy", "true");
  main.setAttribute("data-route", location.hash);
  for (const link of document.querySelectorAll("nav [data-nav]")) {
    const section = parts[0] === "runs" && parts.length === 1 ? "runs" : "workflows";
    if (link.getAttribute("data-nav") === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  /** @type {Promise<void>} */
  let rendered;
  if (parts[0] === "workflows" && parts[1]) {
    rendered = workflowView(current, main, parts[1]);
  } else if (parts[0] === "runs" && parts[1]) {
    rendered = runView(current, main, parts[1]);
  } else if (parts[0] === "runs") {
    rendered = historyView(current, main, query);
  } else {
    rendered = listView(current, main);
  }
  rendered.finally(() => {
    if (current.alive) main.removeAttribute("aria-busy");
  }).then(() => {
    if (!current.alive) return;
    const again = focused ? document.getElementById(focused) : null;
    if (again && main.contains(again)) again.focus();
    else if (moved) main.focus({ preventScroll: true });
  }).catch((error) => {
    if (current.alive) showError(main, error);
  });
}

/**
 * @param {HTMLElement} where
 * @param {unknown} error
 */
function showError(where, error) {
  if (error instanceof DOMException && error.name === "AbortError") return;
  if (error instanceof ApiError && error.status === 401) {
    where.replaceChildren(h("p", { class: "note" }, "Give the server's token above to go on."));
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  where.append(h("p", { class: "error", role: "alert" }, message));
}

/** @param {string} text */
function title(text) {
  document.title = text ? `${text} · hwfe` : "hwfe";
}

// ---------------------------------------------------------------------------
// The list of workflows

/**
 * @param {View} current
 * @param {HTMLElement} main
 */
async function listView(current, main) {
  title("Workflows");
  main.append(h("h1", {}, "Workflows"));
  const loading = h("p", { class: "note" }, "Loading…");
  main.append(loading);
  const { workflows } = await api("/workflows", { signal: current.signal });
  if (!current.alive) return;
  loading.remove();
  if (workflows.length === 0) {
    main.append(h("p", { class: "note" }, "No workflows in the workflows directory."));
    return;
  }
  main.append(
    h("ul", { class: "cards" }, workflows.map((/** @type {any} */ workflow) => card(workflow))),
  );
}

/** @param {any} workflow */
function card(workflow) {
  const href = `#/workflows/${encodeURIComponent(workflow.name)}`;
  if (workflow.error) {
    return h(
      "li",
      { class: "card broken", "data-workflow": workflow.name },
      h("h2", {}, h("a", { href }, shown(workflow.name))),
      h("p", { class: "file" }, shown(workflow.file ?? "")),
      h("p", { class: "load-error" }, h("strong", {}, "Does not load: "), workflow.error),
    );
  }
  const last = workflow.last_run;
  return h(
    "li",
    { class: "card", "data-workflow": workflow.name },
    h("h2", {}, h("a", { href }, shown(workflow.display_name ?? workflow.name))),
    h("p", { class: "file" }, shown(workflow.file ?? "")),
    workflow.description ? h("p", { class: "description" }, shown(workflow.description)) : null,
    h(
      "ul",
      { class: "languages", "aria-label": "Languages" },
      (workflow.languages ?? []).map((/** @type {string} */ language) =>
        h("li", { class: `lang lang-${language}` }, language)
      ),
    ),
    h(
      "p",
      { class: "facts" },
      `${workflow.steps ?? "?"} step${workflow.steps === 1 ? "" : "s"}`,
      workflow.levels
        ? `, ${workflow.levels.length} level${workflow.levels.length === 1 ? "" : "s"}`
        : "",
    ),
    h(
      "p",
      { class: "last-run" },
      last
        ? [
          "Last run: ",
          h(
            "a",
            { href: `#/runs/${encodeURIComponent(last.id)}`, "data-run": last.id },
            badge(last.status),
            ` #${last.id}`,
          ),
          h("span", { class: "when" }, ` ${when(last.started)}`),
        ]
        : "Never run",
    ),
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        class: "run primary",
        "aria-label": `Run ${workflow.display_name ?? workflow.name}`,
        onclick: (/** @type {Event} */ event) =>
          startRun(/** @type {HTMLButtonElement} */ (event.currentTarget), workflow.name),
      }, "Run"),
      h("a", { href, class: "button" }, "Graph and parameters"),
    ),
  );
}

/**
 * Starts a run and goes to its page.
 * @param {HTMLButtonElement} button
 * @param {string} name
 * @param {Record<string, unknown>} [params]
 */
async function startRun(button, name, params) {
  button.disabled = true;
  const status = button.parentElement?.querySelector(".run-error");
  status?.remove();
  try {
    /** @type {Record<string, unknown>} */
    const body = { workflow: name };
    if (params) body.params = params;
    const run = await api("/runs", { method: "POST", body });
    location.hash = `#/runs/${encodeURIComponent(run.id)}`;
  } catch (error) {
    button.disabled = false;
    if (error instanceof ApiError && error.status === 401) return;
    button.parentElement?.append(
      h(
        "p",
        { class: "error run-error", role: "alert" },
        error instanceof Error ? error.message : String(error),
      ),
    );
  }
}

// ---------------------------------------------------------------------------
// A workflow: its graph and its parameters

/**
 * @param {View} current
 * @param {HTMLElement} main
 * @param {string} name
 */
async function workflowView(current, main, name) {
  title(name);
  const path = `/workflows/${encodeURIComponent(name)}`;
  const [workflow, graph, runs] = await Promise.all([
    api(path, { signal: current.signal }),
    api(`${path}/graph`, { signal: current.signal }).catch((error) => ({ error })),
    api(`/runs?workflow=${encodeURIComponent(name)}&limit=10`, { signal: current.signal })
      .catch(() => null),
  ]);
  if (!current.alive) return;
  title(workflow.display_name ?? name);
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Workflows"), " / ", shown(name)),
    h("h1", {}, shown(workflow.display_name ?? name)),
    h("p", { class: "file" }, shown(workflow.file ?? "")),
  );
  if (workflow.error) {
    main.append(h("p", { class: "load-error", role: "alert" }, workflow.error));
    return;
  }
  if (workflow.description) {
    main.append(h("p", { class: "description" }, shown(workflow.description)));
  }
  main.append(
    h(
      "ul",
      { class: "languages", "aria-label": "Languages" },
      (workflow.languages ?? []).map((/** @type {string} */ language) =>
        h("li", { class: `lang lang-${language}` }, language)
      ),
    ),
  );
  main.append(paramsForm(workflow));
  const section = h("section", { class: "graph", "aria-labelledby": "graph-title" });
  section.append(h("h2", { id: "graph-title" }, "Steps"));
  if (graph.error) {
    showError(section, graph.error);
  } else {
    const statuses = new Map(
      graph.nodes.map((/** @type {any} */ node) => [node.id, /** @type {StepShown} */ ("pending")]),
    );
    section.append(
      h(
        "div",
        { class: "dag-frame" },
        drawDag(graph, statuses, null),
      ),
    );
  }
  main.append(section);
  if (runs?.runs?.length) {
    main.append(
      h(
        "section",
        { "aria-labelledby": "recent-title" },
        h("h2", { id: "recent-title" }, "Recent runs"),
        runsTable(runs.runs),
        h(
          "p",
          {},
          h("a", { href: `#/runs?workflow=${encodeURIComponent(name)}` }, "All its runs"),
        ),
      ),
    );
  }
}

/** @param {any} workflow */
function paramsForm(workflow) {
  const params = /** @type {Record<string, unknown>} */ (workflow.params ?? {});
  const names = Object.keys(params);
  /** @type {HTMLElement[]} */
  const fields = names.map((param) => {
    const value = params[param];
    const id = `param-${param}`;
    if (typeof value === "boolean") {
      return h(
        "div",
        { class: "field check" },
        h("input", {
          id,
          name: param,
          type: "checkbox",
          "data-type": "boolean",
          checked: value,
        }),
        h("label", { for: id }, shown(param)),
      );
    }
    const number = typeof value === "number";
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, shown(param)),
      h("input", {
        id,
        name: param,
        type: number ? "number" : "text",
        step: number ? "any" : undefined,
        "data-type": number ? "number" : "string",
        value: String(value ?? ""),
        required: number,
        autocomplete: "off",
        spellcheck: "false",
      }),
    );
  });
  const form = h(
    "form",
    { class: "params", id: "params", "aria-labelledby": "params-title" },
    h("h2", { id: "params-title" }, "Run it"),
    names.length
      ? h("fieldset", {}, h("legend", {}, "Parameters"), fields)
      : h("p", { class: "note" }, "It takes no parameters."),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "run primary" }, "Run"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    /** @type {Record<string, unknown>} */
    const values = {};
    for (const input of form.querySelectorAll("input[data-type]")) {
      const field = /** @type {HTMLInputElement} */ (input);
      const type = field.getAttribute("data-type");
      values[field.name] = type === "boolean"
        ? field.checked
        : type === "number"
        ? field.valueAsNumber
        : field.value;
    }
    const button = /** @type {HTMLButtonElement} */ (form.querySelector("button.run"));
    startRun(button, workflow.name, values);
  });
  return form;
}

// ---------------------------------------------------------------------------
// The DAG

/**
 * Draws a laid-out graph; `onPick` makes its nodes buttons.
 * @param {any} graph `Graph` of docs/SERVER.md
 * @param {Map<string, StepShown>} statuses
 * @param {((step: string) => void) | null} onPick
 * @returns {SVGElement}
 */
function drawDag(graph, statuses, onPick) {
  const width = Math.max(1, Number(graph.width) || 1);
  const height = Math.max(1, Number(graph.height) || 1);
  const root = s("svg", {
    class: "dag",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "group",
    "aria-label": "The workflow's steps and their dependencies",
  });
  root.append(
    s(
      "defs",
      {},
      s(
        "marker",
        {
          id: "dag-arrow",
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto-start-reverse",
        },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }),
      ),
    ),
  );
  const edges = s("g", { class: "edges", "aria-hidden": "true" });
  for (const edge of graph.edges ?? []) {
    edges.append(s("polyline", {
      class: "edge",
      "data-from": edge.from,
      "data-to": edge.to,
      points: (edge.points ?? []).map((/** @type {number[]} */ [x, y]) => `${x},${y}`).join(" "),
      "marker-end": "url(#dag-arrow)",
    }));
  }
  root.append(edges);
  const nodes = s("g", { class: "nodes" });
  for (const node of graph.nodes ?? []) {
    nodes.append(drawNode(node, statuses.get(node.id) ?? "pending", onPick));
  }
  root.append(nodes);
  return root;
}

/**
 * @param {any} node
 * @param {StepShown} status
 * @param {((step: string) => void) | null} onPick
 */
function drawNode(node, status, onPick) {
  const { x, y, width, height } = node;
  const name = shown(node.id);
  const fits = Math.max(4, Math.floor((width - 20) / 7.4));
  const label = name.length > fits ? `${name.slice(0, fits - 1)}…` : name;
  const group = s(
    "g",
    {
      class: `node s-${status}`,
      "data-step": node.id,
      tabindex: onPick ? 0 : undefined,
      role: onPick ? "button" : "img",
      "aria-label": nodeLabel(node.id, node.language, status),
    },
    s("title", {}, name),
    s("rect", { class: "box", x, y, width, height, rx: 6, ry: 6 }),
    s("text", { class: "name", x: x + 10, y: y + Math.min(18, height / 2) }, label),
    s(
      "text",
      { class: "meta", x: x + 10, y: y + Math.min(34, height - 6) },
      s("tspan", { class: "language" }, node.language ?? ""),
      s("tspan", { class: "state" }, ` ${MARKS[status] ?? ""} ${status}`),
    ),
  );
  if (onPick) {
    group.addEventListener("click", () => onPick(node.id));
    group.addEventListener("keydown", (event) => {
      const key = /** @type {KeyboardEvent} */ (event).key;
      if (key === "Enter" || key === " " || key === "Spacebar") {
        event.preventDefault();
        onPick(node.id);
      }
    });
  }
  return group;
}

/**
 * @param {string} step
 * @param {string} language
 * @param {string} status
 */
function nodeLabel(step, language, status) {
  return `${shown(step)}, ${language ?? "step"}, ${status}`;
}

/**
 * Sets a node's status: class, words and label.
 * @param {SVGElement} root
 * @param {string} step
 * @param {StepShown} status
 */
function paintNode(root, step, status) {
  const node = root.querySelector(`.node[data-step="${CSS.escape(step)}"]`);
  if (!node) return;
  if (node.classList.contains(`s-${status}`)) return;
  node.classList.remove(...STEP_CLASSES);
  node.classList.add(`s-${status}`);
  const state = node.querySelector(".state");
  if (state) state.textContent = ` ${MARKS[status] ?? ""} ${status}`;
  const language = node.querySelector(".language")?.textContent ?? "";
  node.setAttribute("aria-label", nodeLabel(step, language, status));
}

/**
 * A layout for a run whose workflow's graph cannot be had (its file moved
 * or changed): a column per level, no edges.
 * @param {string} name
 * @param {Map<string, StepState>} steps
 */
function fallbackGraph(name, steps) {
  /** @type {Map<number, string[]>} */
  const levels = new Map();
  for (const [step, state] of steps) {
    const level = state.level ?? 1;
    levels.set(level, [...(levels.get(level) ?? []), step]);
  }
  const order = [...levels.keys()].sort((a, b) => a - b);
  const nodes = order.flatMap((level, column) =>
    (levels.get(level) ?? []).map((step, row) => ({
      id: step,
      language: steps.get(step)?.language ?? "",
      level,
      x: 16 + column * 216,
      y: 16 + row * 58,
      width: 164,
      height: 44,
    }))
  );
  const rows = Math.max(1, ...[...levels.values()].map((list) => list.length));
  return {
    name,
    width: 32 + Math.max(1, order.length) * 216 - 52,
    height: 32 + rows * 58 - 14,
    nodes,
    edges: [],
  };
}

// ---------------------------------------------------------------------------
// A run, live

/**
 * @typedef {object} StepState
 * @property {StepShown} status
 * @property {string} [language]
 * @property {number} [level]
 * @property {number} [attempts]
 * @property {number} [startedAt] ms since the epoch
 * @property {number} [endedAt]
 * @property {number} [duration] seconds
 * @property {number} [waited] seconds
 * @property {unknown} [result]
 * @property {boolean} [hasResult]
 * @property {string} [error]
 * @property {number | string} [reusedFrom]
 */

/**
 * A step's state from a RunDetail's step.
 * @param {any} step
 * @returns {StepState}
 */
function stepFromDetail(step) {
  const startedAt = ms(step.started);
  const reused = step.reused_from !== undefined && step.reused_from !== null;
  const ended = !["pending", "running"].includes(step.status);
  /** @type {StepState} */
  const state = {
    status: reused && step.status === "succeeded" ? "reused" : step.status,
    language: step.language,
    level: step.level,
    attempts: step.attempts,
    startedAt,
    duration: step.duration ?? undefined,
    waited: step.waited ?? undefined,
    error: step.error ?? undefined,
    reusedFrom: reused ? step.reused_from : undefined,
  };
  if ("result" in step && step.result !== undefined) {
    state.result = step.result;
    state.hasResult = true;
  }
  if (ended && startedAt !== undefined && typeof step.duration === "number") {
    state.endedAt = startedAt + ((step.waited ?? 0) + step.duration) * 1000;
  }
  return state;
}

/**
 * @param {View} current
 * @param {HTMLElement} main
 * @param {string} id
 */
async function runView(current, main, id) {
  title(`Run ${id}`);
  const path = `/runs/${encodeURIComponent(id)}`;
  let detail = await api(path, { signal: current.signal });
  if (!current.alive) return;
  const stem = stemOf(detail);
  let graph = await api(`/workflows/${encodeURIComponent(stem)}/graph`, { signal: current.signal })
    .catch(() => null);
  if (!current.alive) return;

  /** @type {Map<string, StepState>} */
  const steps = new Map();
  for (const [name, step] of Object.entries(detail.steps ?? {})) {
    steps.set(name, stepFromDetail(step));
  }
  if (steps.size === 0 && graph) {
    for (const node of graph.nodes) {
      steps.set(node.id, { status: "pending", language: node.language, level: node.level });
    }
  }
  const sameSteps = graph && graph.nodes.length === steps.size &&
    graph.nodes.every((/** @type {any} */ node) => steps.has(node.id));
  if (!sameSteps) graph = fallbackGraph(detail.workflow, steps);

  let status = String(detail.status);
  let runStart = ms(detail.started);
  /** @type {string | null} */
  let selected = null;
  let live = !ENDED.has(status);

  title(`${detail.workflow} · run ${detail.id}`);
  // Not a live region: it ticks while the run runs; its end is announced apart.
  const statusLine = h("p", { id: "run-status", class: "run-status" });
  const cancel = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button",
    id: "cancel",
    class: "danger",
  }, "Cancel"));
  const resume = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button",
    id: "resume",
    class: "primary",
  }, "Resume"));
  const actionError = h("p", { class: "error", role: "alert", hidden: true });
  /**
   * Says what went wrong with the run's page (a 401 has asked for the token already).
   * @param {unknown} error
   */
  const problem = (error) => {
    if (!current.alive) return;
    if (error instanceof DOMException && error.name === "AbortError") return;
    if (error instanceof ApiError && error.status === 401) return;
    actionError.hidden = false;
    actionError.textContent = error instanceof Error ? error.message : String(error);
  };
  const runError = h("p", { class: "error run-error", hidden: true });
  const warnings = h("ul", { class: "warnings", hidden: true, "aria-label": "Warnings" });
  const dag = drawDag(
    graph,
    new Map([...steps].map(([name, step]) => [name, step.status])),
    (step) => select(step, true),
  );
  const rows = h("tbody");
  const axis = h("p", { class: "axis", "aria-hidden": "true" });
  const timeline = h(
    "table",
    { class: "steps timeline", id: "steps" },
    h("caption", { class: "visually-hidden" }, "Each step, with a bar from its start to its end"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Step"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col", class: "num" }, "Duration"),
        h("th", { scope: "col", class: "bar-cell" }, "Timeline"),
      ),
    ),
    rows,
  );
  const detailBox = h(
    "section",
    { id: "step-detail", class: "step-detail", "aria-labelledby": "step-detail-title" },
    h("h2", { id: "step-detail-title" }, "Step"),
    h("p", { class: "note placeholder" }, "Pick a step in the graph or the timeline to see it."),
  );

  main.append(
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: "#/runs" }, "History"),
      " / ",
      h("a", { href: `#/workflows/${encodeURIComponent(stem)}` }, shown(detail.workflow)),
      ` / run ${detail.id}`,
    ),
    h(
      "h1",
      {},
      h("a", { href: `#/workflows/${encodeURIComponent(stem)}` }, shown(detail.workflow)),
      h("span", { class: "run-id" }, ` run #${detail.id}`),
    ),
    statusLine,
    h("div", { class: "actions" }, cancel, resume),
    actionError,
    runError,
    warnings,
    h(
      "section",
      { class: "graph", "aria-labelledby": "graph-title" },
      h("h2", { id: "graph-title" }, "Graph"),
      h("div", { class: "dag-frame" }, dag),
    ),
    h(
      "div",
      { class: "split" },
      h(
        "section",
        { class: "timeline-box", "aria-labelledby": "timeline-title" },
        h("h2", { id: "timeline-title" }, "Timeline"),
        timeline,
        axis,
      ),
      detailBox,
    ),
  );

  /** The step rows, made once, updated in place. */
  /** @type {Map<string, {row: HTMLElement, state: HTMLElement, time: HTMLElement, bar: HTMLElement}>} */
  const rowOf = new Map();
  const order = [...steps.keys()].sort((a, b) => {
    const [sa, sb] = [steps.get(a), steps.get(b)];
    return ((sa?.level ?? 0) - (sb?.level ?? 0)) || (a < b ? -1 : a > b ? 1 : 0);
  });
  for (const name of order) {
    const state = h("td", { class: "state" });
    const time = h("td", { class: "num time" });
    const bar = h("span", { class: "bar" });
    const row = h(
      "tr",
      { class: "step-row", "data-step": name },
      h(
        "th",
        { scope: "row" },
        h("button", {
          type: "button",
          class: "step-button",
          "data-step": name,
          onclick: () => select(name, false),
        }, shown(name)),
      ),
      state,
      time,
      h("td", { class: "bar-cell" }, h("span", { class: "track" }, bar)),
    );
    rows.append(row);
    rowOf.set(name, { row, state, time, bar });
  }

  /** The end of the time axis: the run's end, or now while it runs. */
  function axisEnd() {
    if (!live) {
      const ends = [...steps.values()].map((step) => step.endedAt ?? step.startedAt ?? 0);
      const finished = runStart !== undefined && typeof detail.duration === "number"
        ? runStart + detail.duration * 1000
        : 0;
      return Math.max(finished, ...ends);
    }
    return Date.now();
  }

  function axisStart() {
    const starts = [...steps.values()].map((step) => step.startedAt)
      .filter((start) => start !== undefined);
    return runStart ?? Math.min(...(/** @type {number[]} */ (starts)));
  }

  /** @param {StepState} step */
  function elapsed(step) {
    if (step.status === "running" && step.startedAt !== undefined) {
      return Math.max(0, Date.now() - step.startedAt) / 1000;
    }
    if (step.duration !== undefined) return step.duration;
    if (step.endedAt !== undefined && step.startedAt !== undefined) {
      return (step.endedAt - step.startedAt) / 1000;
    }
    return undefined;
  }

  function paintRows() {
    const start = axisStart();
    const end = axisEnd();
    const span = Number.isFinite(start) && end > start ? end - start : 0;
    for (const [name, parts] of rowOf) {
      const step = /** @type {StepState} */ (steps.get(name));
      parts.row.classList.remove(...STEP_CLASSES);
      parts.row.classList.add(`s-${step.status}`);
      parts.row.setAttribute("data-status", step.status);
      if (parts.state.getAttribute("data-status") !== step.status) {
        parts.state.replaceChildren(badge(step.status));
        parts.state.setAttribute("data-status", step.status);
      }
      parts.time.textContent = step.status === "pending" || step.status === "skipped"
        ? "—"
        : duration(elapsed(step));
      parts.bar.className = `bar s-${step.status}`;
      if (span > 0 && step.startedAt !== undefined) {
        const from = Math.max(0, step.startedAt - start);
        const to = step.endedAt ?? (step.status === "running" ? Date.now() : step.startedAt);
        parts.bar.style.left = `${(from / span) * 100}%`;
        parts.bar.style.width = `${Math.max(0.6, ((to - step.startedAt) / span) * 100)}%`;
        parts.bar.hidden = false;
      } else {
        parts.bar.hidden = true;
      }
    }
    axis.replaceChildren(
      h("span", {}, "0 s"),
      h("span", {}, span > 0 ? duration(span / 1000) : ""),
    );
  }

  function paintStatus() {
    const total = steps.size;
    const done =
      [...steps.values()].filter((step) => !["pending", "running"].includes(step.status)).length;
    const running = [...steps.values()].filter((step) => step.status === "running").length;
    const elapsedRun = live
      ? (runStart !== undefined && status === "running" ? (Date.now() - runStart) / 1000 : null)
      : detail.duration;
    statusLine.setAttribute("data-status", status);
    statusLine.className = `run-status s-${status}`;
    statusLine.replaceChildren(
      badge(status, "strong"),
      h(
        "span",
        { class: "counts" },
        ` · ${done} of ${total} step${total === 1 ? "" : "s"} done`,
        running ? `, ${running} running` : "",
        elapsedRun !== null && elapsedRun !== undefined ? ` · ${duration(elapsedRun)}` : "",
        ` · started ${when(detail.started)}`,
        detail.resumed_from !== null && detail.resumed_from !== undefined
          ? [
            " · resumes ",
            h("a", { href: `#/runs/${encodeURIComponent(detail.resumed_from)}` }, [
              `run #${detail.resumed_from}`,
            ]),
          ]
          : "",
      ),
      live && status === "running" ? h("span", { class: "live" }, " · live") : "",
    );
    cancel.hidden = !(status === "queued" || status === "running");
    resume.hidden = !(status === "failed" || status === "cancelled" || status === "interrupted");
    if (detail.error) {
      runError.hidden = false;
      runError.textContent = detail.error;
    } else {
      runError.hidden = true;
    }
  }

  /** @param {string} name */
  function paintStep(name) {
    const step = steps.get(name);
    if (!step) return;
    paintNode(dag, name, step.status);
    if (selected === name) paintFacts();
  }

  function paintAll() {
    for (const name of steps.keys()) paintStep(name);
    paintRows();
    paintStatus();
  }

  // The selected step's details and output.
  const facts = h("dl", { class: "facts" });
  const result = h("div", { class: "result-box" });
  const output = h("pre", {
    id: "step-output",
    class: "output",
    tabindex: 0,
    "aria-label": "Output",
  });
  const outputNote = h("p", { class: "note output-note" });
  let outputLoading = false;
  let lastSeq = 0;
  let lines = 0;
  /** @type {{seq: number, stream: string, line: string}[]} */
  let pending = [];
  let outputGeneration = 0;

  /**
   * @param {number | undefined} seq
   * @param {string} stream
   * @param {string} line
   */
  function appendLine(seq, stream, line) {
    if (seq !== undefined && Number.isFinite(seq)) {
      if (seq <= lastSeq) return;
      lastSeq = seq;
    }
    if (lines >= MAX_OUTPUT_LINES) {
      outputNote.textContent = `Only the first ${MAX_OUTPUT_LINES} lines are shown: ` +
        `hwfe logs ${detail.id} ${shown(selected ?? "")} has them all.`;
      return;
    }
    const follow = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    output.append(
      h(
        "span",
        { class: stream === "stderr" ? "line err" : "line", "data-seq": seq },
        `${shown(line)}\n`,
      ),
    );
    lines++;
    if (lines === 1) output.classList.remove("empty");
    if (follow) output.scrollTop = output.scrollHeight;
  }

  /** @param {string} name */
  async function loadOutput(name) {
    const generation = ++outputGeneration;
    output.replaceChildren();
    output.classList.add("empty");
    outputNote.textContent = "Loading its output…";
    lastSeq = 0;
    lines = 0;
    pending = [];
    outputLoading = true;
    try {
      let after = 0;
      for (let page = 0; page < MAX_LOG_PAGES; page++) {
        const log = await api(
          `${path}/steps/${encodeURIComponent(name)}/log?after=${after}&limit=${LOG_PAGE_LINES}`,
          { signal: current.signal },
        );
        if (generation !== outputGeneration || !current.alive) return;
        const got = log.lines ?? [];
        for (const line of got) appendLine(line.seq, line.stream, line.line);
        const next = Number(log.next);
        if (got.length < LOG_PAGE_LINES || !Number.isSafeInteger(next) || next <= after) break;
        after = next;
      }
    } catch (error) {
      if (generation !== outputGeneration || !current.alive) return;
      outputNote.textContent = `Its output could not be read: ${
        error instanceof Error ? error.message : String(error)
      }`;
      outputLoading = false;
      return;
    }
    outputLoading = false;
    for (const line of pending.splice(0)) appendLine(line.seq, line.stream, line.line);
    outputNote.textContent = lines === 0
      ? (live && steps.get(name)?.status !== "skipped" ? "No output yet." : "No output.")
      : "";
  }

  function paintFacts() {
    if (selected === null) return;
    const step = steps.get(selected);
    if (!step) return;
    /** @type {[string, Child | Child[]][]} */
    const items = [
      ["Status", badge(step.status)],
      ["Language", step.language ?? "—"],
      ["Level", step.level ?? "—"],
      ["Started", step.startedAt !== undefined ? when(step.startedAt) : "—"],
      ["Duration", duration(elapsed(step))],
    ];
    if (step.waited) items.push(["Waited for its runtime", duration(step.waited)]);
    if (step.attempts && step.attempts > 1) items.push(["Attempts", step.attempts]);
    if (step.reusedFrom !== undefined) {
      items.push([
        "Reused from",
        h(
          "a",
          { href: `#/runs/${encodeURIComponent(step.reusedFrom)}` },
          `run #${step.reusedFrom}`,
        ),
      ]);
    }
    facts.replaceChildren(
      ...items.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
    );
    result.replaceChildren();
    if (step.error) {
      result.append(h("h3", {}, "Error"), h("pre", { class: "error-text" }, step.error));
    }
    if (step.hasResult) {
      result.append(h("h3", {}, "Result"), h("pre", { class: "result" }, pretty(step.result)));
    }
  }

  /**
   * @param {string} name
   * @param {boolean} fromGraph
   */
  function select(name, fromGraph) {
    if (!steps.has(name)) return;
    selected = name;
    for (const element of main.querySelectorAll(".selected")) {
      element.classList.remove("selected");
      element.removeAttribute("aria-current");
    }
    dag.querySelector(`.node[data-step="${CSS.escape(name)}"]`)?.classList.add("selected");
    const row = rowOf.get(name)?.row;
    row?.classList.add("selected");
    row?.querySelector("button")?.setAttribute("aria-current", "true");
    detailBox.setAttribute("data-step", name);
    detailBox.replaceChildren(
      h("h2", { id: "step-detail-title", class: "step-name" }, shown(name)),
      facts,
      result,
      h("h3", {}, "Output"),
      output,
      outputNote,
    );
    paintFacts();
    loadOutput(name);
    if (fromGraph && innerWidth < 900) detailBox.scrollIntoView({ block: "nearest" });
  }

  // Live: the run's events, from its first.
  /** @type {EventSource | null} */
  let source = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;

  function stopLive() {
    live = false;
    source?.close();
    source = null;
    if (ticker !== undefined) clearInterval(ticker);
    ticker = undefined;
  }
  current.onDispose(stopLive);

  /** Reads the run again and shows it: the end of a run, or after a lost connection. */
  async function refresh() {
    const fresh = await api(path, { signal: current.signal });
    if (!current.alive) return;
    detail = fresh;
    runStart = ms(detail.started) ?? runStart;
    if (ENDED.has(detail.status)) stopLive();
    status = detail.status;
    for (const [name, step] of Object.entries(detail.steps ?? {})) {
      const known = steps.get(name);
      const next = stepFromDetail(step);
      // A step still running in the store may already be further along in the events.
      if (known && live && next.status === "pending" && known.status !== "pending") continue;
      if (known && live && next.status === "running" && known.status !== "running") continue;
      if (!next.hasResult && known?.hasResult) {
        next.result = known.result;
        next.hasResult = true;
      }
      steps.set(name, next);
    }
    paintAll();
  }

  /**
   * @param {MessageEvent} message
   * @returns {any}
   */
  function data(message) {
    try {
      return JSON.parse(message.data);
    } catch {
      return {};
    }
  }

  /** @param {number | undefined} atMs */
  function at(atMs) {
    return runStart !== undefined && typeof atMs === "number" ? runStart + atMs : Date.now();
  }

  function goLive() {
    source = new EventSource(eventsUrl(detail.id));
    let failures = 0;
    source.addEventListener("open", () => {
      failures = 0;
    });
    source.addEventListener("run_started", () => {
      if (status === "queued") status = "running";
      runStart ??= Date.now();
      paintStatus();
    });
    source.addEventListener("step_started", (message) => {
      const event = data(/** @type {MessageEvent} */ (message));
      const step = steps.get(event.step);
      if (status === "queued") status = "running";
      // Replayed after a reload: a step that has ended stays ended.
      if (!step || !["pending", "running"].includes(step.status)) return;
      step.status = "running";
      step.startedAt = at(event.atMs);
      step.endedAt = undefined;
      step.language = event.language ?? step.language;
      paintStep(event.step);
      paintRows();
      paintStatus();
    });
    source.addEventListener("step_retrying", (message) => {
      const event = data(/** @type {MessageEvent} */ (message));
      const step = steps.get(event.step);
      if (!step) return;
      step.attempts = (event.attempt ?? 0) + 1;
      step.error = event.error;
      if (selected === event.step) paintFacts();
    });
    source.addEventListener("step_output", (message) => {
      const event = data(/** @type {MessageEvent} */ (message));
      if (event.step !== selected) return;
      const seq = Number(/** @type {MessageEvent} */ (message).lastEventId);
      const line = { seq, stream: event.stream, line: String(event.line ?? "") };
      if (outputLoading) pending.push(line);
      else {
        appendLine(line.seq, line.stream, line.line);
        if (lines > 0) outputNote.textContent = "";
      }
    });
    source.addEventListener("step_finished", (message) => {
      const event = data(/** @type {MessageEvent} */ (message));
      const report = event.report ?? event;
      const name = report.name ?? event.step;
      const step = steps.get(name);
      if (!step) return;
      const reused = report.reusedFrom !== undefined && report.reusedFrom !== null;
      step.status = reused ? "reused" : report.status;
      if (reused) step.reusedFrom = report.reusedFrom;
      if (typeof report.startMs === "number") step.startedAt = at(report.startMs);
      step.startedAt ??= Date.now();
      if (typeof report.durationMs === "number") step.duration = report.durationMs / 1000;
      if (typeof report.waitedMs === "number") step.waited = report.waitedMs / 1000;
      step.endedAt = typeof report.durationMs === "number"
        ? step.startedAt + (report.waitedMs ?? 0) + report.durationMs
        : Date.now();
      if (report.error) step.error = report.error;
      if (report.attempts) step.attempts = report.attempts;
      if ("result" in report && report.result !== undefined) {
        step.result = report.result;
        step.hasResult = true;
      }
      paintStep(name);
      paintRows();
      paintStatus();
      // The events carry no result: the run's record has it.
      if (name === selected && !step.hasResult) {
        refresh().catch(problem);
      }
    });
    source.addEventListener("warning", (message) => {
      const event = data(/** @type {MessageEvent} */ (message));
      if (!event.message) return;
      warnings.hidden = false;
      warnings.append(h("li", {}, event.message));
    });
    source.addEventListener("run_finished", (message) => {
      const event = data(/** @type {MessageEvent} */ (message));
      const finished = event.result?.status ?? event.status;
      source?.close();
      source = null;
      if (finished) status = finished;
      live = false;
      paintAll();
      announce(`Run ${detail.id} ${status}`);
      refresh().catch(problem);
    });
    // The stream's own last word: the run has ended (one that was interrupted has no run_finished).
    source.addEventListener("end", () => {
      source?.close();
      source = null;
      if (!live) return;
      refresh().catch(problem);
    });
    source.addEventListener("error", () => {
      if (!live) return;
      failures++;
      // The run may have ended without the stream saying so, or the stream was refused.
      refresh().then(() => {
        if (live && source && (source.readyState === EventSource.CLOSED || failures > 20)) {
          source.close();
          source = null;
          actionError.hidden = false;
          actionError.textContent = "Live updates stopped: reload the page to follow the run.";
        }
      }).catch(problem);
    });
    ticker = setInterval(() => {
      paintRows();
      paintStatus();
      if (selected !== null && steps.get(selected)?.status === "running") paintFacts();
    }, TICK_MS);
  }

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    actionError.hidden = true;
    try {
      await api(`${path}/cancel`, { method: "POST", body: {} });
      if (!current.alive) return;
      // The run's events say when it has ended.
      announce(`Cancelling run ${detail.id}`);
    } catch (error) {
      if (!current.alive) return;
      if (error instanceof ApiError && error.status === 409) {
        // It has ended (the page shows it), or another process runs it (the page says so).
        await refresh().catch(() => {});
        if (live) problem(error);
      } else {
        problem(error);
      }
    } finally {
      cancel.disabled = false;
    }
  });

  resume.addEventListener("click", async () => {
    resume.disabled = true;
    actionError.hidden = true;
    try {
      const run = await api(`${path}/resume`, { method: "POST", body: {} });
      location.hash = `#/runs/${encodeURIComponent(run.id)}`;
    } catch (error) {
      if (!current.alive) return;
      resume.disabled = false;
      problem(error);
    }
  });

  paintAll();
  if (live) goLive();
}

// ---------------------------------------------------------------------------
// History

/**
 * @param {any[]} runs
 */
function runsTable(runs) {
  return h(
    "table",
    { class: "runs" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", class: "num" }, "Run"),
        h("th", { scope: "col" }, "Workflow"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Started"),
        h("th", { scope: "col", class: "num" }, "Duration"),
        h("th", { scope: "col" }, "Resumes"),
      ),
    ),
    h(
      "tbody",
      {},
      runs.map((run) =>
        h(
          "tr",
          { class: "run-row", "data-run": run.id, "data-status": run.status },
          h(
            "td",
            { class: "num" },
            h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, `#${run.id}`),
          ),
          h(
            "td",
            { class: "workflow" },
            h("a", { href: `#/workflows/${encodeURIComponent(stemOf(run))}` }, shown(run.workflow)),
          ),
          h("td", {}, badge(run.status)),
          h("td", {}, when(run.started)),
          h("td", { class: "num" }, duration(run.duration)),
          h(
            "td",
            {},
            run.resumed_from !== null && run.resumed_from !== undefined
              ? h(
                "a",
                { href: `#/runs/${encodeURIComponent(run.resumed_from)}` },
                `#${run.resumed_from}`,
              )
              : "",
          ),
        )
      ),
    ),
  );
}

/**
 * @param {View} current
 * @param {HTMLElement} main
 * @param {URLSearchParams} query
 */
async function historyView(current, main, query) {
  title("History");
  const workflow = query.get("workflow") ?? "";
  const status = query.get("status") ?? "";
  const offset = Math.max(0, Math.floor(Number(query.get("offset")) || 0));
  const size = Math.min(500, Math.max(1, Math.floor(Number(query.get("limit")) || PAGE_SIZE)));
  const params = new URLSearchParams();
  if (workflow) params.set("workflow", workflow);
  if (status) params.set("status", status);
  params.set("limit", String(size));
  params.set("offset", String(offset));
  const [page, list] = await Promise.all([
    api(`/runs?${params}`, { signal: current.signal }),
    api("/workflows", { signal: current.signal }).catch(() => ({ workflows: [] })),
  ]);
  if (!current.alive) return;

  /**
   * The hash for these filters and this offset.
   * @param {Record<string, string | number>} change
   */
  const hashWith = (change) => {
    const next = new URLSearchParams();
    const values = { workflow, status, offset: 0, limit: size, ...change };
    for (const [key, value] of Object.entries(values)) {
      if (value === "" || value === 0 || (key === "limit" && value === PAGE_SIZE)) continue;
      next.set(key, String(value));
    }
    const search = next.toString();
    return `#/runs${search ? `?${search}` : ""}`;
  };

  const names = new Set(
    list.workflows.map((/** @type {any} */ w) => w.name).filter(Boolean),
  );
  if (workflow) names.add(workflow);
  const workflowSelect = h(
    "select",
    {
      id: "filter-workflow",
      name: "workflow",
      onchange: (/** @type {Event} */ event) => {
        location.hash = hashWith({
          workflow: /** @type {HTMLSelectElement} */ (event.currentTarget).value,
        });
      },
    },
    h("option", { value: "" }, "All workflows"),
    [...names].sort().map((name) =>
      h("option", { value: name, selected: name === workflow }, shown(name))
    ),
  );
  const statusSelect = h(
    "select",
    {
      id: "filter-status",
      name: "status",
      onchange: (/** @type {Event} */ event) => {
        location.hash = hashWith({
          status: /** @type {HTMLSelectElement} */ (event.currentTarget).value,
        });
      },
    },
    h("option", { value: "" }, "Any status"),
    RUN_STATUSES.map((value) =>
      h("option", { value, selected: value === status }, `${MARKS[value]} ${value}`)
    ),
  );
  const total = Number(page.total ?? page.runs.length);
  const limit = Number(page.limit ?? size);
  const first = page.runs.length ? offset + 1 : 0;
  const last = offset + page.runs.length;
  main.append(
    h("h1", {}, "History"),
    h(
      "form",
      { class: "filters", id: "filters", "aria-label": "Filters" },
      h(
        "div",
        { class: "field" },
        h("label", { for: "filter-workflow" }, "Workflow"),
        workflowSelect,
      ),
      h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), statusSelect),
      h("a", { href: "#/runs", class: "button", id: "filter-clear" }, "Clear"),
    ),
    page.runs.length ? runsTable(page.runs) : h("p", { class: "note" }, "No runs."),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      offset > 0
        ? h("a", {
          href: hashWith({ offset: Math.max(0, offset - limit) }),
          id: "page-previous",
          rel: "prev",
        }, "← Newer")
        : "",
      h("span", { class: "range" }, `Runs ${first}–${last} of ${total}`),
      last < total
        ? h(
          "a",
          { href: hashWith({ offset: offset + limit }), id: "page-next", rel: "next" },
          "Older →",
        )
        : "",
    ),
  );
  const form = main.querySelector("form.filters");
  form?.addEventListener("submit", (event) => event.preventDefault());
}

// ---------------------------------------------------------------------------

setUpTokenForm();
addEventListener("hashchange", route);
route();
