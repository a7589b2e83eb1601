/**
 * The link monitor inside a namespace (`ip netns exec NS bun link-monitor.ts MODE`).
 *   watch:      prints {"event":"ready"}, then every event as one JSON line, until stdin ends.
 *   measure N:  N rounds of eth0 down/up, each timed from the change to the callback: through
 *               libnl in this process (from the call and from its ack) and through a spawned
 *               `ip link set`; prints one JSON summary of medians and maxima in ms.
 */
import { type LinkEvent, startLinkMonitor } from "../../../src/io/link-monitor.ts";
import { setLinkDown, setLinkUp } from "../../../src/io/netlink.ts";

const [mode = "watch", nText = "20"] = process.argv.slice(2);
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

type Waiter = { pred: (e: LinkEvent) => boolean; resolve: (t: number) => void };
let waiters: Waiter[] = [];
const onEvent = (e: LinkEvent) => {
  const t = performance.now();
  if (mode === "watch") print({ event: e.kind, ...e });
  const hit = waiters.filter((w) => w.pred(e));
  waiters = waiters.filter((w) => !hit.includes(w));
  for (const w of hit) w.resolve(t);
};
const next = (up: boolean) =>
  new Promise<number>((resolve) =>
    waiters.push({ pred: (e) => e.kind === "link" && e.ifname === "eth0" && e.up === up, resolve }),
  );

const monitor = await startLinkMonitor(onEvent);
if (mode === "watch") {
  print({ event: "ready" });
  for await (const _ of Bun.stdin.stream()) {
    // the test ends us by closing stdin
  }
} else {
  const fromCall: number[] = [];
  const fromAck: number[] = [];
  const fromSpawn: number[] = [];
  setLinkUp("eth0"); // warm up: the request socket and the FFI stubs
  for (let i = 0; i < Number(nText); i++) {
    for (const up of [false, true]) {
      const seen = next(up);
      const t0 = performance.now();
      if (up) setLinkUp("eth0");
      else setLinkDown("eth0");
      const t1 = performance.now();
      const t2 = await seen;
      fromCall.push(t2 - t0);
      fromAck.push(t2 - t1);
    }
    for (const up of [false, true]) {
      const seen = next(up);
      const t0 = performance.now();
      const p = Bun.spawn(["ip", "link", "set", "eth0", up ? "up" : "down"]);
      fromSpawn.push((await seen) - t0);
      await p.exited;
    }
  }
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { medianMs: s[Math.floor(s.length / 2)], maxMs: s[s.length - 1], n: s.length };
  };
  print({ fromCall: stats(fromCall), fromAck: stats(fromAck), fromIpSpawn: stats(fromSpawn) });
}
await monitor.stop();
