/**
 * The command table and the dispatcher: help, unknown commands and flags, and the mapping
 * of typed errors to exit codes. It returns an exit code; only main.ts exits.
 */
import { type ArgsDef, type CommandDef, renderUsage, runCommand } from "citty";
import { isAgentError } from "../errors.ts";
import { VERSION } from "../version.ts";
import check from "./check.ts";
import { EXIT, writeErr, writeOut } from "./common.ts";
import convert from "./convert.ts";
import demo from "./demo.ts";
import failover from "./failover.ts";
import genhash from "./genhash.ts";
import maintenance from "./maintenance.ts";
import reload from "./reload.ts";
import run from "./run.ts";
import status from "./status.ts";
import version from "./version.ts";

// biome-ignore lint/suspicious/noExplicitAny: each command has its own args type
export const commands: Record<string, CommandDef<any>> = {
  run,
  check,
  convert,
  status,
  reload,
  failover,
  maintenance,
  genhash,
  demo,
  version,
};

export const root = {
  meta: {
    name: "agent",
    version: VERSION,
    description: "keepalived, rebuilt as one binary: VRRP failover, IPVS, health checks",
  },
  subCommands: commands,
} satisfies CommandDef<ArgsDef>;

/** Flags not declared by the command are usage errors (citty would silently accept them). */
export function unknownFlags(argv: readonly string[], def: ArgsDef): string[] {
  const known = new Set<string>(["help", "h"]);
  for (const [name, a] of Object.entries(def)) {
    known.add(name);
    if (a.type === "boolean") known.add(`no-${name}`);
    const al = "alias" in a ? a.alias : undefined;
    for (const x of Array.isArray(al) ? al : al ? [al] : []) known.add(x);
  }
  const bad: string[] = [];
  for (const tok of argv) {
    if (tok === "--") break;
    const m = /^--?([^=]+)/.exec(tok);
    if (m?.[1] && !/^-\d/.test(tok) && !known.has(m[1])) bad.push(tok);
  }
  return bad;
}

/** citty colours its usage; pipes and NO_COLOR get plain text. */
async function usage(cmd: CommandDef<ArgsDef>, parent?: CommandDef<ArgsDef>): Promise<string> {
  const text = await renderUsage(cmd, parent);
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  return `${color ? text : text.replace(/\u001b\[[0-9;]*m/g, "")}\n`;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    writeOut(await usage(root as CommandDef<ArgsDef>));
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === "--version" || name === "-v") return runCli(["version"]);
  const cmd = commands[name];
  if (!cmd) {
    writeErr(`agent: unknown command '${name}'. Run 'agent --help' for the list.\n`);
    return EXIT.USAGE;
  }
  const args = (cmd.args ?? {}) as ArgsDef;
  if (rest.includes("--help") || rest.includes("-h")) {
    writeOut(await usage(cmd, root as CommandDef<ArgsDef>));
    return EXIT.OK;
  }
  const bad = unknownFlags(rest, args);
  if (bad.length) {
    writeErr(`agent ${name}: unknown option ${bad.join(", ")}. Run 'agent ${name} --help'.\n`);
    return EXIT.USAGE;
  }
  try {
    const { result } = await runCommand(cmd, { rawArgs: [...rest] });
    return typeof result === "number" ? result : EXIT.OK;
  } catch (e) {
    return reportError(name, e);
  }
}

function hint(code: string): string {
  return code === "E_NOT_ROOT"
    ? "hint: run it as root, or grant the binary CAP_NET_ADMIN and CAP_NET_RAW"
    : "hint: install libnl (Debian/Ubuntu: apt-get install libnl-3-200 libnl-route-3-200; RHEL/Fedora: dnf install libnl3)";
}

function reportError(name: string, e: unknown): number {
  if (isAgentError(e)) {
    writeErr(`agent ${name}: ${e.message}\n`);
    if (e.code === "E_NO_LIBNL" || e.code === "E_NOT_ROOT") writeErr(`${hint(e.code)}\n`);
    return e.code === "E_CONFIG_INVALID"
      ? EXIT.INVALID
      : e.code === "E_USAGE" || e.code === "E_CONFIG_UNREADABLE"
        ? EXIT.USAGE
        : EXIT.INVALID;
  }
  // citty reports bad arguments (missing values, bad enum) as CLIError with a code.
  if (e instanceof Error && "code" in e && typeof e.code === "string" && e.code.startsWith("E")) {
    writeErr(`agent ${name}: ${e.message}\n`);
    return EXIT.USAGE;
  }
  writeErr(`agent ${name}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.AGENT_DEBUG && e instanceof Error && e.stack) writeErr(`${e.stack}\n`);
  return EXIT.INTERNAL;
}
