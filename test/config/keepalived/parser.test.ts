// biome-ignore-all lint/suspicious/noTemplateCurlyInString: keepalived.conf text uses ${NAME} itself
import { describe, expect, test } from "bun:test";
import { Diags } from "../../../src/config/diag.ts";
import { preprocess } from "../../../src/config/keepalived/lexer.ts";
import { parseStatements } from "../../../src/config/keepalived/parser.ts";
import type { SrcLine, Stmt, Tok } from "../../../src/config/keepalived/types.ts";

const F = "/k.conf";

/** Source lines as the preprocessor emits them for text with no leading blanks. */
function src(...texts: string[]): SrcLine[] {
  return texts.map((text, i) => ({
    text,
    file: F,
    line: i + 1,
    cols: Array.from({ length: text.length }, (_, k) => k + 1),
  }));
}

function parse(...texts: string[]): { stmts: Stmt[]; diags: Diags } {
  const diags = new Diags();
  return { stmts: parseStatements(src(...texts), diags), diags };
}

/** A compact picture of the tree: `kw arg "quoted"` with nested blocks. */
function shape(stmts: readonly Stmt[]): unknown[] {
  return stmts.map((s) => {
    const words = [s.kw, ...s.args].map((t) => (t.quoted ? `"${t.text}"` : t.text)).join(" ");
    return s.block ? [words, shape(s.block)] : words;
  });
}

const tok = (text: string, line: number, col: number, quoted = false): Tok => ({
  file: F,
  line,
  col,
  text,
  quoted,
});

function diag(line: number, col: number, code: string) {
  return expect.objectContaining({ file: F, line, col, severity: "warning", code });
}

describe("tokens", () => {
  test("whitespace-separated words with their columns", () => {
    const { stmts } = parse("priority\t 100  x");
    expect(stmts).toEqual([
      {
        kw: tok("priority", 1, 1),
        args: [tok("100", 1, 11), tok("x", 1, 16)],
        rest: "100  x",
        restLoc: { file: F, line: 1, col: 11 },
      },
    ]);
  });

  test('a "..." run is one token without its quotes; a quote also ends a word', () => {
    const { stmts } = parse('router_id "my router" "" abc"def ghi"jkl');
    expect(stmts[0]?.args).toEqual([
      tok("my router", 1, 11, true),
      tok("", 1, 23, true),
      tok("abc", 1, 26),
      tok("def ghi", 1, 29, true),
      tok("jkl", 1, 38),
    ]);
  });

  test("single quotes are ordinary characters", () => {
    expect(shape(parse("a 'b c'").stmts)).toEqual(["a 'b c'"]);
  });

  test("columns come from cols: expanded text points at its $", () => {
    const line: SrcLine = { text: "x one", file: F, line: 4, cols: [1, 2, 3, 3, 3] };
    const stmts = parseStatements([line], new Diags());
    expect(stmts[0]?.args).toEqual([tok("one", 4, 3)]);
  });

  test("an unmatched quote ends the words with a warning (when the lexer could not see it)", () => {
    const { stmts, diags } = parse('x "a\\" b" c');
    expect(shape(stmts)).toEqual(['x "a\\" b']);
    expect(diags.list).toEqual([diag(1, 9, "unmatched-quote")]);
  });

  test("no second report for a quote the preprocessor already reported", () => {
    const { stmts, diags } = parse('x a "b c');
    expect(shape(stmts)).toEqual(["x a"]);
    expect(diags.list).toEqual([]);
  });
});

describe("rest", () => {
  test("the raw text after the keyword, for shell-style re-splitting", () => {
    const { stmts } = parse("notify_master   \"/bin/n.sh 'a b'\" root");
    expect(stmts[0]?.rest).toBe("\"/bin/n.sh 'a b'\" root");
    expect(stmts[0]?.restLoc).toEqual({ file: F, line: 1, col: 17 });
  });

  test("empty after a lone keyword, located just past it", () => {
    const { stmts } = parse("nopreempt");
    expect(stmts[0]?.rest).toBe("");
    expect(stmts[0]?.restLoc).toEqual({ file: F, line: 1, col: 10 });
  });

  test("ends at a brace, as keepalived's buffer does", () => {
    const { stmts } = parse('notify "/x {a}" /y { z }');
    expect(stmts[0]?.rest).toBe('"/x {a}" /y');
  });
});

describe("braces", () => {
  test("a block on one line, with text after the closing brace", () => {
    const { stmts, diags } = parse("virtual_ipaddress { 192.0.2.1 192.0.2.2/24 } nopreempt");
    expect(diags.list).toEqual([]);
    expect(shape(stmts)).toEqual([["virtual_ipaddress", ["192.0.2.1 192.0.2.2/24"]], "nopreempt"]);
    expect(stmts[0]?.openLoc).toEqual({ file: F, line: 1, col: 19 });
    expect(stmts[0]?.block?.[0]?.kw).toEqual(tok("192.0.2.1", 1, 21));
  });

  test("braces need no spaces; nested blocks", () => {
    const { stmts } = parse("vrrp_instance VI_1{state MASTER;authentication{auth_type PASS}}");
    expect(shape(stmts)).toEqual([
      ["vrrp_instance VI_1", [["state MASTER;authentication", ["auth_type PASS"]]]],
    ]);
  });

  test("'{' on the next line opens the block of the statement before it", () => {
    const { stmts, diags } = parse("global_defs", "{", "  router_id a", "}");
    expect(diags.list).toEqual([]);
    expect(shape(stmts)).toEqual([["global_defs", ["router_id a"]]]);
    expect(stmts[0]?.openLoc).toEqual({ file: F, line: 2, col: 1 });
  });

  test("quoted braces do not split; an unterminated quote stops the brace search", () => {
    const { stmts } = parse('a "x{y}" { b }', 'c "d { e');
    expect(shape(stmts)).toEqual([['a "x{y}"', ["b"]], "c"]);
  });

  test("a stray '}' is ignored with a warning", () => {
    const { stmts, diags } = parse("a { b }", "  }", "c } d");
    expect(shape(stmts)).toEqual([["a", ["b"]], "c", "d"]);
    expect(diags.list).toEqual([diag(2, 3, "unexpected-brace"), diag(3, 3, "unexpected-brace")]);
  });

  test("a '{' with no statement before it, or after a block, is ignored with a warning", () => {
    const { stmts, diags } = parse("{ a", "b { c }", "{", "d {{ e }");
    expect(shape(stmts)).toEqual(["a", ["b", ["c"]], ["d", ["e"]]]);
    expect(diags.list).toEqual([
      diag(1, 1, "unexpected-brace"),
      diag(3, 1, "unexpected-brace"),
      diag(4, 4, "unexpected-brace"),
    ]);
  });

  test("blocks left open get a warning at their '{', outermost first", () => {
    const { stmts, diags } = parse("a {", "  b {", "    c");
    expect(shape(stmts)).toEqual([["a", [["b", ["c"]]]]]);
    expect(diags.list).toEqual([diag(1, 3, "missing-brace"), diag(2, 5, "missing-brace")]);
  });
});

describe("with the preprocessor", () => {
  test("locations survive includes, parameters and sequences", () => {
    const files: Record<string, string> = {
      "/etc/k.conf": "$IF=eth0\nvrrp_instance VI_1 {\n  interface $IF\n  include /v.conf\n}",
      "/v.conf": "virtual_ipaddress {\n~SEQ(i,1,2)   10.0.0.${i}/24\n}",
    };
    const host = {
      readFile: (p: string) => files[p],
      glob: (p: string) => (p in files ? [p] : []),
      env: () => undefined,
      configId: "x",
      random: (a: number) => a,
    };
    const diags = new Diags();
    const stmts = parseStatements(preprocess("/etc/k.conf", host, diags), diags);
    expect(diags.list).toEqual([]);
    expect(shape(stmts)).toEqual([
      [
        "vrrp_instance VI_1",
        ["interface eth0", ["virtual_ipaddress", ["10.0.0.1/24", "10.0.0.2/24"]]],
      ],
    ]);
    const block = stmts[0]?.block ?? [];
    expect(block[0]?.args[0]).toEqual({
      file: "/etc/k.conf",
      line: 3,
      col: 13,
      text: "eth0",
      quoted: false,
    });
    const vips = block[1]?.block ?? [];
    expect(vips.map((s) => [s.kw.file, s.kw.line, s.kw.col])).toEqual([
      ["/v.conf", 2, 15],
      ["/v.conf", 2, 15],
    ]);
  });
});
