/**
 * Script-type keywords (script, notify*, misc_path, quorum_up/down, startup_script, ...).
 * keepalived re-reads such a line in two passes (lib/parser.c alloc_strvec_quoted[_escaped],
 * keepalived/core/notify.c notify_script_init and set_uid_gid):
 *  1. the text after the keyword is split into words; '…' and "…" quote (quotes removed,
 *     adjacent pieces join), a backslash keeps itself and protects the next character;
 *  2. word 1 alone is split again the same way, now decoding escapes (\a \b \E \f \n \r \t
 *     \v, \NNN octal up to 3 digits, \xHH up to 2 hex digits, \cC control, \C = C), and
 *     that is the argv; word 2 is the user, word 3 the group, ":group" or ":" also sets the
 *     user's supplementary groups. Escapes work inside both kinds of quotes.
 * So "/bin/x arg" must be quoted to pass an argument: unquoted, "arg" would be the user.
 */
import type { ScriptCommand } from "../../core/script-command.ts";
import type { Issue } from "../diag.ts";
import { error, isPlainObject, isPlainWord, ok, type Parsed, type Result, warn } from "./common.ts";

export type { ScriptCommand };

const SPACE = " \t\f\n\r\v";
const SIMPLE: Record<string, number> = { a: 7, b: 8, E: 0x1b, f: 12, n: 10, r: 13, t: 9, v: 11 };

/** Decodes the escape whose letter is at s[i]; returns [text, next index]. */
function decodeEscape(s: string, i: number): Parsed<[string, number]> {
  const c = s[i]!;
  let code: number;
  let j = i + 1;
  if (c === "x" && /[0-9a-fA-F]/.test(s[j] ?? "")) {
    const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(j))![0];
    code = Number.parseInt(m, 16);
    j += m.length;
  } else if (c === "c" && j < s.length) {
    code = s.charCodeAt(j) & 0x1f;
    if (s.charCodeAt(j) > 0x7f) code = 0x80; // keepalived would take one byte of UTF-8
    j++;
  } else if (c >= "0" && c <= "7") {
    const m = /^[0-7]{1,3}/.exec(s.slice(i))![0];
    code = Number.parseInt(m, 8) & 0xff; // a C char: \400 wraps to NUL
    j = i + m.length;
  } else {
    return ok([SIMPLE[c] === undefined ? c : String.fromCharCode(SIMPLE[c]), j]);
  }
  // keepalived builds bytes; one above 0x7f is not text we can carry, and NUL would cut
  // the argument short (the word is copied with strndup).
  if (code === 0 || code > 0x7f) {
    return {
      ok: false,
      code: "bad-escape",
      message: `escape '\\${s.slice(i, j)}' gives byte ${code}`,
    };
  }
  return ok([String.fromCharCode(code), j]);
}

/** One pass of keepalived's quoted splitter; `escapes` selects pass 2. */
export function splitQuoted(src: string, escapes: boolean): Parsed<string[]> {
  const words: string[] = [];
  let i = 0;
  while (i < src.length) {
    while (i < src.length && SPACE.includes(src[i]!)) i++;
    if (i >= src.length) break;
    let buf = "";
    let quote = "";
    for (;;) {
      const c = src[i];
      if (c === undefined) {
        if (quote)
          return { ok: false, code: "unterminated-quote", message: `missing closing ${quote}` };
        break;
      }
      if (c === "\\") {
        if (i + 1 >= src.length) {
          return { ok: false, code: "trailing-backslash", message: "a '\\' ends the command" };
        }
        if (!escapes) {
          buf += c + src[i + 1];
          i += 2;
          continue;
        }
        const e = decodeEscape(src, i + 1);
        if (!e.ok) return e;
        buf += e.value[0];
        i = e.value[1];
      } else if (quote) {
        if (c === quote) quote = "";
        else buf += c;
        i++;
      } else if (c === '"' || c === "'") {
        quote = c;
        i++;
      } else if (SPACE.includes(c)) {
        break;
      } else {
        buf += c;
        i++;
      }
    }
    words.push(buf);
  }
  return ok(words);
}

function checkArgv(argv: readonly string[], issues: Issue[], at: number | string[]): boolean {
  if (argv.length === 0 || argv[0] === "") {
    error(issues, at, "empty-command", "the command has no program");
    return false;
  }
  if (argv.some((a) => a.includes("\0"))) {
    error(issues, at, "bad-argument", "an argument contains NUL, which exec cannot pass");
    return false;
  }
  return true;
}

function userGroup(
  user: string,
  group: string | undefined,
  issues: Issue[],
  at: (n: number) => number | string[],
) {
  const out: { user: string; group?: string; supplementary?: boolean } = { user };
  if (!isPlainWord(user)) error(issues, at(1), "bad-user", `'${user}' is not a user name`);
  if (group === undefined) return out;
  const name = group.startsWith(":") ? group.slice(1) : group;
  if (group.startsWith(":")) out.supplementary = true;
  if (name !== "" || group === "") {
    if (!isPlainWord(name) || name.startsWith(":"))
      error(issues, at(2), "bad-group", `'${group}' is not a group name`);
    out.group = name;
  }
  return out;
}

/** `rest` = the raw text after the keyword (comments already removed). */
export function shellSplit(rest: string): Result<ScriptCommand> {
  const issues: Issue[] = [];
  const words = splitQuoted(rest, false);
  if (!words.ok) return { issues: [{ code: words.code, message: words.message, at: 0 }] };
  const [cmd, user, group, ...more] = words.value;
  if (cmd === undefined)
    return { issues: [{ code: "missing-argument", message: "no command given", at: 0 }] };
  const argv = splitQuoted(cmd, true);
  if (!argv.ok) return { issues: [{ code: argv.code, message: argv.message, at: 0 }] };
  if (!checkArgv(argv.value, issues, 0)) return { issues };
  more.forEach((w, n) => {
    warn(issues, 3 + n, "extra-argument", `'${w}' after the group is ignored`);
  });
  const value =
    user === undefined
      ? { command: argv.value }
      : { command: argv.value, ...userGroup(user, group, issues, (n) => n) };
  return issues.some((i) => i.severity !== "warning") ? { issues } : { value, issues };
}

// Arguments made only of these need no quoting anywhere on a keepalived line.
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument for pass 2: single quotes, with every character that a pass could
 * misread escaped. '"' and '$' are escaped as hex so the line never holds a '"' that
 * keepalived's brace finder (which ignores backslashes) could take as a closing quote, nor
 * a '$' that parameter expansion could take.
 */
function quoteArg(a: string): string {
  if (BARE.test(a)) return a;
  let out = "'";
  for (const ch of a) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\" || ch === "'") out += `\\${ch}`;
    else if (ch === '"' || ch === "$" || code < 0x20 || code === 0x7f) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else out += ch;
  }
  return `${out}'`;
}

/**
 * The text after the keyword; shellSplit(shellJoin(v)) gives v back for any argv without
 * NUL. The command is wrapped in double quotes (unless it is one bare word), which also
 * keeps '#', '!', '{' and '}' away from comment stripping and block splitting.
 */
export function shellJoin(v: ScriptCommand): string {
  const [only, ...others] = v.command;
  const cmd =
    others.length === 0 && only !== undefined && BARE.test(only)
      ? only
      : `"${v.command.map(quoteArg).join(" ")}"`;
  if (v.user === undefined) return cmd;
  const sup = v.supplementary === true ? ":" : "";
  const group = v.group !== undefined || sup ? ` ${sup}${v.group ?? ""}` : "";
  return `${cmd} ${v.user}${group}`;
}

function commandFromToml(v: unknown, issues: Issue[], at: string[]): string[] | undefined {
  if (typeof v === "string") {
    const argv = splitQuoted(v, true);
    if (!argv.ok) error(issues, at, argv.code, argv.message);
    return argv.ok && checkArgv(argv.value, issues, at) ? argv.value : undefined;
  }
  if (Array.isArray(v) && v.every((a) => typeof a === "string")) {
    return checkArgv(v, issues, at) ? [...v] : undefined;
  }
  error(issues, at, "bad-type", "command must be a string or an array of strings");
  return undefined;
}

/**
 * A string (split like keepalived, so user and group may follow the quoted command), an
 * argv array, or a table { command = [...] | "…" (pass-2 text), user?, group?, supplementary? }.
 */
export function fromToml(v: unknown): Result<ScriptCommand> {
  if (typeof v === "string") return shellSplit(v);
  const issues: Issue[] = [];
  if (Array.isArray(v)) {
    const argv = commandFromToml(v, issues, []);
    return argv ? { value: { command: argv }, issues } : { issues };
  }
  if (!isPlainObject(v)) {
    return {
      issues: [{ code: "bad-type", message: "a script must be a string, an array or a table" }],
    };
  }
  for (const key of Object.keys(v)) {
    if (!["command", "user", "group", "supplementary"].includes(key)) {
      error(issues, [key], "unknown-field", `unknown script field '${key}'`);
    }
  }
  const argv = "command" in v ? commandFromToml(v.command, issues, ["command"]) : undefined;
  if (!("command" in v)) error(issues, ["command"], "missing-field", "command is required");
  const { user, group, supplementary } = v;
  for (const [k, x] of [
    ["user", user],
    ["group", group],
  ] as const) {
    if (x !== undefined && typeof x !== "string")
      error(issues, [k], "bad-type", `${k} must be a string`);
  }
  if (typeof group === "string" && (group === "" || group.startsWith(":"))) {
    error(
      issues,
      ["group"],
      "bad-group",
      "group must be a name (use supplementary = true for ':')",
    );
  }
  if (supplementary !== undefined && typeof supplementary !== "boolean") {
    error(issues, ["supplementary"], "bad-type", "supplementary must be true or false");
  }
  if (user === undefined && (group !== undefined || supplementary === true)) {
    error(
      issues,
      ["user"],
      "group-without-user",
      "a group needs a user (keepalived reads user first)",
    );
  }
  if (argv === undefined || issues.length > 0) return { issues };
  if (typeof user !== "string") return { value: { command: argv }, issues };
  const g =
    typeof group === "string"
      ? supplementary === true
        ? `:${group}`
        : group
      : supplementary === true
        ? ":"
        : undefined;
  const ug = userGroup(user, g, issues, (n) => [n === 1 ? "user" : "group"]);
  return issues.length > 0 ? { issues } : { value: { command: argv, ...ug }, issues };
}
