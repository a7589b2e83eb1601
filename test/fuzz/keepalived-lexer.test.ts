// biome-ignore-all lint/suspicious/noTemplateCurlyInString: keepalived.conf text uses ${NAME} itself
/**
 * Mutation fuzzing of the keepalived.conf preprocessor and statement parser: whatever the
 * input, they return (never throw), stay within the line limit, and locate every
 * diagnostic and token. FUZZ_CASES scales the run; FUZZ_SEED replays one.
 */
import { expect, test } from "bun:test";
import { Diags } from "../../src/config/diag.ts";
import { preprocess } from "../../src/config/keepalived/lexer.ts";
import { parseStatements } from "../../src/config/keepalived/parser.ts";
import type { SourceHost, SrcLine, Stmt } from "../../src/config/keepalived/types.ts";
import { mulberry32 } from "../../src/core/prng.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const DEFAULT_SEED = 0x5eed;
const SEED = Number(process.env.FUZZ_SEED ?? DEFAULT_SEED);
/** Kept small so runaway ~SEQ cases stay fast; the limit itself is what we check. */
const MAX_LINES = 5000;
const MAIN = "/etc/keepalived/keepalived.conf";
/** Diagnostics a default-sized run must produce at least once. */
const REACHED = [
  "include-check-invalid",
  "include-loop",
  "include-missing",
  "line-has-nul",
  "line-too-long",
  "missing-brace",
  "param-args",
  "param-recursion",
  "seq-invalid",
  "too-many-lines",
  "unexpected-brace",
  "unmatched-quote",
  "unterminated-quote",
];

const BASES: readonly Record<string, string>[] = [
  {
    [MAIN]: `! Configuration File for keepalived
global_defs {
   notification_email { admin@example.com }
   router_id LVS_DEVEL   # comment
   include_check read
}
vrrp_script chk_nginx {
    script "/usr/bin/pgrep -x 'nginx'"
    interval 2
    weight -20
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    authentication { auth_type PASS
        auth_pass "p#ss!" }
    virtual_ipaddress {
        192.168.200.16/24 dev eth0 label eth0:1
    }
    notify_master "/etc/keepalived/notify.sh MASTER \\"x\\""
    track_script
    {
        chk_nginx
    }
}
virtual_server 10.10.10.2 1358 {
    delay_loop 6
    real_server 192.168.200.2 1358 { weight 1 HTTP_GET { url { path /testurl/test.jsp digest 640205b7b0fc66c1ea91c463fac6334d } } }
}
`,
  },
  {
    [MAIN]: `$IF=eth0
$PRIO=100
$INST= \\
vrrp_instance VI_\${N} { \\
    interface \${IF}.\${N} \\
    @lb1 priority 130 \\
    @^lb1 priority \${PRIO} \\
    virtual_ipaddress { \\
        10.0.\${N}.254/24 \\
    } \\
}

$N=1
$INST
~SEQ(N, 2, 3) $INST
~SEQx(S, 0x90, 0x10, 0xc0) ip fe80::\${S}:1
~LST({A,B}, {1,2}, {3,4}) x\${A} \${B} \${_RANDOM 1 5} \${_HASH}
static_ipaddress { \${_ENV HOME} \${_PWD} \${_INSTANCE} }
`,
  },
  {
    [MAIN]: `include_check match
include conf.d/*.conf
includer /etc/keepalived/{a,b}.conf
@lb1 include \${_PWD}/c.conf
global_defs { router_id x }
`,
    "/etc/keepalived/conf.d/1.conf": "vrrp_instance A {\n  state BACKUP\n}\n",
    "/etc/keepalived/conf.d/2.conf": "$V=7\ninclude ../a.conf\n",
    "/etc/keepalived/a.conf": "virtual_router_id $V\n",
    "/etc/keepalived/b.conf": "~SEQ(i,1,3) priority ${i}\ninclude b.conf\n",
    "/etc/keepalived/c.conf": "$M=a\\\nb\\\n\n$M\n",
  },
];

const SNIPPETS = [
  "{",
  "}",
  '"',
  "'",
  "$",
  "${",
  "}",
  "~SEQ(",
  "~SEQ(i,1,",
  "~SEQx(j,0,",
  "~LST(",
  "~LST({A,B},",
  "@",
  "@lb1 ",
  "@^",
  "include ",
  "includea ",
  "include_check ",
  "!",
  "#",
  "\\",
  "\n",
  "$X=",
  "\\\n",
  "${_RANDOM",
  "${_ENV ",
  "$INST",
  "$M",
  ")",
  ",",
  "\0",
  "\r",
  "$N=",
  "{a,b}",
  "*",
  "../",
  "$V\n$V=$V\n",
  "$R=~SEQ(r,1,3) $R\n",
];

function globRegExp(pattern: string): RegExp {
  const re = pattern
    .split("")
    .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${re}$`);
}

function fakeHost(files: Record<string, string>, rnd: () => number): SourceHost {
  return {
    configId: "lb1",
    readFile: (p) => files[p],
    glob: (pattern) => {
      const re = globRegExp(pattern);
      return Object.keys(files)
        .filter((k) => re.test(k))
        .sort();
    },
    env: (name) => (name === "HOME" ? "/root" : undefined),
    random: (min, max) => min + Math.floor(rnd() * (max - min + 1)),
  };
}

function mutate(text: string, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  const at = pick(text.length + 1);
  switch (pick(6)) {
    case 0:
      return text.slice(0, at) + String.fromCharCode(pick(256)) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + pick(20));
    case 2:
      return text.slice(0, at) + (SNIPPETS[pick(SNIPPETS.length)] ?? "") + text.slice(at);
    case 3:
      return `${text.slice(0, at)}\n${"x ".repeat(450 + pick(200))}\n${text.slice(at)}`;
    case 4: {
      const lines = text.split("\n");
      const from = pick(lines.length);
      const span = lines.slice(from, from + 1 + pick(5));
      lines.splice(pick(lines.length + 1), 0, ...span);
      return lines.join("\n");
    }
    default: {
      const lines = text.split("\n");
      const a = pick(lines.length);
      const b = pick(lines.length);
      [lines[a], lines[b]] = [lines[b] ?? "", lines[a] ?? ""];
      return lines.join("\n");
    }
  }
}

function checkLines(lines: readonly SrcLine[]): void {
  expect(lines.length).toBeLessThanOrEqual(MAX_LINES);
  for (const l of lines) {
    if (l.file === "" || !(l.line >= 1) || l.cols.length !== l.text.length) {
      throw new Error(`bad line ${JSON.stringify(l)}`);
    }
    if (l.cols.some((c) => !Number.isInteger(c) || c < 1))
      throw new Error(`bad cols ${JSON.stringify(l)}`);
  }
}

function checkStmts(stmts: readonly Stmt[]): void {
  for (const s of stmts) {
    for (const t of [s.kw, ...s.args, s.restLoc, ...(s.openLoc ? [s.openLoc] : [])]) {
      if (
        t.file === "" ||
        !Number.isInteger(t.line) ||
        t.line < 1 ||
        !Number.isInteger(t.col) ||
        t.col < 1
      ) {
        throw new Error(`bad location ${JSON.stringify(t)} in statement '${s.kw.text}'`);
      }
    }
    if (s.block) checkStmts(s.block);
  }
}

function runCase(files: Record<string, string>, rnd: () => number): Diags {
  const diags = new Diags();
  const lines = preprocess(MAIN, fakeHost(files, rnd), diags, { maxLines: MAX_LINES });
  checkLines(lines);
  checkStmts(parseStatements(lines, diags));
  for (const d of diags.list) {
    if (
      d.file === "" ||
      !Number.isInteger(d.line) ||
      d.line < 1 ||
      !Number.isInteger(d.col) ||
      d.col < 1
    ) {
      throw new Error(`bad diagnostic ${JSON.stringify(d)}`);
    }
  }
  return diags;
}

const name = `preprocess + parseStatements survive ${CASES} mutated configs (FUZZ_SEED=${SEED})`;
test(
  name,
  () => {
    const codes = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const rnd = mulberry32((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      const base = BASES[i % BASES.length] ?? {};
      const files = { ...base };
      const names = Object.keys(files);
      const rounds = 1 + Math.floor(rnd() * 8);
      for (let r = 0; r < rounds; r++) {
        const name = names[Math.floor(rnd() * names.length)] ?? MAIN;
        files[name] = mutate(files[name] ?? "", rnd);
      }
      try {
        for (const d of runCase(files, rnd).list) codes.add(d.code);
      } catch (e) {
        const why = e instanceof Error ? (e.stack ?? e.message) : String(e);
        throw new Error(
          `FUZZ_SEED=${SEED} case ${i} failed: ${why}\nfiles: ${JSON.stringify(files).slice(0, 4000)}`,
        );
      }
    }
    // The mutations must reach the error paths, or this test proves little.
    if (CASES >= 3000 && SEED === DEFAULT_SEED) {
      expect([...codes].sort()).toEqual(expect.arrayContaining(REACHED));
    }
  },
  Math.max(30_000, CASES * 10),
);
