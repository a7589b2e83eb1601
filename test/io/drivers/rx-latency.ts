#!/usr/bin/env bun
/**
 * One-off measurement (root; not part of `bun test`): send→callback latency of the receive
 * Worker between two namespaces, and the receiving process's CPU while idle.
 *   bun test/io/drivers/rx-latency.ts [count=1000] [idleSeconds=30]
 * A stamps CLOCK_MONOTONIC into each advert just before sendto; B's driver stamps it again
 * in the Receiver callback on its main thread. CPU comes from /proc/PID/task/TID/stat.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseIp } from "../../../src/core/net/ip.ts";
import { Node, twoHosts } from "./client.ts";

const count = Number(process.argv[2] ?? 1000);
const idleS = Number(process.argv[3] ?? 30);
const TICK_MS = 10; // USER_HZ 100

function ipv4Advert(): string {
  const p = new Uint8Array(40);
  p.set([0x45, 0xc0, 0, 40, 0, 0, 0, 0, 255, 112]);
  p.set(parseIp("192.0.2.1")!.bytes, 12);
  p.set(parseIp("224.0.0.18")!.bytes, 16);
  p.set([0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0, 0, 192, 0, 2, 100], 20); // + 8 auth bytes
  return Buffer.from(p).toString("hex");
}

/** utime+stime in ms per thread name of a process. */
function cpuByThread(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (Number(f[11]) + Number(f[12])) * TICK_MS;
    out.set(`${name}#${tid}${tid === String(pid) ? " (main thread)" : ""}`, ms);
  }
  return out;
}

const pct = (xs: number[], p: number): number =>
  xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

const { a, b } = await twoHosts("lat");
const A = new Node(a);
const B = new Node(b);
try {
  await B.ok("open", { name: "m4", opts: { ifname: "a0p", family: 4, unicast: false } });
  await B.ok("listen", { name: "m4" });
  await B.ok("keep");
  await A.ok("open", { name: "m4", opts: { ifname: "a0", family: 4, unicast: false } });
  await A.ok(
    "burst",
    { name: "m4", hex: ipv4Advert(), dst: "224.0.0.18", count, intervalMs: 2, at: 32 },
    60_000,
  );
  const kept = (await B.ok("kept")).packets as { t: string; hex: string }[];
  const lat = kept
    .map((p) => Number(BigInt(p.t) - Buffer.from(p.hex, "hex").readBigUInt64BE(32)) / 1e6)
    .sort((x, y) => x - y);
  console.log(
    `latency send→callback over ${lat.length}/${count} adverts: median ${pct(lat, 50).toFixed(3)} ms, p99 ${pct(lat, 99).toFixed(3)} ms, max ${lat[lat.length - 1]!.toFixed(3)} ms`,
  );
  const before = cpuByThread(B.pid);
  await Bun.sleep(idleS * 1000);
  const after = cpuByThread(B.pid);
  let total = 0;
  for (const [t, ms] of after) {
    const d = ms - (before.get(t) ?? 0);
    total += d;
    console.log(`  ${t}: ${d} ms`);
  }
  console.log(
    `idle CPU of the receiving process over ${idleS} s: ${total} ms (${((total / (idleS * 1000)) * 100).toFixed(3)} % of a core)`,
  );
} finally {
  await A.quit();
  await B.quit();
  a.remove();
  b.remove();
}
