/**
 * The model: the raw document with every default applied (normalize.ts), validated, and
 * deep-frozen. Its shape is exactly the TOML document's, so `check --print --json` output
 * is a valid configuration. The types here mark which keys are always present.
 */
import type { GLOBAL_DEFAULTS } from "./defaults.ts";
import type {
  RawCheckers,
  RawDoc,
  RawGlobal,
  RawHttpTrack,
  RawInstance,
  RawRealServer,
  RawScript,
  RawTrackFile,
  RawTrackProcess,
  RawVirtualServer,
} from "./schema/root.ts";

type Req<T, K extends keyof T> = T & { [P in K]-?: NonNullable<T[P]> };
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type GlobalModel = Req<
  RawGlobal,
  | keyof typeof GLOBAL_DEFAULTS
  | "vrrp_garp_lower_prio_repeat"
  | "vrrp_garp_lower_prio_delay"
  | "vmac_addr_prefix"
>;

export type InstanceModel = Req<
  RawInstance,
  | "state"
  | "priority"
  | "advert_int"
  | "version"
  | "virtual_ipaddress"
  | "garp_master_delay"
  | "garp_master_repeat"
  | "garp_lower_prio_delay"
  | "garp_lower_prio_repeat"
  | "garp_master_refresh"
  | "garp_master_refresh_repeat"
  | "down_timer_adverts"
  | "preempt_delay"
  | "lower_prio_no_advert"
  | "higher_prio_send_advert"
  | "owner_ignore_adverts"
  | "skip_check_adv_addr"
  | "strict_mode"
  | "v3_checksum_as_v2"
>;

export type ScriptModel = Req<RawScript, "interval" | "timeout" | "weight" | "rise" | "fall">;
/** track_http (extension). `url` may be absent: the block is then ignored, with a warning. */
export type HttpTrackModel = Req<
  RawHttpTrack,
  "status" | "tls_verify" | "interval" | "timeout" | "weight" | "rise" | "fall"
>;
export type TrackProcessModel = Req<
  RawTrackProcess,
  "weight" | "quorum" | "fork_delay" | "terminate_delay"
>;
export type TrackFileModel = Req<RawTrackFile, "weight">;

type Timing = "connect_timeout" | "retry" | "delay_before_retry" | "warmup" | "delay_loop";
export type CheckerModels = {
  [K in keyof RawCheckers]: Req<RawCheckers[K], Extract<keyof RawCheckers[K], Timing>>;
};
export type RealServerModel = Req<
  RawRealServer,
  "weight" | "lvs_method" | "delay_loop" | "connect_timeout" | "smtp_alert"
>;
export type VirtualServerModel = Req<
  RawVirtualServer,
  "lvs_sched" | "lvs_method" | "delay_loop" | "connect_timeout" | "weight" | "quorum" | "hysteresis"
> & { real_server: RealServerModel[] };

export type MutableModel = Omit<
  RawDoc,
  | "global_defs"
  | "vrrp_instance"
  | "vrrp_script"
  | "track_http"
  | "vrrp_track_process"
  | "track_file"
  | "virtual_server"
> & {
  global_defs: GlobalModel;
  vrrp_instance: Record<string, InstanceModel>;
  vrrp_script: Record<string, ScriptModel>;
  track_http: Record<string, HttpTrackModel>;
  vrrp_track_process: Record<string, TrackProcessModel>;
  track_file: Record<string, TrackFileModel>;
  virtual_server: VirtualServerModel[];
};

export type Model = DeepReadonly<MutableModel>;

export function deepFreeze<T>(v: T): T {
  if (isUnfrozenObject(v)) freezeTree(v);
  return v;
}

function isUnfrozenObject(v: unknown): v is object {
  return typeof v === "object" && v !== null && !Object.isFrozen(v);
}

/**
 * Freezes `v` and everything below it. A model holds a few hundred thousand values: look at
 * each before recursing, so a number or a string costs no call, and walk arrays by index.
 */
function freezeTree(v: object): void {
  Object.freeze(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (isUnfrozenObject(x)) freezeTree(x);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (isUnfrozenObject(x)) freezeTree(x);
  }
}
