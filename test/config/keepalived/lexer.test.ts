// biome-ignore-all lint/suspicious/noTemplateCurlyInString: keepalived.conf text uses ${NAME} itself
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { Diags } from "../../../src/config/diag.ts";
import { nodeHost } from "../../../src/config/keepalived/host.ts";
import { MAX_INCLUDE_DEPTH, preprocess } from "../../../src/config/keepalived/lexer.ts";
import type { SourceHost, SrcLine } from "../../../src/config/keepalived/types.ts";

const MAIN = "/etc/keepalived/keepalived.conf";

/** Glob over the fake file system's names: `*`, `?` and `[...]` within one path segment. */
function globRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, close).replace(/^!/, "^")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

interface FakeOpts {
  configId?: string;
  env?: Record<string, string>;
}

/** Files mapped to null exist (glob lists them) but cannot be read. */
function fakeHost(
  files: Record<string, string | null>,
  opts: FakeOpts = {},
): SourceHost & {
  randomCalls: [number, number][];
} {
  const randomCalls: [number, number][] = [];
  return {
    randomCalls,
    configId: opts.configId ?? "lb1",
    readFile: (p) => files[p] ?? undefined,
    glob: (pattern) => {
      const re = globRegExp(pattern);
      return Object.keys(files)
        .filter((k) => re.test(k))
        .sort();
    },
    env: (name) => opts.env?.[name],
    random: (min, max) => {
      randomCalls.push([min, max]);
      return max;
    },
  };
}

function run(
  files: Record<string, string | null>,
  opts: FakeOpts & { maxLines?: number } = {},
): { lines: SrcLine[]; diags: Diags; host: ReturnType<typeof fakeHost> } {
  const host = fakeHost(files, opts);
  const diags = new Diags();
  const pre = opts.maxLines === undefined ? {} : { maxLines: opts.maxLines };
  return { lines: preprocess(MAIN, host, diags, pre), diags, host };
}

/** Preprocesses one main file; returns the texts and fails on any diagnostic. */
function texts(main: string, opts: FakeOpts = {}): string[] {
  const { lines, diags } = run({ [MAIN]: main }, opts);
  expect(diags.list).toEqual([]);
  return lines.map((l) => l.text);
}

function diag(file: string, line: number, col: number, severity: string, code: string) {
  return expect.objectContaining({ file, line, col, severity, code });
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("reading lines", () => {
  test("strips CR/LF, blanks, empty and comment-only lines; keeps line numbers", () => {
    const { lines } = run({ [MAIN]: "a\r\n\r\n   \n# c\n\t b \r\r\nlast" });
    expect(lines).toEqual([
      { text: "a", file: MAIN, line: 1, cols: [1] },
      { text: "b", file: MAIN, line: 5, cols: [3] },
      { text: "last", file: MAIN, line: 6, cols: [1, 2, 3, 4] },
    ]);
  });

  test("# and ! start comments outside double quotes only", () => {
    expect(texts('a "b # c" d ! e\nx \'y # z\'\n!all\nk "q!r"#s')).toEqual([
      'a "b # c" d',
      "x 'y",
      'k "q!r"',
    ]);
  });

  test("\\# and \\! outside quotes are literal; the backslash is dropped from cols", () => {
    const { lines } = run({ [MAIN]: 'a\\#b "c\\#d" e\\!' });
    expect(lines[0]?.text).toBe('a#b "c\\#d" e!');
    expect(lines[0]?.cols).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]);
  });

  test("a trailing backslash outside a definition stays, glued to the text", () => {
    const { lines } = run({ [MAIN]: "foo   \\" });
    expect(lines).toEqual([{ text: "foo\\", file: MAIN, line: 1, cols: [1, 2, 3, 7] }]);
  });

  test("a line of 1022 bytes is accepted, 1023 is too long (MAXBUF 1024)", () => {
    const ok = "x".repeat(1022);
    const { lines, diags } = run({
      [MAIN]: `${ok}\n${"y".repeat(1023)}\nafter\n${"z".repeat(1022)}\r`,
    });
    expect(lines.map((l) => l.text)).toEqual([ok, "after"]);
    expect(diags.list).toEqual([
      diag(MAIN, 2, 1, "error", "line-too-long"),
      diag(MAIN, 4, 1, "error", "line-too-long"),
    ]);
  });

  test("the limit counts UTF-8 bytes", () => {
    const { lines, diags } = run({ [MAIN]: `${"é".repeat(511)}\n${"é".repeat(512)}` });
    expect(lines.map((l) => l.line)).toEqual([1]);
    expect(diags.list).toEqual([diag(MAIN, 2, 1, "error", "line-too-long")]);
  });

  test("a line holding a NUL is ignored", () => {
    const { lines, diags } = run({ [MAIN]: "a\0b\nc" });
    expect(lines.map((l) => l.text)).toEqual(["c"]);
    expect(diags.list).toEqual([diag(MAIN, 1, 2, "error", "line-has-nul")]);
  });

  test("an unterminated double quote is an error at the quote; the line goes on", () => {
    const { lines, diags } = run({ [MAIN]: '  router_id "abc # x' });
    expect(lines.map((l) => l.text)).toEqual(['router_id "abc # x']);
    expect(diags.list).toEqual([diag(MAIN, 1, 13, "error", "unterminated-quote")]);
  });
});

describe("@ conditional lines", () => {
  test("@ID keeps the rest when ID is the config id, @^ID when it is not", () => {
    const { lines } = run({
      [MAIN]: "@lb1  priority 1\n@lb2 priority 2\n@^lb2 x\n@^lb1 y\n@lb1\n@lb1x z",
    });
    expect(lines).toEqual([
      { text: "priority 1", file: MAIN, line: 1, cols: range(7, 10) },
      { text: "x", file: MAIN, line: 3, cols: [7] },
    ]);
  });

  test("the config id comes from the host", () => {
    expect(texts("@lb2 a\n@lb1 b", { configId: "lb2" })).toEqual(["a"]);
  });
});

describe("parameters", () => {
  test("$NAME and ${NAME}; expanded text maps to the $ column", () => {
    const { lines } = run({ [MAIN]: "$A=one\nx $A\ny${A}z" });
    expect(lines).toEqual([
      { text: "x one", file: MAIN, line: 2, cols: [1, 2, 3, 3, 3] },
      { text: "yonez", file: MAIN, line: 3, cols: [1, 2, 2, 2, 6] },
    ]);
  });

  test("$NAME needs a blank, ',', ')' or the end after it; unknown names stay", () => {
    expect(texts("$A=1\n$A.x $A,y ($A) $B ${B} $$A $")).toEqual(["$A.x 1,y (1) $B ${B} $1 $"]);
  });

  test("not definitions: a space before '=', a bad name, nothing after the name", () => {
    expect(texts("$A =1\n$1=2\n$A")).toEqual(["$A =1", "$1=2", "$A"]);
  });

  test("expansion is lazy and recursive; redefinition wins; empty values allowed", () => {
    const conf = "$A=<${B}>\n$B=1\nx $A\n$B=2\nx $A\n$E=\na $E b";
    expect(texts(conf)).toEqual(["x <1>", "x <2>", "a  b"]);
  });

  test("a value holding a definition defines it when expanded", () => {
    expect(texts("$D=$X=7\n$D\nx $X")).toEqual(["x 7"]);
  });

  test("substituted text is decommented again: a # from an expansion starts a comment", () => {
    expect(texts('$C=${_HASH}\n$C disabled\nx ${_HASH} y\nz "${_HASH}${_BANG}"\nw \\#$C')).toEqual([
      "x",
      'z "#!"',
      "w",
    ]);
  });

  test("a substituted line starting with @ is checked again", () => {
    expect(texts("$ON=@lb1\n$OFF=@lb2\n$ON a\n$OFF b")).toEqual(["a"]);
  });

  test("a value that refers to itself is left unexpanded with an error", () => {
    const { lines, diags } = run({ [MAIN]: "$R=$R\n$R\n$A=x $B\n$B=y $A\nz $A" });
    expect(lines.map((l) => l.text)).toEqual(["$R", "z x y $A"]);
    expect(diags.list).toEqual([
      diag(MAIN, 2, 1, "error", "param-recursion"),
      diag(MAIN, 5, 3, "error", "param-recursion"),
    ]);
  });

  test("a substitution growing the line past 1023 bytes drops it", () => {
    const { lines, diags } = run({ [MAIN]: `$L=${"x".repeat(600)}\nok\n$L $L\nafter` });
    expect(lines.map((l) => l.text)).toEqual(["ok", "after"]);
    expect(diags.list).toEqual([diag(MAIN, 3, 4, "error", "line-too-long")]);
  });
});

describe("multi-line parameters", () => {
  test("continued definitions expand to several lines at the $ of the use", () => {
    const conf = [
      "$INST= \\",
      "  vrrp_instance VI_${NUM} {  \\",
      "    @lb1 priority 130 \\",
      "    @lb2 priority 120 \\",
      "  }",
      "$NUM=0",
      "   $INST",
    ].join("\n");
    const { lines } = run({ [MAIN]: conf });
    expect(lines).toEqual([
      { text: "vrrp_instance VI_0 {", file: MAIN, line: 7, cols: Array(20).fill(4) },
      { text: "priority 130", file: MAIN, line: 7, cols: Array(12).fill(4) },
      { text: "}", file: MAIN, line: 7, cols: [4] },
    ]);
  });

  test("an empty line ends a definition; a blank or comment line does not", () => {
    expect(texts("$M=a\\\n  \n# c\nb\\\n\nafter\n$M")).toEqual(["after", "a", "b"]);
  });

  test("a multi-line parameter is expanded only at the end of a line", () => {
    expect(texts("$M=a\\\nb\nx $M y\nx ${M}")).toEqual(["x $M y", "x a", "b"]);
  });

  test("nested multi-line parameters", () => {
    const conf =
      "$RS=real_server ${N} {\\\nweight 1\\\n}\n$VS=vs {\\\n$N=1\\\n$RS\\\n$N=2\\\n$RS\\\n}\n$VS";
    expect(texts(conf)).toEqual([
      "vs {",
      "real_server 1 {",
      "weight 1",
      "}",
      "real_server 2 {",
      "weight 1",
      "}",
      "}",
    ]);
  });

  test("a definition does not run on past the end of its file", () => {
    const { lines } = run({
      [MAIN]: "include /x.conf\nafter\n$M",
      "/x.conf": "$M=a\\\nb\\",
    });
    expect(lines.map((l) => l.text)).toEqual(["after", "a", "b"]);
  });
});

describe("built-in parameters", () => {
  test("_PWD, _INSTANCE, _ENV, _HASH, _BANG", () => {
    const conf = 'x ${_PWD} ${_INSTANCE} ${_ENV HOME} [${_ENV NOPE}] "${_HASH}${_BANG}"';
    expect(texts(conf, { env: { HOME: "/root" } })).toEqual([
      'x /etc/keepalived lb1 /root [] "#!"',
    ]);
  });

  test("_RANDOM [MIN [MAX]] asks the host for a number in range", () => {
    const { lines, host } = run({ [MAIN]: "r $_RANDOM ${_RANDOM} ${_RANDOM 5} ${_RANDOM 1  10}" });
    expect(lines.map((l) => l.text)).toEqual(["r 32767 32767 32767 10"]);
    expect(host.randomCalls).toEqual([
      [0, 32767],
      [0, 32767],
      [5, 32767],
      [1, 10],
    ]);
  });

  test("wrong built-in parameters are errors and stay unexpanded", () => {
    const conf = "a ${_RANDOM x}\nb ${_RANDOM 1 2 3}\nc ${_RANDOM 9 3}\nd ${_ENV}\ne ${_PWD x}";
    const { lines, diags } = run({ [MAIN]: conf });
    expect(lines.map((l) => l.text)).toEqual([
      "a ${_RANDOM x}",
      "b ${_RANDOM 1 2 3}",
      "c 9",
      "d ${_ENV}",
      "e ${_PWD x}",
    ]);
    expect(diags.list).toEqual([
      diag(MAIN, 1, 3, "error", "param-args"),
      diag(MAIN, 2, 3, "error", "param-args"),
      diag(MAIN, 3, 3, "error", "param-args"),
      diag(MAIN, 4, 3, "error", "param-args"),
    ]);
  });

  test("a user definition overrides a built-in", () => {
    expect(texts("$_HASH=h\nx $_HASH")).toEqual(["x h"]);
  });
});

describe("~SEQ and ~LST", () => {
  test("~SEQ repeats the rest of the line; cols map into the ~SEQ line", () => {
    const { lines } = run({ [MAIN]: "~SEQ(i, 1, 3) ip 10.0.${i}.1" });
    expect(lines.map((l) => l.text)).toEqual(["ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"]);
    expect(lines[0]).toEqual({
      text: "ip 10.0.1.1",
      file: MAIN,
      line: 1,
      cols: [15, 16, 17, 18, 19, 20, 21, 22, 23, 27, 28],
    });
  });

  test("defaults for start and step, hex, numbers from parameters", () => {
    const conf = [
      "~SEQ(a,3) a${a}",
      "~SEQ(b,3,1) b${b}",
      "~SEQ(c,-2) c${c}",
      "~SEQ(d,0) d${d}",
      "~SEQ(e, 0, 5, 10) e${e}",
      "~SEQx(f, 0x90, 0x10, 0xc0) f${f}",
      "$N=2",
      "~SEQ(g, $N) g${g}",
    ].join("\n");
    expect(texts(conf)).toEqual(
      "a1 a2 a3 b3 b2 b1 c-1 c-2 d1 d0 e0 e5 e10 f90 fa0 fb0 fc0 g1 g2".split(" "),
    );
  });

  test("several ~SEQ on one line nest, the last innermost", () => {
    expect(texts("~SEQ(A,1,2) ~SEQ(B,1,2) x${A}${B}")).toEqual(["x11", "x12", "x21", "x22"]);
  });

  test("~LST with one variable and with {A,B} sets; missing values are empty", () => {
    const conf =
      "~LST(IP, 1, 2) a${IP}\n~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}\n~LST({A,B}, {1}, 2) v${A}-${B}-";
    expect(texts(conf)).toEqual(["a1", "a2", "192.168.10.1", "192.168.20.4", "v1--", "v2--"]);
  });

  test("~LST and ~SEQ combine (man page example)", () => {
    const out = texts("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,172) 192.${IP2}.${IP}.${IP1}");
    expect(out).toEqual([
      "192.168.10.1",
      "192.170.10.1",
      "192.172.10.1",
      "192.168.20.4",
      "192.170.20.4",
      "192.172.20.4",
    ]);
  });

  test("a multi-line value is read whole before the ~SEQ goes on", () => {
    const { lines } = run({ [MAIN]: "$M=a ${N}\\\nb ${N}\n~SEQ(N,1,2) $M" });
    expect(lines.map((l) => `${l.line}:${l.text}:${l.cols[0]}`)).toEqual([
      "3:a 1:13",
      "3:b 1:13",
      "3:a 2:13",
      "3:b 2:13",
    ]);
  });

  test("a parameter whose value is a ~SEQ line generates lines", () => {
    expect(texts("$S=~SEQ(i,1,2) v ${i}\n$S")).toEqual(["v 1", "v 2"]);
  });

  test("invalid specifications are errors at the ~ and the line is dropped", () => {
    const conf = [
      "~SEQ(i, 1, 0, 3) a",
      "~SEQ i",
      "~SEQx(i, -1, 3) b",
      "  ~SEQ(i, 1, 3 c",
      "~SEQ(i, 3, 1, 1) d",
      "~LST(A) e",
      "~LST(A, 1 2) f",
      "~LST({A}, {1, 2}) g",
      "~SEQUENCE h",
      "ok",
    ].join("\n");
    const { lines, diags } = run({ [MAIN]: conf });
    expect(lines.map((l) => l.text)).toEqual(["ok"]);
    expect(diags.list).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) =>
        diag(MAIN, n, n === 4 ? 3 : 1, "error", "seq-invalid"),
      ),
    );
  });

  test("a runaway ~SEQ stops at the line limit with one error", () => {
    const { lines, diags } = run(
      { [MAIN]: "a\n~SEQ(i, 1, 1000000000) x ${i}\nb" },
      { maxLines: 50 },
    );
    expect(lines.length).toBe(49);
    expect(lines[48]?.text).toBe("x 48");
    expect(diags.list).toEqual([diag(MAIN, 2, 1, "error", "too-many-lines")]);
  });

  test("a self-expanding multi-line value stops at the line limit", () => {
    const { diags } = run({ [MAIN]: "$M=a\\\n$M\n$M" }, { maxLines: 100 });
    expect(diags.list).toEqual([diag(MAIN, 3, 1, "error", "too-many-lines")]);
  });
});

describe("include", () => {
  test("relative to the including file, glob results sorted, brace alternatives in order", () => {
    const { lines, diags } = run({
      [MAIN]: "top\ninclude conf.d/*.conf\ninclude /x/{b,a}.conf\nend",
      "/etc/keepalived/conf.d/2.conf": "two",
      "/etc/keepalived/conf.d/1.conf": "one\ninclude ../sub/s.conf",
      "/etc/keepalived/sub/s.conf": "\nsub",
      "/x/a.conf": "xa",
      "/x/b.conf": "xb",
    });
    expect(diags.list).toEqual([]);
    expect(lines.map((l) => `${l.file}:${l.line}:${l.text}`)).toEqual([
      `${MAIN}:1:top`,
      "/etc/keepalived/conf.d/1.conf:1:one",
      "/etc/keepalived/sub/s.conf:2:sub",
      "/etc/keepalived/conf.d/2.conf:1:two",
      "/x/b.conf:1:xb",
      "/x/a.conf:1:xa",
      `${MAIN}:4:end`,
    ]);
  });

  test("${_PWD} is the directory of the file being read", () => {
    const { lines } = run({
      [MAIN]: "include /opt/x/in.conf\nmain ${_PWD}",
      "/opt/x/in.conf": "in ${_PWD}",
    });
    expect(lines.map((l) => l.text)).toEqual(["in /opt/x", "main /etc/keepalived"]);
  });

  test("include lines see conditionals and parameters (detected after them)", () => {
    const { lines } = run({
      [MAIN]:
        "$D=/inc\n@lb1 include ${D}/a.conf\n@lb2 include ${D}/b.conf\n~SEQ(i,1,2) include /f${i}.conf\nend",
      "/inc/a.conf": "a",
      "/inc/b.conf": "b",
      "/f1.conf": "f1",
      "/f2.conf": "f2",
    });
    expect(lines.map((l) => l.text)).toEqual(["a", "f1", "f2", "end"]);
  });

  test("plain include: a missing named file is a warning, an empty wildcard is silent", () => {
    const { lines, diags } = run({
      [MAIN]: "include nope.conf\ninclude /none/*.conf\n  include   {/a,/b}.conf\nok",
      "/a.conf": "a",
    });
    expect(lines.map((l) => l.text)).toEqual(["a", "ok"]);
    expect(diags.list).toEqual([
      diag(MAIN, 1, 9, "warning", "include-missing"),
      diag(MAIN, 3, 13, "warning", "include-missing"),
    ]);
    expect(diags.list[0]?.message).toContain("'/etc/keepalived/nope.conf'");
    expect(diags.list[1]?.message).toContain("'/b.conf'");
  });

  test("strict variants make the matching case an error", () => {
    const { lines, diags } = run({
      [MAIN]: [
        "includem /nope.conf",
        "includem /none/*.conf",
        "includew /none/*.conf",
        "includeb {/a,/b}.conf",
        "includea {/a,/c}.conf",
        "includer /a.conf",
        "includex /a.conf",
      ].join("\n"),
      "/a.conf": "a",
    });
    expect(lines.map((l) => l.text)).toEqual(["a", "includex /a.conf"]);
    expect(diags.list).toEqual([
      diag(MAIN, 1, 10, "error", "include-missing"),
      diag(MAIN, 3, 10, "error", "include-missing"),
      diag(MAIN, 4, 10, "error", "include-missing"),
      diag(MAIN, 5, 10, "error", "include-missing"),
    ]);
  });

  test("include_check sets the level; an included file's setting ends with it", () => {
    const { lines, diags } = run({
      [MAIN]:
        "include /strict.conf\ninclude /m1.conf\ninclude_check\ninclude /m2.conf\ninclude /none/*",
      "/strict.conf": "include_check match\ninclude /m3.conf",
    });
    expect(lines.map((l) => `${l.file}:${l.text}`)).toEqual([
      "/strict.conf:include_check match",
      `${MAIN}:include_check`,
    ]);
    expect(diags.list).toEqual([
      diag("/strict.conf", 2, 9, "error", "include-missing"),
      diag(MAIN, 2, 9, "warning", "include-missing"),
      diag(MAIN, 4, 9, "error", "include-missing"),
      diag(MAIN, 5, 9, "error", "include-missing"),
    ]);
  });

  test("include_check + and - options, and bad options", () => {
    const { diags } = run({
      [MAIN]: [
        "include_check wildcard_match +match -wildcard_match",
        "include /none/*",
        "include /m.conf",
        "include_check readable bogus brace_match",
      ].join("\n"),
    });
    expect(diags.list).toEqual([
      diag(MAIN, 3, 9, "error", "include-missing"),
      diag(MAIN, 4, 24, "error", "include-check-invalid"),
      diag(MAIN, 4, 30, "error", "include-check-invalid"),
    ]);
  });

  test("an unreadable included file: warning, or error when readable is checked", () => {
    const { lines, diags } = run({
      [MAIN]: "include /u.conf\nincluder /u.conf\nok",
      "/u.conf": null,
    });
    expect(lines.map((l) => l.text)).toEqual(["ok"]);
    expect(diags.list).toEqual([
      diag(MAIN, 1, 9, "warning", "include-unreadable"),
      diag(MAIN, 2, 10, "error", "include-unreadable"),
    ]);
  });

  test("an include loop is an error at the include line and is not followed", () => {
    const { lines, diags } = run({
      [MAIN]: "include a.conf\nend",
      "/etc/keepalived/a.conf": "a\ninclude ./b.conf",
      "/etc/keepalived/b.conf": "b\ninclude ../keepalived/a.conf\ninclude /etc//keepalived.conf",
      "/etc/keepalived.conf": "c",
    });
    expect(lines.map((l) => l.text)).toEqual(["a", "b", "c", "end"]);
    expect(diags.list).toEqual([diag("/etc/keepalived/b.conf", 2, 9, "error", "include-loop")]);
    expect(diags.list[0]?.message).toContain(
      `${MAIN} -> /etc/keepalived/a.conf -> /etc/keepalived/b.conf -> /etc/keepalived/a.conf`,
    );
  });

  test("includes nested too deep are refused as a likely loop", () => {
    const files: Record<string, string> = { [MAIN]: "include /f1.conf" };
    for (let i = 1; i <= 70; i++) files[`/f${i}.conf`] = `l${i}\ninclude /f${i + 1}.conf`;
    const { lines, diags } = run(files);
    expect(lines.length).toBe(MAX_INCLUDE_DEPTH - 1);
    expect(diags.list).toEqual([
      diag(`/f${MAX_INCLUDE_DEPTH - 1}.conf`, 2, 9, "error", "include-loop"),
    ]);
  });

  test("a brace pattern expanding past the limit is refused", () => {
    const { diags } = run({ [MAIN]: `include /${"{a,b}".repeat(11)}` });
    expect(diags.list).toEqual([diag(MAIN, 1, 9, "error", "include-pattern")]);
  });

  test("exponential include fan-out stops at the line limit", () => {
    const files: Record<string, string> = { [MAIN]: "include /f0.conf" };
    for (let i = 0; i < 30; i++)
      files[`/f${i}.conf`] = `x\ninclude /f${i + 1}.conf\ninclude /f${i + 1}.conf`;
    files["/f30.conf"] = "leaf";
    const { diags } = run(files, { maxLines: 1000 });
    expect(diags.list.map((d) => d.code)).toEqual(["too-many-lines"]);
  });
});

describe("nodeHost", () => {
  test("reads, globs files only in sorted order, and resolves literal paths", () => {
    const dir = mkdtempSync(`${tmpdir()}/ka-host-`);
    try {
      mkdirSync(`${dir}/conf.d/sub.conf`, { recursive: true });
      for (const f of ["b.conf", "a.conf", ".hidden.conf", "c.txt"]) {
        writeFileSync(`${dir}/conf.d/${f}`, `file ${f}`);
      }
      const host = nodeHost({ configId: "lb9" });
      expect(host.glob(`${dir}/conf.d/*.conf`)).toEqual([
        `${dir}/conf.d/a.conf`,
        `${dir}/conf.d/b.conf`,
      ]);
      expect(host.glob(`${dir}/*/[ab].conf`)).toEqual([
        `${dir}/conf.d/a.conf`,
        `${dir}/conf.d/b.conf`,
      ]);
      expect(host.glob(`${dir}/conf.d/c.txt`)).toEqual([`${dir}/conf.d/c.txt`]);
      expect(host.glob(`${dir}/conf.d/sub.conf`)).toEqual([]);
      expect(host.glob(`${dir}/none/*.conf`)).toEqual([]);
      expect(host.readFile(`${dir}/conf.d/a.conf`)).toBe("file a.conf");
      expect(host.readFile(`${dir}/conf.d/missing`)).toBeUndefined();
      expect(host.readFile(`${dir}/conf.d/sub.conf`)).toBeUndefined();
      expect(host.configId).toBe("lb9");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a seeded host gives repeatable random numbers within range", () => {
    const draw = (seed: number) => {
      const host = nodeHost({ randomSeed: seed });
      return Array.from({ length: 20 }, () => host.random(3, 7));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((n) => Number.isInteger(n) && n >= 3 && n <= 7)).toBe(true);
  });

  test("the default config id is the host name up to its first dot", () => {
    expect(nodeHost().configId).not.toContain(".");
    expect(nodeHost().configId.length).toBeGreaterThan(0);
  });
});
