import { describe, expect, test } from "bun:test";
import {
  fromToml,
  type ScriptCommand,
  shellJoin,
  shellSplit,
  splitQuoted,
} from "../../../src/config/lines/shell.ts";
import { forCases, type Rng, SEED } from "./rand.ts";
import { clean, errorsOf, randomToml, warningsOf } from "./util.ts";

describe("shellSplit", () => {
  test.each([
    ["/bin/true", { command: ["/bin/true"] }],
    ['"/bin/x a b"', { command: ["/bin/x", "a", "b"] }],
    ["'/bin/x a b'", { command: ["/bin/x", "a", "b"] }],
    ['"/bin/x a" nobody', { command: ["/bin/x", "a"], user: "nobody" }],
    ['"/bin/x a" nobody nogroup', { command: ["/bin/x", "a"], user: "nobody", group: "nogroup" }],
    [
      '"/bin/x a" nobody :nogroup',
      { command: ["/bin/x", "a"], user: "nobody", group: "nogroup", supplementary: true },
    ],
    ['"/bin/x a" nobody :', { command: ["/bin/x", "a"], user: "nobody", supplementary: true }],
    // Unquoted, the second word is the user: keepalived's rule, not a shell's.
    ["/bin/x arg", { command: ["/bin/x"], user: "arg" }],
    // keepalived.conf(5) "Quoted strings": pieces join, quotes go, inner spaces stay.
    [`"/bin/x 'abcd\\" efg h jkl \\"mnop'"`, { command: ["/bin/x", 'abcd" efg h jkl "mnop'] }],
    [`"/bin/x abcd' efg h jkl 'mnop"`, { command: ["/bin/x", "abcd efg h jkl mnop"] }],
    [`"/bin/x abcd 'efg h jkl' mnop"`, { command: ["/bin/x", "abcd", "efg h jkl", "mnop"] }],
    [`"/bin/x '' b"`, { command: ["/bin/x", "", "b"] }],
    ["  /bin/x\t", { command: ["/bin/x"] }],
  ])("%s", (rest, want) => {
    expect(clean(shellSplit(rest))).toEqual(want);
  });

  test("keepalived.conf(5)'s worked example", () => {
    const rest =
      "\"/etc/keepalived/notify_event.sh ' spaces\\\\x20f\\x69le ' '\\\"s p a c e \\\"' SG1.low master\" user group";
    expect(clean(shellSplit(rest))).toEqual({
      command: [
        "/etc/keepalived/notify_event.sh",
        " spaces\\x20file ",
        '"s p a c e "',
        "SG1.low",
        "master",
      ],
      user: "user",
      group: "group",
    });
  });

  test("escapes are decoded in the command, inside either quote", () => {
    const argv = (s: string) => clean(shellSplit(`"/bin/x ${s}"`)).command.slice(1);
    expect(argv("\\a\\b\\E\\f\\n\\r\\t\\v")).toEqual(["\x07\b\x1b\f\n\r\t\v"]);
    expect(argv("\\101 \\x41 \\x4 \\x4g \\cA \\q \\\\ \\'")).toEqual([
      "A",
      "A",
      "\x04",
      "\x04g",
      "\x01",
      "q",
      "\\",
      "'",
    ]);
    expect(argv("'a\\tb'")).toEqual(["a\tb"]);
    expect(argv("\\xg")).toEqual(["xg"]);
    expect(argv("a\\ b")).toEqual(["a b"]);
    expect(argv("\\1010")).toEqual(["A0"]);
  });

  test.each([
    ['"/bin/x', "unterminated-quote"],
    ["'/bin/x", "unterminated-quote"],
    ['"/bin/x \'a"', "unterminated-quote"],
    ["/bin/x\\", "trailing-backslash"],
    ['"/bin/x \\x80"', "bad-escape"],
    ['"/bin/x \\0"', "bad-escape"],
    ['"/bin/x \\400"', "bad-escape"],
    ['"/bin/x \\cé"', "bad-escape"],
    ['""', "empty-command"],
    ["\"'' a\"", "empty-command"],
    ["", "missing-argument"],
    ["   ", "missing-argument"],
    ['/bin/x "a b"', "bad-user"],
    ["/bin/x user ::g", "bad-group"],
    ['/bin/x user ""', "bad-group"],
  ])("%p fails with %s", (rest, code) => {
    const r = shellSplit(rest);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toEqual([code]);
  });

  test("words after the group are ignored with a warning", () => {
    const r = shellSplit("/bin/x u g extra more");
    expect(r.value).toEqual({ command: ["/bin/x"], user: "u", group: "g" });
    expect(warningsOf(r)).toEqual(["extra-argument", "extra-argument"]);
    expect(r.issues.map((i) => i.at)).toEqual([3, 4]);
  });

  test("pass 1 keeps backslashes, pass 2 decodes them", () => {
    expect(splitQuoted('a\\ b "c\\"d"', false)).toEqual({ ok: true, value: ["a\\ b", 'c\\"d'] });
    expect(splitQuoted('a\\ b "c\\"d"', true)).toEqual({ ok: true, value: ["a b", 'c"d'] });
  });
});

describe("shellJoin", () => {
  test.each([
    [{ command: ["/bin/true"] }, "/bin/true"],
    [{ command: ["/bin/x", "a b"] }, `"/bin/x 'a b'"`],
    [{ command: ["/bin/x", "it's", 'say "hi"'] }, `"/bin/x 'it\\'s' 'say \\x22hi\\x22'"`],
    [{ command: ["/bin/x", "#1", "$HOME", "{}"] }, `"/bin/x '#1' '\\x24HOME' '{}'"`],
    [{ command: ["/bin/x"], user: "u" }, "/bin/x u"],
    [{ command: ["/bin/x"], user: "u", group: "g", supplementary: true }, "/bin/x u :g"],
    [{ command: ["/bin/x"], user: "u", supplementary: true }, "/bin/x u :"],
    [{ command: ["/my dir/x"] }, `"'/my dir/x'"`],
  ])("%j", (v, want) => {
    expect(shellJoin(v)).toBe(want);
    expect(clean(shellSplit(want))).toEqual(v);
  });
});

/**
 * What keepalived's line reader does before the script keyword sees its text (lib/parser.c):
 * decomment() stops at '#' or '!' outside double quotes (a backslash skips the next char);
 * the brace finder splits at '{' or '}' outside double quotes (it does not know backslashes);
 * '$' starts a parameter. A joined line must pass all three untouched.
 */
function survivesLineReader(line: string): boolean {
  if (line.includes("$")) return false;
  let quote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\") i++;
    else if (c === '"') quote = !quote;
    else if (!quote && (c === "#" || c === "!")) return false;
  }
  let inQ = false;
  for (const c of line) {
    if (c === '"') inQ = !inQ;
    else if (!inQ && (c === "{" || c === "}")) return false;
  }
  return !quote && !inQ;
}

function genArg(r: Rng): string {
  const pool = [
    "a",
    "Z",
    "0",
    "/",
    ".",
    "-",
    " ",
    "\t",
    "\n",
    "'",
    '"',
    "\\",
    "#",
    "!",
    "{",
    "}",
    "$",
    "\x01",
    "\x7f",
    "é",
    "€",
    "😀",
    ":",
    "=",
    "@",
  ];
  let s = "";
  for (let n = r.int(0, 8); n > 0; n--) s += r.pick(pool);
  return s;
}

function genCommand(r: Rng): ScriptCommand {
  const argv = [r.pick(["/bin/x", "/usr/libexec/check it", "/opt/a'b", "./run"])];
  for (let n = r.int(0, 5); n > 0; n--) argv.push(genArg(r));
  const v: { command: string[]; user?: string; group?: string; supplementary?: boolean } = {
    command: argv,
  };
  if (r.bool(0.5)) {
    v.user = r.pick(["root", "nobody", "keepalived_script", "a.b-c_d"]);
    if (r.bool(0.5)) v.group = r.pick(["wheel", "nogroup"]);
    if (r.bool(0.3)) v.supplementary = true;
  }
  return v;
}

describe("shell round trips", () => {
  test(`shellSplit(shellJoin(v)) = v and the line survives keepalived's reader (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const v = genCommand(r);
      const line = shellJoin(v);
      expect(survivesLineReader(`notify ${line}`)).toBe(true);
      expect(clean(shellSplit(line))).toEqual(v);
      expect(clean(fromToml(line))).toEqual(v);
      expect(clean(fromToml(v))).toEqual(v);
    });
  });

  test(`fuzz: 20k random texts only produce issues (seed ${SEED})`, () => {
    let accepted = 0;
    forCases(SEED, 20000, (r) => {
      const words = [
        "/bin/x",
        "'",
        '"',
        "\\",
        "\\x",
        "\\c",
        "\\0",
        "\\7",
        " ",
        "a",
        "user",
        ":",
        ":g",
        "é",
        "#",
        "\\x41",
      ];
      let s = "";
      for (let n = r.int(0, 10); n > 0; n--) s += r.pick(words);
      const res = shellSplit(s);
      if (res.value) {
        accepted++;
        expect(errorsOf(res)).toEqual([]);
        expect(shellSplit(shellJoin(res.value)).value).toEqual(res.value);
      }
    });
    expect(accepted).toBeGreaterThan(100);
  });

  test(`fuzz: random TOML values only produce issues (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const res = fromToml(randomToml(r, ["command", "user", "group", "supplementary"]));
      if (res.value) expect(shellSplit(shellJoin(res.value)).value).toEqual(res.value);
    });
  });
});

describe("script fromToml", () => {
  test("string, argv array, table", () => {
    expect(clean(fromToml('"/bin/x a" nobody'))).toEqual({
      command: ["/bin/x", "a"],
      user: "nobody",
    });
    expect(clean(fromToml(["/bin/x", "a b", ""]))).toEqual({ command: ["/bin/x", "a b", ""] });
    expect(clean(fromToml({ command: ["/bin/x"], user: "u", group: "g" }))).toEqual({
      command: ["/bin/x"],
      user: "u",
      group: "g",
    });
    expect(
      clean(fromToml({ command: "/bin/x 'a b' \\t", user: "u", supplementary: true })),
    ).toEqual({
      command: ["/bin/x", "a b", "\t"],
      user: "u",
      supplementary: true,
    });
    expect(clean(fromToml({ command: ["/bin/x"], user: "u", supplementary: false }))).toEqual({
      command: ["/bin/x"],
      user: "u",
    });
  });

  test.each([
    [5, "bad-type"],
    [["/bin/x", 5], "bad-type"],
    [[], "empty-command"],
    [[""], "empty-command"],
    [["/bin/x", "a\0b"], "bad-argument"],
    [{ command: ["/bin/x"], shell: true }, "unknown-field"],
    [{ user: "u" }, "missing-field"],
    [{ command: ["/bin/x"], group: "g" }, "group-without-user"],
    [{ command: ["/bin/x"], supplementary: true }, "group-without-user"],
    [{ command: ["/bin/x"], user: 0 }, "bad-type"],
    [{ command: ["/bin/x"], user: "u", supplementary: "yes" }, "bad-type"],
    [{ command: ["/bin/x"], user: "u", group: ":g" }, "bad-group"],
    [{ command: ["/bin/x"], user: "a b" }, "bad-user"],
    [{ command: "'/bin/x" }, "unterminated-quote"],
  ])("%j", (v, code) => {
    const r = fromToml(v);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toContain(code);
  });
});
