#!/usr/bin/env bun
/**
 * Build the standalone `agent` executable(s): `bun scripts/build.ts [--arm64] [--all]`.
 * Stamps version and git commit, and compiles every Worker entrypoint into the binary
 * (a Worker file missing from this list silently fails to start in a compiled binary).
 */
import { mkdirSync, statSync } from "node:fs";
import pkg from "../package.json" with { type: "json" };

/** Every entrypoint: main first, then each Worker the agent starts. */
export const ENTRYPOINTS = [
  "src/main.ts",
  "src/io/rx-worker.ts",
  "src/io/link-monitor-worker.ts",
  "src/io/process-watch-worker.ts",
] as const;

const TARGETS = {
  x64: { target: "bun-linux-x64", outfile: "dist/agent" },
  arm64: { target: "bun-linux-arm64", outfile: "dist/agent-linux-arm64" },
} as const;

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stderr: "ignore" });
  if (r.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], {
    stderr: "ignore",
  });
  return r.stdout.toString().trim() + (dirty.stdout.toString().trim() ? "-dirty" : "");
}

function build(kind: keyof typeof TARGETS, commit: string): void {
  const { target, outfile } = TARGETS[kind];
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

const argv = process.argv.slice(2);
const unknown = argv.filter((a) => !["--arm64", "--all"].includes(a));
if (unknown.length) {
  process.stderr.write(
    `build: unknown option ${unknown.join(" ")}\nusage: bun scripts/build.ts [--arm64] [--all]\n`,
  );
  process.exit(2);
}
mkdirSync("dist", { recursive: true });
const commit = gitCommit();
if (!argv.includes("--arm64") || argv.includes("--all")) build("x64", commit);
if (argv.includes("--arm64") || argv.includes("--all")) build("arm64", commit);
