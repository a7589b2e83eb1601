/**
 * Loading: file → front end (by extension) → raw document → normalize → validate →
 * frozen model, with every diagnostic. The one entry point the rest of the agent uses.
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { AgentError } from "../errors.ts";
import { type Diagnostic, Diags, MAX_DIAGNOSTICS, sortDiagnostics } from "./diag.ts";
import { nodeHostView } from "./host-view.ts";
import { nodeHost } from "./keepalived/host.ts";
import { preprocess } from "./keepalived/lexer.ts";
import { lowerBlock } from "./keepalived/lower.ts";
import { parseStatements } from "./keepalived/parser.ts";
import type { SourceHost } from "./keepalived/types.ts";
import { deepFreeze, type Model } from "./model.ts";
import { normalize } from "./normalize.ts";
import { LocTable } from "./path.ts";
import type { BlockSpec, Fields } from "./schema/dsl.ts";
import { type RawDoc, rootSpec } from "./schema/root.ts";
import { readToml } from "./toml.ts";
import { validate } from "./validate.ts";
import { type HostView, validateHost } from "./validate-host.ts";

export type ConfigFormat = "toml" | "keepalived";

export interface LoadOptions {
  /** For `@ID` lines and `${_INSTANCE}`; default: the short host name. */
  readonly configId?: string;
  /** Skip the checks against this machine (interfaces, script permissions). */
  readonly offline?: boolean;
  /** Warnings become errors. */
  readonly strict?: boolean;
  readonly host?: HostView;
  readonly sourceHost?: SourceHost;
  /** keepalived syntax: lines the preprocessor may read or generate (MAX_PREPROCESSED_LINES). */
  readonly maxLines?: number;
  /** Diagnostics kept before one `too-many-diagnostics` summary (MAX_DIAGNOSTICS). */
  readonly maxDiagnostics?: number;
}

export interface Loaded {
  readonly file: string;
  readonly format: ConfigFormat;
  /** What the file said, without defaults: what `convert` writes. */
  readonly raw: RawDoc;
  /** Present when there is no error. */
  readonly model?: Model;
  readonly diagnostics: readonly Diagnostic[];
}

export function formatOf(path: string): ConfigFormat {
  return path.toLowerCase().endsWith(".toml") ? "toml" : "keepalived";
}

/** Read and check a configuration file. Throws AgentError E_CONFIG_UNREADABLE if it can't be read. */
export function loadConfig(path: string, opts: LoadOptions = {}): Loaded {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new Error("is a directory");
    text = readFileSync(path, "utf8");
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^[A-Z]+: /, "") : String(e);
    throw new AgentError("E_CONFIG_UNREADABLE", `cannot read ${path}: ${why}`, path, { cause: e });
  }
  // Absolute, so includes and ${_PWD} resolve as keepalived resolves them.
  return loadText(text, resolve(path), formatOf(path), opts);
}

export function loadText(
  text: string,
  file: string,
  format: ConfigFormat,
  opts: LoadOptions = {},
): Loaded {
  const diags = new Diags(opts.maxDiagnostics ?? MAX_DIAGNOSTICS);
  const root = rootSpec as unknown as BlockSpec<Fields>;
  let raw: RawDoc;
  let locs: LocTable;
  if (format === "toml") {
    ({ raw, locs } = readToml(text, file, root, diags) as { raw: RawDoc; locs: LocTable });
  } else {
    const host =
      opts.sourceHost ?? nodeHost(opts.configId === undefined ? {} : { configId: opts.configId });
    const withText: SourceHost = {
      ...host,
      readFile: (p) => (p === file ? text : host.readFile(p)),
    };
    const pre = opts.maxLines === undefined ? {} : { maxLines: opts.maxLines };
    const lines = preprocess(file, withText, diags, pre);
    const stmts = parseStatements(lines, diags);
    locs = new LocTable({ file, line: 1, col: 1 });
    raw = lowerBlock(stmts, root, [], {}, { diags, locs }) as RawDoc;
  }
  const cx = { diags, locs };
  const model = normalize(raw, cx);
  validate(model, cx);
  if (!opts.offline) validateHost(model, cx, opts.host ?? nodeHostView());
  diags.finish();
  let list = sortDiagnostics(diags.list);
  if (opts.strict)
    list = list.map((d) => (d.severity === "warning" ? { ...d, severity: "error" as const } : d));
  const ok = !list.some((d) => d.severity === "error");
  return ok
    ? { file, format, raw, model: deepFreeze(model) as Model, diagnostics: list }
    : { file, format, raw, diagnostics: list };
}
