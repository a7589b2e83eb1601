import { defineCommand } from "citty";
import { emitToml } from "../config/emit-toml.ts";
import { loadConfig } from "../config/load.ts";
import {
  configArgs,
  diagnosticsJson,
  EXIT,
  printDiagnostics,
  resolveConfigPath,
  summary,
  writeErr,
  writeOut,
} from "./common.ts";

export default defineCommand({
  meta: {
    name: "check",
    description: "Parse and validate a configuration; exit 0 valid, 1 invalid, 2 unreadable",
  },
  args: {
    ...configArgs,
    json: {
      type: "boolean",
      description:
        "Diagnostics as a JSON array (with --print: the model as JSON on stdout, diagnostics on stderr)",
    },
    print: {
      type: "boolean",
      description: "Print the normalized model (TOML, or JSON with --json)",
    },
    strict: { type: "boolean", description: "Treat warnings as errors" },
    offline: {
      type: "boolean",
      description: "Skip checks against this machine (interfaces, script permissions)",
    },
  },
  run({ args }): number {
    const path = resolveConfigPath(args.config);
    const loaded = loadConfig(path, {
      strict: args.strict === true,
      offline: args.offline === true,
      ...(args["config-id"] ? { configId: args["config-id"] } : {}),
    });
    const diags = loaded.diagnostics;
    if (args.json && !args.print) writeOut(diagnosticsJson(diags));
    else if (args.json) writeErr(diagnosticsJson(diags));
    else printDiagnostics(diags);
    if (args.print && loaded.model) {
      const doc = loaded.model as unknown as Record<string, unknown>;
      writeOut(args.json ? `${JSON.stringify(doc, null, 2)}\n` : emitToml(doc));
    }
    if (!args.json)
      writeErr(`${path}: ${loaded.model ? "valid" : "invalid"} (${summary(diags)})\n`);
    return loaded.model ? EXIT.OK : EXIT.INVALID;
  },
});
