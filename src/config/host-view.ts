/** The real HostView: interfaces from /sys/class/net, executables from the file system and PATH. */
import { accessSync, constants, existsSync } from "node:fs";
import type { HostView } from "./validate-host.ts";

export function nodeHostView(): HostView {
  const seen = new Map<string, boolean>();
  return {
    interfaceExists(name) {
      let known = seen.get(name);
      if (known === undefined) {
        known = !name.includes("/") && existsSync(`/sys/class/net/${name}`);
        seen.set(name, known);
      }
      return known;
    },
    resolveExecutable(cmd) {
      const candidates = cmd.includes("/")
        ? [cmd]
        : (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .split(":")
            .map((d) => `${d}/${cmd}`);
      for (const c of candidates) {
        try {
          accessSync(c, constants.X_OK);
          return c;
        } catch {
          // not this one
        }
      }
      return undefined;
    },
  };
}
