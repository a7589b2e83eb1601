/**
 * The announcer: pacing with a recording sink (anywhere), and real GARP / unsolicited NA
 * between two namespaces (root): the peer's neighbour entry for the VIP, planted stale with
 * a wrong MAC as after a failover, must move to A's MAC, and the frame captured on B must be
 * the bytes keepalived sends (src/core/net/arp.ts and ndisc.ts are checked against the
 * reference pcaps in test/core/net/arp-ndisc.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gratuitousArp } from "../../src/core/net/arp.ts";
import { parseIp } from "../../src/core/net/ip.ts";
import { unsolicitedNa } from "../../src/core/net/ndisc.ts";
import { isAgentError } from "../../src/errors.ts";
import { Announcer, type FrameSink } from "../../src/io/announcer.ts";
import { missing, run } from "../helpers/env.ts";
import type { Netns } from "../helpers/netns.ts";
import { Node, twoHosts, until } from "./drivers/client.ts";

interface Sent {
  readonly atMs: number;
  readonly ifname: string;
  readonly ethertype: number;
}

function recorder(): FrameSink & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    send: (ifname, ethertype) => void sent.push({ atMs: performance.now(), ifname, ethertype }),
    close: () => {},
  };
}

const MAC = () => new Uint8Array([2, 0, 0, 0, 0, 1]);

describe("pacing (vrrp_garp_interval / vrrp_gna_interval)", () => {
  test("frames on one interface are at least the interval apart; other interfaces and NA are not held", async () => {
    const sink = recorder();
    const an = new Announcer({ garpIntervalMs: 30, naIntervalMs: 0, sink, macOf: MAC });
    const t0 = performance.now();
    await Promise.all([
      an.garp("eth0", "192.0.2.100"),
      an.garp("eth0", "192.0.2.101"),
      an.garp("eth0", "192.0.2.102"),
      an.garp("eth1", "198.51.100.100"),
      an.unsolicitedNa("eth0", "2001:db8::100", false),
    ]);
    const eth0 = sink.sent.filter((s) => s.ifname === "eth0" && s.ethertype === 0x0806);
    expect(eth0.length).toBe(3);
    expect(eth0[1]!.atMs - eth0[0]!.atMs).toBeGreaterThanOrEqual(29);
    expect(eth0[2]!.atMs - eth0[1]!.atMs).toBeGreaterThanOrEqual(29);
    // The first GARP, the other interface's and the NA went out at once, in call order.
    expect(sink.sent.slice(0, 3).map((s) => [s.ifname, s.ethertype])).toEqual([
      ["eth0", 0x0806],
      ["eth1", 0x0806],
      ["eth0", 0x86dd],
    ]);
    expect(sink.sent[2]!.atMs - t0).toBeLessThan(29);
    an.close();
  });

  test("without an interval every frame goes at once", async () => {
    const sink = recorder();
    const an = new Announcer({ sink, macOf: MAC });
    const calls = [1, 2, 3].map((i) => an.garp("eth0", `192.0.2.${i}`));
    expect(sink.sent.length).toBe(3); // sent synchronously, before any await
    await Promise.all(calls);
    an.close();
  });

  test("close() rejects what is still queued; bad addresses are typed errors", async () => {
    const an = new Announcer({ garpIntervalMs: 10_000, sink: recorder(), macOf: MAC });
    await an.garp("eth0", "192.0.2.1");
    const queued = an.garp("eth0", "192.0.2.2");
    an.close();
    await expect(queued).rejects.toThrow("announcer closed");
    let err: unknown;
    await new Announcer({ sink: recorder(), macOf: MAC })
      .garp("eth0", "2001:db8::1")
      .catch((e: unknown) => {
        err = e;
      });
    expect(isAgentError(err) && err.code).toBe("E_SOCKET");
  });
});

const VIP4 = "192.0.2.100";
const VIP6 = "2001:db8::100";
const WRONG_MAC = "02:00:00:00:00:99";

const skip = missing({ root: true, commands: ["ip", "sysctl"] });
describe.skipIf(skip !== undefined)(`GARP and NA between namespaces ${skip ?? ""}`, () => {
  let a: Netns | undefined;
  let b: Netns | undefined;
  let A: Node;
  let B: Node;
  let macA = "";

  beforeAll(async () => {
    ({ a, b } = await twoHosts("an"));
    A = new Node(a);
    B = new Node(b);
    macA = String((await A.ok("info", { ifname: "a0" })).mac);
    // The VIPs are on A, IPv6 with nodad as keepalived adds them.
    a.ip("addr", "add", `${VIP4}/32`, "dev", "a0");
    a.ip("-6", "addr", "add", `${VIP6}/64`, "dev", "a0", "nodad");
    // A GARP may update an entry only after locktime since its last update (ARP, not ND):
    // the entries below were just planted, so make that 0.
    run(b.exec(["sysctl", "-qw", "net.ipv4.neigh.a0p.locktime=0"]));
  }, 20_000);

  afterAll(async () => {
    await A?.quit();
    await B?.quit();
    a?.remove();
    b?.remove();
  });

  /** B's neighbour entry for `ip`: its MAC without colons, and whether it is a router. */
  function neighOnB(ip: string): { mac: string; router: boolean } | undefined {
    const out = run([
      "ip",
      "-n",
      b!.name,
      ...(ip.includes(":") ? ["-6"] : []),
      "neigh",
      "show",
      ip,
      "dev",
      "a0p",
    ]);
    const m = /lladdr ([0-9a-f:]+)/.exec(out.stdout);
    return m ? { mac: m[1]!.replaceAll(":", ""), router: / router /.test(out.stdout) } : undefined;
  }

  /** The next frame B captures that satisfies `pred` (other traffic such as MLD is skipped). */
  async function captured(
    ethertype: number,
    pred: (f: Uint8Array) => boolean,
  ): Promise<Uint8Array> {
    for (let i = 0; i < 50; i++) {
      const r = await B.ok("captureRead", { ifname: "a0p", timeoutMs: 2000 });
      if (typeof r.frame !== "string") break;
      const f = new Uint8Array(Buffer.from(r.frame, "hex"));
      if (((f[12]! << 8) | f[13]!) === ethertype && pred(f)) return f;
    }
    throw new Error("the frame never reached B");
  }

  test("a GARP moves the peer's entry for the VIP to our MAC; the frame is keepalived's", async () => {
    b!.ip("neigh", "replace", VIP4, "lladdr", WRONG_MAC, "dev", "a0p", "nud", "stale");
    expect(neighOnB(VIP4)?.mac).toBe(WRONG_MAC.replaceAll(":", ""));
    await B.ok("captureStart", { ifname: "a0p", ethertype: 0x0806 });
    await A.ok("garp", { ifname: "a0", ip: VIP4 });
    const f = await captured(0x0806, (x) => x[21] === 1 && x[28] === 192);
    const want = gratuitousArp(new Uint8Array(Buffer.from(macA, "hex")), parseIp(VIP4)!.bytes);
    expect(Buffer.from(f.subarray(0, want.length)).toString("hex")).toBe(
      Buffer.from(want).toString("hex"),
    );
    await until(() => neighOnB(VIP4)?.mac === macA, 3000, "B's ARP entry to follow the GARP");
  });

  for (const router of [false, true])
    test(`an unsolicited NA (Router ${router}) moves the peer's entry for the VIP; the frame is keepalived's`, async () => {
      b!.ip("-6", "neigh", "replace", VIP6, "lladdr", WRONG_MAC, "dev", "a0p", "nud", "stale");
      await B.ok("captureStart", { ifname: "a0p", ethertype: 0x86dd });
      await A.ok("na", { ifname: "a0", ip: VIP6, router });
      const f = await captured(0x86dd, (x) => x[20] === 58 && x[54] === 136);
      const want = unsolicitedNa(
        new Uint8Array(Buffer.from(macA, "hex")),
        parseIp(VIP6)!.bytes,
        router,
      );
      expect(Buffer.from(f).toString("hex")).toBe(Buffer.from(want).toString("hex"));
      await until(() => neighOnB(VIP6)?.mac === macA, 3000, "B's neighbour entry to follow the NA");
      expect(neighOnB(VIP6)?.router).toBe(router);
    });
});
