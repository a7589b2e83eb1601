/**
 * FILE_CHECK blocks (check/check_file.c): a real server follows a track_file's integer. No
 * probe and no schedule — the file is watched (inotify, as for VRRP's track_file) and every
 * new value is judged at once (core/check/file.ts). A FILE_CHECK without its own `weight`
 * takes the track_file's (file_end_handler); a track_file without one weighs 1.
 */
import type { Model } from "../config/model.ts";
import { type FileCheckStatus, fileCheckStatus } from "../core/check/file.ts";
import { rsId, vsId } from "../core/ipvs/desired.ts";
import type { Stoppable } from "./io.ts";

type WeightCfg = number | { readonly value: number; readonly reverse?: boolean };
interface TrackFileCfg {
  readonly file?: string;
  readonly weight?: WeightCfg;
  readonly init_file?: { readonly value?: number; readonly overwrite?: boolean };
}

export type WatchFile = (
  path: string,
  init: { readonly value: number; readonly overwrite: boolean } | undefined,
  onValue: (value: number | undefined) => void,
) => Stoppable;

export interface FileCheckDef {
  readonly key: string;
  readonly vsIndex: number;
  readonly rsIndex: number;
  readonly trackFile: string;
  readonly path: string;
  readonly init?: { readonly value: number; readonly overwrite: boolean };
  readonly weight: number;
  readonly reverse: boolean;
}

const weightOf = (w: WeightCfg | undefined): { value: number; reverse: boolean } | undefined =>
  w === undefined
    ? undefined
    : typeof w === "number"
      ? { value: w, reverse: false }
      : { value: w.value, reverse: w.reverse === true };

export function buildFileChecks(model: Model): { defs: FileCheckDef[]; notes: string[] } {
  const files = ((model as { track_file?: Record<string, TrackFileCfg> }).track_file ??
    {}) as Record<string, TrackFileCfg>;
  const defs: FileCheckDef[] = [];
  const notes: string[] = [];
  model.virtual_server.forEach((vs, vsIndex) => {
    vs.real_server.forEach((rs, rsIndex) => {
      const blocks = (rs as { FILE_CHECK?: readonly { track_file?: string; weight?: WeightCfg }[] })
        .FILE_CHECK;
      (blocks ?? []).forEach((c, n) => {
        const tf = c.track_file === undefined ? undefined : files[c.track_file];
        if (!tf?.file) {
          notes.push(
            `FILE_CHECK of ${rsId(rs)} in VS ${vsId(vs)} has no usable track_file; it is not run`,
          );
          return;
        }
        const w = weightOf(c.weight) ?? weightOf(tf.weight) ?? { value: 1, reverse: false };
        const init = tf.init_file;
        defs.push({
          key: `${vsId(vs)}|${rsId(rs)}|FILE_CHECK#${n}`,
          vsIndex,
          rsIndex,
          trackFile: c.track_file ?? "",
          path: tf.file,
          ...(init ? { init: { value: init.value ?? 0, overwrite: init.overwrite === true } } : {}),
          weight: w.value,
          reverse: w.reverse,
        });
      });
    });
  });
  return { defs, notes };
}

/** The watched files and the verdict of every FILE_CHECK. */
export class FileChecks {
  private readonly watchers: Stoppable[] = [];

  constructor(
    readonly defs: readonly FileCheckDef[],
    private readonly watch: WatchFile | undefined,
    /** The last value of each track_file (carried over a reload so nothing flaps). */
    readonly values: Map<string, number>,
    private readonly onChange: (def: FileCheckDef) => void,
  ) {}

  /** Watch each file once; a value that changes a check's status calls onChange. */
  start(): void {
    const byFile = new Map<string, FileCheckDef[]>();
    for (const d of this.defs) byFile.set(d.trackFile, [...(byFile.get(d.trackFile) ?? []), d]);
    for (const [name, defs] of byFile) {
      const first = defs[0];
      if (!first || !this.watch) continue;
      this.watchers.push(
        this.watch(first.path, first.init, (v) => {
          const before = defs.map((d) => this.status(d));
          // An unreadable or non-numeric file counts as 0 (track_file.c process_track_file).
          this.values.set(name, v ?? 0);
          defs.forEach((d, i) => {
            if (this.status(d) !== before[i]) this.onChange(d);
          });
        }),
      );
    }
  }

  stop(): void {
    for (const w of this.watchers.splice(0)) w.stop();
  }

  status(d: FileCheckDef): FileCheckStatus {
    return fileCheckStatus(this.values.get(d.trackFile) ?? 0, d.weight, d.reverse);
  }

  of(vi: number, ri: number): FileCheckDef[] {
    return this.defs.filter((d) => d.vsIndex === vi && d.rsIndex === ri);
  }

  faulted(vi: number, ri: number): boolean {
    return this.of(vi, ri).some((d) => this.status(d) === "fault");
  }

  /** What the file checks add to the real server's weight; undefined when none does. */
  weightDelta(vi: number, ri: number): number | undefined {
    let sum: number | undefined;
    for (const d of this.of(vi, ri)) {
      const s = this.status(d);
      if (s !== "fault" && s !== 0) sum = (sum ?? 0) + s;
    }
    return sum;
  }
}
