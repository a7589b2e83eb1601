/**
 * The demo's lab: network namespaces it creates and removes itself — a switch with a
 * bridge and N hosts with eth0 on it — using only documentation addresses. Nothing is
 * created in, or sent from, the root namespace.
 */
import { AgentError } from "../errors.ts";

export interface LabHost {
  readonly name: string;
  readonly ns: string;
  readonly ipv4: string;
}

function ip(args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0)
    throw new AgentError("E_INTERFACE", `ip ${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

function sysctl(ns: string, key: string, value: string): void {
  Bun.spawnSync(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", `${key}=${value}`], {
    stdout: "ignore",
    stderr: "ignore",
  });
}

export class Lab {
  readonly sw: string;
  readonly hosts: LabHost[] = [];
  private created: string[] = [];

  constructor(
    readonly prefix: string,
    readonly count: number,
  ) {
    this.sw = `${prefix}-sw`;
  }

  /** Build it; on any failure remove what was made and rethrow. */
  up(): this {
    try {
      this.ns(this.sw);
      ip([
        "-n",
        this.sw,
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "stp_state",
        "0",
        "mcast_snooping",
        "0",
      ]);
      ip(["-n", this.sw, "link", "set", "br0", "up"]);
      for (let i = 1; i <= this.count; i++) this.host(i);
      return this;
    } catch (e) {
      this.down();
      throw e;
    }
  }

  private ns(name: string): void {
    ip(["netns", "add", name]);
    this.created.push(name);
    ip(["-n", name, "link", "set", "lo", "up"]);
  }

  private host(i: number): void {
    const h: LabHost = { name: `h${i}`, ns: `${this.prefix}-h${i}`, ipv4: `192.0.2.${10 + i}` };
    this.ns(h.ns);
    sysctl(h.ns, "net.ipv6.conf.all.accept_dad", "0");
    sysctl(h.ns, "net.ipv6.conf.default.accept_dad", "0");
    const port = `sw-h${i}`;
    ip(["-n", this.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.ns]);
    ip(["-n", this.sw, "link", "set", port, "master", "br0", "up"]);
    ip(["-n", h.ns, "link", "set", "eth0", "address", `02:1a:b0:00:00:0${i}`]);
    ip(["-n", h.ns, "addr", "add", `${h.ipv4}/24`, "dev", "eth0"]);
    ip(["-n", h.ns, "link", "set", "eth0", "up"]);
    this.hosts.push(h);
  }

  /** Which hosts hold `address` (e.g. "192.0.2.100") right now. */
  holders(address: string): string[] {
    return this.hosts
      .filter((h) => {
        const r = Bun.spawnSync(["ip", "-n", h.ns, "-o", "addr", "show"], {
          stdout: "pipe",
          stderr: "ignore",
        });
        return r.stdout.toString().includes(` ${address}/`);
      })
      .map((h) => h.name);
  }

  down(): void {
    for (const ns of this.created.reverse())
      Bun.spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "ignore" });
    this.created = [];
  }
}

/** Whether this process may create network namespaces (root and a working `ip`). */
export function canBuildLab(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root";
  if (!Bun.which("ip")) return "the 'ip' command (iproute2) is missing";
  return undefined;
}
