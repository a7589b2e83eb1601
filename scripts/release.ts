#!/usr/bin/env bun
/**
 * Release tarballs from already-built binaries: `bun scripts/release.ts [--arm64] [--all]
 * [--dist DIR]`, or `bun scripts/build.ts --release …`, which builds first.
 *
 * Per architecture, DIR/release/edge-agent-<version>-linux-<arch>.tar.gz holds one directory
 * of that name with
 *   agent                 the executable (DIR/agent or DIR/agent-linux-arm64)
 *   edge-agent.service    packaging/edge-agent.service
 *   examples/nginx-pair/  the example pair, TOML and keepalived syntax
 *   README.md             how to install, then the project README
 *   SHA256SUMS            sha256 of each of the files above (`sha256sum -c SHA256SUMS`)
 * and DIR/release/SHA256SUMS lists the sha256 of each tarball built in this run.
 *
 * Reproducible: the same inputs give the same bytes. GNU tar with sorted names, numeric
 * owner and group 0, one fixed mtime (SOURCE_DATE_EPOCH, else the commit time of HEAD — the
 * reproducible-builds.org convention) and modes set explicitly (0755 for the binary and the
 * directories, 0644 for the rest), so neither the umask nor the checkout's times leak in;
 * gzip (zlib, level 9) writes no name and mtime 0 in its header.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import pkg from "../package.json" with { type: "json" };

export type Arch = "x64" | "arm64";
export const ARCHES: readonly Arch[] = ["x64", "arm64"];

/** Where scripts/build.ts writes each architecture's binary, under its output directory. */
export const BINARY_NAME: Record<Arch, string> = { x64: "agent", arm64: "agent-linux-arm64" };

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const EXAMPLES = "examples/nginx-pair";

export interface ReleaseOptions {
  readonly arches: readonly Arch[];
  /** The directory holding the binaries; tarballs go to `${dist}/release` unless `outDir`. */
  readonly dist: string;
  readonly outDir?: string;
  readonly version?: string;
  /** Seconds since the epoch stamped on every member. Default releaseEpoch(). */
  readonly mtimeSec?: number;
}

export interface ReleaseResult {
  readonly tarballs: readonly string[];
  readonly sums: string;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SOURCE_DATE_EPOCH if set, else HEAD's commit time, else 0. */
export function releaseEpoch(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env && /^\d+$/.test(env)) return Number(env);
  const r = Bun.spawnSync(["git", "-C", REPO, "log", "-1", "--format=%ct"], { stderr: "ignore" });
  const t = Number(r.stdout.toString().trim());
  return r.exitCode === 0 && Number.isSafeInteger(t) ? t : 0;
}

function installNotes(version: string, arch: Arch): string {
  return `# edge-agent ${version} for Linux ${arch}

## Install

As root, on each load balancer (Debian/Ubuntu: \`apt-get install libnl-3-200
libnl-route-3-200 libnl-genl-3-200\` first; RHEL/Fedora: \`dnf install libnl3\`):

\`\`\`sh
sha256sum -c SHA256SUMS                        # every file as released
install -m 0755 agent /usr/local/sbin/agent
install -m 0644 edge-agent.service /etc/systemd/system/edge-agent.service
install -d /etc/edge-agent
install -m 0640 examples/nginx-pair/lb1.toml /etc/edge-agent/agent.toml   # then edit it
agent check                                    # or keep /etc/keepalived/keepalived.conf
systemctl disable --now keepalived 2>/dev/null # the unit conflicts with keepalived.service
systemctl daemon-reload && systemctl enable --now edge-agent
\`\`\`

Without \`/etc/edge-agent/agent.toml\` the agent reads \`/etc/keepalived/keepalived.conf\`
unchanged. \`systemctl reload edge-agent\` re-reads the configuration (SIGHUP); options for
\`agent run\` (\`--log-format json\`, say) go in \`/etc/default/edge-agent\` as
\`AGENT_OPTIONS=…\`. The unit's comments say what each setting is for.

Links below point into the source repository, not into this archive.

---

`;
}

/** Files of one tarball, relative to its top directory, with their bytes and modes. */
function members(dist: string, version: string, arch: Arch): [string, Uint8Array, number][] {
  const read = (p: string) => new Uint8Array(readFileSync(p));
  const bin = join(dist, BINARY_NAME[arch]);
  if (!existsSync(bin))
    throw new Error(
      `release: ${bin} is not built (bun scripts/build.ts${arch === "x64" ? "" : " --arm64"})`,
    );
  const readme = installNotes(version, arch) + readFileSync(join(REPO, "README.md"), "utf8");
  const out: [string, Uint8Array, number][] = [
    ["agent", read(bin), 0o755],
    ["edge-agent.service", read(join(REPO, "packaging/edge-agent.service")), 0o644],
    ["README.md", new TextEncoder().encode(readme), 0o644],
  ];
  for (const f of readdirSync(join(REPO, EXAMPLES)).sort())
    if (/\.(conf|toml)$/.test(f))
      out.push([`${EXAMPLES}/${f}`, read(join(REPO, EXAMPLES, f)), 0o644]);
  return out;
}

/** `sha256sum` output for `[name, bytes]` pairs, sorted by name. */
export function sumsFile(entries: readonly (readonly [string, Uint8Array])[]): string {
  return [...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, bytes]) => `${sha256(bytes)}  ${name}\n`)
    .join("");
}

/** Writes the staging tree for one tarball with every mode set (tar sets the times). */
function stage(root: string, top: string, files: [string, Uint8Array, number][]): void {
  const dirs = new Set<string>([top]);
  for (const [name, bytes, mode] of files) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(`${top}/${parts.slice(0, i).join("/")}`);
    const path = join(root, top, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, bytes);
    chmodSync(path, mode);
  }
  for (const d of dirs) chmodSync(join(root, d), 0o755);
}

function tarGz(root: string, top: string, mtimeSec: number): Uint8Array {
  const r = Bun.spawnSync(
    [
      "tar",
      "--create",
      "--file=-",
      "--format=gnu",
      "--sort=name",
      `--mtime=@${mtimeSec}`,
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      `--directory=${root}`,
      top,
    ],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } },
  );
  if (r.exitCode !== 0) throw new Error(`release: tar failed (${r.exitCode}): ${r.stderr}`);
  return Bun.gzipSync(new Uint8Array(r.stdout), { level: 9 });
}

/** Packs one tarball per architecture and the SHA256SUMS beside them. */
export function packRelease(opts: ReleaseOptions): ReleaseResult {
  const version = opts.version ?? pkg.version;
  const mtimeSec = opts.mtimeSec ?? releaseEpoch();
  const outDir = opts.outDir ?? join(opts.dist, "release");
  mkdirSync(outDir, { recursive: true });
  const built: [string, Uint8Array][] = [];
  for (const arch of opts.arches) {
    const top = `edge-agent-${version}-linux-${arch}`;
    const files = members(opts.dist, version, arch);
    files.push([
      "SHA256SUMS",
      new TextEncoder().encode(sumsFile(files.map(([n, b]) => [n, b]))),
      0o644,
    ]);
    const root = mkdtempSync(join(tmpdir(), "edge-agent-release-"));
    try {
      stage(root, top, files);
      const tgz = tarGz(root, top, mtimeSec);
      const path = join(outDir, `${top}.tar.gz`);
      writeFileSync(path, tgz);
      built.push([basename(path), tgz]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const sums = join(outDir, "SHA256SUMS");
  writeFileSync(sums, sumsFile(built));
  return { tarballs: built.map(([n]) => join(outDir, n)), sums };
}

/** A command line of scripts/build.ts or this script. */
export interface BuildArgs {
  /** `--arm64` / `--all` pick architectures; default x64 alone. */
  readonly arches: Arch[];
  /** `--dist DIR` / `--dist=DIR`; default "dist". */
  readonly dist: string;
  readonly flags: ReadonlySet<string>;
  /** Arguments that are neither one of `known` nor `--dist`, or a `--dist` without a value. */
  readonly bad: readonly string[];
}

export function parseBuildArgs(argv: readonly string[], known: readonly string[]): BuildArgs {
  const flags = new Set<string>();
  const bad: string[] = [];
  let dist = "dist";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith("--dist=")) dist = a.slice("--dist=".length);
    else if (a === "--dist") {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) bad.push("--dist (needs a directory)");
      else dist = v;
    } else if (known.includes(a)) flags.add(a);
    else bad.push(a);
  }
  if (dist === "") bad.push("--dist= (needs a directory)");
  const arches: Arch[] = flags.has("--all")
    ? [...ARCHES]
    : flags.has("--arm64")
      ? ["arm64"]
      : ["x64"];
  return { arches, dist, flags, bad };
}

if (import.meta.main) {
  const args = parseBuildArgs(process.argv.slice(2), ["--arm64", "--all"]);
  if (args.bad.length) {
    process.stderr.write(
      `release: bad option ${args.bad.join(" ")}\nusage: bun scripts/release.ts [--arm64] [--all] [--dist DIR]\n`,
    );
    process.exit(2);
  }
  const t0 = performance.now();
  const r = packRelease({ arches: args.arches, dist: args.dist });
  for (const t of r.tarballs) process.stderr.write(`release: ${t}\n`);
  process.stderr.write(`release: ${r.sums} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
