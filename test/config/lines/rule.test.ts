import { describe, expect, test } from "bun:test";
import {
  fromTokens,
  fromToml,
  RULE_TYPES,
  type RuleLine,
  toLine,
} from "../../../src/config/lines/rule.ts";
import { formatPrefix, type IpFamily, maskHostBits } from "../../../src/core/net/ip.ts";
import { forCases, type Rng, SEED } from "./rand.ts";
import { clean, errorsOf, fuzzLines, randomToml, toks, warningsOf } from "./util.ts";

const parse = (line: string, kind?: "virtual" | "static") => fromTokens(toks(line), kind);

describe("rule lines", () => {
  test("keepalived.conf(5) examples (with the preference keepalived wants)", () => {
    expect(clean(parse("from 192.168.2.0/24 table 1 preference 100"))).toEqual({
      from: "192.168.2.0/24",
      table: 1,
      preference: 100,
    });
    expect(clean(parse("to 192.168.2.0/24 lookup 1 no_track priority 5"))).toEqual({
      to: "192.168.2.0/24",
      table: 1,
      no_track: true,
      preference: 5,
    });
    expect(
      clean(
        parse(
          "to 1:2:3:4:5:6:7:0/112 from 7:6:5:4:3:2::/96 table 6908 uidrange 10000-19999 order 9",
        ),
      ),
    ).toEqual({
      to: "1:2:3:4:5:6:7:0/112",
      from: "7:6:5:4:3:2::/96",
      table: 6908,
      uidrange: [10000, 19999],
      preference: 9,
    });
  });

  test("every option", () => {
    const v = clean(
      parse(
        "inet from 192.0.2.0/24 to all not preference 0x10 table small tos 22 fwmark 24/0xc " +
          "realms 30/20 sup_pl 8 sup_group 3 dev eth0 oif wlan0 tunnel-id 99 uidrange 1-2 " +
          "protocol 18 ipproto udp sport 10 dport 20-30 track_group G",
        "static",
      ),
    );
    expect(v).toEqual({
      family: "inet",
      from: "192.0.2.0/24",
      to: "0.0.0.0/0",
      not: true,
      preference: 16,
      table: "small",
      tos: 22,
      fwmark: 24,
      fwmask: 12,
      realms: "30/20",
      suppress_prefixlength: 8,
      suppress_ifgroup: 3,
      iif: "eth0",
      oif: "wlan0",
      "tunnel-id": 99,
      uidrange: [1, 2],
      protocol: 18,
      ipproto: "udp",
      sport: [10, 10],
      dport: [20, 30],
      track_group: "G",
    });
    expect(clean(parse(toLine(v)))).toEqual(v);
  });

  test("actions", () => {
    expect(clean(parse("preference 5 goto 10"))).toEqual({ preference: 5, goto: 10 });
    expect(clean(parse("preference 5 type goto 10"))).toEqual({ preference: 5, goto: 10 });
    expect(clean(parse("preference 5 nop"))).toEqual({ preference: 5, nop: true });
    expect(clean(parse("preference 5 type nop"))).toEqual({ preference: 5, nop: true });
    expect(clean(parse("preference 5 l3mdev"))).toEqual({ preference: 5, l3mdev: true });
    expect(clean(parse("preference 5 dsfield 1 prohibit"))).toEqual({
      preference: 5,
      tos: 1,
      type: "prohibit",
    });
    expect(clean(parse("preference 5 type unreachable"))).toEqual({
      preference: 5,
      type: "unreachable",
    });
    expect(clean(parse("preference 5 type 6"))).toEqual({ preference: 5, type: "blackhole" });
    expect(clean(parse("inet6 from any preference 5 suppress_prefixlength 0 table main"))).toEqual({
      family: "inet6",
      from: "::/0",
      preference: 5,
      suppress_prefixlength: 0,
      table: "main",
    });
  });

  test.each([
    ["from 300.0.0.0/8 table 1 preference 1", "bad-address"],
    ["from 10.0.0.0/33 table 1 preference 1", "bad-prefix"],
    ["from table 1", "bad-address"],
    ["preference 1 table", "missing-argument"],
    ["preference 1 fwmark", "missing-argument"],
    ["preference 1 type", "missing-argument"],
    ["preference 1", "missing-action"],
    ["preference 1 table 1 frobnicate", "unknown-option"],
    ["preference 1 table 1 ip_proto udp", "unknown-option"],
    ["preference 1 type local", "bad-value"],
    ["preference 1 table 1 table 2", "duplicate-option"],
    ["preference 1 prohibit blackhole", "duplicate-option"],
    ["preference 1 fwmark 1 fwmark 2 table 1", "duplicate-option"],
    ["preference 1 table 1 goto 5", "conflicting-options"],
    ["preference 1 table 1 l3mdev", "conflicting-options"],
    ["preference 1 nop realms 1", "conflicting-options"],
    ["preference 1 blackhole sup_pl 1", "conflicting-options"],
    ["goto 5", "goto-without-preference"],
    ["preference 5 goto 5", "bad-goto"],
    ["from 10.0.0.0/8 to 2001:db8::/32 table 1 preference 1", "family-mismatch"],
    ["inet6 from 10.0.0.0/8 table 1 preference 1", "family-mismatch"],
    ["inet inet6 table 1 preference 1", "family-mismatch"],
    ["inet6 realms 1 table 1 preference 1", "family-mismatch"],
    ["table 0 preference 1", "out-of-range"],
    ["table 1 preference 4294967296", "out-of-range"],
    ["table 1 preference x", "bad-number"],
    ["table 1x preference 1", "bad-table"],
    ["table 1 preference 1 tos 1x", "bad-dsfield"],
    ["table 1 preference 1 fwmark 1/2/3", "bad-fwmark"],
    ["table 1 preference 1 fwmark 0x100000000", "out-of-range"],
    ["table 1 preference 1 realms 1/2/3", "bad-realms"],
    ["table 1 preference 1 uidrange 5-1", "bad-range"],
    ["table 1 preference 1 uidrange 5", "bad-range"],
    ["table 1 preference 1 sport 1-x", "bad-range"],
    ["table 1 preference 1 sport 65536", "out-of-range"],
    ["table 1 preference 1 ipproto 256", "out-of-range"],
    ["table 1 preference 1 ipproto u/dp", "bad-ipproto"],
    ["table 1 preference 1 protocol bird", "bad-number"],
    ["table 1 preference 1 iif eth0/1", "bad-interface"],
    ["table 1 preference 1 sup_group 1x", "bad-group"],
    ['table 1 preference 1 iif eth0 track_group "a b"', "bad-track-group"],
    ["table 1 preference 1 track_group G", "track-group-needs-dev"],
  ])("%p fails with %s", (line, code) => {
    const r = parse(line);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toContain(code);
  });

  test("warnings keep the rule", () => {
    const noPref = parse("from 10.0.0.0/8 table 1");
    expect(noPref.value).toEqual({ from: "10.0.0.0/8", table: 1 });
    expect(warningsOf(noPref)).toEqual(["missing-preference"]);
    expect(warningsOf(parse("table 1 preference 1 protocol 12"))).toEqual(["protocol-overridden"]);
    expect(warningsOf(parse("table 1 preference 1 protocol 12 no_track"))).toEqual([]);
    expect(warningsOf(parse("table 1 preference 1 ipproto 132"))).toEqual([
      "keepalived-incompatible",
    ]);
    expect(warningsOf(parse("table 1 preference 1 not not"))).toEqual(["duplicate-option"]);
  });

  test("track_group is for static rules only", () => {
    expect(errorsOf(parse("table 1 preference 1 iif eth0 track_group G", "virtual"))).toContain(
      "unknown-option",
    );
  });

  test("problems are located", () => {
    const r = parse("table 0 preference x");
    expect(r.issues.map((i) => [i.code, i.at])).toEqual([
      ["out-of-range", 1],
      ["bad-number", 3],
    ]);
  });
});

describe("rule fromToml", () => {
  test("tables", () => {
    expect(
      clean(
        fromToml({
          from: "all",
          family: "inet6",
          table: "main",
          preference: 5,
          fwmark: "0x10/0xff",
          uidrange: [1, 2],
          sport: "80",
          dport: [1, 2],
          not: true,
        }),
      ),
    ).toEqual({
      from: "::/0",
      family: "inet6",
      table: "main",
      preference: 5,
      fwmark: 16,
      fwmask: 255,
      uidrange: [1, 2],
      sport: [80, 80],
      dport: [1, 2],
      not: true,
    });
    expect(clean(fromToml({ type: "blackhole", preference: 1, fwmark: 3, fwmask: 1 }))).toEqual({
      type: "blackhole",
      preference: 1,
      fwmark: 3,
      fwmask: 1,
    });
    expect(clean(fromToml("from 10.0.0.0/8 table 5 preference 1"))).toEqual({
      from: "10.0.0.0/8",
      table: 5,
      preference: 1,
    });
  });

  test.each([
    [{ preference: 1 }, "missing-action", 0],
    [{ table: 1, preference: 1, lookup: 2 }, "unknown-field", ["lookup"]],
    [{ table: 1, preference: "1" }, "bad-type", ["preference"]],
    [{ table: 1, preference: 1, fwmask: 3 }, "missing-field", ["fwmask"]],
    [{ table: 1, preference: 1, fwmark: true }, "bad-type", ["fwmark"]],
    [{ table: 1, preference: 1, fwmask: "x" }, "bad-type", ["fwmask"]],
    [{ table: 1, preference: 1, fwmark: 1, fwmask: -1 }, "bad-number", ["fwmask"]],
    [{ table: 1, preference: 1, uidrange: [1] }, "bad-type", ["uidrange"]],
    [{ table: 1, preference: 1, uidrange: [2, 1] }, "bad-range", ["uidrange"]],
    [{ table: 1, preference: 1, type: "local" }, "bad-value", ["type"]],
    [{ table: 1, preference: 1, family: 4 }, "bad-value", ["family"]],
    [{ table: 1, preference: 1, iif: "e", track_group: "G" }, "unknown-field", ["track_group"]],
  ])("%j", (v, code, at) => {
    const r = fromToml(v, "virtual");
    expect(r.value).toBeUndefined();
    expect(r.issues).toContainEqual(expect.objectContaining({ code, at }));
  });

  test("wrong types", () => {
    expect(errorsOf(fromToml(3))).toEqual(["bad-type"]);
    expect(errorsOf(fromToml('table "1'))).toEqual(["unterminated-quote"]);
  });
});

function prefix(r: Rng, f: IpFamily): string {
  const len = r.int(0, f === 4 ? 32 : 128);
  return formatPrefix(maskHostBits({ family: f, bytes: r.bytes(f === 4 ? 4 : 16), len }));
}

function genRule(r: Rng): RuleLine {
  const f: IpFamily = r.bool(0.4) ? 6 : 4;
  const o: Record<string, unknown> = {};
  const maybe = (p: number, k: string, v: () => unknown) => {
    if (r.bool(p)) o[k] = v();
  };
  maybe(0.2, "family", () => (f === 4 ? "inet" : "inet6"));
  maybe(0.5, "from", () => prefix(r, f));
  maybe(0.5, "to", () => prefix(r, f));
  maybe(0.2, "not", () => true);
  const action = r.pick(["table", "goto", "nop", "type", "l3mdev"] as const);
  if (action === "goto") {
    o.goto = r.int(1, 0xffffffff);
    o.preference = r.int(0, (o.goto as number) - 1);
  } else {
    maybe(0.8, "preference", () => r.int(0, 0xffffffff));
    if (action === "table")
      o.table = r.bool() ? r.int(1, 0xffffffff) : r.pick(["main", "local", "vrf_blue"]);
    else if (action === "type") o.type = r.pick(RULE_TYPES);
    else o[action] = true;
  }
  if (action === "table" || action === "l3mdev") {
    if (f === 4) maybe(0.2, "realms", () => r.pick(["1", "2/3", "lan/wan"]));
    maybe(0.2, "suppress_prefixlength", () => r.int(0, 0x7fffffff));
    maybe(0.2, "suppress_ifgroup", () => (r.bool() ? r.int(0, 0x7fffffff) : "grp"));
  }
  maybe(0.2, "tos", () => (r.bool() ? r.int(0, 255) : "AF21"));
  if (r.bool(0.3)) {
    o.fwmark = r.int(0, 0xffffffff);
    maybe(0.5, "fwmask", () => r.int(0, 0xffffffff));
  }
  maybe(0.3, "iif", () => r.pick(["eth0", "lo"]));
  maybe(0.2, "oif", () => "wlan0");
  maybe(0.2, "tunnel-id", () => r.int(0, 2 ** 50));
  const pair = (max: number) => {
    const a = r.int(0, max);
    return [a, r.bool(0.3) ? a : r.int(a, max)];
  };
  maybe(0.2, "uidrange", () => pair(0xffffffff));
  maybe(0.2, "sport", () => pair(65535));
  maybe(0.2, "dport", () => pair(65535));
  maybe(0.2, "protocol", () => r.int(0, 255));
  maybe(0.2, "ipproto", () => (r.bool() ? r.int(0, 255) : r.pick(["tcp", "udp", "ipv6-icmp"])));
  maybe(0.2, "no_track", () => true);
  if ("iif" in o) maybe(0.3, "track_group", () => "G");
  return o as unknown as RuleLine;
}

describe("rule round trips", () => {
  test(`fromTokens(toLine(x)) = x and fromToml(x) = x (seed ${SEED})`, () => {
    forCases(SEED, 3000, (r) => {
      const x = genRule(r);
      const back = fromTokens(toks(toLine(x)));
      expect(errorsOf(back)).toEqual([]);
      expect(back.value).toEqual(x);
      expect(fromToml(x).value).toEqual(x);
    });
  });

  const VOCAB = [
    "from",
    "to",
    "not",
    "table",
    "lookup",
    "preference",
    "priority",
    "order",
    "tos",
    "dsfield",
    "fwmark",
    "realms",
    "suppress_prefixlength",
    "sup_pl",
    "suppress_ifgroup",
    "sup_group",
    "dev",
    "iif",
    "oif",
    "tunnel-id",
    "uidrange",
    "l3mdev",
    "protocol",
    "ipproto",
    "sport",
    "dport",
    "goto",
    "nop",
    "type",
    "blackhole",
    "unreachable",
    "prohibit",
    "no_track",
    "track_group",
    "all",
  ];

  test(`fuzz: 20k token sequences only produce issues (seed ${SEED})`, () => {
    const accepted = fuzzLines(SEED, 20000, VOCAB, (t) => fromTokens(t), toLine);
    expect(accepted).toBeGreaterThan(50);
  });

  test(`fuzz: random TOML values only produce issues (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const res = fromToml(randomToml(r, [...VOCAB, "family", "fwmask"]));
      if (res.value) expect(fromTokens(toks(toLine(res.value))).value).toEqual(res.value);
    });
  });
});
