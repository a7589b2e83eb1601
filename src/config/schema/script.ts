/**
 * Script keywords as argument codecs: keepalived's two-pass shell-style splitting
 * (lines/shell.ts) on the raw text after the keyword. TOML takes an argv array, a string
 * split like keepalived's, or a table with user and group.
 */

import type { ScriptCommand } from "../lines/shell.ts";
import * as shell from "../lines/shell.ts";
import type { ArgCodec, TomlValue } from "./args.ts";
import { type ArgSpec, rawArg } from "./dsl.ts";

function toToml(v: ScriptCommand): TomlValue {
  if (v.user === undefined) return [...v.command];
  const out: Record<string, TomlValue> = { command: [...v.command], user: v.user };
  if (v.group !== undefined) out.group = v.group;
  if (v.supplementary) out.supplementary = true;
  return out;
}

export const scriptCodec: ArgCodec<ScriptCommand> = {
  fromTokens: (_toks, rest) => shell.shellSplit(rest),
  fromToml: (v) => shell.fromToml(v),
  toArgs: (v) => shell.shellJoin(v),
  toToml,
  example: { command: ["/usr/local/bin/check.sh", "--quiet"] },
  what: '"COMMAND ARGS…" [USER [[:]GROUP]] — TOML: an argv array, or { command, user, group }',
};

/** `notify_deleted [CMD …]`: the keyword alone (true) switches DELETED reporting on. */
const optionalCodec: ArgCodec<ScriptCommand | true> = {
  fromTokens: (_toks, rest) =>
    rest.trim() === "" ? { value: true, issues: [] } : shell.shellSplit(rest),
  fromToml: (v) => (v === true ? { value: true, issues: [] } : shell.fromToml(v)),
  toArgs: (v) => (v === true ? "" : shell.shellJoin(v)),
  toToml: (v) => (v === true ? true : toToml(v)),
  example: true,
  what: "the keyword alone, or a script as for notify",
};

export function optionalScript(): ArgSpec<ScriptCommand | true> {
  return rawArg(optionalCodec);
}

export type { ScriptCommand };
