/**
 * A simulated L2 segment for the real agent loop: hosts with interfaces and addresses, a
 * virtual clock, and adverts carried as the very bytes the agent encodes. Used by tests (the
 * whole shell without root) and by `agent demo` where namespaces can't be created.
 */
import type { ScriptCommand } from "../config/lines/shell.ts";
import { formatIp, type IpAddr, ipEqual, isMulticast, parseIp } from "../core/net/ip.ts";
import type { HttpProbeSpec } from "../core/track/http-spec.ts";
import type { HookIo } from "./hooks.ts";
import type {
  AgentIo,
  InstanceIo,
  LinkChange,
  Packet,
  ScriptProc,
  Stoppable,
  TrackerIo,
} from "./io.ts";
import type { InstancePlan } from "./params.ts";

interface Timed {
  at: number;
  seq: number;
  fn: () => void;
}

export interface SimInterface {
  readonly name: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

export class SimNet {
  now = 0;
  private seq = 0;
  private queue: Timed[] = [];
  readonly hosts: SimHost[] = [];
  /** One-way delay of every frame. */
  delayMs = 0.2;

  at(at: number, fn: () => void): void {
    this.queue.push({ at, seq: this.seq++, fn });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  host(name: string, ifaces: readonly SimInterface[]): SimHost {
    const h = new SimHost(this, name, ifaces);
    this.hosts.push(h);
    return h;
  }

  /** Run every event up to `untilMs` (virtual time). */
  run(untilMs: number): void {
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > untilMs) break;
      this.queue.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = untilMs;
  }

  /** Carry a frame from `from` to every host that would receive it. */
  deliver(from: SimHost, ifname: string, socketKey: string, p: Packet): void {
    for (const h of this.hosts) {
      if (h === from || !h.alive || !h.isUp(ifname)) continue;
      if (!isMulticast(p.dst as IpAddr) && !h.owns(p.dst as IpAddr)) continue;
      this.at(this.now + this.delayMs, () =>
        h.receive(socketKey, { ...p, bytes: p.bytes.slice() }),
      );
    }
  }
}

/** How a simulated tracker script ends: exit status after `runMs`, or never (until signalled). */
export type SimOutcome =
  | { readonly success: boolean; readonly runMs?: number }
  | { readonly hang: "term" | "kill" };

export class SimHost implements AgentIo, HookIo, TrackerIo {
  alive = true;
  /** Addresses this host holds now (VIPs included), for display and invariants. */
  readonly held = new Set<string>();
  /** Every address this host removed (a reload must remove none it keeps). */
  vipDeletions = 0;
  readonly scripts: { at: number; argv: string[]; why: string }[] = [];
  readonly garps: { at: number; instance: string; repeat: number }[] = [];
  private timerGen = 0;
  private packetCb: ((key: string, p: Packet) => void) | undefined;
  private linkCb: ((c: LinkChange) => void) | undefined;
  private readonly down = new Set<string>();
  /** Lines written to the notify FIFO; mails as "kind name STATE". */
  readonly fifoLines: string[] = [];
  readonly mails: string[] = [];
  /** Decides each tracker script run or probe (argv[0] or the URL); default: success. */
  outcome: (what: string) => SimOutcome = () => ({ success: true });
  /** Tracker starts, as `at what`. */
  readonly trackerRuns: { at: number; what: string }[] = [];
  private nextPid = 1000;
  private readonly processCbs: ((name: string, count: number) => void)[] = [];
  private readonly fileCbs = new Map<string, (v: number | undefined) => void>();

  constructor(
    readonly net: SimNet,
    readonly name: string,
    readonly ifaces: readonly SimInterface[],
  ) {}

  nowMs(): number {
    return this.net.now;
  }

  schedule(atMs: number | undefined, fn: () => void): void {
    const gen = ++this.timerGen;
    if (atMs === undefined) return;
    this.net.at(Math.max(atMs, this.net.now), () => {
      if (this.alive && gen === this.timerGen) fn();
    });
  }

  private trackerGen = 0;

  /** The trackers' timer (TrackerIo), apart from the VRRP one. */
  scheduleTracker(atMs: number | undefined, fn: () => void): void {
    const gen = ++this.trackerGen;
    if (atMs === undefined) return;
    this.net.at(Math.max(atMs, this.net.now), () => {
      if (this.alive && gen === this.trackerGen) fn();
    });
  }

  isUp(ifname: string): boolean {
    return !this.down.has(ifname);
  }

  owns(a: IpAddr): boolean {
    return this.ifaces.some((i) => [i.ipv4, i.ipv6].some((x) => ipEqual(parseIp(x) as IpAddr, a)));
  }

  async open(plan: InstancePlan): Promise<InstanceIo> {
    const socketKey = `${plan.ifname}|${plan.family}|${plan.unicast ? "u" : "m"}`;
    const ifname = plan.ifname;
    return {
      socketKey,
      send: (bytes, dst) => {
        if (!this.alive || !this.isUp(ifname)) return;
        this.net.deliver(this, ifname, socketKey, {
          family: plan.family,
          ifindex: 1,
          src: plan.source,
          dst,
          ttl: 255,
          bytes: bytes.slice(),
        });
      },
      addVips: () => {
        for (const v of [...plan.vips, ...plan.evips]) this.held.add(v.address);
      },
      removeVips: () => {
        for (const v of [...plan.vips, ...plan.evips])
          if (this.held.delete(v.address)) this.vipDeletions++;
      },
      adjustVips: (from) => {
        const want = new Set([...plan.vips, ...plan.evips].map((v) => v.address));
        for (const v of [...from.vips, ...from.evips])
          if (!want.has(v.address) && this.held.delete(v.address)) this.vipDeletions++;
        for (const a of want) this.held.add(a);
      },
      garp: (repeat) => {
        this.garps.push({ at: this.net.now, instance: plan.name, repeat });
      },
      removeLeftovers: () => {
        let n = 0;
        for (const v of [...plan.vips, ...plan.evips]) if (this.held.delete(v.address)) n++;
        return n;
      },
      linkUp: () => this.isUp(ifname),
      close: () => {},
    };
  }

  onPacket(cb: (key: string, p: Packet) => void): void {
    this.packetCb = cb;
  }

  async onLink(cb: (c: LinkChange) => void): Promise<void> {
    this.linkCb = cb;
  }

  receive(key: string, p: Packet): void {
    // A multicast frame reaches every instance socket on the segment; unicast only ours.
    const sameKind = key.endsWith(isMulticast(p.dst as IpAddr) ? "|m" : "|u");
    if (this.alive && sameKind) this.packetCb?.(key, p);
  }

  setLink(ifname: string, up: boolean): void {
    if (up) this.down.delete(ifname);
    else this.down.add(ifname);
    this.linkCb?.({ ifname, up });
  }

  runScript(cmd: ScriptCommand, extraArgs: readonly string[], why: string): void {
    this.scripts.push({ at: this.net.now, argv: [...cmd.command, ...extraArgs], why });
  }

  fifo(line: string): void {
    this.fifoLines.push(line);
  }

  mail(kind: string, name: string, state: string): void {
    this.mails.push(`${kind} ${name} ${state}`);
  }

  startScript(
    cmd: ScriptCommand,
    _why: string,
    onExit: (success: boolean, signal?: string) => void,
  ): ScriptProc | undefined {
    const what = cmd.command[0] ?? "";
    this.trackerRuns.push({ at: this.net.now, what });
    const o = this.outcome(what);
    let done = false;
    const exit = (success: boolean, signal?: string) => {
      if (done || !this.alive) return;
      done = true;
      onExit(success, signal);
    };
    if ("success" in o) this.net.at(this.net.now + (o.runMs ?? 5), () => exit(o.success));
    const pid = this.nextPid++;
    return {
      pid,
      signal: (sig) => {
        if ("hang" in o && (sig === "SIGKILL" || o.hang === "term"))
          this.net.at(this.net.now + 1, () => exit(false, sig));
      },
    };
  }

  watchProcesses(
    _specs: readonly { readonly name: string }[],
    onCount: (name: string, count: number) => void,
  ): Stoppable {
    this.processCbs.push(onCount);
    return { stop: () => {} };
  }

  /** The simulated /proc: `count` processes now match track_process `name`. */
  setProcessCount(name: string, count: number): void {
    for (const cb of this.processCbs) cb(name, count);
  }

  watchFile(path: string, _init: unknown, onValue: (v: number | undefined) => void): Stoppable {
    this.fileCbs.set(path, onValue);
    return { stop: () => this.fileCbs.delete(path) };
  }

  setFile(path: string, value: number | undefined): void {
    this.fileCbs.get(path)?.(value);
  }

  async probeHttp(spec: HttpProbeSpec): Promise<boolean> {
    this.trackerRuns.push({ at: this.net.now, what: spec.url });
    const o = this.outcome(spec.url);
    return "success" in o && o.success;
  }

  /** kill -9: nothing more is sent or received; held addresses stay. */
  crash(): void {
    this.alive = false;
  }

  async close(): Promise<void> {}

  primaryAddress(ifname: string, family: 4 | 6): IpAddr | undefined {
    const i = this.ifaces.find((x) => x.name === ifname);
    return i ? parseIp(family === 4 ? i.ipv4 : i.ipv6) : undefined;
  }
}

export { formatIp };
