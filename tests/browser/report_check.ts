/// <reference lib="dom" />
/**
 * Opens an HTML report in headless Chromium and prints what a reader sees,
 * as one JSON document on stdout, for tests/report_test.ts:
 *
 *     deno run --config tests/browser/deno.json <permissions> tests/browser/report_check.ts \
 *       <report.html> <screenshot.png> <clicks as JSON: [{"view": "graph", "name": "a"}]>
 *
 * Every request the page makes is recorded and refused, as are dialogs;
 * the page's errors, console errors and Content-Security-Policy violations
 * are reported. Needs `__IS_WSL_TEST__=1` in its environment (see
 * /work/shared/notes/browser.md and README.md here).
 */

import { type Browser, chromium, type Page } from "npm:playwright-core@1.65.2";

/** Where the test asks to click: a step's node, its timeline lane or its row. */
interface Click {
  view: "graph" | "timeline" | "list";
  name: string;
}

const CHROMIUM = "/usr/bin/chromium";
const DEADLINE_MS = 45_000;
const VIEWS = {
  graph: "svg.dag a.node",
  timeline: "svg.gantt a.lane",
  list: "table.steps td.name a",
};

// Playwright's own SIGTERM handler closes the browser but does not exit.
Deno.addSignalListener("SIGTERM", () => Deno.exit(143));

const [reportPath, screenshotPath, clicksJson] = Deno.args;
const clicks: Click[] = JSON.parse(clicksJson ?? "[]");
const reportUrl = new URL(`file://${await Deno.realPath(reportPath)}`).href;

/** What the details panel shows. */
function shownDetail(page: Page) {
  return page.evaluate(() => {
    const detail = [...document.querySelectorAll<HTMLElement>(".detail")]
      .find((element) => element.offsetParent !== null);
    if (!detail) return null;
    const text = (selector: string) => detail.querySelector(selector)?.textContent ?? null;
    return {
      id: detail.id,
      name: text(".step-name"),
      outcome: text(".facts .badge"),
      facts: Object.fromEntries(
        [...detail.querySelectorAll(".facts dt")].map((dt) => [
          dt.textContent,
          dt.nextElementSibling?.textContent,
        ]),
      ),
      error: text("pre.error"),
      result: text("pre.result"),
      attempts: [...detail.querySelectorAll(".attempts li")].map((li) => li.textContent),
      output: [...detail.querySelectorAll(".output .line")].map((line) => ({
        stream: line.classList.contains("err") ? "stderr" : "stdout",
        text: line.textContent?.replace(/\n$/, ""),
      })),
      dropped: text(".dropped"),
      visibleInViewport: detail.getBoundingClientRect().top < innerHeight,
    };
  });
}

/** Everything the page shows of its steps, in each view. */
function pageState(page: Page) {
  return page.evaluate(() => {
    const outcome = (element: Element) =>
      [...element.classList].find((name) => name.startsWith("o-"))?.slice(2);
    const rows = [...document.querySelectorAll("table.steps tbody tr")];
    return {
      title: document.title,
      header: document.querySelector("header.run")?.textContent,
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')
        ?.getAttribute("content"),
      list: rows.map((row) => ({
        index: Number(row.getAttribute("data-step")),
        name: row.querySelector("td.name")?.textContent,
        outcome: outcome(row.querySelector(".badge")!),
        badge: row.querySelector(".badge")?.textContent,
      })),
      graph: [...document.querySelectorAll("svg.dag a.node")].map((node) => ({
        index: Number(node.getAttribute("data-step")),
        outcome: outcome(node),
        label: node.getAttribute("aria-label"),
      })),
      edges: [...document.querySelectorAll("svg.dag .edge")].map((edge) => [
        Number(edge.getAttribute("data-from")),
        Number(edge.getAttribute("data-to")),
      ]),
      timeline: [...document.querySelectorAll("svg.gantt a.lane")].map((
        lane,
      ) => ({
        index: Number(lane.getAttribute("data-step")),
        outcome: outcome(lane),
        waits: lane.querySelectorAll(".wait").length,
        runs: lane.querySelectorAll(".run").length,
        retried: lane.querySelectorAll(".run.retried").length,
        pauses: lane.querySelectorAll(".pause").length,
        crosses: lane.querySelectorAll(".cross").length,
      })),
      ticks: [...document.querySelectorAll("svg.gantt .tick")].map((tick) => tick.textContent),
      injected: {
        images: document.querySelectorAll("img").length,
        scripts: document.scripts.length,
        handlers: document.querySelectorAll(
          "[onerror], [onload], [onmouseover], [onclick]",
        ).length,
        bold: document.querySelectorAll("b").length,
        pwned: (globalThis as { pwned?: unknown }).pwned ?? null,
      },
      jsEnabled: document.documentElement.classList.contains("js"),
    };
  });
}

async function clickStep(page: Page, click: Click) {
  const index = await page.evaluate((name) => {
    const link = [...document.querySelectorAll("table.steps td.name a")]
      .find((a) => a.textContent === name);
    return link?.getAttribute("data-step") ?? null;
  }, click.name);
  if (index === null) return { ...click, found: false };
  await page.locator(`${VIEWS[click.view]}[data-step="${index}"]`).click();
  const selected = await page.evaluate(
    (i) => [...document.querySelectorAll(`.selected[data-step="${i}"]`)].map((e) => e.tagName),
    index,
  );
  return {
    ...click,
    found: true,
    hash: await page.evaluate(() => location.hash),
    selected,
  };
}

/** Focus the list's first step and press the down arrow: the next step shows. */
async function keyboard(page: Page) {
  await page.locator(`${VIEWS.list}[data-step="0"]`).focus();
  await page.keyboard.press("ArrowDown");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-step"));
  return { focused, detail: (await shownDetail(page))?.id };
}

/** The same page without script: the list reads, and a link shows its step by `:target`. */
async function withoutScript(browser: Browser, click: Click | undefined) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(reportUrl);
    const state = await pageState(page);
    const step = state.list.find((row) => row.name === click?.name);
    if (step) {
      await page.locator(`${VIEWS.list}[data-step="${step.index}"]`).click();
    }
    return {
      rows: state.list.length,
      jsEnabled: state.jsEnabled,
      detail: await shownDetail(page),
    };
  } finally {
    await context.close();
  }
}

async function check(browser: Browser) {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 1000 },
  });
  const requests: string[] = [];
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url === reportUrl) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      consoleErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as { violations?: string[] }).violations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.goto(reportUrl);
  const before = await pageState(page);
  const placeholderShown = await page.locator(".placeholder").isVisible();
  const clicked = [];
  for (const click of clicks) {
    clicked.push({
      ...(await clickStep(page, click)),
      detail: await shownDetail(page),
    });
  }
  const keys = await keyboard(page);
  // The screenshot shows the first click's step picked, as a reader would leave it.
  if (clicks[0]) await clickStep(page, clicks[0]);
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: screenshotPath, fullPage: true });
  const violations = await page.evaluate(() =>
    (globalThis as { violations?: string[] }).violations
  );
  await context.close();
  return {
    ...before,
    placeholderShown,
    clicked,
    keyboard: keys,
    noScript: await withoutScript(browser, clicks[0]),
    requests,
    dialogs,
    consoleErrors,
    pageErrors,
    violations,
    screenshot: screenshotPath,
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
    timer = setTimeout(
      () => reject(new Error(`no answer in ${DEADLINE_MS} ms`)),
      DEADLINE_MS,
    );
  });
  console.log(JSON.stringify(await Promise.race([check(browser), deadline])));
} finally {
  clearTimeout(timer);
  await browser.close();
}
