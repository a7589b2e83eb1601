/**
 * Runs inside the IPVS guest (test/vm/ipvs-vm.sh) with Bun, from source, and drives the
 * kernel through src/io/ipvs.ts only. Prints one JSON line "IPVS_SMOKE {...}" with what it
 * read back; the host test (test/io/ipvs.test.ts) compares it, and the guest's own
 * `ipvsadm -Ln` run afterwards, with the expected tables.
 *
 *   bun ipvs-smoke.ts          program the table (see `program` below)
 *   bun ipvs-smoke.ts flush    flush it and print how many services remain
 *   bun ipvs-smoke.ts bench N  time N NEW_DEST exchanges and one dump of them (not a test)
 */
import {
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpvsDest,
  type IpvsService,
} from "../../src/core/ipvs/types.ts";
import { Ipvs } from "../../src/io/ipvs.ts";

const dotted = (b: Uint8Array): string =>
  b.length === 4 ? Array.from(b).join(".") : Buffer.from(b).toString("hex");

const tcp: IpvsService = {
  key: { af: AF_INET, protocol: IPPROTO_TCP, addr: Uint8Array.of(192, 0, 2, 1), port: 80 },
  scheduler: "wrr",
  flags: {},
  timeoutS: 0,
  netmask: 0xffffffff,
};
const udp6: IpvsService = {
  key: {
    af: AF_INET6,
    protocol: IPPROTO_UDP,
    addr: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1),
    port: 53,
  },
  scheduler: "rr",
  flags: { onePacket: true },
  timeoutS: 0,
  netmask: 128,
};
const fwm: IpvsService = {
  key: { af: AF_INET, fwmark: 42 },
  scheduler: "sh",
  flags: { sched1: true, sched2: true },
  timeoutS: 0,
  netmask: 0xffffffff,
};
const nat = (last: number, weight: number): IpvsDest => ({
  af: AF_INET,
  addr: Uint8Array.of(198, 51, 100, last),
  port: 8080,
  fwd: "nat",
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
});
const dr6: IpvsDest = {
  af: AF_INET6,
  addr: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x10),
  port: 53,
  fwd: "dr",
  weight: 2,
  upperThreshold: 50,
  lowerThreshold: 5,
};

/** The error code and errno name of `f`, or "ok". */
function outcome(f: () => void): string {
  try {
    f();
    return "ok";
  } catch (e) {
    return `${(e as { code?: string }).code}/${(e as { errnoName?: string }).errnoName}`;
  }
}

function program(ipvs: Ipvs): Record<string, unknown> {
  const info = ipvs.info();
  ipvs.flush();
  ipvs.addService(tcp);
  ipvs.addDest(tcp, nat(10, 1));
  ipvs.addDest(tcp, nat(11, 2));
  ipvs.editDest(tcp, nat(11, 3));
  const dup = outcome(() => ipvs.addService(tcp));
  const first = ipvs.dests(tcp.key).map((d) => `${dotted(d.addr)}:${d.port} ${d.fwd} w${d.weight}`);
  first.sort();
  // Reload-like edits: scheduler and persistence change, one real server goes.
  const tcp2: IpvsService = { ...tcp, scheduler: "rr", flags: { persistent: true }, timeoutS: 60 };
  ipvs.editService(tcp2);
  ipvs.delDest(tcp2, nat(10, 1));
  const goneAgain = outcome(() => ipvs.delDest(tcp2, nat(10, 1)));
  ipvs.addService(udp6);
  ipvs.addDest(udp6, dr6);
  ipvs.addService(fwm);
  ipvs.addService({ ...fwm, key: { af: AF_INET, fwmark: 43 } });
  ipvs.delService({ ...fwm, key: { af: AF_INET, fwmark: 43 } });
  const noService = outcome(() => ipvs.delService({ ...fwm, key: { af: AF_INET, fwmark: 43 } }));
  const before = ipvs.getTimeouts();
  ipvs.setTimeouts({ tcpS: 901, tcpFinS: 0, udpS: 0 });
  const after = ipvs.getTimeouts();
  const services = ipvs.services().map((s) => ({
    key:
      "fwmark" in s.key
        ? `fwm ${s.key.fwmark}`
        : `${s.key.protocol} ${dotted(s.key.addr)}:${s.key.port}`,
    scheduler: s.scheduler,
    flags: s.flags,
    timeoutS: s.timeoutS,
    netmask: s.netmask,
  }));
  services.sort((a, b) => a.key.localeCompare(b.key));
  const v6 = ipvs.dests(udp6.key).map((d) => ({ ...d, addr: dotted(d.addr) }));
  return { version: info.version, first, dup, goneAgain, noService, before, after, services, v6 };
}

const ipvs = Ipvs.open();
try {
  if (process.argv[2] === "bench") {
    const n = Number(process.argv[3] ?? 1000);
    ipvs.flush();
    ipvs.addService(tcp);
    const t0 = performance.now();
    for (let i = 0; i < n; i++)
      ipvs.addDest(tcp, { ...nat(0, 1), addr: Uint8Array.of(198, 51, 100 + (i >> 8), i & 0xff) });
    const t1 = performance.now();
    const got = ipvs.dests(tcp.key).length;
    const t2 = performance.now();
    ipvs.flush();
    const perOpUs = ((t1 - t0) * 1000) / n;
    console.log(
      `IPVS_BENCH ${JSON.stringify({ n, addMs: t1 - t0, perOpUs, dumped: got, dumpMs: t2 - t1 })}`,
    );
  } else if (process.argv[2] === "flush") {
    ipvs.flush();
    console.log(`IPVS_SMOKE ${JSON.stringify({ remaining: ipvs.services().length })}`);
  } else {
    console.log(`IPVS_SMOKE ${JSON.stringify(program(ipvs))}`);
  }
} finally {
  ipvs.close();
}
