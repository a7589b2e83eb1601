/**
 * keepalived's script checks (keepalived/core/notify.c check_script_secure, check_security,
 * find_path, clean_path) on a fake file tree, then once on the real file system.
 */
import { describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import type { ScriptCommand } from "../../src/config/lines/shell.ts";
import {
  checkScriptSecurity,
  cleanPath,
  disables,
  type FileStat,
  isExecutableBy,
  type SecurityFs,
  type SecurityResult,
  securityMessage,
  securityViolation,
} from "../../src/io/script-security.ts";
import { missing } from "../helpers/env.ts";

const DIR = 0o040000;
const REG = 0o100000;
const LNK = 0o120000;

interface FakeNode extends FileStat {
  readonly target?: string;
}

/** A file tree: absolute paths without symlinks in their parents → nodes. */
class FakeFs implements SecurityFs {
  private readonly nodes = new Map<string, FakeNode>([
    ["/", { mode: DIR | 0o755, uid: 0, gid: 0 }],
  ]);

  dir(path: string, perm = 0o755, uid = 0, gid = 0): this {
    this.nodes.set(path, { mode: DIR | perm, uid, gid });
    return this;
  }
  file(path: string, perm = 0o755, uid = 0, gid = 0): this {
    this.nodes.set(path, { mode: REG | perm, uid, gid });
    return this;
  }
  link(path: string, target: string, uid = 0): this {
    this.nodes.set(path, { mode: LNK | 0o777, uid, gid: uid, target });
    return this;
  }

  private static fail(code: string, path: string): never {
    throw Object.assign(new Error(`${code}: ${path}`), { code });
  }

  /** The symlink-free path of `path`; the last component is followed only if `follow`. */
  private resolve(path: string, follow: boolean, depth = 0): string {
    if (depth > 8) FakeFs.fail("ELOOP", path);
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    let cur = "/";
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      if (part === "..") {
        cur = cur === "/" ? "/" : cur.slice(0, cur.lastIndexOf("/")) || "/";
        continue;
      }
      const next = cur === "/" ? `/${part}` : `${cur}/${part}`;
      const node = this.nodes.get(next);
      if (!node) FakeFs.fail("ENOENT", path);
      if (node.target !== undefined && (!last || follow)) {
        const t = node.target.startsWith("/") ? node.target : `${cur}/${node.target}`;
        cur = this.resolve(t, true, depth + 1);
      } else cur = next;
      if (!last && (this.nodes.get(cur)!.mode & 0o170000) !== DIR) FakeFs.fail("ENOTDIR", path);
    }
    return cur;
  }

  lstat(path: string): FileStat {
    return this.nodes.get(this.resolve(path, false))!;
  }
  stat(path: string): FileStat {
    return this.nodes.get(this.resolve(path, true))!;
  }
  realpath(path: string): string {
    return this.resolve(path, true);
  }
}

const ROOT = { uid: 0, gid: 0 };
const USER = { uid: 1000, gid: 1000 };

/** /usr/libexec/ka/check.sh, everything root-owned 0755: the secure baseline. */
function tree(): FakeFs {
  return new FakeFs()
    .dir("/usr")
    .dir("/usr/bin")
    .file("/usr/bin/true")
    .dir("/usr/libexec")
    .dir("/usr/libexec/ka")
    .file("/usr/libexec/ka/check.sh")
    .link("/bin", "usr/bin");
}

const cmd = (...command: string[]): ScriptCommand => ({ command });

function check(fs: SecurityFs, program: string, runAs = ROOT, extra = {}): SecurityResult {
  return checkScriptSecurity(cmd(program, "arg"), runAs, { fs, pathEnv: "/usr/bin", ...extra });
}

function failure(r: SecurityResult): { code: string; path: string } {
  if (r.ok) throw new Error("expected a failure");
  return { code: r.code, path: r.path };
}

describe("the walk of a root-run script's path", () => {
  test("a root-owned 0755 path is secure and walked", () => {
    const r = check(tree(), "/usr/libexec/ka/check.sh");
    expect(r).toMatchObject({ ok: true, walked: true });
  });

  test("a world-writable directory is insecure; only enable_script_security disables it", () => {
    const r = check(tree().dir("/usr/libexec/ka", 0o777), "/usr/libexec/ka/check.sh");
    expect(failure(r)).toEqual({ code: "insecure", path: "/usr/libexec/ka" });
    expect(disables(r, false)).toBe(false);
    expect(disables(r, true)).toBe(true);
    expect(securityMessage(r, true)).toContain("/usr/libexec/ka");
    expect(securityMessage(r, true)).toContain("disabled");
    expect(securityMessage(r, false)).not.toContain("disabled");
  });

  test("group-writable counts only when the group is not gid 0", () => {
    const risky = check(tree().dir("/usr/libexec", 0o775, 0, 50), "/usr/libexec/ka/check.sh");
    expect(failure(risky)).toEqual({ code: "insecure", path: "/usr/libexec" });
    const rootGroup = check(tree().dir("/usr/libexec", 0o775, 0, 0), "/usr/libexec/ka/check.sh");
    expect(rootGroup.ok).toBe(true);
  });

  test("the sticky bit excuses a writable directory, not a non-root owner", () => {
    const sticky = check(tree().dir("/usr/libexec", 0o1777), "/usr/libexec/ka/check.sh");
    expect(sticky.ok).toBe(true);
    const owned = check(tree().dir("/usr/libexec", 0o1755, 1000), "/usr/libexec/ka/check.sh");
    expect(failure(owned)).toEqual({ code: "insecure", path: "/usr/libexec" });
  });

  test("the script file itself: writable by others or owned by a user", () => {
    const writable = check(
      tree().file("/usr/libexec/ka/check.sh", 0o757),
      "/usr/libexec/ka/check.sh",
    );
    expect(failure(writable)).toEqual({ code: "insecure", path: "/usr/libexec/ka/check.sh" });
    const owned = check(
      tree().file("/usr/libexec/ka/check.sh", 0o755, 1000),
      "/usr/libexec/ka/check.sh",
    );
    expect(failure(owned).code).toBe("insecure");
  });

  test("'/' itself is checked", () => {
    const fs = tree();
    fs.dir("/", 0o777);
    expect(failure(check(fs, "/usr/libexec/ka/check.sh"))).toEqual({ code: "insecure", path: "/" });
  });

  test("a symlinked directory in the configured path: 2.2.7 walks the real path; use_symlink_paths refuses it", () => {
    expect(check(tree(), "/bin/true")).toMatchObject({ ok: true, walked: true });
    const r = check(tree(), "/bin/true", ROOT, { useSymlinkPaths: true });
    expect(failure(r)).toEqual({ code: "wrong-type", path: "/bin" });
    expect(disables(r, false)).toBe(true);
    expect(securityMessage(r, false)).toContain("/usr/bin/true");
  });

  test("a root-owned symlink as the last component is fine; its target is walked too", () => {
    const fs = tree().link("/usr/libexec/ka/current", "check.sh");
    expect(check(fs, "/usr/libexec/ka/current")).toMatchObject({ ok: true, walked: true });
    fs.dir("/srv", 0o777).file("/srv/evil.sh").link("/usr/libexec/ka/evil", "/srv/evil.sh");
    expect(failure(check(fs, "/usr/libexec/ka/evil"))).toEqual({ code: "insecure", path: "/srv" });
  });

  test("a symlink owned by a user: unseen by 2.2.7's walk of the real path, insecure with use_symlink_paths", () => {
    const fs = tree().link("/usr/libexec/ka/current", "check.sh", 1000);
    expect(check(fs, "/usr/libexec/ka/current")).toMatchObject({ ok: true, walked: true });
    expect(failure(check(fs, "/usr/libexec/ka/current", ROOT, { useSymlinkPaths: true }))).toEqual({
      code: "insecure",
      path: "/usr/libexec/ka/current",
    });
  });

  test("a disabling failure outranks an insecure one found on the other path", () => {
    const fs = tree().dir("/usr/libexec/ka", 0o777).link("/opt", "usr/libexec");
    expect(failure(check(fs, "/opt/ka/check.sh"))).toEqual({
      code: "insecure",
      path: "/usr/libexec/ka",
    });
    expect(failure(check(fs, "/opt/ka/check.sh", ROOT, { useSymlinkPaths: true })).code).toBe(
      "wrong-type",
    );
  });

  test("use_symlink_paths execs the configured path and still walks the real one", () => {
    const fs = tree().link("/usr/libexec/ka/current", "check.sh");
    const r = check(fs, "/usr/libexec//ka/./current", ROOT, { useSymlinkPaths: true });
    expect(r.ok).toBe(true);
    if (r.ok && r.resolved.kind === "file") {
      expect(r.resolved.execPath).toBe("/usr/libexec/ka/current");
      expect(r.resolved.realPath).toBe("/usr/libexec/ka/check.sh");
    }
    fs.file("/usr/libexec/ka/check.sh", 0o777);
    expect(failure(check(fs, "/usr/libexec/ka/current", ROOT, { useSymlinkPaths: true }))).toEqual({
      code: "insecure",
      path: "/usr/libexec/ka/check.sh",
    });
  });
});

describe("who is protected", () => {
  const unsafe = () => tree().dir("/usr/libexec/ka", 0o777);

  test("a script run as a plain user is not walked at all", () => {
    expect(check(unsafe(), "/usr/libexec/ka/check.sh", USER)).toMatchObject({
      ok: true,
      walked: false,
    });
  });

  test("a user with gid 0 is protected like root", () => {
    const r = check(unsafe(), "/usr/libexec/ka/check.sh", { uid: 1000, gid: 0 });
    expect(failure(r).code).toBe("insecure");
  });

  test("a setuid-root or setgid-root file is protected whoever runs it", () => {
    const suid = unsafe().file("/usr/libexec/ka/check.sh", 0o4755);
    expect(failure(check(suid, "/usr/libexec/ka/check.sh", USER)).code).toBe("insecure");
    const sgid = unsafe().file("/usr/libexec/ka/check.sh", 0o2755);
    expect(failure(check(sgid, "/usr/libexec/ka/check.sh", USER)).code).toBe("insecure");
    // setuid without the owner's x bit does not count.
    const inert = unsafe().file("/usr/libexec/ka/check.sh", 0o4655);
    expect(check(inert, "/usr/libexec/ka/check.sh", USER).ok).toBe(true);
  });
});

describe("finding the file", () => {
  test("is_executable: root needs any x bit; others owner, group or other bits", () => {
    const st = (perm: number, uid = 0, gid = 0) => ({ mode: REG | perm, uid, gid });
    expect(isExecutableBy(st(0o001), 0, 0)).toBe(true);
    expect(isExecutableBy(st(0o644), 0, 0)).toBe(false);
    expect(isExecutableBy(st(0o100, 1000), 1000, 1000)).toBe(true);
    expect(isExecutableBy(st(0o011, 1000), 1000, 1000)).toBe(false); // owner needs u+x
    expect(isExecutableBy(st(0o010, 0, 1000), 1000, 1000)).toBe(true);
    expect(isExecutableBy(st(0o001, 0, 1000), 1000, 1000)).toBe(false); // own group: g+x only
    expect(isExecutableBy(st(0o001, 0, 50), 1000, 1000)).toBe(true);
  });

  test("a file the run-as user cannot execute is refused whatever the policy", () => {
    const r = check(
      tree().file("/usr/libexec/ka/check.sh", 0o744),
      "/usr/libexec/ka/check.sh",
      USER,
    );
    expect(failure(r).code).toBe("not-executable");
    expect(disables(r, false)).toBe(true);
  });

  test("a missing file is not found", () => {
    expect(failure(check(tree(), "/usr/libexec/ka/nope.sh")).code).toBe("not-found");
  });

  test("a bare name is searched on PATH for an executable regular file", () => {
    const fs = tree()
      .dir("/opt")
      .dir("/opt/bin")
      .file("/opt/bin/check.sh", 0o644)
      .dir("/usr/libexec/check.sh");
    const search = (pathEnv: string) => checkScriptSecurity(cmd("check.sh"), ROOT, { fs, pathEnv });
    // Skipped: a non-executable file, a directory; found: the third element.
    const r = search("/opt/bin:/usr/libexec:/usr/libexec/ka:/nonexistent");
    expect(r.ok).toBe(true);
    if (r.ok && r.resolved.kind === "file") {
      expect(r.resolved.foundOnPath).toBe("/usr/libexec/ka/check.sh");
      expect(r.resolved.execPath).toBe("/usr/libexec/ka/check.sh");
    }
    expect(securityMessage(r, true)).toContain("/usr/libexec/ka/check.sh");
    const denied = search("/opt/bin:/nonexistent");
    expect(failure(denied).code).toBe("not-found");
    expect(denied.ok ? "" : denied.reason).toContain("not an executable file");
    const absent = search("/nonexistent");
    expect(absent.ok ? "" : absent.reason).toBe("not found on PATH");
  });

  test('"</path" is a file test for the shell: never resolved or checked', () => {
    for (const program of ["</etc/ready", "< \t/etc/ready"]) {
      const r = checkScriptSecurity(cmd(program), ROOT, { fs: new FakeFs() });
      expect(r).toEqual({ ok: true, resolved: { kind: "system" }, walked: false });
    }
    expect(check(new FakeFs(), "<etc/ready").ok).toBe(false);
  });

  test("argv[0] keeps the configured path, cleaned; the resolved file is exec'ed", () => {
    const fs = tree().link("/usr/libexec/ka/current", "check.sh");
    const r = check(fs, "/usr//libexec/./x/../ka/current");
    // "x" does not exist: realpath fails on it, as in keepalived.
    expect(failure(r).code).toBe("not-found");
    const ok = check(fs, "/usr//libexec/./ka/current");
    if (!ok.ok || ok.resolved.kind !== "file") throw new Error("expected a file");
    expect(ok.resolved.argv0).toBe("/usr/libexec/ka/current");
    expect(ok.resolved.execPath).toBe("/usr/libexec/ka/check.sh");
  });

  test("cleanPath behaves as keepalived's clean_path (cases checked against the C)", () => {
    const cases: [string, string][] = [
      ["/bin/true", "/bin/true"],
      ["./x", "/x"],
      ["../x", "/x"],
      ["a/b", "/a/b"],
      ["/a//b", "/a/b"],
      ["/a/./b", "/a/b"],
      ["/a/b/../c", "/a/c"],
      ["/a/../../x", "/x"],
      ["/a/b/..", "/a/b/.."],
      ["//x", "/x"],
      ["..//x", "/x"],
      ["/a/b/", "/a/b/"],
      ["/", "/"],
      ["/aaaa/bbbb/../c/../d", "/aaaa/d"],
      ["/a/..//b", "/b"],
      ["a/../b", "/b"],
      ["/a/.b/..c/...", "/a/.b/..c/..."],
    ];
    expect(cases.map(([a]) => [a, cleanPath(a)])).toEqual(cases);
  });
});

describe("the summary line", () => {
  const fs = tree().dir("/srv", 0o777).file("/srv/x.sh");
  const good = check(fs, "/usr/libexec/ka/check.sh");
  const bad = check(fs, "/srv/x.sh");
  const gone = check(fs, "/srv/none.sh");

  test("scripts without enable_script_security are a SECURITY VIOLATION", () => {
    expect(securityViolation([good], false)).toContain("SECURITY VIOLATION");
    expect(securityViolation([good], false)).not.toContain("insecure");
    expect(securityViolation([good, bad], false)).toContain("insecure");
  });

  test("none with enable_script_security, or when no script got as far as a file", () => {
    expect(securityViolation([good, bad], true)).toBeUndefined();
    expect(securityViolation([gone], false)).toBeUndefined();
    expect(securityViolation([], false)).toBeUndefined();
  });
});

const needRoot = missing({ root: true });
describe.skipIf(needRoot !== undefined)(
  `on the real file system${needRoot ? ` (skipped: ${needRoot})` : ""}`,
  () => {
    test("node:fs gives the same answers", () => {
      const base = mkdtempSync(`${tmpdir()}/ka-sec-`);
      try {
        const script = `${base}/ok/check.sh`;
        mkdirSync(`${base}/ok`, { mode: 0o755 });
        writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
        mkdirSync(`${base}/open`, { mode: 0o755 });
        chmodSync(`${base}/open`, 0o777);
        writeFileSync(`${base}/open/x.sh`, "#!/bin/sh\n", { mode: 0o755 });
        mkdirSync(`${base}/user`, { mode: 0o755 });
        chownSync(`${base}/user`, 65534, 65534);
        writeFileSync(`${base}/user/x.sh`, "#!/bin/sh\n", { mode: 0o755 });
        symlinkSync(`${base}/ok`, `${base}/linkdir`);
        const real = (p: string) => checkScriptSecurity(cmd(p), ROOT);
        const tmpSecure = real(script);
        // Only meaningful when the temporary directory's own path is secure (/tmp: 1777 root).
        if (!tmpSecure.ok)
          throw new Error(`${tmpdir()} is not a secure place: ${JSON.stringify(tmpSecure)}`);
        expect(tmpSecure).toMatchObject({ ok: true, walked: true });
        expect(failure(real(`${base}/open/x.sh`))).toEqual({
          code: "insecure",
          path: `${base}/open`,
        });
        expect(failure(real(`${base}/user/x.sh`))).toEqual({
          code: "insecure",
          path: `${base}/user`,
        });
        expect(real(`${base}/linkdir/check.sh`)).toMatchObject({ ok: true, walked: true });
        expect(
          failure(
            checkScriptSecurity(cmd(`${base}/linkdir/check.sh`), ROOT, { useSymlinkPaths: true }),
          ),
        ).toEqual({ code: "wrong-type", path: `${base}/linkdir` });
        expect(checkScriptSecurity(cmd(`${base}/open/x.sh`), { uid: 65534, gid: 65534 }).ok).toBe(
          true,
        );
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    });
  },
);
