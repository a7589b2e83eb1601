/** What this machine can do for tests that need more than a process: root, tools, files. */
import { existsSync } from "node:fs";

export const isRoot = process.getuid?.() === 0;

export function which(cmd: string): string | undefined {
  return Bun.which(cmd) ?? undefined;
}

/**
 * Why a test that needs `needs` cannot run here, or undefined if it can. A skipped test
 * carries this reason in its name so the output says why.
 */
export function missing(needs: {
  root?: boolean;
  commands?: string[];
  paths?: string[];
}): string | undefined {
  if (needs.root && !isRoot) return "needs root (network namespaces)";
  for (const c of needs.commands ?? [])
    if (!which(c)) return `needs the '${c}' command (see .ci/run for the package)`;
  for (const p of needs.paths ?? []) if (!existsSync(p)) return `needs ${p}`;
  return undefined;
}

/** The repository root, for running the agent from source. */
export const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Run the agent from source: `bun src/main.ts …`, optionally inside a network namespace. */
export function agentCmd(args: string[], netns?: string): string[] {
  const base = [process.execPath, `${REPO}/src/main.ts`, ...args];
  return netns ? ["ip", "netns", "exec", netns, ...base] : base;
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Ran {
  const r = Bun.spawnSync(cmd, {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
