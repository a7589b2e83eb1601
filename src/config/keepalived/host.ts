/**
 * The real SourceHost: files, globbing, environment and host name from the OS. The
 * preprocessor itself never touches the OS; tests and fuzzing hand it fakes instead.
 */
import { readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { mulberry32 } from "../../core/prng.ts";
import type { SourceHost } from "./types.ts";

export interface NodeHostOptions {
  /** keepalived `-i/--config-id`; default: the host name up to its first '.'. */
  readonly configId?: string;
  /** keepalived `random_seed`: makes `${_RANDOM}` repeatable. */
  readonly randomSeed?: number;
}

const WILDCARD = /[*?[]/;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * glob(3) without GLOB_BRACE (the preprocessor expands braces): the literal leading
 * directories are the scan root, the rest is matched by Bun.Glob; files only, sorted.
 * Like glibc, `*` does not match a leading dot.
 */
function globFiles(pattern: string): string[] {
  if (!WILDCARD.test(pattern)) return isFile(pattern) ? [pattern] : [];
  const parts = pattern.split("/");
  const firstWild = parts.findIndex((p) => WILDCARD.test(p));
  const root = parts.slice(0, firstWild).join("/");
  const rest = parts.slice(firstWild).join("/");
  const cwd = root === "" ? (pattern.startsWith("/") ? "/" : ".") : root;
  const prefix = root === "" ? (pattern.startsWith("/") ? "/" : "") : `${root}/`;
  try {
    const found = [...new Bun.Glob(rest).scanSync({ cwd, onlyFiles: true, dot: false })];
    return found.map((f) => prefix + f).sort();
  } catch {
    return []; // the scan root does not exist or cannot be read: nothing matches
  }
}

export function nodeHost(opts: NodeHostOptions = {}): SourceHost {
  const next = opts.randomSeed === undefined ? Math.random : mulberry32(opts.randomSeed);
  // A plain object of own properties: callers spread it to override one method.
  return {
    configId: opts.configId ?? hostname().split(".")[0] ?? "",
    readFile(path: string): string | undefined {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
    glob: globFiles,
    env: (name: string) => process.env[name],
    random: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
  };
}
