/**
 * Text a terminal shows rather than acts on: escaping what could move the
 * cursor, rewrite lines or reorder text, for hwfe's own output and for JSON
 * documents that may be printed.
 *
 * @module
 */

/**
 * What a terminal may act on rather than show: C0 controls but tab, then
 * DEL, C1 controls (some terminals take U+009B as CSI), the line and
 * paragraph separators, and the bidi embeddings, overrides and isolates
 * that reorder text on screen (U+202A-U+202E, U+2066-U+2069: "Trojan
 * Source"). JSON.stringify escapes C0 itself, and nothing but these.
 */
const C0 = "\\x00-\\x08\\x0a-\\x1f";
const BEYOND_C0 = "\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069";
const HAS_UNSAFE = new RegExp(`[${C0}${BEYOND_C0}]`);
/** An SGR sequence (colour and style: ESC [ params m) or one unsafe character. */
const SGR_OR_UNSAFE = new RegExp(`\\x1b\\[[0-9;:]{0,64}m|[${C0}${BEYOND_C0}]`, "g");
const JSON_UNSAFE = new RegExp(`[${BEYOND_C0}]`, "g");

const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, "0");
/** `\x1b` for characters below U+0100, `\u202e` above. */
const escapeCharacter = (c: string) =>
  c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;

/**
 * Whether SGR parameters only colour or style text: all but conceal (8),
 * which would hide text that a copy and paste still takes.
 */
function harmlessSgr(params: string): boolean {
  const list = params.split(";");
  for (let i = 0; i < list.length; i++) {
    const code = Number(list[i].split(":")[0] || "0");
    if (code === 8) return false;
    // 38;5;n and 38;2;r;g;b (and 48, 58): the numbers after are a colour, not codes.
    if ((code === 38 || code === 48 || code === 58) && !list[i].includes(":")) {
      i += list[i + 1] === "5" ? 2 : list[i + 1] === "2" ? 4 : 0;
    }
  }
  return true;
}

/** Options of {@link escapeTerminal}. */
export interface EscapeOptions {
  /** Keep line feeds (a message of several lines); otherwise `\x0a`. */
  newlines?: boolean;
  /** Keep colour and style sequences (SGR, conceal excepted): step output on a colour terminal. */
  colour?: boolean;
}

/**
 * Text from a workflow or a step (names, output lines, error messages,
 * warnings) as hwfe prints it for people: every character a terminal would
 * act on is shown escaped (`\x1b`, `\u202e`), so a workflow cannot move
 * the cursor, erase lines, set the title, write the clipboard (OSC 52) or
 * reorder text. Tab is kept. Backslashes are not doubled: an escape is for
 * reading, and output with backslashes stays as written.
 *
 * Hand-written: libraries strip escape sequences (strip-ansi, Node's
 * stripVTControlCharacters) or quote whole strings (jsesc); none shows
 * them while keeping colour.
 */
export function escapeTerminal(text: string, options: EscapeOptions = {}): string {
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(SGR_OR_UNSAFE, (match) => {
    if (match.length === 1) {
      return options.newlines && match === "\n" ? match : escapeCharacter(match);
    }
    return options.colour && harmlessSgr(match.slice(2, -1))
      ? match
      : escapeCharacter("\x1b") + match.slice(1);
  });
}

/**
 * A message of one or more lines (an error) for a terminal: escaped, and
 * every line after the first indented, so that none can pass for one of
 * hwfe's own lines (a fake `✓ deploy succeeded`).
 */
export function escapeMessage(text: string): string {
  return escapeTerminal(text, { newlines: true }).replaceAll("\n", "\n    ");
}

/**
 * JSON text with the characters a terminal may act on that JSON allows raw
 * (C1, bidi controls, separators) as `\u` escapes: the same value.
 */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${hex(c, 4)}`);
}
