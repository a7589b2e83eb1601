/**
 * The CLI contract (design §4): exit codes, diagnostic format, --json shapes, help, bad
 * usage. Runs the agent from source in a child process, exactly as a user would.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parse } from "smol-toml";
import { agentCmd, type Ran, REPO, run } from "../helpers/env.ts";

const agent = (...args: string[]): Ran => run(agentCmd(args));
const tmp = mkdtempSync(`${tmpdir()}/agent-cli-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const LB1 = `${REPO}/examples/nginx-pair/lb1.conf`;
const DIAG_LINE = /^(\/[^:]+):(\d+):(\d+): (error|warning): .+ \[[a-z0-9-]+\]$/;

function file(name: string, text: string): string {
  const p = `${tmp}/${name}`;
  writeFileSync(p, text);
  return p;
}

/** No internal error or stack trace ever reaches the user. */
function noTrace(r: Ran): void {
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr).not.toContain("internal error");
}

describe("help and usage", () => {
  test("--help lists every command, one line each", () => {
    const r = agent("--help");
    expect(r.code).toBe(0);
    for (const c of ["check", "convert", "version"])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\s+\\S.*$`, "m"));
  });
  test("no command is bad usage (2) and shows the usage", () => {
    const r = agent();
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("check");
  });
  test("an unknown command is bad usage", () => {
    const r = agent("frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
  test("an unknown flag is bad usage, naming the flag", () => {
    const r = agent("check", "--config", LB1, "--frob");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--frob");
  });
  test("a bad enum value is bad usage", () => {
    const r = agent("convert", "--config", LB1, "--to", "yaml");
    expect(r.code).toBe(2);
    noTrace(r);
  });
  test("check --help describes its flags", () => {
    const r = agent("check", "--help");
    expect(r.code).toBe(0);
    for (const f of ["--config", "--json", "--print", "--strict", "--offline"])
      expect(r.stdout).toContain(f);
  });
  test("version names version, commit and Bun", () => {
    const r = agent("version");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^agent \d+\.\d+\.\d+\S* \(commit \S+, bun \d+\.\d+\.\d+\)\n$/);
  });
});

describe("check", () => {
  test("a valid file exits 0", () => {
    const r = agent("check", "--config", LB1, "--offline");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("valid (0 errors, 0 warnings)");
  });
  test("an invalid file exits 1 with file:line:col diagnostics", () => {
    const p = file(
      "bad.conf",
      "vrrp_instance VI_1 {\n  interface eth0\n  priority 300\n  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n",
    );
    const r = agent("check", "--config", p, "--offline");
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => DIAG_LINE.test(l));
    expect(lines).toContain(
      `${p}:3:12: error: priority: 300 is out of range: expected an integer in 1..255 [out-of-range]`,
    );
    expect(lines.some((l) => l.includes("[vrid-missing]"))).toBe(true);
    noTrace(r);
  });
  test("an unreadable file exits 2", () => {
    const r = agent("check", "--config", `${tmp}/does-not-exist.conf`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read");
    noTrace(r);
  });
  test("a directory as config exits 2", () => {
    const r = agent("check", "--config", tmp);
    expect(r.code).toBe(2);
    noTrace(r);
  });
  test("--json prints [{file,line,col,severity,code,message}]", () => {
    const p = file("warn.conf", "global_defs {\n  router_idd x\n}\n");
    const r = agent("check", "--config", p, "--json", "--offline");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      "file",
      "line",
      "col",
      "severity",
      "code",
      "message",
    ]);
    expect(rows[0]).toMatchObject({
      file: p,
      line: 2,
      col: 3,
      severity: "warning",
      code: "unknown-keyword",
    });
    expect(String(rows[0]?.message)).toContain("did you mean 'router_id'");
  });
  test("--strict turns warnings into errors", () => {
    const p = file("warn2.conf", "global_defs {\n  router_idd x\n}\n");
    expect(agent("check", "--config", p, "--offline").code).toBe(0);
    expect(agent("check", "--config", p, "--offline", "--strict").code).toBe(1);
  });
  test("--print --json prints the model in the TOML document's shape", () => {
    const r = agent("check", "--config", LB1, "--print", "--json", "--offline");
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.vrrp_instance.VI_WEB.priority).toBe(150);
    expect(m.vrrp_instance.VI_WEB.version).toBe(2);
    expect(m.vrrp_script.chk_nginx.weight).toEqual({ value: -60 });
    expect(JSON.parse(r.stderr)).toEqual([]);
  });
  test("--print writes TOML that checks to the same model", () => {
    const r = agent("check", "--config", LB1, "--print", "--offline");
    expect(r.code).toBe(0);
    expect(() => parse(r.stdout)).not.toThrow();
    const p = file("printed.toml", r.stdout);
    const a = JSON.parse(agent("check", "--config", LB1, "--print", "--json", "--offline").stdout);
    const b = JSON.parse(agent("check", "--config", p, "--print", "--json", "--offline").stdout);
    expect(b).toEqual(a);
  });
  test("a TOML syntax error is located", () => {
    const p = file("syntax.toml", "[global_defs]\nrouter_id = \n");
    const r = agent("check", "--config", p);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${p}:2:\\d+: error: .+ \\[toml-syntax\\]$`, "m"));
  });
});

describe("convert", () => {
  test("keepalived → TOML → keepalived keeps the model", () => {
    const toml = `${tmp}/lb1.toml`;
    const back = `${tmp}/lb1-back.conf`;
    expect(agent("convert", "--config", LB1, "--output", toml).code).toBe(0);
    expect(agent("convert", "--config", toml, "--to", "keepalived", "-o", back).code).toBe(0);
    expect(readFileSync(back, "utf8")).toContain("vrrp_instance VI_WEB {");
    const models = [LB1, toml, back].map((f) =>
      JSON.parse(agent("check", "--config", f, "--print", "--json", "--offline").stdout),
    );
    expect(models[1]).toEqual(models[0]);
    expect(models[2]).toEqual(models[0]);
  });
  test("an invalid file is not converted (exit 1)", () => {
    const p = file("bad2.conf", "vrrp_instance VI_1 {\n  priority 0\n}\n");
    const r = agent("convert", "--config", p);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });
  // keepalived syntax has no escape for a double quote inside a value: the file would read
  // back as something else, so nothing is written.
  const QUOTED = `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]

[global_defs]
router_id = 'lb "one"'
`;
  test("a value keepalived syntax cannot carry is refused (exit 1), naming it, and nothing is written", () => {
    const p = file("quoted.toml", QUOTED);
    const out = `${tmp}/quoted.conf`;
    const r = agent("convert", "--config", p, "--to", "keepalived", "-o", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${p}: cannot convert to keepalived without loss: global_defs.router_id: the value contains a double quote, which keepalived syntax cannot carry`,
    );
    expect(existsSync(out)).toBe(false);
    expect(r.stdout).toBe("");
    noTrace(r);
  });
  test("... also when writing to stdout", () => {
    const p = file("quoted2.toml", QUOTED.replace(`'lb "one"'`, `"lb\\none"`));
    const r = agent("convert", "--config", p);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("global_defs.router_id: the value contains a line break");
    expect(r.stdout).toBe("");
  });
  test("a value keepalived can carry only quoted is written quoted and reads back the same", () => {
    const p = file(
      "at.toml",
      QUOTED.replace(`router_id = 'lb "one"'`, `notification_email = ["@lb2", "a b"]`),
    );
    const out = `${tmp}/at.conf`;
    expect(agent("convert", "--config", p, "-o", out).code).toBe(0);
    expect(readFileSync(out, "utf8")).toContain('"@lb2"');
    const models = [p, out].map((f) =>
      JSON.parse(agent("check", "--config", f, "--print", "--json", "--offline").stdout),
    );
    expect(models[1]).toEqual(models[0]);
  });
  test("an unwritable output is reported, not thrown", () => {
    const r = agent("convert", "--config", LB1, "--output", `${tmp}/no/such/dir/x.toml`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot write");
    noTrace(r);
  });
});
