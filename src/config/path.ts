/** Paths into the configuration document, and where each one was written. */
import type { Loc } from "./diag.ts";

export type PathSeg = string | number;
export type Path = readonly PathSeg[];

const SEP = "\u0001";

export function pathKey(path: Path): string {
  return path.join(SEP);
}

/** Dotted, readable form for messages: vrrp_instance.VI_1.virtual_ipaddress[2]. */
export function showPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}

/** Where each path of a document was defined; lookups fall back to the nearest ancestor. */
export class LocTable {
  private readonly map = new Map<string, Loc>();

  /** `lookup` answers paths nobody `set` (the TOML front end's locator). */
  constructor(
    private readonly fallback: Loc,
    private readonly lookup?: (path: Path) => Loc | undefined,
  ) {}

  set(path: Path, loc: Loc): void {
    this.map.set(pathKey(path), loc);
  }

  /** Only set if nothing is known yet (first definition wins). */
  setIfAbsent(path: Path, loc: Loc): void {
    const k = pathKey(path);
    if (!this.map.has(k)) this.map.set(k, loc);
  }

  get(path: Path): Loc | undefined {
    return this.map.get(pathKey(path)) ?? this.lookup?.(path);
  }

  /** The location of `path`, or of its nearest located ancestor, or of the file itself. */
  nearest(path: Path): Loc {
    for (let n = path.length; n >= 0; n--) {
      const loc = this.get(path.slice(0, n));
      if (loc) return loc;
    }
    return this.fallback;
  }
}
