/**
 * A test "host": run inside a network namespace (`ip netns exec NS bun node.ts`), it takes
 * JSON commands on stdin, one per line, and answers on stdout, one JSON object per line:
 * replies carry the command's `id`; received VRRP packets arrive as `{"event":"packet"}`.
 * A process can't switch its own network namespace, so each namespace gets one of these.
 */
import { dlopen } from "bun:ffi";
import * as L from "../../../native/layout.ts";
import * as libc from "../../../native/libc.ts";
import * as netif from "../../../native/netif.ts";
import { formatIp, type IpAddr } from "../../../src/core/net/ip.ts";
import { Announcer } from "../../../src/io/announcer.ts";
import { Receiver, type RxPacket } from "../../../src/io/receiver.ts";
import { openVrrpSocket, type VrrpSocket } from "../../../src/io/vrrp-socket.ts";

export interface Command {
  readonly id: number;
  readonly op: string;
  readonly [k: string]: unknown;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const addr = (a: IpAddr | undefined): string | undefined => (a ? formatIp(a) : undefined);

function out(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

// CLOCK_MONOTONIC in ns, comparable across processes (process.hrtime counts from start).
const clock = dlopen("libc.so.6", {
  clock_gettime: { args: ["i32", "ptr"], returns: "i32" },
}).symbols;
const ts = new BigInt64Array(2);
function monoNs(): bigint {
  clock.clock_gettime(1, ts);
  return ts[0]! * 1_000_000_000n + ts[1]!;
}

const sockets = new Map<string, VrrpSocket>();
const names = new Map<number, string>();
const announcer = new Announcer();
let receiver: Receiver | undefined;
const captures = new Map<string, number>();

/** When set, packets are kept here instead of printed (rx-latency: no I/O per packet). */
let kept: { t: string; hex: string }[] | undefined;

function onPacket(p: RxPacket): void {
  if (kept) {
    kept.push({ t: monoNs().toString(), hex: hex(p.bytes) });
    return;
  }
  out({
    event: "packet",
    t: monoNs().toString(),
    name: names.get(p.fd),
    fd: p.fd,
    family: p.family,
    ifindex: p.ifindex,
    src: addr(p.src),
    dst: addr(p.dst),
    ttl: p.ttl,
    truncated: p.truncated,
    hex: hex(p.bytes),
  });
}

function sock(c: Command): VrrpSocket {
  const s = sockets.get(String(c.name));
  if (!s) throw new Error(`no socket named ${String(c.name)}`);
  return s;
}

async function receiverOf(): Promise<Receiver> {
  if (!receiver) {
    receiver = new Receiver(onPacket, {
      onError: (e) => out({ event: "rx-error", code: e.code, message: e.message }),
    });
    await receiver.start();
  }
  return receiver;
}

/** AF_PACKET capture of one ethertype on one interface, for comparing frames on the wire. */
function captureStart(ifname: string, ethertype: number): void {
  const old = captures.get(ifname);
  if (old !== undefined) libc.close(old);
  const proto = ((ethertype & 0xff) << 8) | (ethertype >> 8); // htons
  const fd = libc.socket(L.AF_PACKET, L.SOCK_RAW, proto, ifname);
  libc.bind(fd, L.sockaddrLl(netif.ifNameToIndex(ifname), ethertype, new Uint8Array(0)), ifname);
  captures.set(ifname, fd);
}

function captureRead(ifname: string, timeoutMs: number): string | undefined {
  const fd = captures.get(ifname);
  if (fd === undefined) throw new Error(`no capture on ${ifname}`);
  const set = new libc.PollSet();
  set.set([fd]);
  if (set.wait(timeoutMs) === 0) return undefined;
  const d = new libc.MsgReader(2048, 64).recv(fd);
  return d ? hex(d.bytes) : undefined;
}

const handlers: Record<string, (c: Command) => unknown> = {
  info: (c) => {
    const ifname = String(c.ifname);
    const v4 = netif.interfaceIpv4(ifname);
    const ll = netif.interfaceLinkLocal(ifname);
    return {
      ifindex: netif.ifNameToIndex(ifname),
      mac: hex(netif.interfaceMac(ifname)),
      ipv4: v4 ? formatIp({ family: 4, bytes: v4 }) : undefined,
      linkLocal: ll ? formatIp({ family: 6, bytes: ll }) : undefined,
    };
  },
  open: (c) => {
    const s = openVrrpSocket(c.opts as Parameters<typeof openVrrpSocket>[0]);
    sockets.set(String(c.name), s);
    names.set(s.fd, String(c.name));
    return { fd: s.fd, ifindex: s.ifindex, source: formatIp(s.source) };
  },
  listen: async (c) => (await receiverOf()).add(sock(c).fd, sock(c).family),
  unlisten: async (c) => (await receiverOf()).remove(sock(c).fd),
  send: (c) => ({ sent: sock(c).send(unhex(String(c.hex)), String(c.dst)) }),
  /** Sends `count` copies `intervalMs` apart, the send time (ns) in the 8 bytes at `at`. */
  burst: async (c) => {
    const s = sock(c);
    const bytes = unhex(String(c.hex));
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < Number(c.count); i++) {
      view.setBigUint64(Number(c.at), monoNs());
      s.send(bytes, String(c.dst));
      await Bun.sleep(Number(c.intervalMs));
    }
  },
  keep: () => {
    kept = [];
  },
  kept: () => ({ packets: kept ?? [] }),
  close: (c) => {
    sock(c).close();
    sockets.delete(String(c.name));
  },
  garp: (c) => announcer.garp(String(c.ifname), String(c.ip)),
  na: (c) => announcer.unsolicitedNa(String(c.ifname), String(c.ip), Boolean(c.router)),
  captureStart: (c) => captureStart(String(c.ifname), Number(c.ethertype)),
  captureRead: (c) => ({ frame: captureRead(String(c.ifname), Number(c.timeoutMs ?? 2000)) }),
  quit: async () => {
    await receiver?.stop();
    announcer.close();
    for (const s of sockets.values()) s.close();
    for (const fd of captures.values()) libc.close(fd);
    out({ event: "bye" });
    process.exit(0);
  },
};

async function handle(line: string): Promise<void> {
  const c = JSON.parse(line) as Command;
  try {
    const h = handlers[c.op];
    if (!h) throw new Error(`unknown op ${c.op}`);
    out({ id: c.id, ok: true, ...((await h(c)) as object | undefined) });
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : undefined;
    out({ id: c.id, ok: false, code, message: e instanceof Error ? e.message : String(e) });
  }
}

let buffered = "";
for await (const chunk of Bun.stdin.stream()) {
  buffered += new TextDecoder().decode(chunk);
  let nl = buffered.indexOf("\n");
  while (nl >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (line) await handle(line);
    nl = buffered.indexOf("\n");
  }
}
await handlers.quit?.({ id: 0, op: "quit" });
