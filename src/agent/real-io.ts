/**
 * The real world for the agent loop: VRRP sockets pooled per interface, family and group
 * (keepalived's socket pool), one receive Worker, libnl for addresses and routes, AF_PACKET
 * for GARP / unsolicited NA, the link monitor for FAULT, and detached notify scripts.
 */
import type { ConsolaInstance } from "consola";
import { formatIp, type IpAddr, parseIp } from "../core/net/ip.ts";
import { Announcer, ipv6Forwarding } from "../io/announcer.ts";
import { monotonicMs } from "../io/clock.ts";
import { forgetInterfaces } from "../io/ifcache.ts";
import { linkUsable, primaryAddress } from "../io/interfaces.ts";
import { startLinkMonitor } from "../io/link-monitor.ts";
import {
  addAddress,
  addRoute,
  addRule,
  closeNetlink,
  createMacvlan,
  deleteAddress,
  deleteLink,
  deleteRoute,
  deleteRule,
  findAddresses,
  linkInfo,
  setLinkUp,
} from "../io/netlink.ts";
import { Receiver, type RxPacket } from "../io/receiver.ts";
import { setSysctl } from "../io/sysctl.ts";
import { openVrrpSocket, type VrrpSocket } from "../io/vrrp-socket.ts";
import type { AgentIo, InstanceIo, LinkChange, Packet } from "./io.ts";
import type { InstancePlan, InterfaceResolver, VmacPlan } from "./params.ts";

interface Pooled {
  readonly sock: VrrpSocket;
  users: number;
}

export interface RealIoOptions {
  readonly garpIntervalMs?: number;
  readonly naIntervalMs?: number;
}

export class RealIo implements AgentIo, InterfaceResolver {
  private readonly pool = new Map<string, Pooled>();
  private readonly keyOfFd = new Map<number, string>();
  private readonly receiver: Receiver;
  private readonly announcer: Announcer;
  private packetCb: ((key: string, p: Packet) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private onDeadline: (() => void) | undefined;
  private monitor: { stop(): Promise<void> } | undefined;
  private started = false;
  private readonly vmacs = new Set<string>();

  constructor(
    private readonly log: ConsolaInstance,
    opts: RealIoOptions = {},
  ) {
    this.receiver = new Receiver((p) => this.onRx(p), {
      onError: (e) => log.warn(`receive: ${e.message}`),
      onTick: () => this.onDeadline?.(),
    });
    this.announcer = new Announcer({
      garpIntervalMs: opts.garpIntervalMs ?? 0,
      naIntervalMs: opts.naIntervalMs ?? 0,
    });
  }

  /** CLOCK_MONOTONIC: the clock the receive Worker stamps packets with. */
  nowMs(): number {
    return monotonicMs();
  }

  /**
   * The one timer lives in the receive Worker's ppoll() (nanosecond resolution); before
   * any socket exists, a plain setTimeout does.
   */
  schedule(atMs: number | undefined, fn: () => void): void {
    this.onDeadline = fn;
    if (this.started) {
      this.receiver.setDeadline(atMs);
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = atMs === undefined ? undefined : setTimeout(fn, Math.max(0, atMs - monotonicMs()));
  }

  primaryAddress(ifname: string, family: 4 | 6): IpAddr | undefined {
    return primaryAddress(ifname, family);
  }

  /** Up and running now (the initial state of a track_interface). */
  linkUp(ifname: string): boolean {
    return linkUsable(ifname);
  }

  interfaceExists(ifname: string): boolean {
    return linkInfo(ifname) !== undefined;
  }

  async open(plan: InstancePlan): Promise<InstanceIo> {
    if (!this.started) {
      await this.receiver.start();
      this.started = true;
    }
    if (plan.vmac) this.ensureVmac(plan.vmac, plan.source);
    const key = `${plan.ifname}|${plan.family}|${plan.unicast ? `u ${formatIp(plan.source)}` : `m ${formatIp(plan.group)}`}`;
    let pooled = this.pool.get(key);
    if (!pooled) {
      const sock = openVrrpSocket({
        ifname: plan.ifname,
        family: plan.family,
        unicast: plan.unicast,
        group: plan.group,
        sourceAddress: plan.source,
        ...(plan.unicast && plan.family === 6 ? { ttl: plan.ttl } : {}),
      });
      pooled = { sock, users: 0 };
      this.pool.set(key, pooled);
      this.keyOfFd.set(sock.fd, key);
      this.receiver.add(sock.fd, plan.family);
    }
    pooled.users++;
    return this.instanceIo(plan, key, pooled);
  }

  /** Create the VMAC (macvlan, private mode) and set the sysctls keepalived sets (§2.12). */
  private ensureVmac(v: VmacPlan, source: IpAddr): void {
    if (this.vmacs.has(v.name)) return;
    // One left by a crashed run is recreated, so it comes back clean (no stale addresses).
    if (linkInfo(v.name)?.kind === "macvlan") deleteLink(v.name, { kind: "macvlan" });
    // Every node's VMAC has the same MAC: a kernel-made EUI-64 link-local would be the same
    // address on every node, so address generation is off (keepalived, issue #2296).
    createMacvlan({
      parent: v.parent,
      name: v.name,
      mac: v.mac,
      mode: "private",
      ipv6AddrGenNone: true,
    });
    setLinkUp(v.name);
    forgetInterfaces();
    this.vmacs.add(v.name);
    // An IPv6 VMAC needs a link-local to send from: keepalived derives one from the parent's
    // MAC; we give it the parent's own, the advert source (the same address in the usual
    // EUI-64 case, and always the one adverts leave with).
    if (v.family === 6) addAddress({ address: `${formatIp(source)}/64` }, v.name);
    // Answer ARP for the VIPs only from the VMAC, and accept our own source (keepalived).
    setSysctl(`net/ipv4/conf/${v.name}/arp_ignore`, "1", this.log);
    setSysctl(`net/ipv4/conf/${v.name}/accept_local`, "1", this.log);
    setSysctl(`net/ipv4/conf/${v.name}/rp_filter`, "0", this.log);
    setSysctl(`net/ipv4/conf/${v.parent}/arp_ignore`, "1", this.log);
    setSysctl(`net/ipv4/conf/${v.parent}/arp_filter`, "1", this.log);
  }

  private instanceIo(plan: InstancePlan, key: string, pooled: Pooled): InstanceIo {
    const addrs = addressesOf(plan);
    const each = (what: string, fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        this.log.error(`(${plan.name}) ${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    return {
      socketKey: key,
      send: (bytes, dst) => {
        pooled.sock.send(bytes, dst);
      },
      addVips: () => {
        for (const a of addrs) each(`add ${a.address}`, () => addAddress(a, plan.vipDev));
        for (const r of plan.routes) each(`add route ${r.to}`, () => addRoute(r));
        for (const r of plan.rules) each("add rule", () => addRule(r));
      },
      removeVips: () => {
        for (const r of plan.rules) each("delete rule", () => deleteRule(r));
        for (const r of plan.routes) each(`delete route ${r.to}`, () => deleteRoute(r));
        for (const a of addrs) each(`delete ${a.address}`, () => deleteAddress(a, plan.vipDev));
      },
      adjustVips: (from) => {
        const key = (x: unknown) => JSON.stringify(x);
        const was = { a: addressesOf(from), r: from.routes, u: from.rules };
        const now = { a: addrs, r: plan.routes, u: plan.rules };
        const gone = <T>(xs: readonly T[], ys: readonly T[]) => {
          const keep = new Set(ys.map(key));
          return xs.filter((x) => !keep.has(key(x)));
        };
        for (const r of gone(was.u, now.u)) each("delete rule", () => deleteRule(r));
        for (const r of gone(was.r, now.r)) each(`delete route ${r.to}`, () => deleteRoute(r));
        for (const a of gone(was.a, now.a))
          each(`delete ${a.address}`, () => deleteAddress(a, a.dev ?? from.vipDev));
        for (const a of gone(now.a, was.a))
          each(`add ${a.address}`, () => addAddress(a, plan.vipDev));
        for (const r of gone(now.r, was.r)) each(`add route ${r.to}`, () => addRoute(r));
        for (const r of gone(now.u, was.u)) each("add rule", () => addRule(r));
      },
      garp: (repeat) => this.announce(plan, repeat),
      removeLeftovers: () => {
        // A crashed run may have left them on the VMAC or, before use_vmac, on the parent.
        const places = [...new Set([plan.vipDev, ...(plan.vmac ? [plan.vmac.parent] : [])])];
        let n = 0;
        for (const dev of places) {
          const { present } = findAddresses(
            dev,
            addrs.map((a) => ({ ...a, dev })),
          );
          for (const a of present)
            each(`delete leftover ${a.address} on ${dev}`, () => deleteAddress(a, dev));
          n += present.length;
        }
        return n;
      },
      linkUp: () => plan.tracked.every((i) => linkUsable(i)),
      close: () => {
        pooled.users--;
      },
    };
  }

  /** GARP for IPv4, unsolicited NA for IPv6, `repeat` times each, paced by the announcer. */
  private announce(plan: InstancePlan, repeat: number): void {
    for (const a of [...plan.vips, ...plan.evips]) {
      const ip = parseIp(a.address.split("/")[0] ?? "");
      if (!ip) continue;
      const dev =
        a.dev === undefined || (plan.vmac && a.dev === plan.vmac.parent) ? plan.vipDev : a.dev;
      for (let n = 0; n < repeat; n++) {
        const sent =
          ip.family === 4
            ? this.announcer.garp(dev, ip)
            : this.announcer.unsolicitedNa(dev, ip, ipv6Forwarding(dev));
        sent.catch((e: unknown) =>
          this.log.warn(
            `(${plan.name}) announce ${a.address} on ${dev}: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
      }
    }
  }

  onPacket(cb: (key: string, p: Packet) => void): void {
    this.packetCb = cb;
  }

  private onRx(p: RxPacket): void {
    if (p.truncated) return;
    const key = this.keyOfFd.get(p.fd);
    if (key) this.packetCb?.(key, { ...p, rxAtMs: p.rxMonoMs });
  }

  async onLink(cb: (c: LinkChange) => void): Promise<void> {
    this.monitor = await startLinkMonitor(
      (e) => {
        if (e.kind !== "link") return;
        forgetInterfaces();
        if (e.ifname) cb({ ifname: e.ifname, up: e.action === "new" && e.up && e.running });
      },
      { onError: (e) => this.log.warn(`link monitor: ${e.message}`) },
    );
  }

  async close(): Promise<void> {
    this.schedule(undefined, () => {});
    await this.monitor?.stop();
    for (const [, p] of this.pool) {
      await this.receiver.remove(p.sock.fd);
      p.sock.close();
    }
    this.pool.clear();
    await this.receiver.stop();
    this.announcer.close();
    // keepalived deletes its VMACs at shutdown (§2.17).
    for (const name of this.vmacs) {
      try {
        deleteLink(name, { kind: "macvlan" });
      } catch (e) {
        this.log.warn(`delete ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    closeNetlink();
  }
}

/** A plan's addresses as they go on the host: with a VMAC, those on the parent (or on no
 * interface) move onto it. */
function addressesOf(plan: InstancePlan): InstancePlan["vips"] {
  return [...plan.vips, ...plan.evips].map((a) =>
    a.dev === undefined || (plan.vmac !== undefined && a.dev === plan.vmac.parent)
      ? { ...a, dev: plan.vipDev }
      : a,
  );
}
