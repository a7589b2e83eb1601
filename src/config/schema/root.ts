/**
 * The whole document. Field order here is the order both emitters write blocks in:
 * globals first, then what instances reference, then instances, then IPVS.
 */
import { type checkers as _checkers, sslBlock } from "./checkers.ts";
import { block, type FieldsOf, lines, type ModelOf, named } from "./dsl.ts";
import { globalDefs, linkbeatInterfaces, rootScalars, upDownDelays } from "./global.ts";
import { type realServer, virtualServer, virtualServerGroup } from "./ipvs.ts";
import { addressLine, routeLine, ruleLine } from "./lines.ts";
import {
  bfdInstance,
  garpGroup,
  trackFile,
  trackGroup,
  trackHttp,
  vrrpInstance,
  vrrpScript,
  vrrpSyncGroup,
  vrrpTrackProcess,
} from "./vrrp.ts";

export const rootSpec = block(
  {
    ...rootScalars,
    global_defs: globalDefs,
    linkbeat_interfaces: lines(linkbeatInterfaces),
    interface_up_down_delays: lines(upDownDelays),
    track_group: named(trackGroup),
    static_ipaddress: lines(addressLine),
    static_routes: lines(routeLine),
    static_rules: lines(ruleLine),
    garp_group: garpGroup,
    track_file: named(trackFile),
    vrrp_track_process: named(vrrpTrackProcess),
    bfd_instance: named(bfdInstance),
    vrrp_script: named(vrrpScript),
    track_http: named(trackHttp),
    vrrp_sync_group: named(vrrpSyncGroup),
    vrrp_instance: named(vrrpInstance),
    SSL: sslBlock,
    virtual_server_group: virtualServerGroup,
    virtual_server: virtualServer,
  },
  { vrrp_track_file: { to: "track_file", deprecated: "use track_file" } },
);

/** The raw document: what a file said, typed, without defaults. */
export type RawDoc = FieldsOf<(typeof rootSpec)["fields"]>;
type Named<T> = T extends Record<string, infer V> ? V : never;
type Item<T> = T extends (infer V)[] ? V : never;

export type RawGlobal = NonNullable<RawDoc["global_defs"]>;
export type RawInstance = Named<NonNullable<RawDoc["vrrp_instance"]>>;
export type RawScript = Named<NonNullable<RawDoc["vrrp_script"]>>;
export type RawHttpTrack = Named<NonNullable<RawDoc["track_http"]>>;
export type RawSyncGroup = Named<NonNullable<RawDoc["vrrp_sync_group"]>>;
export type RawTrackProcess = Named<NonNullable<RawDoc["vrrp_track_process"]>>;
export type RawTrackFile = Named<NonNullable<RawDoc["track_file"]>>;
export type RawVirtualServer = Item<NonNullable<RawDoc["virtual_server"]>>;
export type RawRealServer = Item<ModelOf<typeof realServer>>;
export type RawCheckers = { [K in keyof typeof _checkers]: Item<ModelOf<(typeof _checkers)[K]>> };
export type RawVsgEntry = Item<Named<ModelOf<typeof virtualServerGroup>>>;
