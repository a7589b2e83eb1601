/** Kernel settings under /proc/sys, as keepalived sets them for VMACs (reference §2.12). */
import { writeFileSync } from "node:fs";

interface Warn {
  warn(msg: string): void;
}

/** Best effort: a sysctl that can't be written is logged, not fatal (keepalived likewise). */
export function setSysctl(path: string, value: string, log: Warn): void {
  try {
    writeFileSync(`/proc/sys/${path}`, value);
  } catch (e) {
    log.warn(
      `sysctl ${path.replace(/\//g, ".")}=${value}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
