/**
 * The shared harness of validate.test.ts and validate-ipvs.test.ts: a table of rules, each
 * written in keepalived syntax and (where the construct exists there) in TOML, run against
 * both front ends with the same expectations (hono's router tests run one table against
 * every router the same way).
 *
 * A case's text marks the place its diagnostic must point at with ‸ (the caret is removed
 * before loading). The bad text must give exactly that diagnostic (plus the `also` codes a
 * rule cannot be triggered without); the `fix` — one replacement in the same text — must
 * give no diagnostic at all, so every test fails if the rule fires too little or too much.
 */
import { describe, expect, test } from "bun:test";
import type { Diagnostic, Severity } from "../../src/config/diag.ts";
import { type ConfigFormat, type Loaded, loadText } from "../../src/config/load.ts";
import type { HostView } from "../../src/config/validate-host.ts";

export const CARET = "‸";

export interface Src {
  /** The config, with one ‸ where the diagnostic must point. */
  readonly text: string;
  /** Replace the first string (which must occur exactly once) by the second: no diagnostic. */
  readonly fix: readonly [from: string, to: string];
}

export interface RuleCase {
  /** What the rule is about, for the test name. */
  readonly name: string;
  readonly code: string;
  readonly severity: Severity;
  /** A substring the message must contain (tells apart the variants of one code). */
  readonly says?: string;
  /** Other codes the bad config cannot avoid giving (anywhere). */
  readonly also?: readonly string[];
  /** Run the host checks against this fake host; without it the load is offline. */
  readonly host?: HostView;
  readonly keepalived: Src;
  readonly toml?: Src;
}

export const FILES: Readonly<Record<ConfigFormat, string>> = {
  keepalived: "/etc/keepalived/keepalived.conf",
  toml: "/etc/edge-agent/agent.toml",
};

/** The text without its caret, and the 1-based line and column (in code points) of the caret. */
export function locate(marked: string): { text: string; line: number; col: number } {
  const at = marked.indexOf(CARET);
  if (at < 0 || marked.indexOf(CARET, at + 1) >= 0)
    throw new Error(`test bug: expected exactly one ${CARET} in:\n${marked}`);
  const before = marked.slice(0, at);
  const line = before.split("\n").length;
  const lineStart = before.lastIndexOf("\n") + 1;
  const col = [...before.slice(lineStart)].length + 1;
  return { text: before + marked.slice(at + CARET.length), line, col };
}

/** `text` with `from` replaced by `to`; `from` must occur exactly once. */
export function applyFix(text: string, [from, to]: readonly [string, string]): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0)
    throw new Error(`test bug: '${from}' must occur exactly once in:\n${text}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export function load(text: string, format: ConfigFormat, host?: HostView): Loaded {
  return loadText(text, FILES[format], format, host ? { host } : { offline: true });
}

/** A diagnostic reduced to what a rule test asserts, for readable failure output. */
export function brief(d: Diagnostic): string {
  return `${d.line}:${d.col} ${d.severity} ${d.code}: ${d.message}`;
}

/** A host with the named interfaces and executables (bare names resolve under /usr/bin). */
export function fakeHost(
  interfaces: readonly string[],
  executables: readonly string[] = [],
): HostView {
  return {
    interfaceExists: (name) => interfaces.includes(name),
    resolveExecutable: (cmd) => {
      const path = cmd.includes("/") ? cmd : `/usr/bin/${cmd}`;
      return executables.includes(path) ? path : undefined;
    },
  };
}

function runCase(c: RuleCase, format: ConfigFormat, src: Src): void {
  const { text, line, col } = locate(src.text);
  const bad = load(text, format, c.host);
  const mine = bad.diagnostics.filter(
    (d) => d.code === c.code && (!c.says || d.message.includes(c.says)),
  );
  expect(mine.map(brief)).toHaveLength(1);
  const d = mine[0] as Diagnostic;
  expect({ file: d.file, line: d.line, col: d.col, severity: d.severity, code: d.code }).toEqual({
    file: FILES[format],
    line,
    col,
    severity: c.severity,
    code: c.code,
  });
  expect(d.message.length).toBeGreaterThan(0);
  const others = bad.diagnostics.filter((x) => x !== d).map((x) => x.code);
  expect(others.sort()).toEqual([...(c.also ?? [])].sort());
  const anyError = bad.diagnostics.some((x) => x.severity === "error");
  expect(bad.model === undefined).toBe(anyError);

  const good = load(applyFix(text, src.fix), format, c.host);
  expect(good.diagnostics.map(brief)).toEqual([]);
  expect(good.model).toBeDefined();
}

/** Registers one test per case and front end, grouped by front end. */
export function runRuleCases(title: string, cases: readonly RuleCase[]): void {
  for (const format of ["keepalived", "toml"] as const) {
    describe(`${title} (${format})`, () => {
      for (const c of cases) {
        const src = c[format];
        if (!src) continue;
        test(`${c.code}: ${c.name}`, () => runCase(c, format, src));
      }
    });
  }
}

/** Every code a case table covers, for the completeness check against the sources. */
export function codesOf(cases: readonly RuleCase[]): Set<string> {
  return new Set(cases.map((c) => c.code));
}

/** How many cases have a TOML form (the aim: at least half). */
export function tomlShare(cases: readonly RuleCase[]): number {
  return cases.filter((c) => c.toml).length / cases.length;
}
