/**
 * Lexical layer of the TOML locator (see toml-locate.ts): a cursor over the source that
 * skips whitespace, comments, strings and scalars and reads keys with their offsets.
 *
 * Every loop here consumes a character per turn and ends at the end of input, and
 * nothing here throws, whatever the input. Section references are to the TOML 1.0.0
 * specification (https://toml.io/en/v1.0.0).
 */

/** One segment of a (possibly dotted) key: its decoded name and the offset it starts at. */
export interface KeySeg {
  readonly name: string;
  readonly at: number;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const HASH = 0x23;
const SQUOTE = 0x27;
const COMMA = 0x2c;
const DOT = 0x2e;
const EQUALS = 0x3d;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** The punctuation the structural layer needs. */
export const CH = { LBRACKET, RBRACKET, LBRACE, RBRACE, COMMA, EQUALS, DQUOTE, SQUOTE } as const;

/** Spec "Spec": whitespace is tab or space; "Comment": `#` runs to the end of the line. */
function isWs(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Spec "Keys": bare keys are ASCII letters, digits, `_` and `-`. */
function isBareKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d
  );
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Characters that end an unquoted value (number, boolean, date-time) in any context. */
function endsScalar(c: number): boolean {
  return (
    c < 0 ||
    isWs(c) ||
    c === LF ||
    c === CR ||
    c === COMMA ||
    c === RBRACKET ||
    c === RBRACE ||
    c === HASH
  );
}

/** Spec "String": the escapes of basic strings (\e and \xHH are TOML 1.1, accepted too). */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  e: "\x1b",
  '"': '"',
  "\\": "\\",
};
const HEX_ESCAPE_LEN: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/**
 * Positions are UTF-16 offsets into the source; lines and columns are only worked out
 * for the few paths that are asked for (see toml-locate.ts), which keeps the scan lean.
 */
export class Cursor {
  readonly src: string;
  pos: number;

  constructor(src: string) {
    this.src = src;
    // A byte-order mark is not part of the document.
    this.pos = src.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  /** The code unit at pos + ahead, or -1 past the end. */
  peek(ahead = 0): number {
    const i = this.pos + ahead;
    return i < this.src.length ? this.src.charCodeAt(i) : -1;
  }

  get eof(): boolean {
    return this.pos >= this.src.length;
  }

  /** Consumes `c` if it is next. */
  eat(c: number): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }

  skipWs(): void {
    while (isWs(this.peek())) this.pos++;
  }

  /** Spec "Comment": from `#` to, not including, the end of the line. */
  private skipComment(): void {
    const nl = this.src.indexOf("\n", this.pos);
    this.pos = nl < 0 ? this.src.length : nl;
  }

  /** Whitespace, newlines and comments: between statements and inside arrays (spec "Array"). */
  skipTrivia(): void {
    for (;;) {
      const c = this.peek();
      if (isWs(c) || c === CR || c === LF) this.pos++;
      else if (c === HASH) this.skipComment();
      else return;
    }
  }

  /**
   * Spec "Key/Value Pair" and "Table": after a pair or a header only whitespace and a
   * comment may come before the newline (LF or CRLF) or the end of input. Leaves the newline.
   */
  atEndOfLine(): boolean {
    this.skipWs();
    if (this.peek() === HASH) this.skipComment();
    const c = this.peek();
    return c < 0 || c === LF || (c === CR && this.peek(1) === LF);
  }

  /** Spec "Keys": a dotted key is simple keys joined by `.`, with whitespace around dots. */
  readKey(): KeySeg[] | undefined {
    const segs: KeySeg[] = [];
    for (;;) {
      const seg = this.readSimpleKey();
      if (seg === undefined) return undefined;
      segs.push(seg);
      this.skipWs();
      if (this.peek() !== DOT) return segs;
      this.pos++;
      this.skipWs();
    }
  }

  private readSimpleKey(): KeySeg | undefined {
    const at = this.pos;
    const c = this.peek();
    let name: string | undefined;
    if (c === DQUOTE) name = this.readBasicKey();
    else if (c === SQUOTE) name = this.readLiteralKey();
    else {
      const start = this.pos;
      while (isBareKeyChar(this.peek())) this.pos++;
      name = this.pos > start ? this.src.slice(start, this.pos) : undefined;
    }
    return name === undefined ? undefined : { name, at };
  }

  /** Spec "String", literal strings: no escapes, no newlines. */
  private readLiteralKey(): string | undefined {
    const start = this.pos + 1;
    for (let i = start; i < this.src.length; i++) {
      const c = this.src.charCodeAt(i);
      if (c === SQUOTE) {
        this.pos = i + 1;
        return this.src.slice(start, i);
      }
      if (c === LF) break;
    }
    return undefined;
  }

  /** Spec "String", basic strings: decoded so that quoted keys match the parsed names. */
  private readBasicKey(): string | undefined {
    const { src } = this;
    let out = "";
    let chunk = this.pos + 1;
    for (let i = chunk; i < src.length; ) {
      const c = src.charCodeAt(i);
      if (c === DQUOTE) {
        this.pos = i + 1;
        return out + src.slice(chunk, i);
      }
      if (c === LF) return undefined;
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += src.slice(chunk, i);
      const esc = decodeEscape(src, i + 1);
      if (esc === undefined) return undefined;
      out += esc.text;
      i = chunk = esc.end;
    }
    return undefined;
  }

  /** Skips a string value of any of the four forms (spec "String"); false if unterminated. */
  skipString(): boolean {
    const q = this.peek();
    if (this.peek(1) === q && this.peek(2) === q) {
      this.pos += 3;
      return this.skipMultiline(q);
    }
    for (this.pos++; !this.eof; this.pos++) {
      const c = this.peek();
      if (c === q) {
        this.pos++;
        return true;
      }
      if (c === LF) return false;
      if (c === BACKSLASH && q === DQUOTE && this.peek(1) !== LF) this.pos++;
    }
    return false;
  }

  /**
   * Spec "String", multi-line strings: a run of three or more quotes closes the string,
   * and up to two of them (five in all) belong to the content. In basic strings a
   * backslash escapes the next character (a line-ending backslash just precedes LF).
   */
  private skipMultiline(q: number): boolean {
    while (!this.eof) {
      const c = this.peek();
      if (c === q) {
        let run = 1;
        while (run < 5 && this.peek(run) === q) run++;
        this.pos += run;
        if (run >= 3) return true;
      } else if (c === BACKSLASH && q === DQUOTE) {
        this.pos += 2;
      } else {
        this.pos++;
      }
    }
    return false;
  }

  /**
   * Skips an integer, float, boolean or date-time (spec "Integer" to "Local Time"); false
   * if there is none. A space may separate date and time (spec "Offset Date-Time").
   */
  skipScalar(): boolean {
    const start = this.pos;
    while (!endsScalar(this.peek())) this.pos++;
    if (this.pos === start) return false;
    if (
      this.pos - start === 10 &&
      this.isDate(start) &&
      this.peek() === SPACE &&
      isDigit(this.peek(1))
    ) {
      this.pos++;
      while (!endsScalar(this.peek())) this.pos++;
    }
    return true;
  }

  /** `YYYY-MM-DD` at start (the caller checked the length). */
  private isDate(start: number): boolean {
    const s = this.src;
    for (let i = 0; i < 10; i++) {
      const c = s.charCodeAt(start + i);
      if (i === 4 || i === 7 ? c !== 0x2d : !isDigit(c)) return false;
    }
    return true;
  }
}

/** Decodes the escape whose letter is at `i` (just after the backslash). */
function decodeEscape(src: string, i: number): { text: string; end: number } | undefined {
  const letter = src.charAt(i);
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { text: simple, end: i + 1 };
  const len = HEX_ESCAPE_LEN[letter];
  if (len === undefined) return undefined;
  const hex = src.slice(i + 1, i + 1 + len);
  if (hex.length !== len || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const cp = Number.parseInt(hex, 16);
  // Spec "String": only Unicode scalar values; fromCodePoint would throw above U+10FFFF.
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return { text: String.fromCodePoint(cp), end: i + 1 + len };
}
