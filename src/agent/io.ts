/**
 * The agent's seam to the world. The real implementation (real-io.ts) uses raw sockets, a
 * receive Worker, libnl and AF_PACKET; tests and the simulated demo pass their own.
 */
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { IpAddr } from "../core/net/ip.ts";
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
  /** Run a notify script, detached; never blocks and never throws. */
  runScript(cmd: ScriptCommand, extraArgs: readonly string[], why: string): void;
  close(): Promise<void>;
}
