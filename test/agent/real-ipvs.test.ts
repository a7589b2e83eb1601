/**
 * RealIpvsHostIo's mapping onto io/ipvs.ts, against a recording stand-in for the kernel
 * handle (this machine's kernel has no IPVS; test/io/ipvs.test.ts covers the handle itself).
 */
import { expect, test } from "bun:test";
import { createServer } from "node:net";
import { RealIpvsHostIo } from "../../src/agent/real-ipvs.ts";
import type { Op } from "../../src/core/ipvs/diff.ts";
import { type Dest, type Service, sortTable } from "../../src/core/ipvs/table.ts";
import type { IpvsDest, IpvsService } from "../../src/core/ipvs/types.ts";
import { toWireDest, toWireService } from "../../src/core/ipvs/wire.ts";
import type { Ipvs } from "../../src/io/ipvs.ts";

const DEST: Dest = {
  addr: "198.51.100.1",
  port: 80,
  fwd: "NAT",
  weight: 3,
  uThreshold: 0,
  lThreshold: 0,
  tunType: null,
  tunPort: 0,
  tunCsum: null,
};
const SVC: Service = {
  af: 4,
  protocol: "TCP",
  addr: "192.0.2.1",
  port: 80,
  fwmark: 0,
  sched: "rr",
  flags: 0,
  timeoutS: 0,
  netmask: 0xffffffff,
  peName: null,
  dests: [DEST],
};

function stub() {
  const calls: string[] = [];
  const rec =
    (name: string) =>
    (s: IpvsService, d?: IpvsDest): void => {
      calls.push(`${name} ${s.scheduler}${d ? ` w${d.weight}` : ""}`);
    };
  const k = {
    services: () => [{ ...toWireService(SVC), flags: { hashed: true } }],
    dests: () => [toWireDest(DEST)],
    addService: rec("addService"),
    editService: rec("editService"),
    delService: rec("delService"),
    addDest: rec("addDest"),
    editDest: rec("editDest"),
    delDest: rec("delDest"),
  };
  // Only the methods RealIpvsHostIo calls; Ipvs's constructor is private (it opens a socket).
  return { calls, ipvs: k as unknown as Ipvs };
}

test("readTable maps the kernel's services and dests back to table records", () => {
  const { ipvs } = stub();
  const io = new RealIpvsHostIo({ ipvs, nowMs: () => 0 });
  expect(io.readTable()).toEqual(sortTable([SVC]));
});

test("apply sends each op as its IPVS command", () => {
  const { calls, ipvs } = stub();
  const io = new RealIpvsHostIo({ ipvs, nowMs: () => 0 });
  const ops: Op[] = [
    { op: "add-service", service: SVC },
    { op: "edit-service", service: SVC },
    { op: "add-dest", service: SVC, dest: DEST },
    { op: "edit-dest", service: SVC, dest: { ...DEST, weight: 0 } },
    { op: "del-dest", service: SVC, dest: DEST },
    { op: "del-service", service: SVC },
  ];
  for (const op of ops) io.apply(op);
  expect(calls).toEqual([
    "addService rr",
    "editService rr",
    "addDest rr w3",
    "editDest rr w0",
    "delDest rr w3",
    "delService rr",
  ]);
});

test("schedule fires at the deadline; a new schedule replaces the old one", async () => {
  const { ipvs } = stub();
  const t0 = performance.now();
  const nowMs = () => performance.now() - t0;
  const io = new RealIpvsHostIo({ ipvs, nowMs });
  const fired: string[] = [];
  io.schedule(nowMs() + 20, () => fired.push("old"));
  const done = new Promise<number>((res) => io.schedule(nowMs() + 30, () => res(nowMs())));
  const bound = new Promise<number>((_, rej) =>
    setTimeout(() => rej(new Error("timer never fired")), 5000),
  );
  const at = await Promise.race([done, bound]);
  // Timers may fire a little early; a schedule that ignored the deadline would fire at ~0.
  expect(at).toBeGreaterThanOrEqual(25);
  expect(fired).toEqual([]);
});

test("probe runs the TCP probe; MISC without a runner fails", async () => {
  const { ipvs } = stub();
  const io = new RealIpvsHostIo({ ipvs, nowMs: () => 0 });
  const srv = createServer((c) => c.destroy());
  await new Promise<void>((res) => srv.listen(0, "127.0.0.1", () => res()));
  try {
    const a = srv.address();
    const port = a !== null && typeof a === "object" ? a.port : 0;
    const r = await io.probe({
      kind: "TCP",
      spec: { host: "127.0.0.1", port, connectTimeoutMs: 2000 },
    });
    expect(r.ok).toBe(true);
  } finally {
    srv.close();
  }
  const m = await io.probe({
    kind: "MISC",
    script: { command: ["/bin/true"] },
    timeoutMs: 1000,
    dynamic: false,
    why: "MISC_CHECK of test",
  });
  expect(m).toEqual({ ok: false, reason: "no script runner", latencyMs: 0 });
});
