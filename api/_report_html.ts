/**
 * Small helpers of the HTML report: escaping text from a workflow or a step
 * for HTML, showing the characters that would reorder or hide it, durations,
 * and the SHA-256 that lets the report's Content-Security-Policy allow its
 * own script and style and nothing else.
 *
 * @module
 */

import { escapeTerminal } from "../_util/terminal_text.ts";

const HTML_SPECIAL = /[&<>"']/g;
const ENTITY: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * `text` as HTML text or a quoted attribute's value: the five characters
 * that could end either are entities. Nothing in the report puts data
 * anywhere else (never inside a script, a style or an unquoted attribute).
 */
export function escapeHtml(text: string): string {
  return text.replace(HTML_SPECIAL, (c) => ENTITY[c]);
}

/** A colour or style sequence (SGR), kept by `escapeTerminal`'s colour option. */
const SGR = new RegExp("\x1b\\[[0-9;:]{0,64}m", "g");

/**
 * Text from a workflow or a step as the report shows it, escaped for HTML:
 * colour sequences dropped, and every other control character, line
 * separator and bidi override shown as an escape (`\x07`, `\u202e`), as
 * the terminal shows them, so that no text reorders or hides another.
 * Line feeds are kept when `newlines` is set.
 */
export function shownHtml(text: string, newlines = false): string {
  return escapeHtml(escapeTerminal(text, { newlines, colour: true }).replace(SGR, ""));
}

/** A name as a label shows it: escaped as {@link shownHtml}, cut to `max` characters. */
export function shownShort(text: string, max: number): string {
  return escapeHtml(truncate(escapeTerminal(text, { colour: true }).replace(SGR, ""), max));
}

/** `text` cut to `max` characters (code points), with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const points = [...text.slice(0, max * 2 + 2)];
  return points.length <= max ? text : `${points.slice(0, max - 1).join("")}…`;
}

/** `35ms` below a second, `1.23s` below a minute, `2m 05s` above, as the CLI writes them. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

/** A count with thousands separators: `65,536`. */
export const count = (n: number): string => n.toLocaleString("en-US");

/** The plural of a count: `1 step`, `2 steps`. */
export const plural = (n: number, word: string): string =>
  `${count(n)} ${word}${n === 1 ? "" : "s"}`;

// SHA-256 (FIPS 180-4). Hand-written because the report is made synchronously
// and crypto.subtle is asynchronous; node:crypto would add 80 ms to every start
// of hwfe. Its constants are the fractional parts of the primes' roots.
const PRIMES = Array.from({ length: 312 }, (_, n) => n).filter((n) => {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
});
const fraction = (x: number) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
const K = Uint32Array.from(PRIMES.slice(0, 64), (p) => fraction(Math.cbrt(p)));
const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => fraction(Math.sqrt(p)));
const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

/** The SHA-256 of `text`'s UTF-8 bytes, in base64 (as CSP's `'sha256-...'` sources write it). */
export function sha256Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 2 ** 29));
  view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
  const h = H0.slice();
  const w = new Uint32Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, k] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      [k, g, f, e, d, c, b, a] = [g, f, e, (d + t1) | 0, c, b, a, (t1 + t2) | 0];
    }
    for (const [i, v] of [a, b, c, d, e, f, g, k].entries()) h[i] += v;
  }
  const digest = new Uint8Array(32);
  const out = new DataView(digest.buffer);
  for (let i = 0; i < 8; i++) out.setUint32(i * 4, h[i]);
  return btoa(String.fromCharCode(...digest));
}
