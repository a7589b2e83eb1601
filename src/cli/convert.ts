import { writeFileSync } from "node:fs";
import { defineCommand } from "citty";
import { convertDoc } from "../config/convert.ts";
import { formatOf, loadConfig } from "../config/load.ts";
import { AgentError } from "../errors.ts";
import {
  configArgs,
  EXIT,
  printDiagnostics,
  resolveConfigPath,
  writeErr,
  writeOut,
} from "./common.ts";

export default defineCommand({
  meta: {
    name: "convert",
    description: "Convert between keepalived.conf and TOML without losing anything",
  },
  args: {
    ...configArgs,
    to: {
      type: "enum",
      options: ["toml", "keepalived"],
      description: "Output format (default: the other one)",
    },
    output: {
      type: "string",
      alias: "o",
      description: "Write here instead of stdout",
      valueHint: "FILE",
    },
  },
  run({ args }): number {
    const path = resolveConfigPath(args.config);
    const loaded = loadConfig(path, {
      offline: true,
      ...(args["config-id"] ? { configId: args["config-id"] } : {}),
    });
    printDiagnostics(loaded.diagnostics);
    if (!loaded.model) {
      writeErr(`${path}: invalid; fix the errors above before converting\n`);
      return EXIT.INVALID;
    }
    const to = args.to ?? (formatOf(path) === "toml" ? "keepalived" : "toml");
    const header = `Converted by agent convert from ${path}${loaded.format === "keepalived" ? " (includes and parameters expanded)" : ""}`;
    // Read back before anything is written: a value the other syntax cannot carry is
    // refused rather than written as something else.
    const out = convertDoc(
      loaded.raw as Record<string, unknown>,
      to,
      header,
      args.output ?? "(stdout)",
    );
    if (!out.ok) {
      writeErr(`${path}: cannot convert to ${to} without loss: ${out.message}\n`);
      return EXIT.INVALID;
    }
    // What keepalived itself cannot read (our extensions), located in the written text.
    printDiagnostics(out.warnings);
    const text = out.text;
    if (args.output) {
      try {
        writeFileSync(args.output, text);
      } catch (e) {
        throw new AgentError(
          "E_OUTPUT_UNWRITABLE",
          `cannot write ${args.output}: ${e instanceof Error ? e.message : String(e)}`,
          args.output,
        );
      }
    } else writeOut(text);
    return EXIT.OK;
  },
});
