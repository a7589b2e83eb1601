import { describe, expect, test } from "bun:test";
import { writeSync } from "node:fs";
import { parse } from "smol-toml";
import { locateToml, type PathSeg } from "../../src/config/toml-locate.ts";
import { mulberry32 } from "../../src/core/prng.ts";

/** Locates `text` once; the returned function gives [line, col] of a path, or undefined. */
function at(text: string): (...path: PathSeg[]) => [number, number] | undefined {
  const locs = locateToml(text);
  return (...path) => {
    const p = locs.get(path);
    return p === undefined ? undefined : [p.line, p.col];
  };
}

/** 1-based columns of `tokens` found in order along `line` (so expectations stay exact). */
function cols(line: string, tokens: readonly string[]): number[] {
  let from = 0;
  return tokens.map((t) => {
    const i = line.indexOf(t, from);
    if (i < 0) throw new Error(`test bug: ${t} not in ${line}`);
    from = i + t.length;
    return i + 1;
  });
}

describe("key/value pairs", () => {
  test("bare keys with digits, dashes and underscores, indented", () => {
    const a = at("bare_key = 1\n  bare-key = 2\n1234 = 3\n\tk_9-x=4\n");
    expect(a("bare_key")).toEqual([1, 1]);
    expect(a("bare-key")).toEqual([2, 3]);
    expect(a("1234")).toEqual([3, 1]);
    expect(a(1234)).toBeUndefined(); // a key named "1234" is not an index
    expect(a("k_9-x")).toEqual([4, 2]);
    expect(a("nope")).toBeUndefined();
  });

  test("dotted keys: the path at the key's start, each prefix at its own segment", () => {
    const doc = 'name = 1\nphys.color . shape = 2\nsite."google.com".ok = true\nphys.size = 3\n';
    const a = at(doc);
    expect(a("phys")).toEqual([2, 1]);
    expect(a("phys", "color")).toEqual([2, 6]);
    expect(a("phys", "color", "shape")).toEqual([2, 1]);
    expect(a("site", "google.com")).toEqual([3, 6]);
    expect(a("site", "google.com", "ok")).toEqual([3, 1]);
    expect(a("phys", "size")).toEqual([4, 1]); // phys keeps its first position
    expect(parse(doc)).toMatchObject({ site: { "google.com": { ok: true } } });
  });

  test("quoted keys: basic with escapes, literal, empty; names decoded like smol-toml", () => {
    const doc = String.raw`"a.b" = 1
'lit' = 2
"" = 3
"tab\there" = 4
"\u00e9\"q" = 5
  'C:\dir' = 6
"a".b = 7
`;
    const a = at(doc);
    expect(a("a.b")).toEqual([1, 1]);
    expect(a("lit")).toEqual([2, 1]);
    expect(a("")).toEqual([3, 1]);
    expect(a("tab\there")).toEqual([4, 1]);
    expect(a('é"q')).toEqual([5, 1]);
    expect(a("C:\\dir")).toEqual([6, 3]);
    expect(a("a")).toEqual([7, 1]);
    expect(a("a", "b")).toEqual([7, 1]);
    expect(Object.keys(parse(doc))).toEqual(["a.b", "lit", "", "tab\there", 'é"q', "C:\\dir", "a"]);
  });

  test("names that would run together if concatenated stay distinct paths", () => {
    const a = at('ab = 1\n"a#0;" = 2\n"1:a" = 3\n');
    expect(a("ab")).toEqual([1, 1]);
    expect(a("a", "b")).toBeUndefined();
    expect(a("a", 0)).toBeUndefined();
    expect(a("a#0;")).toEqual([2, 1]);
    expect(a("a")).toBeUndefined();
  });
});

describe("tables", () => {
  test('[a.b] and [ "x y" . z ]: every path at the first key segment', () => {
    const a = at('[a.b]\nx = 1\n[ "x y" . z ]\nw = 2\n[a]\ny = 3\n[a.b.c]\n');
    expect(a("a", "b")).toEqual([1, 2]);
    expect(a("a", "b", "x")).toEqual([2, 1]);
    expect(a("x y")).toEqual([3, 3]);
    expect(a("x y", "z")).toEqual([3, 3]);
    expect(a("x y", "z", "w")).toEqual([4, 1]);
    expect(a("a")).toEqual([5, 2]); // defined by [a], not merely implied by [a.b]
    expect(a("a", "y")).toEqual([6, 1]);
    expect(a("a", "b", "c")).toEqual([7, 2]);
  });

  test("a sub-table of a table made by dotted keys keeps the dotted key's position", () => {
    const a = at('[fruit]\napple.color = "red"\n[fruit.apple.texture]\nsmooth = true\n');
    expect(a("fruit", "apple")).toEqual([2, 1]);
    expect(a("fruit", "apple", "texture")).toEqual([3, 2]);
    expect(a("fruit", "apple", "texture", "smooth")).toEqual([4, 1]);
  });

  test("arrays of tables are indexed per parent element", () => {
    const doc =
      '[[vs]]\nname = "a"\n[[vs.rs]]\nip = 1\n[[vs]]\n[[vs.rs]]\n[[ vs.rs ]]\n[vs.meta]\nk = 1\n';
    const a = at(doc);
    expect(a("vs")).toEqual([1, 3]);
    expect(a("vs", 0)).toEqual([1, 3]);
    expect(a("vs", 0, "name")).toEqual([2, 1]);
    expect(a("vs", 0, "rs")).toEqual([3, 3]);
    expect(a("vs", 0, "rs", 0)).toEqual([3, 3]);
    expect(a("vs", 0, "rs", 0, "ip")).toEqual([4, 1]);
    expect(a("vs", 0, "rs", 1)).toBeUndefined();
    expect(a("vs", 1)).toEqual([5, 3]);
    expect(a("vs", 1, "rs", 0)).toEqual([6, 3]);
    expect(a("vs", 1, "rs", 1)).toEqual([7, 4]);
    expect(a("vs", 1, "meta")).toEqual([8, 2]);
    expect(a("vs", 1, "meta", "k")).toEqual([9, 1]);
    expect(a("vs", 2)).toBeUndefined();
    expect(a("vs", "0")).toBeUndefined();
    expect(parse(doc)).toMatchObject({
      vs: [{ rs: [{ ip: 1 }] }, { rs: [{}, {}], meta: { k: 1 } }],
    });
  });
});

describe("values", () => {
  test("array elements and inline table keys, recursively", () => {
    const line = 'v = [ "a", { x = 1, y.z = [2, 3] } ]';
    const a = at(line);
    const [s, t, x, y, two, three] = cols(line, ['"a"', "{", "x", "y", "2", "3"]);
    expect(a("v", 0)).toEqual([1, s!]);
    expect(a("v", 1)).toEqual([1, t!]);
    expect(a("v", 1, "x")).toEqual([1, x!]);
    expect(a("v", 1, "y")).toEqual([1, y!]);
    expect(a("v", 1, "y", "z")).toEqual([1, y!]);
    expect(a("v", 1, "y", "z", 0)).toEqual([1, two!]);
    expect(a("v", 1, "y", "z", 1)).toEqual([1, three!]);
    expect(a("v", 2)).toBeUndefined();
  });

  test("multi-line nested arrays with comments and trailing commas", () => {
    const doc = `m = [
  [1, 2], # first
  # a comment with "quotes" and ] brackets
  [ [ ], {} ,],
  "s, ] # not a comment",
  'x',
]
after = 1
e = []
t = {}
`;
    const a = at(doc);
    expect(a("m", 0)).toEqual([2, 3]);
    expect(a("m", 0, 1)).toEqual([2, 7]);
    expect(a("m", 1)).toEqual([4, 3]);
    expect(a("m", 1, 0)).toEqual([4, 5]);
    expect(a("m", 1, 1)).toEqual([4, 10]);
    expect(a("m", 2)).toEqual([5, 3]);
    expect(a("m", 3)).toEqual([6, 3]);
    expect(a("m", 4)).toBeUndefined();
    expect(a("after")).toEqual([8, 1]);
    expect(a("e")).toEqual([9, 1]);
    expect(a("e", 0)).toBeUndefined();
    expect(a("t")).toEqual([10, 1]);
    expect(parse(doc).m).toEqual([[1, 2], [[], {}], "s, ] # not a comment", "x"]);
  });

  test("inline tables spread over lines (TOML 1.1, accepted by smol-toml)", () => {
    const a = at("t = { a = 1,\n  b = [2], # c\n}\nz = 0\n");
    expect(a("t", "b")).toEqual([2, 3]);
    expect(a("t", "b", 0)).toEqual([2, 8]);
    expect(a("z")).toEqual([4, 1]);
  });

  test("every string form, with quotes, hashes and brackets inside", () => {
    const doc = String.raw`s1 = "quote \" hash # bracket ] brace }"
s2 = 'C:\path\' # comment with "quote
s3 = """
multi "one" ""two"" # not a comment \"""
line-ending \
   backslash"""
s4 = '''
lit 'one' ''two'' # not a comment
'''''
s5 = """x"""""
s6 = ['''a
b''', """c
d""", "e"]
s7 = ""
s8 = ''
end = 1
`;
    const a = at(doc);
    const expected: [string, number][] = [
      ["s1", 1],
      ["s2", 2],
      ["s3", 3],
      ["s4", 7],
      ["s5", 10],
      ["s6", 11],
      ["s7", 14],
      ["s8", 15],
      ["end", 16],
    ];
    for (const [k, line] of expected) expect(a(k)).toEqual([line, 1]);
    expect(a("s6", 0)).toEqual([11, 7]);
    expect(a("s6", 1)).toEqual([12, 7]);
    expect(a("s6", 2)).toEqual([13, 7]);
    const v = parse(doc);
    expect([v.s3, v.s4, v.s5]).toEqual([
      'multi "one" ""two"" # not a comment """\nline-ending backslash',
      "lit 'one' ''two'' # not a comment\n''",
      'x""',
    ]);
  });

  test("comments hide keys and headers", () => {
    const a = at('# [commented] = header\na = 1 # b = 2\n# "c" = 3\n[t] # [[u]]\nd = "#" # e\n');
    expect(a("a")).toEqual([2, 1]);
    expect(a("t")).toEqual([4, 2]);
    expect(a("t", "d")).toEqual([5, 1]);
    for (const p of [["commented"], ["b"], ["c"], ["u"], ["t", "e"]]) {
      expect(a(...p)).toBeUndefined();
    }
  });

  test("numbers, booleans and dates-times (including a space separator)", () => {
    const n = "n = [1, -2, +3_000, 0xDEAD_beef, 0o17, 0b101, 3.14, -1e-3, inf, -nan, true, false]";
    const d = "d = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00.5-07:00, 1979-05-27, 07:32:00]";
    const doc = `${n}\n${d}\nt = 1979-05-27 07:32:00 # c\nafter = 1\n`;
    const a = at(doc);
    const nTokens = n.slice(5, -1).split(", ");
    for (const [i, c] of cols(n, nTokens).entries()) expect(a("n", i)).toEqual([1, c]);
    const dTokens = d.slice(5, -1).split(", ");
    for (const [i, c] of cols(d, dTokens).entries()) expect(a("d", i)).toEqual([2, c]);
    expect(a("d", 4)).toBeUndefined();
    expect(a("after")).toEqual([4, 1]);
    expect(parse(doc).n).toHaveLength(12);
  });
});

describe("text encoding", () => {
  test("CRLF line endings give the same positions as LF", () => {
    const doc = '[[vs]]\nm = [\n  1, # c\n  { x = "y" },\n]\ns = """\na\n"""\n[vs.t]\nk = 1\n';
    const lf = at(doc);
    const crlf = at(doc.replaceAll("\n", "\r\n"));
    const paths: PathSeg[][] = [
      ["vs", 0, "m", 0],
      ["vs", 0, "m", 1, "x"],
      ["vs", 0, "s"],
      ["vs", 0, "t", "k"],
    ];
    for (const p of paths) {
      expect(lf(...p)).toBeDefined();
      expect(crlf(...p)).toEqual(lf(...p));
    }
    expect(crlf("vs", 0, "t", "k")).toEqual([10, 1]);
  });

  test("columns count code points; a tab is one column; a BOM is not a column", () => {
    const a = at('"😀é" = { a = 1, "😀" = [ "😀", 2 ] }\n\tb = 1\n');
    expect(a("😀é", "a")).toEqual([1, 10]);
    expect(a("😀é", "😀")).toEqual([1, 17]);
    expect(a("😀é", "😀", 0)).toEqual([1, 25]);
    expect(a("😀é", "😀", 1)).toEqual([1, 30]);
    expect(a("b")).toEqual([2, 2]);
    expect(at("\uFEFFa = 1")("a")).toEqual([1, 1]);
  });

  test("text it cannot follow: keeps what it found before", () => {
    const a = at("a = 1\nb = = 2\nc = 3\n");
    expect(a("a")).toEqual([1, 1]);
    expect(a("c")).toBeUndefined();
    const u = at("x = [1, 2");
    expect(u("x", 1)).toEqual([1, 9]);
  });
});

// ---- generated documents -------------------------------------------------------------

/** Seed for the generated and fuzzed documents: random per run unless set, always shown. */
const SEED = Number(process.env.TOML_LOCATE_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;

const KEYS: readonly ((n: number) => string)[] = [
  (n) => `k${n}`,
  (n) => `k${n}`,
  (n) => `k-${n}_x`,
  (n) => `${n}`,
  (n) => `"k ${n}"`,
  (n) => `"k.${n}"`,
  (n) => String.raw`"k\"${n}\t"`,
  (n) => String.raw`"\u00e9${n}"`,
  (n) => `"é😀${n}"`,
  (n) => `'k ${n}'`,
  (n) => String.raw`'C:\k${n}'`,
];

const SCALARS: readonly string[] = [
  ...["42", "-17", "+3", "1_000", "0xDEAD_beef", "0o755", "0b1101", "3.14", "-0.01", "5e+22"],
  ...["6.626e-34", "inf", "-inf", "nan", "true", "false", "1979-05-27T07:32:00Z"],
  ...["1979-05-27 07:32:00-07:00", "1979-05-27T00:32:00.999999", "1979-05-27", "07:32:00"],
  ...['"plain"', String.raw`"esc \" \\ \t # ] } , \u00e9"`, String.raw`'C:\path # no'`, '""', "''"],
  ...['"""\nmulti "q" ""two"" # no\n  line \\\n  cont"""', '"""ends with quotes"""""'],
  ...["'''\nlit ''q'' # x\n'''", "'''it's'''", '"😀"', "'''''''"],
];

/** Places between array elements where whitespace, newlines and comments may go. */
const GAPS = ["", " ", "\n  ", ' # c ] "x\n  ', "\n\n\t"];

/** Random valid TOML 1.0 documents; every key is fresh, so no duplicate definitions. */
class DocGen {
  private n = 0;
  constructor(private readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  key(): string {
    return this.pick(KEYS)(this.n++);
  }
  value(depth: number): string {
    const k = depth < 3 ? this.int(6) : 5;
    if (k === 0) return this.array(depth + 1);
    if (k === 1) return this.inline(depth + 1);
    return this.pick(SCALARS);
  }
  array(depth: number): string {
    const items = Array.from({ length: this.int(4) }, () => this.pick(GAPS) + this.value(depth));
    const trailing = items.length > 0 && this.int(2) === 0 ? "," : "";
    return `[${items.join(",")}${trailing}${this.pick(GAPS)}]`;
  }
  inline(depth: number): string {
    const ctx = { prefix: "" };
    const pairs = Array.from({ length: this.int(4) }, () => this.keyValue(ctx, depth));
    return pairs.length === 0 ? "{}" : `{ ${pairs.join(", ")} }`;
  }
  /** `ctx.prefix` lets later dotted keys extend a table an earlier one created (spec "Keys"). */
  keyValue(ctx: { prefix: string }, depth: number): string {
    let key = this.key();
    const roll = this.int(6);
    if (roll === 0) ctx.prefix = `${this.key()}${this.pick([".", " . "])}${this.key()}`;
    if (roll <= 1 && ctx.prefix !== "") key = `${ctx.prefix}.${key}`;
    return `${key}${this.pick([" = ", "=", "\t= "])}${this.value(depth)}`;
  }
  /** Key/value lines of one table, with indentation, blank lines and comments around. */
  body(out: string[]): void {
    const ctx = { prefix: "" };
    for (let i = this.int(4); i > 0; i--) {
      if (this.int(4) === 0) out.push(this.pick(["", "# comment [x] = 'y'", "  "]));
      const pad = this.pick(["", "  ", "\t"]);
      out.push(pad + this.keyValue(ctx, 0) + this.pick(["", " # trailing", ' # [[z]] = "q']));
    }
  }
  section(out: string[]): void {
    const a = this.key();
    const kind = this.int(4);
    if (kind === 0) {
      out.push(`[${a}]`);
      this.body(out);
      if (this.int(2) === 0) out.push(`[ ${a} . ${this.key()} ]`);
      this.body(out);
    } else if (kind === 1) {
      out.push(`[${a}.${this.key()}]`); // a sub-table before its super-table (spec "Table")
      this.body(out);
      out.push(`[${a}]`);
      this.body(out);
    } else {
      const [sub, tbl] = [this.key(), this.key()];
      for (let i = 1 + this.int(3); i > 0; i--) {
        out.push(`[[${a}]]`);
        this.body(out);
        for (let j = this.int(3); j > 0; j--) {
          out.push(`[[ ${a}.${sub} ]]`);
          this.body(out);
        }
        if (this.int(2) === 0) out.push(`[${a}.${tbl}]`);
        this.body(out);
      }
    }
  }
  doc(): string {
    const out: string[] = [];
    this.body(out);
    for (let i = this.int(6); i > 0; i--) this.section(out);
    const text = `${out.join("\n")}\n`;
    return this.int(4) === 0 ? text.replaceAll("\n", "\r\n") : text;
  }
}

/** Every node of a parsed document (tables, arrays and leaves), with its path. */
function nodes(v: unknown, path: PathSeg[], out: [PathSeg[], unknown][]): typeof out {
  if (path.length > 0) out.push([path, v]);
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) nodes(x, [...path, i], out);
  } else if (typeof v === "object" && v !== null && !(v instanceof Date)) {
    for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  }
  return out;
}

/** UTF-16 offset of a 1-based line and code-point column. */
function offsetOf(text: string, line: number, col: number): number {
  let i = 0;
  for (let l = 1; l < line; l++) i = text.indexOf("\n", i) + 1;
  for (let c = 1; c < col; c++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}

describe("generated documents", () => {
  test(`every path of parse(text) is located at a plausible start (seed ${SEED})`, () => {
    const gen = new DocGen(mulberry32(SEED));
    for (let d = 0; d < 300; d++) {
      const text = gen.doc();
      const where = `seed ${SEED}, document ${d}:\n${text}`;
      let parsed: Record<string, unknown>;
      try {
        parsed = parse(text);
      } catch (e) {
        throw new Error(`generator made invalid TOML (${where})\n${e}`);
      }
      const locs = locateToml(text);
      for (const [path, v] of nodes(parsed, [], [])) {
        const p = locs.get(path);
        if (p === undefined) throw new Error(`no location for ${JSON.stringify(path)} (${where})`);
        const i = offsetOf(text, p.line, p.col);
        const ch = text.charAt(i);
        if (ch === "" || " \t\r\n=,]}#".includes(ch)) {
          throw new Error(
            `${JSON.stringify(path)} at ${p.line}:${p.col} = ${JSON.stringify(ch)} (${where})`,
          );
        }
        // An array element that is a number or boolean must start exactly at its literal.
        if (typeof path.at(-1) === "number" && (typeof v === "number" || typeof v === "boolean")) {
          const token = text.slice(i).match(/^[^\s,\]#]+/)?.[0] ?? "";
          expect(Object.is(parse(`v = ${token}`).v, v)).toBe(true);
        }
      }
    }
  });
});

// ---- fuzz ----------------------------------------------------------------------------

const FUZZ_CASES = 5000;
const FUZZ_CHILD = "TOML_LOCATE_FUZZ_CHILD";
const SNIPPETS = [
  ..."[]{}\"'\\=.,# \t\n\ra1-_",
  ...[
    "[[",
    "]]",
    '"""',
    "'''",
    "\r\n",
    "\\u",
    "\\U0011FFFF",
    '"\\u12',
    "1979-05-27 ",
    "\uD83D",
    "\uDE00",
    "😀",
  ],
];

function mutate(r: () => number, text: string): string {
  let t = text;
  for (let m = 1 + Math.floor(r() * 5); m > 0; m--) {
    const i = Math.floor(r() * (t.length + 1));
    const j = Math.min(t.length, i + Math.floor(r() * 20));
    const op = Math.floor(r() * 5);
    const snip = SNIPPETS[Math.floor(r() * SNIPPETS.length)]!;
    if (op === 0) t = t.slice(0, i) + snip + t.slice(i);
    else if (op === 1) t = t.slice(0, i) + t.slice(j);
    else if (op === 2) t = t.slice(0, j) + t.slice(i, j) + t.slice(j);
    else if (op === 3) t = t.slice(0, i);
    else t = t.slice(0, i) + snip + t.slice(j);
  }
  return t;
}

const ADVERSARIAL = [
  "",
  "[".repeat(100_000),
  `a = ${"[".repeat(100_000)}`,
  `a = ${"{ b = ".repeat(50_000)}`,
  `a = ${'"'.repeat(7)}`,
  "a = '''",
  'a = """\\',
  "[a.",
  "[[a]",
  "a = 1979-05-27 ",
  `"${"\\".repeat(1001)}`,
  "\r".repeat(1000),
  "\uD800 = \uDC00",
  '"\\U0011FFFF" = 1',
  '"\\uD800" = 1',
];

/** Runs in a child process (see below): one line per case so a hang names its case. */
function runFuzz(seed: number): void {
  const r = mulberry32(seed);
  const gen = new DocGen(mulberry32(seed ^ 0x5bd1e995));
  const docs = ADVERSARIAL.slice();
  for (let c = 0; c < FUZZ_CASES; c++) docs.push(mutate(r, c % 4 === 0 ? gen.doc() : docs.at(-1)!));
  docs.forEach((text, c) => {
    writeSync(1, `fuzz-case ${c}\n`);
    try {
      const locs = locateToml(text);
      locs.get(["a"]);
      locs.get([0, "x", 1]);
    } catch (e) {
      throw new Error(`locateToml threw (seed ${seed}, case ${c}): ${e}\n${JSON.stringify(text)}`);
    }
  });
  writeSync(1, `fuzz-done ${docs.length}\n`);
}

if (process.env[FUZZ_CHILD] !== undefined) {
  test("toml-locate fuzz child", () => runFuzz(SEED), 60_000);
}

describe("fuzz", () => {
  // A hang cannot be interrupted inside the test runner (a synchronous loop blocks its
  // timers), so the cases run in a child process that is killed if it takes too long.
  test(`${FUZZ_CASES} mutated documents: never throws, always terminates (seed ${SEED})`, async () => {
    const proc = Bun.spawn(
      [process.execPath, "test", import.meta.path, "-t", "toml-locate fuzz child"],
      {
        cwd: `${import.meta.dir}/../..`,
        env: { ...process.env, [FUZZ_CHILD]: "1", TOML_LOCATE_SEED: String(SEED) },
        stdout: "pipe",
        stderr: "pipe",
        timeout: 20_000,
      },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const last = out.split("\n").findLast((l) => l.startsWith("fuzz-case"));
    if (code !== 0 || !out.includes("fuzz-done")) {
      throw new Error(
        `fuzz failed: seed ${SEED} (rerun with TOML_LOCATE_SEED=${SEED}), exit ${code}, ` +
          `signal ${proc.signalCode}, last started ${last}\n${err.slice(-3000)}`,
      );
    }
  }, 30_000);
});

// ---- speed ---------------------------------------------------------------------------

function bestOf3(f: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe("speed", () => {
  // The budget is 50 ms for 20,000 lines; the bound here is looser so that a loaded CI
  // machine does not fail, but still far below what a quadratic scan would take.
  test("a 20,000-line document", () => {
    const block = (i: number) =>
      `[[svc]]\nname = "web-${i}"\nports = [80, 443, { p = 8080, proto = "tcp" }]\n` +
      `desc = """\nmulti "line" # text\n"""\naddr.ip = '10.0.0.${i % 250}'\n` +
      "when = 1979-05-27 07:32:00Z # comment\ntags = [\n  'a', # c\n]\n";
    const text = Array.from({ length: 1819 }, (_, i) => block(i)).join("");
    expect(text.split("\n").length).toBeGreaterThanOrEqual(20_000);
    let locs = locateToml("");
    const ms = bestOf3(() => {
      locs = locateToml(text);
    });
    expect(locs.get(["svc", 1818, "tags", 0])).toEqual({ line: 1818 * 11 + 10, col: 3 });
    expect(ms).toBeLessThan(250);
  });

  test("one very long line with 100,000 elements", () => {
    const text = `a = [${"1, ".repeat(100_000)}]`;
    let locs = locateToml("");
    const ms = bestOf3(() => {
      locs = locateToml(text);
    });
    expect(locs.get(["a", 99_999])).toEqual({ line: 1, col: 6 + 3 * 99_999 });
    expect(ms).toBeLessThan(250);
  });
});
