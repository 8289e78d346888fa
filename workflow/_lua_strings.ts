/**
 * The string literals of a Lua source, with where each lies: enough of
 * Lua's lexer (comments, quoted and long strings) to find the line of the
 * file on which a step's code starts, and a long string that a `]]` in a
 * step's code closed early. Only the text is read; nothing is evaluated.
 *
 * @module
 */

/** One string literal of a Lua source. */
export interface LuaString {
  /** The string's value, as Lua reads it (escapes decoded, line breaks as "\n"). */
  value: string;
  /** The line (1-based) of the value's first character. */
  line: number;
  /** Offset of the opening quote or bracket. */
  start: number;
  /** Offset just past the closing quote or bracket (the source's end when unfinished). */
  end: number;
  /** The line of the closing quote or bracket. */
  endLine: number;
  /** A long string's level (the number of `=` in `[==[`); undefined for a quoted one. */
  level?: number;
  /** Whether the literal's value may hold a line break (a long string, or `\` at a line's end). */
  multiline: boolean;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** Where a quoted string's plain text stops: its quote, an escape, a line break. */
const DOUBLE_QUOTED_STOP = /["\\\r\n]/g;
const SINGLE_QUOTED_STOP = /['\\\r\n]/g;

/** Reads Lua source; `pos` moves along it, `line` counts the line breaks passed. */
class Reader {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}

  /** Whether a line break starts at `pos`. */
  atBreak(): boolean {
    const c = this.text[this.pos];
    return c === "\n" || c === "\r";
  }

  /** Passes one line break (`\n`, `\r`, `\r\n` or `\n\r`, as Lua counts them). */
  skipBreak(): void {
    const c = this.text[this.pos++];
    const next = this.text[this.pos];
    if ((next === "\n" || next === "\r") && next !== c) this.pos++;
    this.line++;
  }

  /** The level of a long bracket opening at `pos` (`[[` 0, `[=[` 1), or -1. */
  longBracket(): number {
    let i = this.pos + 1;
    while (this.text[i] === "=") i++;
    return this.text[this.pos] === "[" && this.text[i] === "[" ? i - this.pos - 1 : -1;
  }

  /** Reads a long string or comment of `level` from its opening bracket; returns its value. */
  long(level: number): string {
    this.pos += level + 2;
    if (this.atBreak()) this.skipBreak();
    const close = this.text.indexOf(`]${"=".repeat(level)}]`, this.pos);
    const end = close < 0 ? this.text.length : close;
    // Lua reads each line break in a long string as "\n".
    const value = this.text.slice(this.pos, end).replace(LINE_BREAK, () => {
      this.line++;
      return "\n";
    });
    this.pos = close < 0 ? end : end + level + 2;
    return value;
  }

  /** Reads a quoted string from its opening quote; returns its value and whether it spans lines. */
  quoted(): { value: string; multiline: boolean } {
    const quote = this.text[this.pos++];
    const stop = quote === '"' ? DOUBLE_QUOTED_STOP : SINGLE_QUOTED_STOP;
    const parts: string[] = [];
    let multiline = false;
    while (this.pos < this.text.length) {
      stop.lastIndex = this.pos;
      const found = stop.exec(this.text);
      const at = found ? found.index : this.text.length;
      parts.push(this.text.slice(this.pos, at));
      this.pos = at;
      const c = this.text[at];
      if (c === quote) {
        this.pos++;
        break;
      }
      if (c !== "\\") break; // a line break (unfinished: Lua refuses it) or the end
      this.pos++;
      const e = this.text[this.pos];
      if (e === undefined) break;
      if (SIMPLE_ESCAPES[e] !== undefined) {
        parts.push(SIMPLE_ESCAPES[e]);
        this.pos++;
      } else if (e === "\n" || e === "\r") {
        parts.push("\n");
        this.skipBreak();
        multiline = true;
      } else if (e === "z") {
        this.pos++;
        while (/\s/.test(this.text[this.pos] ?? "")) {
          if (this.atBreak()) this.skipBreak();
          else this.pos++;
        }
      } else {
        parts.push(this.numericEscape());
      }
    }
    return { value: parts.join(""), multiline };
  }

  /** `\xXX`, `\ddd` or `\u{XXX}` after the backslash; what it stands for. */
  numericEscape(): string {
    const rest = this.text.slice(this.pos, this.pos + 12);
    const match = /^x([0-9a-fA-F]{2})/.exec(rest) ?? /^(\d{1,3})/.exec(rest) ??
      /^u\{([0-9a-fA-F]+)\}/.exec(rest);
    if (!match) {
      this.pos++;
      return "";
    }
    this.pos += match[0].length;
    const code = match[0][0] === "x" || match[0][0] === "u"
      ? parseInt(match[1], 16)
      : parseInt(match[1], 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : "";
  }
}

/** A line break as Lua counts one: `\r\n` and `\n\r` are one. */
const LINE_BREAK = /\r\n|\n\r|\n|\r/g;

/** What the lexer stops at: a comment, a string, a line break; the rest is skipped. */
const NEXT = /--|["'[\n\r]/g;

/** Every string literal of a Lua source, in order; comments are skipped. */
export function luaStrings(source: string): LuaString[] {
  const reader = new Reader(source);
  const found: LuaString[] = [];
  const text = source;
  while (reader.pos < text.length) {
    NEXT.lastIndex = reader.pos;
    const next = NEXT.exec(text);
    if (!next) break;
    reader.pos = next.index;
    const c = text[reader.pos];
    if (reader.atBreak()) {
      reader.skipBreak();
    } else if (c === "-") {
      reader.pos += 2;
      const level = reader.longBracket();
      if (level >= 0) reader.long(level);
      else {
        const end = text.slice(reader.pos).search(/[\r\n]/);
        reader.pos = end < 0 ? text.length : reader.pos + end;
      }
    } else if (c === '"' || c === "'" || reader.longBracket() >= 0) {
      const start = reader.pos;
      const line = reader.line;
      const level = c === "[" ? reader.longBracket() : undefined;
      let value: string;
      let multiline = true;
      let first = line;
      if (level === undefined) {
        ({ value, multiline } = reader.quoted());
      } else {
        const after = start + level + 2;
        first = text[after] === "\n" || text[after] === "\r" ? line + 1 : line;
        value = reader.long(level);
      }
      found.push({
        value,
        line: first,
        start,
        end: reader.pos,
        endLine: reader.line,
        level,
        multiline,
      });
    } else {
      reader.pos++;
    }
  }
  return found;
}

/** The line (1-based) of `offset` in `text`. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    else if (c === "\r" && text[i + 1] !== "\n") line++;
  }
  return line;
}
