/**
 * The agent's seam to the world. The real implementation (real-io.ts) uses raw sockets, a
 * receive Worker, libnl and AF_PACKET; tests and the simulated demo pass their own.
 */
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { IpAddr } from "../core/net/ip.ts";
import type { HttpProbeSpec } from "../core/track/http-spec.ts";
import type { ProcessMatcher } from "../core/track/process-match.ts";
import type { InstancePlan } from "./params.ts";

/** One received datagram, as the receive Worker reports it. */
export interface Packet {
  readonly family: 4 | 6;
  readonly ifindex: number;
  readonly src: IpAddr;
  readonly dst: IpAddr | undefined;
  readonly ttl: number | undefined;
  /** IPv4: IP header + VRRP; IPv6: the VRRP message. */
  readonly bytes: Uint8Array;
  /** When it was read, on the agent's clock (nowMs); timers run from here. */
  readonly rxAtMs?: number;
}

/** What an instance can do to the world. */
export interface InstanceIo {
  /** Instances sharing a receive socket share this key (keepalived's socket pool). */
  readonly socketKey: string;
  /** Send one advert (IPv4: with its IP header) to one destination. */
  send(bytes: Uint8Array, dst: IpAddr): void;
  addVips(): void;
  removeVips(): void;
  /**
   * Reload of a MASTER: move the host from `from`'s addresses, routes and rules to this
   * plan's, touching only what differs (an address both keep is never deleted).
   */
  adjustVips(from: InstancePlan): void;
  /** A burst of GARP / unsolicited NA for every VIP and excluded VIP. */
  garp(repeat: number): void;
  /** Remove VIPs an earlier run left behind (a crash leaves them, reference §2.17); count removed. */
  removeLeftovers(): number;
  /** Whether the instance's interface is up and running now. */
  linkUp(): boolean;
  close(): void;
}

export interface LinkChange {
  readonly ifname: string;
  readonly up: boolean;
}

export interface AgentIo {
  /** Monotonic milliseconds. */
  nowMs(): number;
  /** Arm the one timer (replacing any armed before); undefined disarms it. */
  schedule(atMs: number | undefined, fn: () => void): void;
  open(plan: InstancePlan): Promise<InstanceIo>;
  /** Datagrams from every opened instance's socket, keyed by socketKey. */
  onPacket(cb: (socketKey: string, p: Packet) => void): void;
  /** Interface up/down events, if the implementation can watch them. */
  onLink(cb: (c: LinkChange) => void): Promise<void>;
  close(): Promise<void>;
}

/** A running script, as the trackers see it. */
export interface ScriptProc {
  readonly pid: number;
  /** To the script's whole process group (also after the leader exited). */
  signal(sig: "SIGTERM" | "SIGKILL"): void;
}

export interface Stoppable {
  stop(): void;
}

/** What the trackers need from the world: a timer, scripts, watchers, probes. */
export interface TrackerIo {
  /**
   * The trackers' own timer (replacing any armed before; undefined disarms), apart from the
   * VRRP one: script starts need milliseconds, not the VRRP timer's sub-millisecond path
   * through the receive Worker, which would cost a round trip per start.
   */
  scheduleTracker(atMs: number | undefined, fn: () => void): void;
  /** Start a tracker script; `onExit` gets exit-0-or-not. undefined: it could not start. */
  startScript(
    cmd: ScriptCommand,
    why: string,
    onExit: (success: boolean, signal?: string) => void,
  ): ScriptProc | undefined;
  /** Count running processes per tracker; `onCount` on every change. */
  watchProcesses(
    specs: readonly { readonly name: string; readonly match: ProcessMatcher }[],
    onCount: (name: string, count: number) => void,
  ): Stoppable;
  /** Read the file's integer now and whenever it changes (track_file, with init_file). */
  watchFile(
    path: string,
    init: { readonly value: number; readonly overwrite: boolean } | undefined,
    onValue: (value: number | undefined) => void,
  ): Stoppable;
  /** One track_http probe; resolves with success, never rejects. */
  probeHttp(spec: HttpProbeSpec): Promise<boolean>;
}
