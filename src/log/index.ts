/**
 * One consola root for the process; each subsystem takes a tagged child. Library code
 * never prints directly: commands print results to stdout, logs go to stderr.
 */
import { type ConsolaInstance, createConsola, LogLevels, type LogType } from "consola";

let root: ConsolaInstance = createConsola({
  level: LogLevels.info,
  stdout: process.stderr,
  stderr: process.stderr,
});

export function configureLogging(opts: { level?: LogType; json?: boolean }): void {
  root = createConsola({
    level: LogLevels[opts.level ?? "info"],
    stdout: process.stderr,
    stderr: process.stderr,
    ...(opts.json
      ? {
          reporters: [
            {
              log: (o) => {
                const line = {
                  time: o.date.toISOString(),
                  level: o.type,
                  tag: o.tag,
                  msg: o.args.map(String).join(" "),
                };
                process.stderr.write(`${JSON.stringify(line)}\n`);
              },
            },
          ],
        }
      : {}),
  });
}

export function logger(tag: string): ConsolaInstance {
  return root.withTag(tag);
}
