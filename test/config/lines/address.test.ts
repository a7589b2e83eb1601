import { describe, expect, test } from "bun:test";
import {
  type AddressLine,
  fromTokens,
  fromToml,
  SCOPES,
  toLine,
} from "../../../src/config/lines/address.ts";
import { formatPrefix } from "../../../src/core/net/ip.ts";
import { forCases, type Rng, SEED } from "./rand.ts";
import { clean, errorsOf, fuzzLines, randomToml, toks, warningsOf } from "./util.ts";

const parse = (line: string, kind?: "virtual" | "static") => fromTokens(toks(line), kind);

describe("address lines", () => {
  test("a bare address gets its full prefix length", () => {
    expect(clean(parse("192.0.2.1"))).toEqual({ address: "192.0.2.1/32" });
    expect(clean(parse("2001:DB8:0:0::1"))).toEqual({ address: "2001:db8::1/128" });
    expect(clean(parse("192.0.2.1/24"))).toEqual({ address: "192.0.2.1/24" });
  });

  test("every option", () => {
    const v = clean(
      parse(
        "192.0.2.1/24 brd 192.0.2.255 dev eth0 use_vmac scope link label eth0:1 home -nodad " +
          "mngtmpaddr noprefixroute autojoin no_track preferred_lft 100 track_group G1",
      ),
    );
    expect(v).toEqual({
      address: "192.0.2.1/24",
      brd: "192.0.2.255",
      dev: "eth0",
      use_vmac: true,
      scope: "link",
      label: "eth0:1",
      home: true,
      "-nodad": true,
      mngtmpaddr: true,
      noprefixroute: true,
      autojoin: true,
      no_track: true,
      preferred_lft: 100,
      track_group: "G1",
    });
    expect(toLine(v)).toBe(
      "192.0.2.1/24 brd 192.0.2.255 dev eth0 use_vmac scope link label eth0:1 home -nodad " +
        "mngtmpaddr noprefixroute autojoin no_track preferred_lft 100 track_group G1",
    );
  });

  test("value forms", () => {
    expect(clean(parse("192.0.2.1/24 broadcast +")).brd).toBe("+");
    expect(clean(parse("192.0.2.1/24 brd -")).brd).toBe("-");
    expect(clean(parse("192.0.2.1 scope 0x20")).scope).toBe(32);
    expect(clean(parse("192.0.2.1 scope 253")).scope).toBe(253);
    expect(clean(parse("2001:db8::1 preferred_lft forever")).preferred_lft).toBe("forever");
    expect(clean(parse("192.0.2.1 peer 192.0.2.2"))).toEqual({
      address: "192.0.2.1/32",
      peer: "192.0.2.2",
    });
    expect(clean(parse("192.0.2.1/32 peer 192.0.2.2")).peer).toBe("192.0.2.2");
    expect(clean(parse("fe80::1 peer FE80::2")).peer).toBe("fe80::2");
    expect(clean(parse("192.0.2.1 dev eth0 label eth0")).label).toBe("eth0");
  });

  test.each([
    ["300.1.1.1", "bad-address"],
    ["192.0.2.1/33", "bad-prefix"],
    ["192.0.2.1 dev", "missing-argument"],
    ["192.0.2.1 dev abcdefghijklmnop", "bad-interface"],
    ["192.0.2.1 dev a/b", "bad-interface"],
    ["192.0.2.1 scope galaxy", "bad-scope"],
    ["192.0.2.1 scope 256", "out-of-range"],
    ["192.0.2.1 preferred_lft 4294967296", "out-of-range"],
    ["192.0.2.1 preferred_lft soon", "bad-number"],
    ["192.0.2.1 label abcdefghijklmnop", "bad-label"],
    ["192.0.2.1 brd foo", "bad-broadcast"],
    ["192.0.2.1/31 brd +", "bad-broadcast"],
    ["192.0.2.1 brd 2001:db8::1", "ipv4-only"],
    ["2001:db8::1 brd +", "ipv4-only"],
    ["2001:db8::1 scope link", "ipv4-only"],
    ["2001:db8::1 label x", "ipv4-only"],
    ["192.0.2.1 peer 2001:db8::2", "family-mismatch"],
    ["192.0.2.1 peer 192.0.2.0/24", "bad-address"],
    ["192.0.2.1/24 peer 192.0.2.2", "prefix-with-peer"],
    ["192.0.2.1 brd 192.0.2.255 peer 192.0.2.2", "conflicting-options"],
    ["192.0.2.1 dev eth0 dev eth1", "duplicate-option"],
    ['192.0.2.1 track_group "a b"', "bad-track-group"],
    ["", "missing-argument"],
  ])("%p fails with %s", (line, code) => {
    const r = parse(line);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toContain(code);
  });

  test("errors are located at the offending token", () => {
    const r = parse("192.0.2.1 dev eth0 scope galaxy");
    expect(r.issues).toEqual([expect.objectContaining({ code: "bad-scope", at: 4 })]);
  });

  test("every problem is reported, not just the first", () => {
    const r = parse("300.1.1.1 scope galaxy preferred_lft x");
    expect(errorsOf(r)).toEqual(["bad-address", "bad-scope", "bad-number"]);
  });

  test("keepalived only warns about unknown words and keeps the address", () => {
    const r = parse("192.0.2.1 nodad dev eth0");
    expect(r.value).toEqual({ address: "192.0.2.1/32", dev: "eth0" });
    expect(warningsOf(r)).toEqual(["unknown-option"]);
    expect(r.issues[0]?.at).toBe(1);
  });

  test("kind limits use_vmac to virtual and track_group to static lines", () => {
    const s = parse("192.0.2.1 use_vmac", "static");
    expect(s.value).toEqual({ address: "192.0.2.1/32" });
    expect(warningsOf(s)).toEqual(["unknown-option"]);
    const v = parse("192.0.2.1 track_group G", "virtual");
    expect(v.value).toEqual({ address: "192.0.2.1/32" });
    expect(warningsOf(v)).toEqual(["unknown-option", "unknown-option"]);
  });

  test("warnings: repeated flag, label not prefixed by dev", () => {
    expect(warningsOf(parse("192.0.2.1 home home"))).toEqual(["duplicate-option"]);
    const r = parse("192.0.2.1 dev eth0 label eth1:0");
    expect(r.value?.label).toBe("eth1:0");
    expect(warningsOf(r)).toEqual(["label-mismatch"]);
  });
});

describe("address fromToml", () => {
  test("a string is read as keepalived writes it", () => {
    expect(clean(fromToml('192.0.2.1/24  dev "eth0"'))).toEqual({
      address: "192.0.2.1/24",
      dev: "eth0",
    });
    const r = fromToml('192.0.2.1 dev "eth0');
    expect(errorsOf(r)).toEqual(["unterminated-quote"]);
  });

  test("a table", () => {
    const v = clean(
      fromToml({
        address: "2001:DB8::1/64",
        dev: "eth0",
        "-nodad": true,
        home: false,
        preferred_lft: 30,
      }),
    );
    expect(v).toEqual({
      address: "2001:db8::1/64",
      dev: "eth0",
      "-nodad": true,
      preferred_lft: 30,
    });
    expect(clean(fromToml({ address: "192.0.2.1", scope: 200, preferred_lft: "forever" }))).toEqual(
      {
        address: "192.0.2.1/32",
        scope: 200,
        preferred_lft: "forever",
      },
    );
  });

  test.each([
    [{ address: "192.0.2.1", dev: 5 }, "bad-type", ["dev"]],
    [{ address: "192.0.2.1", "-nodad": "yes" }, "bad-type", ["-nodad"]],
    [{ address: 1 }, "bad-type", ["address"]],
    [{ address: "192.0.2.1", devv: "eth0" }, "unknown-field", ["devv"]],
    [{ dev: "eth0" }, "missing-field", ["address"]],
    [{ address: "192.0.2.1/24", peer: "192.0.2.2" }, "prefix-with-peer", undefined],
    [{ address: "2001:db8::1", scope: "link" }, "ipv4-only", ["scope"]],
    [{ address: "192.0.2.1", preferred_lft: 1.5 }, "bad-type", ["preferred_lft"]],
    [{ address: "192.0.2.1", preferred_lft: -1 }, "bad-number", ["preferred_lft"]],
  ])("%j", (v, code, at) => {
    const r = fromToml(v);
    expect(r.value).toBeUndefined();
    const issue = r.issues.find((i) => i.code === code);
    expect(issue).toBeDefined();
    if (at) expect(issue?.at).toEqual(at);
  });

  test("kind applies to tables too", () => {
    expect(errorsOf(fromToml({ address: "192.0.2.1", use_vmac: true }, "static"))).toEqual([
      "unknown-field",
    ]);
    expect(errorsOf(fromToml({ address: "192.0.2.1", track_group: "G" }, "virtual"))).toEqual([
      "unknown-field",
    ]);
  });

  test("not a string or table", () => {
    expect(errorsOf(fromToml(42))).toEqual(["bad-type"]);
    expect(errorsOf(fromToml(["192.0.2.1"]))).toEqual(["bad-type"]);
  });
});

function genAddress(r: Rng): AddressLine {
  const v6 = r.bool(0.4);
  const max = v6 ? 128 : 32;
  const peer = r.bool(0.15);
  const len = peer ? max : r.bool(0.3) ? max : r.int(0, max);
  const out: Record<string, unknown> = {
    address: formatPrefix({ family: v6 ? 6 : 4, bytes: r.bytes(v6 ? 16 : 4), len }),
  };
  const dev = r.bool(0.6) ? r.pick(["eth0", "bond0.100", "veth-a_b", "x"]) : undefined;
  if (dev) out.dev = dev;
  if (peer)
    out.peer = formatPrefix({ family: v6 ? 6 : 4, bytes: r.bytes(v6 ? 16 : 4), len: max }).split(
      "/",
    )[0];
  if (!v6) {
    if (!peer && r.bool(0.3)) {
      const ip = formatPrefix({ family: 4, bytes: r.bytes(4), len: 32 }).split("/")[0]!;
      out.brd = len <= 30 ? r.pick(["+", "-", ip]) : ip;
    }
    if (r.bool(0.3)) out.scope = r.bool() ? r.pick(SCOPES) : r.int(0, 255);
    if (r.bool(0.3))
      out.label = dev ? `${dev}:${r.int(0, 99)}`.slice(0, 15) : r.pick(["lbl", "a:b"]);
  }
  for (const f of [
    "use_vmac",
    "home",
    "-nodad",
    "mngtmpaddr",
    "noprefixroute",
    "autojoin",
    "no_track",
  ]) {
    if (r.bool(0.25)) out[f] = true;
  }
  if (r.bool(0.3)) out.preferred_lft = r.bool(0.3) ? "forever" : r.int(0, 0xffffffff);
  if (r.bool(0.2)) out.track_group = r.pick(["G", "grp_1", "a.b-c"]);
  return out as unknown as AddressLine;
}

describe("address round trips", () => {
  test(`fromTokens(toLine(x)) = x and fromToml(x) = x (seed ${SEED})`, () => {
    forCases(SEED, 3000, (r) => {
      const x = genAddress(r);
      const back = fromTokens(toks(toLine(x)));
      expect(errorsOf(back)).toEqual([]);
      expect(back.value).toEqual(x);
      expect(fromToml(toLine(x)).value).toEqual(x);
      expect(fromToml(x).value).toEqual(x);
    });
  });

  const VOCAB = [
    "brd",
    "broadcast",
    "dev",
    "use_vmac",
    "scope",
    "label",
    "peer",
    "home",
    "-nodad",
    "mngtmpaddr",
    "noprefixroute",
    "autojoin",
    "no_track",
    "preferred_lft",
    "track_group",
    "link",
    "host",
    "global",
  ];

  test(`fuzz: 20k token sequences only produce issues (seed ${SEED})`, () => {
    const accepted = fuzzLines(SEED, 20000, VOCAB, (t) => fromTokens(t), toLine);
    expect(accepted).toBeGreaterThan(100);
  });

  test(`fuzz: random TOML values only produce issues (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const res = fromToml(randomToml(r, ["address", ...VOCAB, "-nodad"]));
      expect(Array.isArray(res.issues)).toBe(true);
      if (res.value) expect(fromTokens(toks(toLine(res.value))).value).toEqual(res.value);
    });
  });
});
