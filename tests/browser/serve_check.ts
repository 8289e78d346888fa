/// <reference lib="dom" />
/**
 * Drives the page of `hwfe serve` in headless Chromium as a user would and
 * prints what it saw, as one JSON document on stdout, for
 * tests/serve_page_test.ts:
 *
 *     deno run --config tests/browser/deno.json <permissions> tests/browser/serve_check.ts \
 *       <scenario: "tour" or "token"> <server URL> <folder for the go files> <artifacts folder> [token]
 *
 * The workflow `wait_for_go` of the test waits for a file `go` in the
 * folder given as its `dir` parameter: this script creates it when it has
 * seen the step running, so the page is watched while the run is live.
 * Every request the page makes is recorded; dialogs are dismissed and
 * recorded; the page's errors, console errors and Content-Security-Policy
 * violations are reported. Needs `__IS_WSL_TEST__=1` in its environment
 * (see /work/shared/notes/browser.md and README.md here).
 */

import { type Browser, chromium, type Page } from "npm:playwright-core@1.65.2";

const CHROMIUM = "/usr/bin/chromium";
const DEADLINE_MS = 240_000;
/** How long a run of the test's workflows may take to end (Python may start cold). */
const RUN_MS = 90_000;

// Playwright's own SIGTERM handler closes the browser but does not exit.
Deno.addSignalListener("SIGTERM", () => Deno.exit(143));

const [scenario, base, goRoot, artifacts, token] = Deno.args;

/** A node's status, from its `s-<status>` class. */
const NODE = (step: string) => `svg.dag .node[data-step="${step.replace(/["\\]/g, "\\$&")}"]`;

interface Transition {
  hash: string;
  step: string;
  status: string;
}

/** Records every status each DAG node shows, in order, as the page changes it. */
function recordTransitions() {
  const log: Transition[] = [];
  const last = new WeakMap<Element, string>();
  (globalThis as { transitions?: Transition[] }).transitions = log;
  const note = (node: Element) => {
    const status = [...node.classList].find((name) => name.startsWith("s-"))?.slice(2);
    if (!status || last.get(node) === status) return;
    last.set(node, status);
    log.push({ hash: location.hash, step: node.getAttribute("data-step") ?? "", status });
  };
  const violations: string[] = [];
  (globalThis as { violations?: string[] }).violations = violations;
  document.addEventListener("securitypolicyviolation", (event) => {
    violations.push(`${event.violatedDirective} ${event.blockedURI}`);
  });
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") {
        const target = record.target as Element;
        if (target.matches("svg.dag .node")) note(target);
      } else {
        for (const added of record.addedNodes) {
          if (!(added instanceof Element)) continue;
          if (added.matches("svg.dag .node")) note(added);
          added.querySelectorAll("svg.dag .node").forEach(note);
        }
      }
    }
  }).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["class"],
  });
}

function transitions(page: Page, hash: string): Promise<Transition[]> {
  return page.evaluate(
    (hash) =>
      ((globalThis as { transitions?: Transition[] }).transitions ?? []).filter((t) =>
        t.hash === hash
      ),
    hash,
  );
}

/** The statuses each step went through on `hash`, repeats dropped. */
async function pathsOf(page: Page, hash: string): Promise<Record<string, string[]>> {
  const paths: Record<string, string[]> = {};
  for (const { step, status } of await transitions(page, hash)) {
    const path = paths[step] ??= [];
    if (path.at(-1) !== status) path.push(status);
  }
  return paths;
}

function waitNode(page: Page, step: string, status: string, timeout = RUN_MS) {
  return page.waitForFunction(
    ([selector, status]) => document.querySelector(selector)?.classList.contains(`s-${status}`),
    [NODE(step), status] as const,
    { timeout },
  );
}

/** Waits for the run to show `status`; throws as soon as it has ended otherwise. */
async function waitRunStatus(page: Page, status: string, timeout = RUN_MS) {
  const shown = await page.waitForFunction(
    (status) => {
      const shown = document.querySelector("#run-status")?.getAttribute("data-status");
      const ended = ["succeeded", "failed", "cancelled", "interrupted"].includes(shown ?? "");
      return (shown === status || ended) && shown;
    },
    status,
    { timeout },
  );
  const seen = await shown.jsonValue();
  if (seen !== status) throw new Error(`the run ended ${seen}, not ${status}`);
}

function waitOutput(page: Page, step: string, text: string) {
  return page.waitForFunction(
    ([step, text]) =>
      document.querySelector("#step-detail")?.getAttribute("data-step") === step &&
      (document.querySelector("#step-output")?.textContent ?? "").includes(text),
    [step, text] as const,
  );
}

/** Waits for the page of a run (after a click that starts one): its hash. */
async function runPage(page: Page): Promise<{ id: number; hash: string }> {
  await page.waitForFunction(() => /^#\/runs\/\d+$/.test(location.hash));
  await page.locator("#run-status[data-status]").waitFor();
  const hash = await page.evaluate(() => location.hash);
  return { id: Number(hash.split("/").pop()), hash };
}

/** Every node's status on the page. */
function nodes(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll("svg.dag .node")].map((node) => [
        node.getAttribute("data-step"),
        [...node.classList].find((name) => name.startsWith("s-"))?.slice(2),
      ]),
    )
  );
}

/** What the run page shows besides the graph. */
function runState(page: Page) {
  return page.evaluate(() => {
    const visible = (selector: string) => {
      const element = document.querySelector<HTMLElement>(selector);
      return element !== null && !element.hidden && element.offsetParent !== null;
    };
    return {
      status: document.querySelector("#run-status")?.getAttribute("data-status"),
      statusText: document.querySelector("#run-status")?.textContent,
      cancel: visible("button#cancel"),
      resume: visible("button#resume"),
      rows: [...document.querySelectorAll("tr.step-row")].map((row) => {
        const bar = row.querySelector<HTMLElement>(".bar");
        return {
          step: row.getAttribute("data-step"),
          status: row.getAttribute("data-status"),
          text: row.querySelector(".state")?.textContent,
          bar: bar && !bar.hidden
            ? { left: parseFloat(bar.style.left), width: parseFloat(bar.style.width) }
            : null,
        };
      }),
      edges: document.querySelectorAll("svg.dag .edge").length,
      title: document.title,
    };
  });
}

/** The step details panel. */
function detail(page: Page) {
  return page.evaluate(() => {
    const box = document.querySelector("#step-detail");
    return {
      step: box?.getAttribute("data-step") ?? null,
      name: box?.querySelector(".step-name")?.textContent ?? null,
      facts: Object.fromEntries(
        [...(box?.querySelectorAll("dt") ?? [])].map((dt) => [
          dt.textContent,
          dt.nextElementSibling?.textContent,
        ]),
      ),
      result: box?.querySelector("pre.result")?.textContent ?? null,
      error: box?.querySelector("pre.error-text")?.textContent ?? null,
      output: [...document.querySelectorAll("#step-output .line")].map((line) => ({
        stream: line.classList.contains("err") ? "stderr" : "stdout",
        text: line.textContent?.replace(/\n$/, ""),
      })),
    };
  });
}

/** Clicks a step's node and waits for its details. */
async function pickNode(page: Page, step: string) {
  await page.locator(NODE(step)).click();
  await page.waitForFunction(
    (step) => document.querySelector("#step-detail")?.getAttribute("data-step") === step,
    step,
  );
}

/** Starts `wait_for_go` from its page with `dir` as its parameter: the run's page. */
async function startWaiting(page: Page, dir: string, screenshot?: string) {
  await page.goto(`${base}#/workflows/wait_for_go`);
  await page.locator(NODE("wait")).waitFor();
  await page.fill("#param-dir", dir);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.click("form#params button.run");
  return await runPage(page);
}

async function go(dir: string) {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/go`, "");
}

/** Waits until the page shows its route, a hash that matches `hash`, loaded. */
function settled(page: Page, hash: RegExp) {
  return page.waitForFunction((source) => {
    const main = document.querySelector("main");
    return main?.getAttribute("data-route") === location.hash &&
      !main.hasAttribute("aria-busy") && new RegExp(source).test(location.hash);
  }, hash.source);
}

/** The cards of the list. */
function cards(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".card")].map((card) => ({
      name: card.getAttribute("data-workflow"),
      title: card.querySelector("h2")?.textContent,
      file: card.querySelector(".file")?.textContent,
      description: card.querySelector(".description")?.textContent ?? null,
      languages: [...card.querySelectorAll(".lang")].map((lang) => lang.textContent),
      lastRun: card.querySelector(".last-run")?.textContent,
      lastRunHref: card.querySelector(".last-run a")?.getAttribute("href") ?? null,
      run: card.querySelector("button.run") !== null,
      error: card.querySelector(".load-error")?.textContent ?? null,
    }))
  );
}

/** The rows of the history. */
function historyRows(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("table.runs tbody tr")].map((row) => ({
      id: Number(row.getAttribute("data-run")),
      status: row.getAttribute("data-status"),
      workflow: row.querySelector(".workflow")?.textContent,
      href: row.querySelector("a")?.getAttribute("href"),
    }))
  );
}

/** What is injected, or not, into the page by what the API said. */
function injected(page: Page) {
  return page.evaluate(() => ({
    images: document.querySelectorAll("img").length,
    scripts: document.scripts.length,
    handlers: document.querySelectorAll("[onerror], [onload], [onmouseover], [onclick]").length,
    bold: document.querySelectorAll("b").length,
    pwned: (globalThis as { pwned?: unknown }).pwned ?? null,
  }));
}

/** The whole visit: list, runs live, a reload, a cancel and its resume, the history. */
async function tour(page: Page) {
  // 1. The list.
  await page.goto(base);
  await page.locator('.card[data-workflow="parallel_demo"]').waitFor();
  const list = await cards(page);

  // 2. Hostile names and output stay text.
  await page.click('.card[data-workflow="hostile"] button.run');
  const hostileRun = await runPage(page);
  await waitRunStatus(page, "succeeded");
  const hostileStep = await page.evaluate(() =>
    document.querySelector("svg.dag .node:not([data-step='plain'])")?.getAttribute("data-step")
  );
  await pickNode(page, hostileStep!);
  await page.waitForFunction(() => document.querySelectorAll("#step-output .line").length > 0);
  const hostile = {
    ...hostileRun,
    step: hostileStep,
    label: await page.locator(NODE(hostileStep!)).getAttribute("aria-label"),
    detail: await detail(page),
    injected: await injected(page),
  };

  // 3. parallel_demo from its card, to its end: every node green.
  await page.goto(base);
  await page.click('.card[data-workflow="parallel_demo"] button.run');
  const demoRun = await runPage(page);
  await waitRunStatus(page, "succeeded");
  await waitNode(page, "finalize", "succeeded");
  const demo = {
    ...demoRun,
    nodes: await nodes(page),
    paths: await pathsOf(page, demoRun.hash),
    state: await runState(page),
    clicked: {} as Record<string, unknown>,
    keyboard: {} as Record<string, unknown>,
  };
  // A click on a node, Enter on a focused node, Space on a step's row.
  await pickNode(page, "task_a");
  await waitOutput(page, "task_a", "result_a");
  demo.clicked.task_a = await detail(page);
  await page.focus(NODE("init"));
  await page.keyboard.press("Enter");
  await waitOutput(page, "init", "Initializing...");
  demo.keyboard.enter = await detail(page);
  await page.keyboard.press("Tab");
  demo.keyboard.tabbedTo = await page.evaluate(() =>
    document.activeElement?.getAttribute("data-step")
  );
  await page.focus('tr.step-row[data-step="merge_results"] button');
  await page.keyboard.press(" ");
  await waitOutput(page, "merge_results", "Merging results:");
  demo.keyboard.space = await detail(page);
  await page.mouse.move(0, 0);
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: `${artifacts}serve_run.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `${artifacts}serve_run_dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });

  // 4. A step seen running, then, once its file is there, succeeded; its output grows live.
  const liveDir = `${goRoot}/live`;
  const liveRun = await startWaiting(page, liveDir, `${artifacts}serve_workflow.png`);
  await waitNode(page, "wait", "running");
  await page.click('tr.step-row[data-step="wait"] button');
  await waitOutput(page, "wait", "waiting for");
  const whileRunning = { nodes: await nodes(page), state: await runState(page) };
  await page.screenshot({ path: `${artifacts}serve_live.png`, fullPage: true });
  await go(liveDir);
  await waitNode(page, "wait", "succeeded");
  await waitOutput(page, "wait", "go found");
  await waitRunStatus(page, "succeeded");
  const live = {
    ...liveRun,
    whileRunning,
    after: { nodes: await nodes(page), state: await runState(page) },
    output: await detail(page),
    paths: await pathsOf(page, liveRun.hash),
  };

  // 5. A reload in the middle of a run: the state so far, then live again.
  const reloadDir = `${goRoot}/reload`;
  const reloadRun = await startWaiting(page, reloadDir);
  await waitNode(page, "wait", "running");
  const beforeReload = await nodes(page);
  await page.reload();
  await page.locator("#run-status[data-status]").waitFor();
  await waitNode(page, "wait", "running");
  const afterReload = { nodes: await nodes(page), state: await runState(page) };
  await page.click('tr.step-row[data-step="wait"] button');
  await waitOutput(page, "wait", "waiting for");
  await go(reloadDir);
  await waitNode(page, "wait", "succeeded");
  await waitOutput(page, "wait", "go found");
  await waitRunStatus(page, "succeeded");
  const reload = {
    ...reloadRun,
    beforeReload,
    afterReload,
    end: { nodes: await nodes(page), state: await runState(page) },
    output: await detail(page),
    // The page's transitions since the reload (the script's log starts again with the document).
    paths: await pathsOf(page, reloadRun.hash),
  };

  // 6. Cancel a run from its page; then resume it.
  const cancelDir = `${goRoot}/cancel`;
  const cancelRun = await startWaiting(page, cancelDir);
  await waitNode(page, "wait", "running");
  const beforeCancel = await runState(page);
  await page.click("button#cancel");
  await waitRunStatus(page, "cancelled");
  const cancelled = { nodes: await nodes(page), state: await runState(page) };
  await page.screenshot({ path: `${artifacts}serve_cancelled.png`, fullPage: true });
  await page.click("button#resume");
  await page.waitForFunction((hash) => location.hash !== hash, cancelRun.hash);
  const resumeRun = await runPage(page);
  await waitNode(page, "prepare", "reused");
  await waitNode(page, "wait", "running");
  const resuming = { nodes: await nodes(page), state: await runState(page) };
  await go(cancelDir);
  await waitRunStatus(page, "succeeded");
  const cancel = {
    ...cancelRun,
    beforeCancel,
    cancelled,
    resume: {
      ...resumeRun,
      resuming,
      end: { nodes: await nodes(page), state: await runState(page) },
      resumes: await page.locator("#run-status a").getAttribute("href"),
    },
  };

  // 7. The history: every run, filters, pages, a row to its run.
  await page.goto(`${base}#/runs`);
  await page.locator("table.runs tbody tr").first().waitFor();
  const rows = await historyRows(page);
  await page.selectOption("#filter-status", "cancelled");
  await settled(page, /^#\/runs\?status=cancelled$/);
  const byStatus = await historyRows(page);
  await page.selectOption("#filter-status", "");
  await settled(page, /^#\/runs$/);
  await page.selectOption("#filter-workflow", "parallel_demo");
  await settled(page, /^#\/runs\?workflow=parallel_demo$/);
  const byWorkflow = await historyRows(page);
  await page.goto(`${base}#/runs?limit=2`);
  await settled(page, /^#\/runs\?limit=2$/);
  const firstPage = await historyRows(page);
  await page.click("#page-next");
  await settled(page, /^#\/runs\?offset=2&limit=2$/);
  const secondPage = await historyRows(page);
  const range = await page.locator(".pager .range").textContent();
  await page.goto(`${base}#/runs`);
  await page.locator("table.runs tbody tr").first().waitFor();
  await page.screenshot({ path: `${artifacts}serve_history.png`, fullPage: true });
  await page.click(`table.runs tr[data-run="${demoRun.id}"] a`);
  await waitRunStatus(page, "succeeded");
  const fromHistory = { hash: await page.evaluate(() => location.hash), nodes: await nodes(page) };

  // 8. The list again: each card's last run.
  await page.goto(base);
  await page.locator('.card[data-workflow="parallel_demo"] .last-run a').waitFor();
  const listAfter = await cards(page);
  await page.screenshot({ path: `${artifacts}serve_list.png`, fullPage: true });

  return {
    list,
    hostile,
    demo,
    live,
    reload,
    cancel,
    history: { rows, byStatus, byWorkflow, firstPage, secondPage, range, fromHistory },
    listAfter,
  };
}

/** A server with a token: the page asks for it once, then lists, runs and follows live. */
async function withToken(page: Page) {
  await page.goto(base);
  await page.locator("#token-input").waitFor();
  const asked = await page.locator("#token").isVisible();
  await page.fill("#token-input", "not the token, but as long");
  await page.click("#token-form button");
  await page.waitForFunction(() =>
    (document.querySelector("#token-message")?.textContent ?? "").includes("refused")
  );
  const refused = await page.locator("#token-message").textContent();
  await page.fill("#token-input", token);
  await page.click("#token-form button");
  await page.locator('.card[data-workflow="wait_for_go"]').waitFor();
  const list = await cards(page);
  const dir = `${goRoot}/token`;
  const run = await startWaiting(page, dir);
  await waitNode(page, "wait", "running");
  await page.reload();
  await waitNode(page, "wait", "running");
  const askedAgain = await page.locator("#token").isVisible();
  await go(dir);
  await waitRunStatus(page, "succeeded");
  return {
    asked,
    refused,
    askedAgain,
    list,
    run,
    nodes: await nodes(page),
    paths: await pathsOf(page, run.hash),
  };
}

async function check(browser: Browser) {
  await Deno.remove(`${artifacts}serve_failure.png`).catch(() => {});
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const requests: string[] = [];
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  // Said on stderr too, which the test shows when the check fails.
  page.on("console", (message) => {
    console.error(`page console.${message.type()}: ${message.text()}`);
    if (message.type() === "error" || message.type() === "warning") {
      consoleErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => {
    console.error(`page error: ${error.stack ?? error.message}`);
    pageErrors.push(error.message);
  });
  await page.addInitScript(recordTransitions);
  let seen;
  try {
    seen = scenario === "token" ? await withToken(page) : await tour(page);
  } catch (error) {
    // What the page showed when it went wrong, for whoever reads the failure.
    const shown = await page.evaluate(() =>
      `${location.hash}\n${document.querySelector("main")?.textContent}`
    ).catch(() => "");
    await page.screenshot({ path: `${artifacts}serve_failure.png`, fullPage: true })
      .catch(() => {});
    console.error(`the page at the failure (${artifacts}serve_failure.png): ${shown}`);
    throw error;
  }
  const violations = await page.evaluate(() =>
    (globalThis as { violations?: string[] }).violations ?? []
  );
  const csp = (await page.request.get(base)).headers()["content-security-policy"];
  await context.close();
  return {
    ...seen,
    csp,
    offOrigin: requests.filter((url) => !url.startsWith(base)),
    requests: requests.length,
    dialogs,
    consoleErrors,
    pageErrors,
    violations,
  };
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let timer: ReturnType<typeof setTimeout> | undefined;
try {
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  console.log(JSON.stringify(await Promise.race([check(browser), deadline])));
} finally {
  clearTimeout(timer);
  await browser.close();
}
