#!/usr/bin/env bun
/** The agent's entry point, and the only place that exits the process. */
import { runCli } from "./cli/index.ts";

const code = await runCli(process.argv.slice(2));
process.exit(code);
