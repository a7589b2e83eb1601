import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { probePing } from "../../src/io/check-ping.ts";
import type { CheckProbeResult } from "../../src/io/check-tcp.ts";
import { driveChecker } from "../helpers/checker-drive.ts";
import { missing, REPO, run } from "../helpers/env.ts";
import { Netns } from "../helpers/netns.ts";

const noRoot = missing({ root: true, commands: ["ip", "sysctl"] });
const skip = noRoot !== undefined;
const why = noRoot ? ` (skipped: ${noRoot})` : "";

describe("PING_CHECK probe on loopback", () => {
  test.skipIf(skip)(`up: 127.0.0.1 and ::1 answer${why}`, async () => {
    const v4 = await probePing({ host: "127.0.0.1", connectTimeoutMs: 1000 });
    const v6 = await probePing({ host: "::1", connectTimeoutMs: 1000 });
    expect(v4).toMatchObject({ ok: true });
    expect(v6).toMatchObject({ ok: true });
    expect(v4.latencyMs).toBeLessThan(1000);
  });

  test.skipIf(skip)(`1000 at once share the socket and each gets its own reply${why}`, async () => {
    // a burst sent in one tick: the receive buffer and the type filter must hold every reply
    const rs = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        probePing({ host: i % 2 ? "127.0.0.1" : "::1", connectTimeoutMs: 2000 }),
      ),
    );
    expect(rs.filter((r) => r.ok).length).toBe(1000);
  });

  test("not an address: fails at once", async () => {
    const r = await probePing({ host: "server.example", connectTimeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: "'server.example' is not an address" });
  });

  test.skipIf(skip)(`driven by the machine: retry 1 spent on one missed echo${why}`, async () => {
    // 192.0.2.1 from the root namespace would leave the machine: "down" is a bad address here
    const { state, reports } = await driveChecker(
      { kind: "tcp", delayLoopMs: 50, delayBeforeRetryMs: 5, retry: 1 },
      ["127.0.0.1", "not-an-ip", "127.0.0.1", "not-an-ip", "not-an-ip"],
      async (host) => (await probePing({ host, connectTimeoutMs: 500 })).ok,
    );
    expect(reports).toEqual(["up", "down"]);
    expect(state.attempts).toBe(5);
  });
});

/** Runs probePing inside `ns` for each host; also counts 10 ms ticks during the run. */
function pingIn(ns: Netns, hosts: string[], timeoutMs: number) {
  const code = `
    import { probePing } from ${JSON.stringify(`${REPO}/src/io/check-ping.ts`)};
    let ticks = 0;
    const t = setInterval(() => ticks++, 10);
    const out = [];
    for (const host of ${JSON.stringify(hosts)})
      out.push(await probePing({ host, connectTimeoutMs: ${timeoutMs} }));
    clearInterval(t);
    console.log(JSON.stringify({ out, ticks }));
  `;
  const p = Bun.spawnSync(ns.exec([process.execPath, "-e", code]), {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`probe in ${ns.name}: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString()) as { out: CheckProbeResult[]; ticks: number };
}

describe("PING_CHECK probe in network namespaces", () => {
  // a: the prober, 192.0.2.1/24 on veth "pa" to the router b (192.0.2.254), default via b.
  // b: forwards nothing; 203.0.113.0/24 is an unreachable route there, so b answers with
  // ICMP host unreachable. 192.0.2.9 is on a's link but nobody has it: silence.
  let a: Netns;
  let b: Netns;
  beforeAll(() => {
    if (skip) return;
    a = new Netns("ping-a").create();
    b = new Netns("ping-b").create();
    a.addInterface("pa");
    a.ip("link", "set", "pap", "netns", b.name);
    a.ip("addr", "add", "192.0.2.1/24", "dev", "pa");
    a.ip("addr", "add", "2001:db8::1/64", "dev", "pa", "nodad");
    b.ip("link", "set", "pap", "up");
    b.ip("addr", "add", "192.0.2.254/24", "dev", "pap");
    b.ip("route", "add", "unreachable", "203.0.113.0/24");
    // a router answers for transit packets only when it forwards (inside b only)
    const fwd = run(b.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]));
    if (fwd.code !== 0) throw new Error(`sysctl in ${b.name}: ${fwd.stderr}`);
    a.ip("route", "add", "default", "via", "192.0.2.254");
  });
  afterAll(() => {
    if (skip) return;
    a.remove();
    b.remove();
  });

  test.skipIf(skip)(`up across a link, and the namespace's own addresses${why}`, () => {
    const { out } = pingIn(a, ["192.0.2.254", "192.0.2.1", "2001:db8::1"], 2000);
    expect(out.map((r) => r.ok)).toEqual([true, true, true]);
  });

  test.skipIf(skip)(`timeout: nobody answers; the event loop keeps running${why}`, () => {
    const { out, ticks } = pingIn(a, ["192.0.2.9"], 400);
    expect(out[0]?.ok).toBe(false);
    expect(out[0]?.reason).toBe("no echo reply within 400 ms");
    expect(out[0]?.latencyMs).toBeGreaterThanOrEqual(390);
    expect(out[0]?.latencyMs).toBeLessThan(1500);
    expect(ticks).toBeGreaterThanOrEqual(20);
  });

  test.skipIf(skip)(`down: an ICMP host unreachable from the router fails at once${why}`, () => {
    const { out } = pingIn(a, ["203.0.113.5"], 3000);
    expect(out[0]?.ok).toBe(false);
    expect(out[0]?.reason).toBe("destination unreachable (ICMP code 1)");
    expect(out[0]?.latencyMs).toBeLessThan(1000);
  });

  test.skipIf(skip)(`down: no route at all fails at send${why}`, () => {
    const { out } = pingIn(b, ["198.51.100.7", "2001:db8:1::7"], 3000);
    expect(out.map((r) => r.ok)).toEqual([false, false]);
    expect(out[0]?.reason).toContain("ENETUNREACH");
    expect(out[1]?.reason).toContain("ENETUNREACH");
  });
});
