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

/**
 * Where each path of a document was defined; lookups fall back to the nearest ancestor.
 * Paths are model paths; `remap` records where the model's indices differ from the
 * source's (the TOML front end drops an array element that fails to read, so later
 * elements move down by one in the model but not in the file).
 */
export class LocTable {
  private readonly map = new Map<string, Loc>();
  /**
   * Writes not yet applied to `map`, in order. A front end records a place for every path
   * it reads (tens of thousands for a big LVS configuration) but a clean configuration
   * never asks for one: keying each path costs more than the rest of lowering, so the
   * keys are only built by the first lookup. Replaying in order keeps `set` and
   * `setIfAbsent` meaning what they meant when they were called.
   */
  private readonly pending: { path: Path; loc: Loc; ifAbsent: boolean }[] = [];
  /** Model prefix → source prefix of the same length (only the last index differs). */
  private readonly remaps = new Map<string, Path>();

  /** `lookup` answers paths nobody `set` (the TOML front end's locator). */
  constructor(
    private readonly fallback: Loc,
    private readonly lookup?: (path: Path) => Loc | undefined,
  ) {}

  /** `path` must not change afterwards: it is keyed lazily (see `pending`). */
  set(path: Path, loc: Loc): void {
    this.pending.push({ path, loc, ifAbsent: false });
  }

  /** Only set if nothing is known yet (first definition wins). */
  setIfAbsent(path: Path, loc: Loc): void {
    this.pending.push({ path, loc, ifAbsent: true });
  }

  private settle(): void {
    for (const { path, loc, ifAbsent } of this.pending) {
      const k = pathKey(path);
      if (!ifAbsent || !this.map.has(k)) this.map.set(k, loc);
    }
    this.pending.length = 0;
  }

  /**
   * Model path `model` was written at source path `source`, and so was everything below it.
   * `model`'s parents are source paths: record a level's remaps while reading that level,
   * after its parents' elements were placed, and read in order (see `toSource`).
   */
  remap(model: Path, source: Path): void {
    this.remaps.set(pathKey(model), source);
  }

  get(path: Path): Loc | undefined {
    if (this.pending.length > 0) this.settle();
    const p = this.toSource(path);
    return this.map.get(pathKey(p)) ?? this.lookup?.(p);
  }

  /**
   * The source path of a model path: prefixes are translated shortest first, each at most
   * once, so a translated parent is never translated again by a sibling's remap (model
   * index 0 → source 1 must not go on to 1 → 2). Source paths used while reading pass
   * through unchanged: a remap is only recorded for an index already passed in the source.
   */
  private toSource(path: Path): Path {
    if (this.remaps.size === 0) return path;
    let cur = path;
    for (let n = 1; n <= cur.length; n++) {
      if (typeof cur[n - 1] !== "number") continue;
      const to = this.remaps.get(pathKey(cur.slice(0, n)));
      if (to) cur = [...to, ...cur.slice(n)];
    }
    return cur;
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
