/**
 * An L2 lab of network namespaces that a test creates and removes itself, and the processes
 * it runs in them (the compiled agent, keepalived, `ip monitor`, tshark).
 *
 * Shape (as /work/shared/tools/netns-lab.sh, but every name carries the test's PID):
 *   `ea-TAG-PID-sw`  holds bridge br0 (STP off, multicast snooping off: ff02::12 would
 *                    otherwise be pruned once an MLD querier exists), IPv6 off, silent;
 *   `ea-TAG-PID-hI`  holds eth0, a veth into br0: 192.0.2.(10+I)/24, 2001:db8::(10+I)/64,
 *                    MAC 02:1a:b0:00:00:0I, DAD off (sysctls set before any address).
 * Nothing is created in, or sent from, the root namespace.
 *
 * Waiting is always for an event with a bound (a log line, a netlink address event, a
 * captured frame), and a timeout fails with what was seen instead.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { AddrMonitor, Events } from "./capture.ts";
import { missing, REPO, run } from "./env.ts";

export const AGENT = `${REPO}/dist/agent`;

/** Wall-clock milliseconds (tshark and `ip -ts monitor` stamp frames and events with it). */
export const epochMs = (): number => Date.now();

/** Why the lab cannot run here (root, ip, tshark), or undefined. */
export function labMissing(extra: string[] = []): string | undefined {
  return missing({ root: true, commands: ["ip", "bash", "tshark", ...extra] });
}

/** Builds the agent binary unless it is there already (tests run the compiled binary). */
export function ensureAgentBinary(): void {
  if (Bun.file(AGENT).size > 0) return;
  const r = run([process.execPath, `${REPO}/scripts/build.ts`]);
  if (r.code !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

/** Waits (bounded) for a condition that has no event to wait for (a neighbour entry). */
export async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

// ─── processes ─────────────────────────────────────────────────────────────────────────

export interface Line {
  /** Arrival time, epoch ms. */
  readonly t: number;
  readonly stream: "out" | "err";
  readonly text: string;
}

/** A process we started: its PID, its output as timestamped lines, its exit. */
export class Proc {
  readonly lines: Events<Line>;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  /** undefined while running. */
  exitCode: number | null | undefined;
  signalCode: string | null = null;
  readonly child: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;

  constructor(
    readonly name: string,
    readonly cmd: readonly string[],
    /** Extra environment variables (Bun.spawn otherwise passes the one we started with). */
    env?: Readonly<Record<string, string>>,
  ) {
    this.lines = new Events<Line>(`${name} output`, (l) => `[${l.stream}] ${l.text}`);
    this.child = Bun.spawn([...cmd], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    this.pid = this.child.pid;
    const out = this.read(this.child.stdout, "out");
    const err = this.read(this.child.stderr, "err");
    this.exited = this.child.exited.then(async (code) => {
      await Promise.all([out, err]);
      this.exitCode = this.child.signalCode ? null : code;
      this.signalCode = this.child.signalCode ? String(this.child.signalCode) : null;
      this.lines.end(`${name} exited (${this.signalCode ?? `code ${this.exitCode}`})`);
      return this.exitCode;
    });
  }

  private async read(s: ReadableStream<Uint8Array>, stream: "out" | "err"): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of s) {
      buf += dec.decode(chunk, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        this.lines.push({ t: epochMs(), stream, text: buf.slice(0, nl) });
        buf = buf.slice(nl + 1);
      }
    }
    if (buf) this.lines.push({ t: epochMs(), stream, text: buf });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Everything it printed so far. */
  get text(): string {
    return this.lines.items.map((l) => l.text).join("\n");
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }

  /** A line matching `re` printed at or after mark `from`. */
  waitLine(re: RegExp, timeoutMs: number, from = 0): Promise<Line> {
    return this.lines.waitFor((l) => re.test(l.text), timeoutMs, `line /${re.source}/`, from);
  }

  /** Signals (default SIGTERM) and waits for the exit; SIGKILL after `graceMs`. */
  async stop(sig: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.signal(sig);
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** kill -9, and wait for the exit. */
  async kill9(): Promise<void> {
    this.signal("SIGKILL");
    await this.exited;
  }
}

/** True while `pid` exists and is not a zombie (an exited child nobody reaped yet). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

// ─── the lab ───────────────────────────────────────────────────────────────────────────

export interface Host {
  /** 1-based. */
  readonly i: number;
  /** h1, h2, … */
  readonly name: string;
  readonly ns: string;
  readonly ip4: string;
  readonly ip6: string;
  readonly mac: string;
  /** eth0's IPv6 link-local address (the VRRPv3 IPv6 source). */
  readonly linkLocal: string;
}

export class Lab {
  readonly sw: string;
  readonly hosts: Host[] = [];
  readonly dir: string;
  private readonly procs: Proc[] = [];
  /** PIDs we caused to exist that are not our children (keepalived's VRRP child). */
  private readonly extraPids = new Map<number, Proc>();
  private seq = 0;

  private constructor(readonly tag: string) {
    const base = `ea-${tag}-${process.pid}`;
    this.sw = `${base}-sw`;
    this.dir = `/tmp/${base}`;
  }

  static async create(tag: string, n: number): Promise<Lab> {
    const lab = new Lab(tag);
    try {
      await lab.build(n);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  private async build(n: number): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const sw = this.sw;
    sh(["ip", "netns", "add", sw]);
    sh(["ip", "-n", sw, "link", "set", "lo", "up"]);
    this.sysctl(sw, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    sh(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"]);
    sh(["ip", "-n", sw, "link", "set", "br0", "type", "bridge", "stp_state", "0"]);
    sh(["ip", "-n", sw, "link", "set", "br0", "type", "bridge", "forward_delay", "0"]);
    sh(["ip", "-n", sw, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0"]);
    sh(["ip", "-n", sw, "link", "set", "br0", "address", "02:1a:b0:ff:ff:fe", "up"]);
    for (let i = 1; i <= n; i++) {
      const ns = `${sw.slice(0, -3)}-h${i}`;
      sh(["ip", "netns", "add", ns]);
      sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
      // Before eth0 exists: an interface that arrives later takes the defaults.
      this.sysctl(ns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
      this.ip(sw, ...`link add h${i} type veth peer name eth0 netns ${ns}`.split(" "));
      sh(["ip", "-n", sw, "link", "set", `h${i}`, "master", "br0", "up"]);
      this.sysctl(ns, "net.ipv6.conf.eth0.accept_dad=0", "net.ipv6.conf.eth0.dad_transmits=0");
      const mac = `02:1a:b0:00:00:${i.toString(16).padStart(2, "0")}`;
      sh(["ip", "-n", ns, "link", "set", "eth0", "address", mac, "up"]);
      const ip4 = `192.0.2.${10 + i}`;
      const ip6 = `2001:db8::${10 + i}`;
      sh(["ip", "-n", ns, "addr", "add", `${ip4}/24`, "dev", "eth0"]);
      sh(["ip", "-n", ns, "-6", "addr", "add", `${ip6}/64`, "dev", "eth0", "nodad"]);
      let linkLocal = "";
      await until(
        () => {
          const out = this.ip(ns, ..."-6 -o addr show dev eth0 scope link".split(" "));
          linkLocal = /inet6 (fe80::[0-9a-f:]+)\/64/.exec(out)?.[1] ?? "";
          return linkLocal !== "" && !/tentative/.test(out);
        },
        5000,
        `a link-local address on ${ns} eth0`,
      );
      this.hosts.push({ i, name: `h${i}`, ns, ip4, ip6, mac, linkLocal });
    }
  }

  /**
   * Sets `key=value` sysctls inside a namespace (or a host's) by writing /proc/sys there,
   * so that procps need not be installed.
   */
  sysctl(ns: Host | string, ...settings: string[]): void {
    const writes = settings.map((kv) => {
      const [key, value] = kv.split("=") as [string, string];
      return `echo ${value} > /proc/sys/${key.replaceAll(".", "/")}`;
    });
    const name = typeof ns === "string" ? ns : ns.ns;
    sh(["ip", "netns", "exec", name, "bash", "-ec", writes.join("\n")]);
  }

  h(i: number): Host {
    const h = this.hosts[i - 1];
    if (!h) throw new Error(`the lab has no host h${i}`);
    return h;
  }

  /** Runs `ip -n NS args…`, throwing with its stderr on failure. */
  ip(host: Host | string, ...args: string[]): string {
    return sh(["ip", "-n", typeof host === "string" ? host : host.ns, ...args]);
  }

  /** Starts `cmd` inside `host`'s namespace (the switch's for a string). */
  spawn(
    name: string,
    host: Host | string,
    cmd: readonly string[],
    env?: Readonly<Record<string, string>>,
  ): Proc {
    const ns = typeof host === "string" ? host : host.ns;
    const p = new Proc(name, ["ip", "netns", "exec", ns, ...cmd], env);
    this.procs.push(p);
    return p;
  }

  /** Starts an address monitor on `host` and returns once it is known to be listening. */
  async monitor(host: Host): Promise<AddrMonitor> {
    const m = new AddrMonitor(
      this.spawn(`${host.name} ip monitor`, host, ["ip", "-ts", "monitor", "address"]),
    );
    // A marker on lo proves the monitor is subscribed before the test acts.
    const mark = m.events.mark;
    for (let i = 0; ; i++) {
      this.ip(host, "addr", "add", "127.0.0.2/8", "dev", "lo");
      this.ip(host, "addr", "del", "127.0.0.2/8", "dev", "lo");
      const seen = await m.added("127.0.0.2", 50, mark).then(
        () => true,
        () => false,
      );
      if (seen) return m;
      if (i === 100) throw new Error(`the address monitor on ${host.name} never started`);
    }
  }

  /** eth0's addresses on `host` (with prefix lengths), or another device's (none if it is missing). */
  addrs(host: Host, dev = "eth0"): string[] {
    const r = run(["ip", "-n", host.ns, "-o", "addr", "show", "dev", dev]);
    if (r.code !== 0) {
      if (/does not exist/.test(r.stderr)) return [];
      throw new Error(`ip -n ${host.ns} addr show dev ${dev}: ${r.stderr.trim()}`);
    }
    return [...r.stdout.matchAll(/ inet6? (\S+)/g)].map((m) => m[1] as string);
  }

  hasAddr(host: Host, addr: string, dev = "eth0"): boolean {
    return this.addrs(host, dev).some((a) => a.split("/")[0] === addr);
  }

  /** `host`'s neighbour entry for `ip` on eth0: its MAC, or undefined. */
  neigh(host: Host, ip: string): string | undefined {
    const out = this.ip(
      host,
      ...(ip.includes(":") ? ["-6"] : []),
      "neigh",
      "show",
      ip,
      "dev",
      "eth0",
    );
    return /lladdr ([0-9a-f:]+)/.exec(out)?.[1];
  }

  private file(name: string, text: string): string {
    const path = `${this.dir}/${name}`;
    writeFileSync(path, text);
    return path;
  }

  /**
   * Runs the compiled agent in `host` with `conf` (keepalived syntax), logging at debug
   * level so a failure shows what it did. Its control socket is private to this run.
   */
  agent(host: Host, conf: string, label = "agent", env?: Readonly<Record<string, string>>): Proc {
    const name = `${host.name}-${label}-${this.seq++}`;
    const path = this.file(`${name}.conf`, conf);
    return this.spawn(
      name,
      host,
      [
        AGENT,
        "run",
        "--config",
        path,
        "--control",
        `${this.dir}/${name}.sock`,
        "--log-level",
        "debug",
      ],
      env,
    );
  }

  /**
   * Runs keepalived 2.2.7 in `host` in the foreground, logging to the console (-n -l -D),
   * VRRP only and without syslog (-P -G); resolves once its VRRP child has started.
   */
  async keepalived(host: Host, conf: string): Promise<Keepalived> {
    const name = `${host.name}-keepalived-${this.seq++}`;
    const path = this.file(`${name}.conf`, conf);
    const p = this.spawn(name, host, [
      "keepalived",
      ...["-n", "-l", "-D", "-G", "-P"],
      ...["-f", path, "-p", `${this.dir}/${name}.pid`, "-r", `${this.dir}/${name}.vrrp.pid`],
    ]);
    const line = await p.waitLine(/Starting VRRP child process, pid=\d+/, 10_000);
    const child = Number(/pid=(\d+)/.exec(line.text)?.[1]);
    this.extraPids.set(child, p);
    return new Keepalived(p, child);
  }

  /** How many processes were started so far (a mark for dump). */
  get started(): number {
    return this.procs.length;
  }

  /** The output of every process started since mark `from` (for LAB_VERBOSE=1). */
  dump(from = 0): string {
    return this.procs
      .slice(from)
      .filter((p) => !p.name.includes("monitor") && !p.cmd.includes("tshark"))
      .map((p) => `── ${p.name} (pid ${p.pid})\n${p.text}`)
      .join("\n");
  }

  /** Every process we started that still runs (or those `which` picks): TERM, KILL after a bound. */
  async stopAll(which: (p: Proc) => boolean = () => true): Promise<void> {
    await Promise.all(
      this.procs
        .filter((p) => p.running && which(p))
        .map((p) => p.stop(p.cmd.includes("tshark") ? "SIGINT" : "SIGTERM", 4000)),
    );
    for (const [pid, parent] of this.extraPids) {
      if (parent.running) continue;
      if (pidAlive(pid)) process.kill(pid, "SIGKILL");
      this.extraPids.delete(pid);
    }
  }

  /**
   * Between scenarios: stop what runs, then put every host back to its base addresses,
   * empty neighbour tables and no VMAC interfaces, whatever a crashed run left.
   */
  async reset(): Promise<void> {
    await this.stopAll();
    for (const h of this.hosts) {
      for (const a of this.addrs(h)) {
        const bare = a.split("/")[0] as string;
        if (bare === h.ip4 || bare === h.ip6 || bare === h.linkLocal) continue;
        this.ip(h, "addr", "del", a, "dev", "eth0");
      }
      const links = this.ip(h, "-o", "link", "show");
      for (const m of links.matchAll(/^\d+: ([^:@]+)[:@]/gm)) {
        const dev = m[1] as string;
        // Deleting one end of a veth pair deletes the other: a missing device is fine.
        if (dev !== "lo" && dev !== "eth0") run(["ip", "-n", h.ns, "link", "del", dev]);
      }
      this.ip(h, "neigh", "flush", "dev", "eth0");
      this.ip(h, "-6", "neigh", "flush", "dev", "eth0");
    }
  }

  /** Stops everything, also processes left in our namespaces, and deletes them. */
  async destroy(): Promise<void> {
    await this.stopAll().catch(() => undefined);
    const mine = [this.sw, ...this.hosts.map((h) => h.ns)];
    const listed = run(["ip", "netns", "list"]).stdout;
    const ours = new RegExp(`^${this.sw.slice(0, -3)}-(sw|h\\d+)$`);
    for (const m of listed.matchAll(/^(\S+)/gm))
      if (m[1] && ours.test(m[1]) && !mine.includes(m[1])) mine.push(m[1]);
    for (const ns of mine) {
      // Only what we started can be in namespaces whose names carry our PID.
      for (const pid of run(["ip", "netns", "pids", ns]).stdout.split(/\s+/).filter(Boolean))
        if (pidAlive(Number(pid))) process.kill(Number(pid), "SIGKILL");
      run(["ip", "netns", "del", ns]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** keepalived's parent (our child) and its VRRP child. */
export class Keepalived {
  constructor(
    readonly proc: Proc,
    readonly childPid: number,
  ) {}

  /**
   * A crash: kill -9 of the VRRP child. The parent is stopped first so that it can neither
   * respawn the child nor, by dying first, make it stop gracefully (PR_SET_PDEATHSIG), then
   * it is killed too.
   */
  async crash(): Promise<void> {
    this.proc.signal("SIGSTOP");
    if (pidAlive(this.childPid)) process.kill(this.childPid, "SIGKILL");
    this.proc.signal("SIGKILL");
    await this.proc.exited;
    await until(() => !pidAlive(this.childPid), 3000, `keepalived child ${this.childPid} gone`);
  }

  /** SIGTERM to the parent: the child sends priority 0, removes its VIPs and exits. */
  async stop(): Promise<number | null> {
    const code = await this.proc.stop("SIGTERM", 8000);
    await until(() => !pidAlive(this.childPid), 3000, `keepalived child ${this.childPid} gone`);
    return code;
  }
}

// ─── configuration ─────────────────────────────────────────────────────────────────────

export interface VrrpOpts {
  readonly name?: string;
  readonly state?: "MASTER" | "BACKUP";
  readonly priority: number;
  readonly vrid?: number;
  readonly version?: 2 | 3;
  /** Seconds. */
  readonly advertInt?: number;
  readonly vips: readonly string[];
  /** A PASS password (VRRPv2 only). */
  readonly authPass?: string;
  readonly iface?: string;
  readonly unicastSrc?: string;
  readonly unicastPeers?: readonly string[];
  readonly nopreempt?: boolean;
  /** Seconds. */
  readonly preemptDelay?: number;
  /** Seconds. */
  readonly garpMasterDelay?: number;
  readonly useVmac?: boolean;
}

/** A keepalived.conf with one vrrp_instance; the agent and keepalived both read it. */
export function vrrpConf(o: VrrpOpts, routerId = "lab"): string {
  const l: string[] = [
    "global_defs {",
    `    router_id ${routerId}`,
    `    vrrp_version ${o.version ?? 2}`,
    "}",
    `vrrp_instance ${o.name ?? "VI_1"} {`,
    `    state ${o.state ?? "BACKUP"}`,
    `    interface ${o.iface ?? "eth0"}`,
    `    virtual_router_id ${o.vrid ?? 51}`,
    `    priority ${o.priority}`,
    `    advert_int ${o.advertInt ?? 1}`,
  ];
  if (o.nopreempt) l.push("    nopreempt");
  if (o.preemptDelay !== undefined) l.push(`    preempt_delay ${o.preemptDelay}`);
  if (o.garpMasterDelay !== undefined) l.push(`    garp_master_delay ${o.garpMasterDelay}`);
  if (o.useVmac) l.push("    use_vmac");
  if (o.authPass !== undefined)
    l.push(
      "    authentication {",
      "        auth_type PASS",
      `        auth_pass ${o.authPass}`,
      "    }",
    );
  if (o.unicastSrc !== undefined) l.push(`    unicast_src_ip ${o.unicastSrc}`);
  if (o.unicastPeers?.length)
    l.push("    unicast_peer {", ...o.unicastPeers.map((p) => `        ${p}`), "    }");
  l.push("    virtual_ipaddress {", ...o.vips.map((v) => `        ${v}`), "    }", "}", "");
  return l.join("\n");
}

// ─── VRRP timer arithmetic (RFC 3768 §6.1, RFC 5798 §6.1; reference §2.2) ───────────────

/** Skew_Time in ms: v2 (256−P)/256 s whatever the interval; v3 (256−P)·interval/256. */
export function skewMs(priority: number, version: 2 | 3, advertIntS: number): number {
  return version === 2
    ? ((256 - priority) * 1000) / 256
    : ((256 - priority) * advertIntS * 1000) / 256;
}

/** Master_Down_Interval in ms: 3 × interval + skew. */
export function masterDownMs(priority: number, version: 2 | 3, advertIntS: number): number {
  return 3 * advertIntS * 1000 + skewMs(priority, version, advertIntS);
}

function sh(cmd: string[]): string {
  const r = run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}
