/** wire.ts: table records -> codec records -> bytes -> decoded -> table records again. */
import { expect, test } from "bun:test";
import {
  decodeDest,
  decodeService,
  destAttr,
  serviceAttr,
} from "../../../src/core/ipvs/genl-msg.ts";
import { encodeAttrs } from "../../../src/core/ipvs/nlattr.ts";
import type { Dest, Service } from "../../../src/core/ipvs/table.ts";
import { fromWire, toWireDest, toWireService, WireError } from "../../../src/core/ipvs/wire.ts";

const dests: Dest[] = [
  {
    addr: "198.51.100.10",
    port: 8080,
    fwd: "NAT",
    weight: 3,
    uThreshold: 100,
    lThreshold: 10,
    tunType: null,
    tunPort: 0,
    tunCsum: null,
  },
  {
    addr: "2001:db8::10",
    port: 0,
    fwd: "TUN",
    weight: 1,
    uThreshold: 0,
    lThreshold: 0,
    tunType: "gue",
    tunPort: 6080,
    tunCsum: "remcsum",
  },
  {
    addr: "203.0.113.7",
    port: 80,
    fwd: "DR",
    weight: 0,
    uThreshold: 0,
    lThreshold: 0,
    tunType: null,
    tunPort: 0,
    tunCsum: null,
  },
];
const services: Service[] = [
  {
    af: 4,
    protocol: "TCP",
    addr: "192.0.2.1",
    port: 80,
    fwmark: 0,
    sched: "wlc",
    flags: 0x1,
    timeoutS: 300,
    netmask: 0xffffff00,
    peName: null,
    dests,
  },
  {
    af: 6,
    protocol: "SCTP",
    addr: "2001:db8::1",
    port: 3868,
    fwmark: 0,
    sched: "mh",
    flags: 0x18,
    timeoutS: 0,
    netmask: 64,
    peName: "sip",
    dests: [],
  },
  {
    af: 4,
    protocol: null,
    addr: null,
    port: 0,
    fwmark: 42,
    sched: "rr",
    flags: 0x4,
    timeoutS: 0,
    netmask: 0xffffffff,
    peName: null,
    dests: [],
  },
];

test("table records survive encode -> decode unchanged", () => {
  for (const s of services) {
    const svc = decodeService(encodeAttrs([serviceAttr(toWireService(s))]));
    const ds = s.dests.map((d) => decodeDest(encodeAttrs([destAttr(toWireDest(d))]), svc.key.af));
    expect(fromWire(svc, ds)).toEqual(s);
  }
});

test("HASHED, which the kernel reports on every service, is not part of the table's flags", () => {
  const svc = toWireService(services[2] as Service);
  expect(fromWire({ ...svc, flags: { ...svc.flags, hashed: true } }, []).flags).toBe(0x4);
});

test("a bad address is a WireError, not zeros on the wire", () => {
  const bad = { ...(services[0] as Service), addr: "192.0.2.999" };
  expect(() => toWireService(bad)).toThrow(WireError);
  expect(() => toWireDest({ ...(dests[0] as Dest), addr: "nope" })).toThrow(WireError);
});
