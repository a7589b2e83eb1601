/**
 * track_process matching (src/core/track/process-match.ts) against keepalived's rules:
 * a table of named cases, then a seeded comparison with a byte-level model of what
 * keepalived/core/track_process.c does (strcmp on comm or on the cmdline buffer, then
 * check_params on NUL-joined bytes read only up to the configured length + 1).
 */
import { describe, expect, test } from "bun:test";
import { mulberry32 } from "../../../src/core/prng.ts";
import {
  compileMatcher,
  matcherWarnings,
  type ParamMatch,
  type ProcessMatchSpec,
  paramsMatch,
} from "../../../src/core/track/process-match.ts";
import { splitCmdline } from "../../../src/io/procfs.ts";

type Case = [
  what: string,
  spec: ProcessMatchSpec,
  proc: { comm: string; cmdline: string[] },
  matches: boolean,
];

const sleep = (...args: string[]) => ({ comm: "sleep", cmdline: ["sleep", ...args] });

// biome-ignore format: a table
const CASES: Case[] = [
  // By name: /proc/PID/comm, exact and case-sensitive (man page: "pgrep ^ssh$", not pgrep ssh).
  ["name equal", { process: ["sshd"] }, { comm: "sshd", cmdline: [] }, true],
  ["name is not a pattern", { process: ["ssh"] }, { comm: "sshd", cmdline: [] }, false],
  ["name is not a prefix", { process: ["sshd"] }, { comm: "ssh", cmdline: [] }, false],
  ["name is case-sensitive", { process: ["Nginx"] }, { comm: "nginx", cmdline: [] }, false],
  ["name ignores the command line", { process: ["nginx"] },
    { comm: "nginx", cmdline: ["nginx: master process /usr/sbin/nginx"] }, true],
  ["name of 15 bytes", { process: ["abcdefghijklmno"] }, { comm: "abcdefghijklmno", cmdline: [] }, true],
  ["name of 16 bytes never matches the kernel's 15", { process: ["abcdefghijklmnop"] },
    { comm: "abcdefghijklmno", cmdline: ["abcdefghijklmnop"] }, false],
  ["a path never matches a name", { process: ["/usr/sbin/nginx"] },
    { comm: "nginx", cmdline: ["/usr/sbin/nginx"] }, false],
  ["after prctl(PR_SET_NAME) the new name counts", { process: ["Web Content"] },
    { comm: "Web Content", cmdline: ["/usr/lib/firefox/firefox", "-contentproc"] }, true],
  // full_command: argv[0], exactly.
  ["full_command: argv[0] equal, arguments ignored", { process: ["/usr/sbin/nginx"], fullCommand: true },
    { comm: "nginx", cmdline: ["/usr/sbin/nginx", "-g", "daemon off;"] }, true],
  ["full_command: a basename is not argv[0]", { process: ["nginx"], fullCommand: true },
    { comm: "nginx", cmdline: ["/usr/sbin/nginx"] }, false],
  ["full_command: a long name is fine", { process: ["abcdefghijklmnop"], fullCommand: true },
    { comm: "abcdefghijklmno", cmdline: ["abcdefghijklmnop"] }, true],
  ["full_command: a rewritten argv[0] (setproctitle) is one string",
    { process: ["nginx: worker process"], fullCommand: true },
    { comm: "nginx", cmdline: ["nginx: worker process"] }, true],
  ["full_command: no command line (kernel thread, zombie)", { process: ["kthreadd"], fullCommand: true },
    { comm: "kthreadd", cmdline: [] }, false],
  // Parameters imply full_command and default to exact.
  ["exact: same parameters", { process: ["sleep", "3600"] }, sleep("3600"), true],
  ["exact: name alone is not enough", { process: ["sleep", "3600"] }, { comm: "sleep", cmdline: ["/bin/sleep", "3600"] }, false],
  ["exact: other value", { process: ["sleep", "3600"] }, sleep("3601"), false],
  ["exact: longer value", { process: ["sleep", "3600"] }, sleep("36000"), false],
  ["exact: one more parameter", { process: ["sleep", "3600"] }, sleep("3600", "x"), false],
  ["exact: one fewer parameter", { process: ["sleep", "3600", "x"] }, sleep("3600"), false],
  ["exact: an empty parameter counts", { process: ["prog", ""] }, { comm: "prog", cmdline: ["prog", ""] }, true],
  ["exact: an empty parameter is not none", { process: ["prog", ""] }, { comm: "prog", cmdline: ["prog"] }, false],
  ["exact: a quoted parameter with a space", { process: ["/usr/sbin/nginx", "-g", "daemon off;"] },
    { comm: "nginx", cmdline: ["/usr/sbin/nginx", "-g", "daemon off;"] }, true],
  ["exact: words split differently", { process: ["/usr/sbin/nginx", "-g", "daemon off;"] },
    { comm: "nginx", cmdline: ["/usr/sbin/nginx", "-g", "daemon", "off;"] }, false],
  // Bare param_match: "specify param_match to require no parameters".
  ["bare param_match, no parameters: none running", { process: ["nginx"], paramMatch: "exact" },
    { comm: "nginx", cmdline: ["nginx"] }, true],
  ["bare param_match, no parameters: some given", { process: ["nginx"], paramMatch: "exact" },
    { comm: "nginx", cmdline: ["nginx", "-t"] }, false],
  // partial: the first parameters, each complete.
  ["partial: more may follow", { process: ["sleep", "3600"], paramMatch: "partial" }, sleep("3600", "x"), true],
  ["partial: all equal", { process: ["sleep", "3600"], paramMatch: "partial" }, sleep("3600"), true],
  ["partial: the last must be complete", { process: ["sleep", "360"], paramMatch: "partial" }, sleep("3600"), false],
  ["partial: too few", { process: ["sleep", "3600", "x"], paramMatch: "partial" }, sleep("3600"), false],
  ["partial without parameters checks argv[0] only", { process: ["sleep"], paramMatch: "partial" }, sleep("1", "2"), true],
  ["partial without parameters still needs argv[0]", { process: ["sleep"], paramMatch: "partial" },
    { comm: "sleep", cmdline: ["/bin/sleep"] }, false],
  // initial: the last one may be longer.
  ["initial: last parameter is a prefix", { process: ["prog", "--conf"], paramMatch: "initial" },
    { comm: "prog", cmdline: ["prog", "--config=/etc/x"] }, true],
  ["initial: equal", { process: ["prog", "--conf"], paramMatch: "initial" }, { comm: "prog", cmdline: ["prog", "--conf"] }, true],
  ["initial: shorter", { process: ["prog", "--conf"], paramMatch: "initial" }, { comm: "prog", cmdline: ["prog", "--con"] }, false],
  ["initial: more may follow", { process: ["prog", "-c", "/etc/fo"], paramMatch: "initial" },
    { comm: "prog", cmdline: ["prog", "-c", "/etc/foo.conf", "-d"] }, true],
  ["initial: earlier ones are exact", { process: ["prog", "-c", "/etc/fo"], paramMatch: "initial" },
    { comm: "prog", cmdline: ["prog", "-cx", "/etc/foo.conf"] }, false],
  ["initial: a single empty parameter needs one argument", { process: ["prog", ""], paramMatch: "initial" },
    { comm: "prog", cmdline: ["prog", "anything"] }, true],
  ["initial: … and not none", { process: ["prog", ""], paramMatch: "initial" }, { comm: "prog", cmdline: ["prog"] }, false],
];

describe("compileMatcher: keepalived's cases", () => {
  test.each(CASES)("%s", (_what, spec, proc, want) => {
    expect(compileMatcher(spec)(proc)).toBe(want);
  });
});

describe("what the watcher must read", () => {
  test("a name alone needs no command line", () => {
    const m = compileMatcher({ process: ["nginx"] });
    expect(m.usesCmdline).toBe(false);
    expect(m.describe).toBe('name "nginx"');
  });
  test("parameters, param_match and full_command all read the command line", () => {
    expect(compileMatcher({ process: ["a", "b"] }).usesCmdline).toBe(true);
    expect(compileMatcher({ process: ["a"], paramMatch: "partial" }).usesCmdline).toBe(true);
    expect(compileMatcher({ process: ["a"], fullCommand: true }).usesCmdline).toBe(true);
  });
  test("cmdline bytes: each word and its NUL, plus one (multi-byte UTF-8 counted in bytes)", () => {
    expect(compileMatcher({ process: ["sleep", "3600"] }).cmdlineBytes).toBe(6 + 5 + 1);
    expect(compileMatcher({ process: ["é"], fullCommand: true }).cmdlineBytes).toBe(2 + 1 + 1);
  });
  test("an empty process line is refused", () => {
    expect(() => compileMatcher({ process: [] })).toThrow(RangeError);
  });
});

describe("matcherWarnings: lines keepalived accepts but that never match", () => {
  test("a name longer than 15 bytes", () => {
    expect(matcherWarnings({ process: ["abcdefghijklmnop"] }).join()).toContain("15 bytes");
    expect(matcherWarnings({ process: ["abcdefghijklmno"] })).toEqual([]);
  });
  test("a path compared with the name", () => {
    expect(matcherWarnings({ process: ["/usr/sbin/nginx"] }).join()).toContain("full_command");
    expect(matcherWarnings({ process: ["/usr/sbin/nginx"], fullCommand: true })).toEqual([]);
  });
});

// ─── against a byte-level model of track_process.c ──────────────────────────────────────

const enc = (s: string) => new TextEncoder().encode(s);
const nulJoined = (words: readonly string[]) => enc(words.map((w) => `${w}\0`).join(""));

function memeq(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** check_params: `params` are the bytes after argv[0]'s NUL, as read. */
function modelCheckParams(rule: ParamMatch, want: readonly string[], params: Uint8Array): boolean {
  const conf = want.length ? nulJoined(want) : undefined;
  const confLen = conf?.length ?? 0;
  if (rule === "exact" && !conf && params.length === 0) return true;
  if (params.length < confLen) return false;
  if (rule === "exact") return params.length === confLen && (!conf || memeq(params, conf, confLen));
  if (!conf) return true;
  if (rule === "partial") return memeq(params, conf, confLen);
  return confLen === 1 || memeq(params, conf, confLen - 1);
}

/** read_procs for one tracker: `argv` is the process's real command line. */
function model(spec: ProcessMatchSpec, comm: string, argv: readonly string[]): boolean {
  const [path = "", ...want] = spec.process;
  const rule: ParamMatch | undefined = spec.paramMatch ?? (want.length ? "exact" : undefined);
  if (!(spec.fullCommand || rule)) return comm === path;
  const readLen = spec.process.reduce((n, w) => n + enc(w).length + 1, 0) + 1;
  const buf = nulJoined(argv).subarray(0, readLen);
  const nul = buf.indexOf(0);
  if (nul < 0) return false; // argv[0] cut short: longer than the configured path
  if (new TextDecoder().decode(buf.subarray(0, nul)) !== path) return false;
  return rule === undefined || modelCheckParams(rule, want, buf.subarray(nul + 1));
}

describe("compileMatcher agrees with the byte-level model", () => {
  const seed = Number(process.env.SEED ?? 0x5eed7);
  test(`4000 random specs and command lines (SEED=${seed})`, () => {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const WORDS = ["a", "ab", "abc", "b", "", "a b", "abcdefghijklmnopq"];
    const RULES: (ParamMatch | undefined)[] = [undefined, "exact", "partial", "initial"];
    const bad: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const spec: ProcessMatchSpec = {
        process: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(WORDS.slice(0, 5))),
        ...(() => {
          const r = pick(RULES);
          return r ? { paramMatch: r } : {};
        })(),
        ...(rnd() < 0.3 ? { fullCommand: true } : {}),
      };
      const argv = Array.from({ length: Math.floor(rnd() * 5) }, () => pick(WORDS));
      const comm = (argv[0] ?? "").slice(0, 15);
      const m = compileMatcher(spec);
      // What the watcher hands the matcher: the command line as read, cut to cmdlineBytes.
      const cmdline = m.usesCmdline
        ? splitCmdline(nulJoined(argv).subarray(0, m.cmdlineBytes))
        : [];
      const got = m({ comm, cmdline });
      const want = model(spec, comm, argv);
      if (got !== want) bad.push(`${JSON.stringify(spec)} argv ${JSON.stringify(argv)}: ${got}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe("paramsMatch", () => {
  test("exact needs the same length", () => {
    expect(paramsMatch("exact", ["a"], ["a"])).toBe(true);
    expect(paramsMatch("exact", ["a"], ["a", "b"])).toBe(false);
  });
  test("initial only relaxes the last", () => {
    expect(paramsMatch("initial", ["a", "b"], ["a", "bc"])).toBe(true);
    expect(paramsMatch("initial", ["a", "b"], ["ax", "b"])).toBe(false);
  });
});
