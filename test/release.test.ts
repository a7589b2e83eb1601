/**
 * The release build (`bun scripts/build.ts --release`, x64 only, into a temporary --dist):
 * the tarball holds what the install notes promise, with root ownership, fixed modes and one
 * mtime; both SHA256SUMS verify with sha256sum(1) and a changed byte does not; packing again
 * gives the same bytes; the systemd unit passes `systemd-analyze verify`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { packRelease, releaseEpoch, sha256 } from "../scripts/release.ts";
import { missing, REPO, run } from "./helpers/env.ts";

const VERSION = pkg.version;
const TOP = `edge-agent-${VERSION}-linux-x64`;
const TARBALL = `${TOP}.tar.gz`;
const BUILD_BOUND_MS = 60_000;

const gnuTar = run(["tar", "--version"]).stdout.startsWith("tar (GNU tar)");
const why =
  missing({ commands: ["tar", "sha256sum"] }) ??
  (gnuTar ? undefined : "needs GNU tar (--sort=name, --mtime)");

const dist = mkdtempSync(join(tmpdir(), "edge-agent-release-test-"));
afterAll(() => rmSync(dist, { recursive: true, force: true }));

let built: { code: number; stderr: string; ms: number } | undefined;
function needBuilt(): void {
  if (built?.code !== 0) throw new Error(`release build did not succeed: ${built?.stderr}`);
}

describe.skipIf(why !== undefined)(`release tarball${why ? ` (skipped: ${why})` : ""}`, () => {
  test(
    `bun scripts/build.ts --release (x64) succeeds in under ${BUILD_BOUND_MS / 1000} s`,
    () => {
      const t0 = performance.now();
      const r = run([process.execPath, `${REPO}/scripts/build.ts`, "--release", "--dist", dist]);
      built = { code: r.code, stderr: r.stderr, ms: performance.now() - t0 };
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({
        code: 0,
        stderr: "",
      });
      expect(built.ms).toBeLessThan(BUILD_BOUND_MS);
      expect(readFileSync(join(dist, "release/SHA256SUMS"), "utf8")).toMatch(
        new RegExp(`^[0-9a-f]{64}  ${TARBALL.replaceAll(".", "\\.")}\\n$`),
      );
    },
    BUILD_BOUND_MS * 2,
  );

  test("lists exactly the promised files, owned by 0/0, fixed modes, one mtime", () => {
    needBuilt();
    const r = run(
      ["tar", "--list", "--verbose", "--numeric-owner", "--full-time", "-zf", TARBALL],
      { cwd: join(dist, "release"), env: { TZ: "UTC" } },
    );
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/));
    const when = new Date(releaseEpoch() * 1000).toISOString().replace("T", " ").slice(0, 19);
    expect(rows.map((f) => f[5])).toEqual([
      `${TOP}/`,
      `${TOP}/README.md`,
      `${TOP}/SHA256SUMS`,
      `${TOP}/agent`,
      `${TOP}/edge-agent.service`,
      `${TOP}/examples/`,
      `${TOP}/examples/nginx-pair/`,
      `${TOP}/examples/nginx-pair/lb1.conf`,
      `${TOP}/examples/nginx-pair/lb1.toml`,
      `${TOP}/examples/nginx-pair/lb2.conf`,
      `${TOP}/examples/nginx-pair/lb2.toml`,
    ]);
    for (const [mode, owner, , date, time, name] of rows) {
      expect({ name, owner, when: `${date} ${time}` }).toEqual({ name, owner: "0/0", when });
      const want = name?.endsWith("/")
        ? "drwxr-xr-x"
        : name?.endsWith("/agent")
          ? "-rwxr-xr-x"
          : "-rw-r--r--";
      expect({ name, mode }).toEqual({ name, mode: want });
    }
  });

  test("SHA256SUMS beside the tarballs verifies, and fails for a changed byte", () => {
    needBuilt();
    const ok = run(["sha256sum", "-c", "SHA256SUMS"], { cwd: join(dist, "release") });
    expect({ code: ok.code, out: ok.stdout }).toEqual({ code: 0, out: `${TARBALL}: OK\n` });
    const bad = mkdtempSync(join(tmpdir(), "edge-agent-release-bad-"));
    try {
      const bytes = readFileSync(join(dist, "release", TARBALL));
      const mid = bytes.length >> 1;
      bytes[mid] = (bytes[mid] ?? 0) ^ 1;
      writeFileSync(join(bad, TARBALL), bytes);
      writeFileSync(join(bad, "SHA256SUMS"), readFileSync(join(dist, "release/SHA256SUMS")));
      const r = run(["sha256sum", "-c", "SHA256SUMS"], { cwd: bad });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(`${TARBALL}: FAILED\n`);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  test("unpacked: the inner SHA256SUMS covers every file, the files are the sources, the agent runs", () => {
    needBuilt();
    const x = join(dist, "x");
    expect(run(["mkdir", "-p", x]).code).toBe(0);
    expect(run(["tar", "-xzf", join(dist, "release", TARBALL), "-C", x]).code).toBe(0);
    const top = join(x, TOP);
    const c = run(["sha256sum", "-c", "SHA256SUMS"], { cwd: top });
    expect(c.code).toBe(0);
    expect(c.stdout.trim().split("\n")).toEqual([
      "README.md: OK",
      "agent: OK",
      "edge-agent.service: OK",
      "examples/nginx-pair/lb1.conf: OK",
      "examples/nginx-pair/lb1.toml: OK",
      "examples/nginx-pair/lb2.conf: OK",
      "examples/nginx-pair/lb2.toml: OK",
    ]);
    const same = (a: string, b: string) => sha256(readFileSync(a)) === sha256(readFileSync(b));
    expect(same(join(top, "agent"), join(dist, "agent"))).toBe(true);
    expect(same(join(top, "edge-agent.service"), `${REPO}/packaging/edge-agent.service`)).toBe(
      true,
    );
    for (const f of ["lb1.conf", "lb1.toml", "lb2.conf", "lb2.toml"])
      expect(same(join(top, "examples/nginx-pair", f), `${REPO}/examples/nginx-pair/${f}`)).toBe(
        true,
      );
    const readme = readFileSync(join(top, "README.md"), "utf8");
    expect(readme.startsWith(`# edge-agent ${VERSION} for Linux x64\n`)).toBe(true);
    expect(readme.endsWith(readFileSync(`${REPO}/README.md`, "utf8"))).toBe(true);
    const v = run([join(top, "agent"), "version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toStartWith(`agent ${VERSION} (commit `);
  });

  test("packing the same binary again, under another umask, gives the same bytes", () => {
    needBuilt();
    const old = process.umask(0o077);
    let again: string;
    try {
      again = packRelease({ arches: ["x64"], dist, outDir: join(dist, "again") }).tarballs[0] ?? "";
    } finally {
      process.umask(old);
    }
    expect(sha256(readFileSync(again))).toBe(sha256(readFileSync(join(dist, "release", TARBALL))));
    expect(readFileSync(join(dist, "again/SHA256SUMS"), "utf8")).toBe(
      readFileSync(join(dist, "release/SHA256SUMS"), "utf8"),
    );
  }, 60_000);
});

const noAnalyze = missing({ commands: ["systemd-analyze"], paths: ["/bin/kill"] });
describe.skipIf(noAnalyze !== undefined)(
  `packaging/edge-agent.service${noAnalyze ? ` (skipped: ${noAnalyze})` : ""}`,
  () => {
    test("passes systemd-analyze verify without a single complaint", () => {
      // verify checks that ExecStart exists: point it at a real file, change nothing else.
      const unit = readFileSync(`${REPO}/packaging/edge-agent.service`, "utf8");
      expect(unit).toContain("ExecStart=/usr/local/sbin/agent run");
      const dir = mkdtempSync(join(tmpdir(), "edge-agent-unit-"));
      try {
        const path = join(dir, "edge-agent.service");
        writeFileSync(path, unit.replaceAll("/usr/local/sbin/agent", process.execPath));
        const r = run(["systemd-analyze", "verify", path], { cwd: dir });
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
          code: 0,
          stdout: "",
          stderr: "",
        });
        // The same check catches a typo: it is not silent about everything.
        writeFileSync(path, unit.replace("WatchdogSec=10s", "WatchdogSecs=10s"));
        expect(run(["systemd-analyze", "verify", path], { cwd: dir }).stderr).toContain(
          "WatchdogSecs",
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("keeps the supervision contract: notify, watchdog, restart on failure", () => {
      const settings = readFileSync(`${REPO}/packaging/edge-agent.service`, "utf8")
        .split("\n")
        .filter((l) => /^[A-Za-z]+=/.test(l));
      for (const want of [
        "Type=notify",
        "WatchdogSec=10s",
        "Restart=on-failure",
        "RestartSec=1s",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillMode=mixed",
        "MemoryDenyWriteExecute=no",
        "RuntimeDirectory=edge-agent",
        "StateDirectory=edge-agent",
      ])
        expect(settings).toContain(want);
    });
  },
);
