/** What every command shares: exit codes, the default config path, diagnostics output. */
import { existsSync } from "node:fs";
import type { ArgsDef } from "citty";
import { type Diagnostic, formatDiagnostic } from "../config/diag.ts";
import { AgentError } from "../errors.ts";

/** `agent check` contract: 0 valid (warnings allowed), 1 invalid, 2 unreadable or bad usage. */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, NO_AGENT: 3, INTERNAL: 70 } as const;

export const DEFAULT_CONFIGS = [
  "/etc/edge-agent/agent.toml",
  "/etc/keepalived/keepalived.conf",
] as const;

export function resolveConfigPath(given: string | undefined): string {
  if (given !== undefined && given !== "") return given;
  const found = DEFAULT_CONFIGS.find((p) => existsSync(p));
  if (!found)
    throw new AgentError(
      "E_CONFIG_UNREADABLE",
      `no --config given and none of ${DEFAULT_CONFIGS.join(", ")} exists`,
    );
  return found;
}

export const configArgs = {
  config: {
    type: "string",
    alias: "c",
    description: "Configuration file (.toml → TOML, anything else → keepalived syntax)",
    valueHint: "FILE",
  },
  "config-id": {
    type: "string",
    description: "ID for keepalived `@ID` lines (default: short host name)",
    valueHint: "ID",
  },
} as const satisfies ArgsDef;

export function writeOut(text: string): void {
  process.stdout.write(text);
}
export function writeErr(text: string): void {
  process.stderr.write(text);
}

export function printDiagnostics(list: readonly Diagnostic[]): void {
  if (list.length) writeErr(`${list.map(formatDiagnostic).join("\n")}\n`);
}

export function diagnosticsJson(list: readonly Diagnostic[]): string {
  const rows = list.map(({ file, line, col, severity, code, message }) => ({
    file,
    line,
    col,
    severity,
    code,
    message,
  }));
  return `${JSON.stringify(rows, null, 2)}\n`;
}

export function summary(list: readonly Diagnostic[]): string {
  const e = list.filter((d) => d.severity === "error").length;
  const w = list.length - e;
  const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? "" : "s"}`;
  return `${plural(e, "error")}, ${plural(w, "warning")}`;
}
