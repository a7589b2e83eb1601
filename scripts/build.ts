#!/usr/bin/env bun
/**
 * Build the standalone `agent` executable(s):
 * `bun scripts/build.ts [--arm64] [--all] [--release] [--dist DIR]`.
 * Stamps version and git commit, and compiles every Worker entrypoint into the binary
 * (a Worker file missing from this list silently fails to start in a compiled binary).
 * `--release` then packs the tarballs of the architectures built (scripts/release.ts);
 * `--dist` writes everything under DIR instead of dist/.
 */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { BINARY_NAME, packRelease, parseBuildArgs } from "./release.ts";

/** Every entrypoint: main first, then each Worker the agent starts. */
export const ENTRYPOINTS = [
  "src/main.ts",
  "src/io/rx-worker.ts",
  "src/io/link-monitor-worker.ts",
  "src/io/process-watch-worker.ts",
] as const;

const TARGETS = {
  x64: { target: "bun-linux-x64" },
  arm64: { target: "bun-linux-arm64" },
} as const;

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stderr: "ignore" });
  if (r.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], {
    stderr: "ignore",
  });
  return r.stdout.toString().trim() + (dirty.stdout.toString().trim() ? "-dirty" : "");
}

function build(kind: keyof typeof TARGETS, commit: string, dist: string): void {
  const { target } = TARGETS[kind];
  const outfile = join(dist, BINARY_NAME[kind]);
  const cmd = [
    process.execPath,
    "build",
    "--compile",
    `--target=${target}`,
    "--minify",
    "--bytecode",
    "--format=esm",
    // A daemon must not read .env or bunfig.toml from whatever directory it starts in:
    // scripts would inherit those variables, which keepalived never passes.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=__AGENT_VERSION__=${JSON.stringify(pkg.version)}`,
    `--define=__AGENT_COMMIT__=${JSON.stringify(commit)}`,
    `--outfile=${outfile}`,
    ...ENTRYPOINTS,
  ];
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, { stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) {
    process.stderr.write(`build: bun build failed for ${kind} (exit ${r.exitCode})\n`);
    process.exit(1);
  }
  const mb = statSync(outfile).size / 1e6;
  process.stderr.write(
    `build: ${outfile} (${target}) ${mb.toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}

const args = parseBuildArgs(process.argv.slice(2), ["--arm64", "--all", "--release"]);
if (args.bad.length) {
  process.stderr.write(
    `build: bad option ${args.bad.join(" ")}\nusage: bun scripts/build.ts [--arm64] [--all] [--release] [--dist DIR]\n`,
  );
  process.exit(2);
}
mkdirSync(args.dist, { recursive: true });
const commit = gitCommit();
for (const kind of args.arches) build(kind, commit, args.dist);
if (args.flags.has("--release")) {
  const t0 = performance.now();
  const r = packRelease({ arches: args.arches, dist: args.dist });
  for (const t of [...r.tarballs, r.sums]) process.stderr.write(`build: ${t}\n`);
  process.stderr.write(
    `build: release packed in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}
