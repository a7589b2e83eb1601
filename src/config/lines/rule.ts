/**
 * virtual_rules / static_rules lines (keepalived.conf(5) "Static routes/addresses/rules";
 * ip-rule(8) without abbreviations; keepalived/vrrp/vrrp_iprule.c alloc_rule). keepalived
 * drops a rule on any error; it assigns a preference to a rule without one and forces the
 * protocol of a tracked rule, and reports both: those two are warnings here.
 */
import type { IpFamily } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import {
  type At,
  error,
  familyOf,
  familyWord,
  finish,
  isPlainObject,
  type Parsed,
  parseCNum,
  type Result,
  tomlIntText,
  warn,
} from "./common.ts";
import { FAILED, formatOptions, type Model, readOption, readTomlField } from "./opts.ts";
import {
  ACTIONS,
  parseFwmark,
  RTPROT_KEEPALIVED,
  RULE_OPTS,
  RULE_TYPES,
  type RuleKind,
  type RuleLine,
  ruleType,
  TABLE_ONLY,
} from "./rule-model.ts";
import { splitWords } from "./words.ts";

export { RULE_TYPES, type RuleKind, type RuleLine, type RuleType } from "./rule-model.ts";

function step(
  toks: readonly Tok[],
  i: number,
  out: Model,
  issues: Issue[],
  kind: RuleKind,
): number {
  const w = toks[i]!.text;
  if (w === "inet" || w === "inet6") {
    if (out.family !== undefined && out.family !== w)
      error(issues, i, "family-mismatch", "both inet and inet6");
    out.family = w;
    return i + 1;
  }
  if (w === "fwmark") {
    const t = toks[i + 1];
    if (!t) error(issues, i, "missing-argument", "'fwmark' needs a value");
    else setFwmark(parseFwmark(t.text), out, issues, i + 1);
    return i + 2;
  }
  const spec = RULE_OPTS.byWord.get(w);
  if (spec && !(spec.key === "track_group" && kind === "virtual"))
    return readOption(spec, toks, i, out, issues);
  const j = w === "type" ? i + 1 : i;
  const word = toks[j]?.text;
  if (word === undefined) {
    error(issues, i, "missing-argument", "'type' needs a value");
    return j;
  }
  // keepalived reads `type goto N` and `type nop` as goto and nop.
  if (j > i && (word === "goto" || word === "nop")) {
    return readOption(RULE_OPTS.byWord.get(word)!, toks, j, out, issues);
  }
  const type = ruleType(word);
  if (type === undefined) error(issues, j, "unknown-option", `unknown rule option '${word}'`);
  else if (type === "other") error(issues, j, "bad-value", `'${word}' is not a rule action`);
  else {
    if ("type" in out) error(issues, j, "duplicate-option", "a second rule type");
    out.type = type;
  }
  return j + 1;
}

function setFwmark(
  p: Parsed<{ fwmark: number; fwmask?: number }>,
  out: Model,
  issues: Issue[],
  at: At,
): void {
  if (!p.ok) {
    error(issues, at, p.code, `fwmark: ${p.message}`);
    out.fwmark = FAILED;
  } else {
    if ("fwmark" in out) error(issues, at, "duplicate-option", "'fwmark' given twice");
    Object.assign(out, p.value);
  }
}

export function fromTokens(toks: readonly Tok[], kind?: RuleKind): Result<RuleLine> {
  const issues: Issue[] = [];
  const out: Model = {};
  let i = 0;
  while (i < toks.length) i = step(toks, i, out, issues, kind);
  check(out, issues, (key) => {
    const words =
      key === "family"
        ? ["inet", "inet6"]
        : key === "type"
          ? ["type", ...RULE_TYPES]
          : (RULE_OPTS.byKey.get(key)?.words ?? [key]);
    const n = toks.findIndex((t) => words.includes(t.text));
    return Math.max(n, 0);
  });
  return finish(out as unknown as RuleLine, issues);
}

/** Whole-rule checks, in keepalived's order; `where(key)` locates a field. */
function check(out: Model, issues: Issue[], where: (key: string) => At): void {
  const family = ruleFamily(out, issues, where);
  for (const k of ["from", "to"]) {
    if (typeof out[k] === "string" && !(out[k] as string).includes("/"))
      out[k] = family === 6 ? "::/0" : "0.0.0.0/0";
  }
  const actions = ACTIONS.filter((a) => a in out);
  if (actions.length === 0)
    error(issues, 0, "missing-action", "a rule needs table, goto, nop, l3mdev or a type");
  if (actions.length > 1)
    error(issues, where(actions[1]!), "conflicting-options", `only one of ${actions.join(", ")}`);
  if (typeof out.goto === "number") {
    if (typeof out.preference !== "number") {
      error(
        issues,
        where("goto"),
        "goto-without-preference",
        "goto needs a preference before its target",
      );
    } else if (out.preference >= out.goto) {
      error(
        issues,
        where("goto"),
        "bad-goto",
        `goto ${out.goto} is not after preference ${out.preference}`,
      );
    }
  }
  const tableAction = actions.length === 1 && (actions[0] === "table" || actions[0] === "l3mdev");
  for (const k of TABLE_ONLY) {
    if (k in out && actions.length > 0 && !tableAction) {
      error(issues, where(k), "conflicting-options", `${k} needs a table action`);
    }
  }
  if (
    typeof out.protocol === "number" &&
    out.no_track !== true &&
    out.protocol !== RTPROT_KEEPALIVED
  ) {
    warn(
      issues,
      where("protocol"),
      "protocol-overridden",
      "a tracked rule gets protocol keepalived (18); add no_track to keep this one",
    );
  }
  if (typeof out.ipproto === "number" && out.ipproto > 127) {
    warn(
      issues,
      where("ipproto"),
      "keepalived-incompatible",
      "keepalived refuses ipproto numbers above 127; write the name",
    );
  }
  if ("track_group" in out && !("iif" in out)) {
    error(issues, where("track_group"), "track-group-needs-dev", "track_group needs dev/iif");
  }
  if (!("preference" in out)) {
    warn(
      issues,
      0,
      "missing-preference",
      "keepalived gives a rule without preference one of its own choosing",
    );
  }
}

function ruleFamily(out: Model, issues: Issue[], where: (key: string) => At): IpFamily {
  const notes: { family: IpFamily; key: string }[] = [];
  if (out.family !== undefined)
    notes.push({ family: out.family === "inet" ? 4 : 6, key: "family" });
  for (const k of ["from", "to"]) {
    const v = out[k];
    if (typeof v === "string" && v.includes("/")) notes.push({ family: familyOf(v), key: k });
  }
  if ("realms" in out) notes.push({ family: 4, key: "realms" });
  const first = notes[0];
  for (const n of notes) {
    if (first && n.family !== first.family) {
      error(
        issues,
        where(n.key),
        "family-mismatch",
        `${n.key} is not ${familyWord(first.family)}, as ${first.key} makes the rule`,
      );
    }
  }
  return first?.family ?? 4;
}

/** A string as keepalived writes the line, or a table with RuleLine's fields. */
export function fromToml(v: unknown, kind?: RuleKind): Result<RuleLine> {
  if (typeof v === "string") {
    const w = splitWords(v);
    return w.issues.length > 0 ? { issues: w.issues } : fromTokens(w.toks, kind);
  }
  if (!isPlainObject(v))
    return { issues: [{ code: "bad-type", message: "a rule must be a string or a table" }] };
  const issues: Issue[] = [];
  const out: Model = {};
  for (const [k, x] of Object.entries(v)) {
    tomlField(k, x, out, issues, kind);
  }
  if (out.fwmask !== undefined && out.fwmark === undefined) {
    error(issues, ["fwmask"], "missing-field", "fwmask needs fwmark");
  }
  check(out, issues, (key) => [key]);
  return finish(out as unknown as RuleLine, issues);
}

function tomlField(k: string, x: unknown, out: Model, issues: Issue[], kind: RuleKind): void {
  const at = [k];
  if (k === "family" || k === "type") {
    const words: readonly string[] = k === "family" ? ["inet", "inet6"] : RULE_TYPES;
    if (typeof x === "string" && words.includes(x)) out[k] = x;
    else error(issues, at, "bad-value", `${k} must be one of ${words.join(", ")}`);
  } else if (k === "fwmark" || k === "fwmask") {
    const text = typeof x === "string" && k === "fwmark" ? x : tomlIntText(x);
    if (text === undefined) error(issues, at, "bad-type", `${k} must be an integer`);
    else if (k === "fwmark") setFwmark(parseFwmark(text), out, issues, at);
    else {
      const p = parseCNum(text, 0xffffffff);
      if (p.ok) out.fwmask = p.value;
      else error(issues, at, p.code, `fwmask: ${p.message}`);
    }
  } else if ((k === "uidrange" || k === "sport" || k === "dport") && Array.isArray(x)) {
    const ints = x.map(tomlIntText);
    if (ints.length !== 2 || ints.some((s) => s === undefined))
      error(issues, at, "bad-type", `${k} must be [first, last]`);
    else readTomlField(RULE_OPTS, k, `${ints[0]}-${ints[1]}`, out, issues, []);
  } else if (
    (k === "track_group" && kind === "virtual") ||
    !readTomlField(RULE_OPTS, k, x, out, issues, [])
  ) {
    error(issues, at, "unknown-field", `unknown rule field '${k}'`);
  }
}

/** The keepalived line; fromTokens(splitWords(toLine(x)).toks) deep-equals x. */
export function toLine(r: RuleLine): string {
  const words: string[] = [];
  if (r.family !== undefined) words.push(r.family);
  words.push(...formatOptions(RULE_OPTS, r as unknown as Model));
  if (r.fwmark !== undefined)
    words.push("fwmark", r.fwmask === undefined ? String(r.fwmark) : `${r.fwmark}/${r.fwmask}`);
  if (r.type !== undefined) words.push(r.type);
  return words.join(" ");
}
