/**
 * Test-side handle on a node.ts driver running inside a namespace, and the two-host lab
 * the socket and announcer tests share. Everything waits for an event with a bound;
 * nothing sleeps a fixed time.
 */

import { REPO, run } from "../../helpers/env.ts";
import { Netns } from "../../helpers/netns.ts";

export interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly [k: string]: unknown;
}

export interface Packet {
  readonly event: "packet";
  readonly t: string;
  readonly name: string;
  readonly fd: number;
  readonly family: 4 | 6;
  readonly ifindex: number;
  readonly src: string;
  readonly dst: string | undefined;
  readonly ttl: number | undefined;
  readonly truncated: boolean;
  readonly hex: string;
}

type Waiter = { match: (o: Record<string, unknown>) => boolean; resolve: (o: never) => void };

export class Node {
  private readonly proc: ReturnType<typeof Bun.spawn<"pipe", "pipe", "pipe">>;
  private nextId = 1;
  private waiters: Waiter[] = [];
  /** Every packet received so far, in order. */
  readonly packets: Packet[] = [];
  stderr = "";

  constructor(readonly ns: Netns) {
    this.proc = Bun.spawn(ns.exec([process.execPath, `${REPO}/test/io/drivers/node.ts`]), {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    void this.read();
    void this.readStderr();
  }

  private async readStderr(): Promise<void> {
    for await (const c of this.proc.stderr) this.stderr += new TextDecoder().decode(c);
  }

  get pid(): number {
    return this.proc.pid;
  }

  private async read(): Promise<void> {
    let buf = "";
    for await (const chunk of this.proc.stdout) {
      buf += new TextDecoder().decode(chunk);
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const o = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if (o.event === "packet") this.packets.push(o as unknown as Packet);
        const hit = this.waiters.filter((w) => w.match(o));
        this.waiters = this.waiters.filter((w) => !hit.includes(w));
        for (const w of hit) w.resolve(o as never);
      }
    }
  }

  private wait<T>(
    match: (o: Record<string, unknown>) => boolean,
    ms: number,
    what: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = { match, resolve: resolve as (o: never) => void };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.ns.name}: no ${what} within ${ms} ms; stderr: ${this.stderr}`));
      }, ms);
      w.resolve = ((o: T) => {
        clearTimeout(timer);
        resolve(o);
      }) as (o: never) => void;
      this.waiters.push(w);
    });
  }

  /** Sends a command; resolves with its reply (ok or not). */
  call(op: string, args: Record<string, unknown> = {}, ms = 5000): Promise<Reply> {
    const id = this.nextId++;
    const reply = this.wait<Reply>((o) => o.id === id, ms, `reply to ${op}`);
    this.proc.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    this.proc.stdin.flush();
    return reply;
  }

  /** Like call, but throws unless the reply is ok. */
  async ok(op: string, args: Record<string, unknown> = {}, ms = 5000): Promise<Reply> {
    const r = await this.call(op, args, ms);
    if (!r.ok) throw new Error(`${this.ns.name} ${op}: ${r.code} ${r.message}`);
    return r;
  }

  /** The first packet, already received or still to come, that satisfies `pred`. */
  packet(pred: (p: Packet) => boolean = () => true, ms = 3000): Promise<Packet> {
    const seen = this.packets.find(pred);
    if (seen) return Promise.resolve(seen);
    return this.wait<Packet>(
      (o) => o.event === "packet" && pred(o as unknown as Packet),
      ms,
      "packet",
    );
  }

  async quit(): Promise<void> {
    const bye = this.wait((o) => o.event === "bye", 3000, "bye").catch(() => undefined);
    this.proc.stdin.write(`${JSON.stringify({ id: 0, op: "quit" })}\n`);
    this.proc.stdin.flush();
    await bye;
    this.proc.kill();
    await this.proc.exited;
  }
}

function sh(cmd: string[]): string {
  const r = run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Waits (bounded) until `ok()` holds, re-checking every few ms. */
export async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/**
 * Two hosts: A and B joined by a veth pair a0 (in A) ↔ a0p (in B), 192.0.2.1/.2 and
 * 2001:db8::1/::2, and, if `second`, a second pair a1 ↔ a1p with 198.51.100.1/.2.
 * DAD is off in both namespaces before any interface exists, so link-local and global
 * IPv6 addresses are usable at once instead of after a random DAD delay.
 */
export async function twoHosts(tag: string, second = false): Promise<{ a: Netns; b: Netns }> {
  const a = new Netns(`${tag}a`).create();
  const b = new Netns(`${tag}b`).create();
  for (const ns of [a, b])
    sh(
      ns.exec([
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
      ]),
    );
  const pairs: [string, string, string][] = [["a0", "192.0.2", "2001:db8:0"]];
  if (second) pairs.push(["a1", "198.51.100", "2001:db8:1"]);
  for (const [ifa, v4, v6] of pairs) {
    a.addInterface(ifa);
    a.ip("link", "set", `${ifa}p`, "netns", b.name);
    b.ip("link", "set", `${ifa}p`, "up");
    a.ip("addr", "add", `${v4}.1/24`, "dev", ifa);
    b.ip("addr", "add", `${v4}.2/24`, "dev", `${ifa}p`);
    a.ip("-6", "addr", "add", `${v6}::1/64`, "dev", ifa, "nodad");
    b.ip("-6", "addr", "add", `${v6}::2/64`, "dev", `${ifa}p`, "nodad");
  }
  // Link-locals appear when both ends of a pair are up.
  for (const [ns, dev] of pairs.flatMap(
    ([ifa]) =>
      [
        [a, ifa],
        [b, `${ifa}p`],
      ] as const,
  ))
    await until(
      () =>
        /inet6 fe80::/.test(
          sh(["ip", "-n", ns.name, "-6", "addr", "show", "dev", dev, "scope", "link"]),
        ),
      5000,
      `a link-local address on ${ns.name} ${dev}`,
    );
  return { a, b };
}
