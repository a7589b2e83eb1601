import { describe, expect, test } from "bun:test";
import {
  fromTokens,
  fromToml,
  toLine,
  type VsgEntry,
  vsgRange,
} from "../../../src/config/lines/vsg.ts";
import { formatIp } from "../../../src/core/net/ip.ts";
import { forCases, type Rng, SEED } from "./rand.ts";
import { clean, errorsOf, fuzzLines, randomToml, toks, warningsOf } from "./util.ts";

const parse = (line: string) => fromTokens(toks(line));

describe("virtual_server_group entries", () => {
  test.each([
    ["192.168.200.1 80", { address: "192.168.200.1", port: 80 }],
    ["192.168.200.1", { address: "192.168.200.1" }],
    ["192.168.200.1-10 80", { address: "192.168.200.1-10", port: 80 }],
    [
      "192.168.200.250-192.168.201.10 443",
      { address: "192.168.200.250-192.168.201.10", port: 443 },
    ],
    ["192.168.202.8/29 8080", { address: "192.168.202.8/29", port: 8080 }],
    ["AE00::2-9 443", { address: "ae00::2-9", port: 443 }],
    ["2001:DB8::1 65535", { address: "2001:db8::1", port: 65535 }],
    // keepalived reads a port of zero as "no port" (accepted since 2.0.7 for old configs).
    ["192.168.200.1 0", { address: "192.168.200.1" }],
    ["192.168.200.1 000", { address: "192.168.200.1" }],
    ["fwmark 1", { fwmark: 1 }],
    ["fwmark 0", { fwmark: 0 }],
    ["fwmark 4294967295 inet6", { fwmark: 4294967295, family: "inet6" }],
    ["fwmark 7 inet", { fwmark: 7, family: "inet" }],
  ])("%s", (line, want) => {
    const v = clean(parse(line));
    expect(v).toEqual(want as VsgEntry);
    expect(clean(parse(toLine(v)))).toEqual(v);
  });

  test.each([
    ["300.1.1.1 80", "bad-address"],
    ["192.168.200.10-5 80", "bad-range"],
    ["192.168.202.8/0", "bad-prefix"],
    ["192.168.202.9/29", "host-bits-set"],
    ["1.2.3.4-2001:db8::1.2.3.4", "family-mismatch"],
    ["192.168.200.1 65536", "out-of-range"],
    ["192.168.200.1 http", "bad-number"],
    ["fwmark 4294967296", "out-of-range"],
    ["fwmark -1", "bad-number"],
    ["fwmark 1 inet7", "bad-family"],
    ["fwmark", "missing-argument"],
    ["", "missing-argument"],
  ])("%p fails with %s", (line, code) => {
    const r = parse(line);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toEqual([code]);
  });

  test("words keepalived does not read are warnings", () => {
    const r = parse("192.168.200.1 80 tcp");
    expect(r.value).toEqual({ address: "192.168.200.1", port: 80 });
    expect(warningsOf(r)).toEqual(["extra-argument"]);
    expect(r.issues[0]?.at).toBe(2);
    expect(warningsOf(parse("fwmark 1 inet x y"))).toEqual(["extra-argument", "extra-argument"]);
  });

  test("vsgRange gives the covered addresses", () => {
    const r = vsgRange({ address: "ae00::2-9" });
    expect(r && [formatIp(r.first), formatIp(r.last), r.count]).toEqual(["ae00::2", "ae00::9", 8n]);
    expect(vsgRange({ address: "2001:db8::/64" })?.count).toBe(2n ** 64n);
    expect(vsgRange({ fwmark: 1 })).toBeUndefined();
  });
});

describe("vsg fromToml", () => {
  test("tables and strings", () => {
    expect(clean(fromToml({ address: "192.168.200.1-10", port: 80 }))).toEqual({
      address: "192.168.200.1-10",
      port: 80,
    });
    expect(clean(fromToml({ fwmark: 3, family: "inet" }))).toEqual({ fwmark: 3, family: "inet" });
    expect(clean(fromToml({ address: "192.0.2.1", port: 0 }))).toEqual({ address: "192.0.2.1" });
    expect(clean(fromToml("fwmark 3"))).toEqual({ fwmark: 3 });
    expect(errorsOf(fromToml('"192.0.2.1'))).toEqual(["unterminated-quote"]);
  });

  test.each([
    [{ address: "192.0.2.1", fwmark: 1 }, "conflicting-fields"],
    [{ address: "192.0.2.1", family: "inet" }, "conflicting-fields"],
    [{ fwmark: 1, port: 80 }, "conflicting-fields"],
    [{ port: 80 }, "missing-field"],
    [{ address: "192.0.2.1", proto: "tcp" }, "unknown-field"],
    [{ address: 1 }, "bad-type"],
    [{ address: "192.0.2.1", port: "80" }, "bad-type"],
    [{ fwmark: 1, family: 4 }, "bad-type"],
    [{ fwmark: 1, family: "ipv4" }, "bad-family"],
    [{ address: "192.0.2.1", port: 70000 }, "out-of-range"],
    [7, "bad-type"],
  ])("%j", (v, code) => {
    const r = fromToml(v);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toContain(code);
  });
});

function genVsg(r: Rng): VsgEntry {
  if (r.bool(0.3)) {
    const e: { fwmark: number; family?: "inet" | "inet6" } = { fwmark: r.int(0, 0xffffffff) };
    if (r.bool()) e.family = r.pick(["inet", "inet6"] as const);
    return e;
  }
  const v6 = r.bool(0.4);
  const a = { family: (v6 ? 6 : 4) as 4 | 6, bytes: r.bytes(v6 ? 16 : 4) };
  const n = a.bytes.length;
  let address = formatIp(a);
  const form = r.int(0, 3);
  if (form === 1) {
    const start = v6 ? (a.bytes[n - 2]! << 8) | a.bytes[n - 1]! : a.bytes[n - 1]!;
    const top = v6 ? 0xffff : 255;
    if (start < top) address += `-${r.int(start + 1, top).toString(v6 ? 16 : 10)}`;
  } else if (form === 2) {
    const len = r.int(1, v6 ? 128 : 32);
    const b = new Uint8Array(a.bytes);
    for (let bit = len; bit < n * 8; bit++) b[bit >> 3]! &= ~(1 << (7 - (bit & 7)));
    address = `${formatIp({ family: a.family, bytes: b })}/${len}`;
  } else if (form === 3) {
    const b = new Uint8Array(a.bytes);
    b[0] = Math.min(255, b[0]! + r.int(0, 3));
    address += `-${formatIp({ family: a.family, bytes: b })}`;
  }
  return r.bool(0.7) ? { address, port: r.int(1, 65535) } : { address };
}

describe("vsg round trips", () => {
  test(`fromTokens(toLine(x)) = x (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const x = genVsg(r);
      expect(clean(fromTokens(toks(toLine(x))))).toEqual(x);
      expect(clean(fromToml(x))).toEqual(x);
    });
  });

  test(`fuzz: 20k token sequences only produce issues (seed ${SEED})`, () => {
    const accepted = fuzzLines(
      SEED,
      20000,
      ["fwmark", "inet", "inet6", "192.168.1.1-20", "ae00::2-9"],
      fromTokens,
      toLine,
    );
    expect(accepted).toBeGreaterThan(100);
  });

  test(`fuzz: random TOML values only produce issues (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const res = fromToml(randomToml(r, ["address", "port", "fwmark", "family"]));
      if (res.value) expect(fromTokens(toks(toLine(res.value))).value).toEqual(res.value);
    });
  });
});
