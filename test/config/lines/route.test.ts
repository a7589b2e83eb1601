import { describe, expect, test } from "bun:test";
import { fromTokens, fromToml, toLine } from "../../../src/config/lines/route.ts";
import { clean, errorsOf, toks, warningsOf } from "./util.ts";

const parse = (line: string, kind?: "virtual" | "static") => fromTokens(toks(line), kind);

describe("route lines", () => {
  test("keepalived.conf(5) virtual_routes examples", () => {
    expect(
      clean(parse("src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1")),
    ).toEqual({
      src: "192.168.100.1",
      to: "192.168.109.0/24",
      via: "192.168.200.254",
      dev: "eth1",
    });
    expect(clean(parse("192.168.111.0/24 dev eth2 no_track"))).toEqual({
      to: "192.168.111.0/24",
      dev: "eth2",
      no_track: true,
    });
    expect(clean(parse("blackhole 192.168.114.0/24"))).toEqual({
      type: "blackhole",
      to: "192.168.114.0/24",
    });
    // `or` is read as two nexthops; the route keeps its dev, as keepalived sends it.
    const or = parse("192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1");
    expect(or.value).toEqual({
      to: "192.168.113.0/24",
      dev: "eth1",
      nexthop: [{ via: "192.168.200.254" }, { via: "192.168.100.254" }],
    });
    expect(warningsOf(or)).toEqual(["deprecated"]);
    const gw = parse("0.0.0.0/0 gw 192.168.0.1 table 100");
    expect(gw.value).toEqual({ to: "0.0.0.0/0", via: "192.168.0.1", table: 100 });
    expect(warningsOf(gw)).toEqual(["deprecated"]);
  });

  test("static_routes example with nexthops", () => {
    const v = clean(
      parse(
        "192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 onlink weight 1 " +
          "nexthop via 192.168.101.2 dev wlan0 onlink weight 2",
      ),
    );
    expect(v).toEqual({
      to: "192.168.100.0/24",
      table: 6909,
      nexthop: [
        { via: "192.168.101.1", dev: "wlan0", onlink: true, weight: 1 },
        { via: "192.168.101.2", dev: "wlan0", onlink: true, weight: 2 },
      ],
    });
  });

  test("every option", () => {
    const line =
      "inet6 unicast 2001:db8::/48 via inet6 fe80::1 append src 2001:db8::1 from 2001:db8:1::/64 " +
      "oif eth0 table main priority 10 scope link protocol static dsfield 0x10 onlink expires 60 " +
      "mtu lock 1400 hoplimit 64 advmss lock 1360 rtt lock 1.5s rttvar 300ms reordering lock 3 " +
      "window 65535 cwnd lock 10 ssthresh lock 20 rto_min lock 200ms initcwnd 10 initrwnd 20 " +
      "features ecn quickack 1 congctl lock cubic pref high ttl-propagate enabled " +
      "fastopen_no_cookie 1 vrf blue no_track track_group G encap ip6 id 7 dst 2001:db8::9 " +
      "src 2001:db8::8 tc 0x20 hoplimit 4 flags 1";
    const v = clean(parse(line));
    expect(v).toEqual({
      family: "inet6",
      type: "unicast",
      to: "2001:db8::/48",
      via: "fe80::1",
      mode: "append",
      src: "2001:db8::1",
      from: "2001:db8:1::/64",
      dev: "eth0",
      table: "main",
      metric: 10,
      scope: "link",
      protocol: "static",
      tos: 16,
      onlink: true,
      expires: 60,
      mtu: 1400,
      mtu_lock: true,
      hoplimit: 64,
      advmss: 1360,
      advmss_lock: true,
      rtt: 12000,
      rtt_lock: true,
      rttvar: 1200,
      reordering: 3,
      reordering_lock: true,
      window: 65535,
      cwnd: 10,
      cwnd_lock: true,
      ssthresh: 20,
      ssthresh_lock: true,
      rto_min: 200,
      rto_min_lock: true,
      initcwnd: 10,
      initrwnd: 20,
      features: "ecn",
      quickack: 1,
      congctl: "cubic",
      congctl_lock: true,
      pref: "high",
      "ttl-propagate": "enabled",
      fastopen_no_cookie: 1,
      vrf: "blue",
      no_track: true,
      track_group: "G",
      encap: {
        type: "ip6",
        id: 7,
        dst: "2001:db8::9",
        src: "2001:db8::8",
        tc: 32,
        hoplimit: 4,
        flags: 1,
      },
    });
    expect(clean(parse(toLine(v)))).toEqual(v);
  });

  test("IPv4-only options, encap forms and nexthop options", () => {
    const v = clean(
      parse(
        "10.0.0.0/8 realms 1/lan encap ip id 5 dst 192.0.2.9 ttl 3 tos 4 flags 2 src 192.0.2.8 " +
          "nexthop via inet 192.0.2.1 dev eth0 weight 256 realms 2 encap mpls 100/0x200 " +
          "nexthop dev eth1 encap ila 2001:DB8:0:0001 nexthop",
      ),
    );
    expect(v).toEqual({
      to: "10.0.0.0/8",
      realms: "1/lan",
      encap: { type: "ip", id: 5, dst: "192.0.2.9", ttl: 3, tos: 4, flags: 2, src: "192.0.2.8" },
      nexthop: [
        {
          via: "192.0.2.1",
          dev: "eth0",
          weight: 256,
          realms: "2",
          encap: { type: "mpls", labels: [100, 512] },
        },
        { dev: "eth1", encap: { type: "ila", locator: "2001:db8:0:1" } },
        {},
      ],
    });
    expect(clean(parse(toLine(v)))).toEqual(v);
  });

  test("destinations: default, to, type numbers", () => {
    expect(clean(parse("default via 192.0.2.1")).to).toBe("0.0.0.0/0");
    expect(clean(parse("any via fe80::1")).to).toBe("::/0");
    expect(clean(parse("inet6 all dev eth0")).to).toBe("::/0");
    expect(clean(parse("to 2001:DB8::/32")).to).toBe("2001:db8::/32");
    expect(clean(parse("brd 192.0.2.255"))).toEqual({ type: "broadcast", to: "192.0.2.255/32" });
    expect(clean(parse("0x6 192.0.2.0/24"))).toEqual({ type: 6, to: "192.0.2.0/24" });
    const d6 = parse("default6 dev eth0");
    expect(d6.value?.to).toBe("::/0");
    expect(warningsOf(d6)).toEqual(["deprecated"]);
  });

  test("time values: raw kernel units or with units", () => {
    const t = (s: string) => parse(`10.0.0.0/8 rtt ${s}`);
    expect(clean(t("1600")).rtt).toBe(1600);
    expect(clean(t("2s")).rtt).toBe(16000);
    expect(clean(t("0.25SEC")).rtt).toBe(2000);
    expect(clean(t("250msecs")).rtt).toBe(2000);
    expect(clean(t(".2s")).rtt).toBe(1600);
    expect(errorsOf(t("1599"))).toEqual(["out-of-range"]);
    expect(errorsOf(t("121s"))).toEqual(["out-of-range"]);
    expect(errorsOf(t("1e3"))).toEqual(["bad-time"]);
    expect(errorsOf(t("1.0001s"))).toEqual(["bad-time"]);
    expect(errorsOf(t("1.5ms"))).toEqual(["bad-time"]);
    expect(errorsOf(t("5min"))).toEqual(["bad-time"]);
    expect(errorsOf(t("ms"))).toEqual(["bad-time"]);
  });

  test.each([
    ["300.1.1.0/24", "bad-address"],
    ["10.0.0.0/33", "bad-prefix"],
    ["dev eth0", "missing-destination"],
    ["10.0.0.0/8 via", "missing-argument"],
    ["10.0.0.0/8 dev", "missing-argument"],
    ["to", "missing-argument"],
    ["blackhole", "missing-argument"],
    ["10.0.0.0/8 frobnicate", "unknown-option"],
    ["to blackhole 10.0.0.0/8", "unknown-option"],
    ["10.0.0.0/8 11.0.0.0/8", "duplicate-option"],
    ["10.0.0.0/8 via 192.0.2.1 via 192.0.2.2", "duplicate-option"],
    ["10.0.0.0/8 add append", "duplicate-option"],
    ["10.0.0.0/8 via 2001:db8::1", "family-mismatch"],
    ["inet6 10.0.0.0/8", "family-mismatch"],
    ["inet inet6 default", "family-mismatch"],
    ["default via inet6 192.0.2.1", "family-mismatch"],
    ["10.0.0.0/8 nexthop via 2001:db8::1", "family-mismatch"],
    ["2001:db8::/32 realms 1", "family-mismatch"],
    ["10.0.0.0/8 expires 5", "family-mismatch"],
    ["10.0.0.0/8 pref low", "family-mismatch"],
    ["2001:db8::/32 from 10.0.0.0/8", "ipv6-only"],
    ["10.0.0.0/8 dev eth0:1", "bad-interface"],
    ["10.0.0.0/8 table 1x", "bad-table"],
    ["10.0.0.0/8 table 4294967296", "out-of-range"],
    ["10.0.0.0/8 metric x", "bad-number"],
    ["10.0.0.0/8 scope galaxy", "bad-scope"],
    ["10.0.0.0/8 protocol 256", "out-of-range"],
    ["10.0.0.0/8 protocol 1x", "bad-protocol"],
    ["10.0.0.0/8 tos 1x", "bad-dsfield"],
    ["10.0.0.0/8 realms 1/2/3", "bad-realms"],
    ["10.0.0.0/8 features sack", "bad-value"],
    ["2001:db8::/32 pref highest", "bad-value"],
    ["10.0.0.0/8 ttl-propagate yes", "bad-value"],
    ["10.0.0.0/8 quickack 2", "out-of-range"],
    ['10.0.0.0/8 congctl "a b"', "bad-congctl"],
    ['10.0.0.0/8 dev eth0 track_group "a b"', "bad-track-group"],
    ["10.0.0.0/8 encap", "missing-argument"],
    ["10.0.0.0/8 encap gre", "bad-encap"],
    ["10.0.0.0/8 encap mpls 1/2/3", "bad-encap"],
    ["10.0.0.0/8 encap mpls 1048576", "bad-encap"],
    ["10.0.0.0/8 encap ila 1:2:3", "bad-encap"],
    ["10.0.0.0/8 encap mpls", "missing-argument"],
    ["10.0.0.0/8 encap ip ttl 3", "incomplete-encap"],
    ["10.0.0.0/8 encap ip dst 2001:db8::1", "ipv4-only"],
    ["10.0.0.0/8 encap ip6 dst 192.0.2.1", "ipv6-only"],
    ["10.0.0.0/8 as to 192.0.2.1", "unsupported-option"],
    ["10.0.0.0/8 nexthop via 192.0.2.1 as 192.0.2.2", "unsupported-option"],
    ["10.0.0.0/8 or 192.0.2.2", "or-without-via"],
    ["10.0.0.0/8 via 192.0.2.1 or", "missing-argument"],
    ["10.0.0.0/8 via 192.0.2.1 or 192.0.2.2 or 192.0.2.3", "duplicate-option"],
    ["10.0.0.0/8 via 192.0.2.1 or 192.0.2.2 nexthop via 192.0.2.3", "conflicting-options"],
    ["10.0.0.0/8 nexthop via 192.0.2.1 table 5", "trailing-argument"],
    ["10.0.0.0/8 nexthop weight 0", "out-of-range"],
    ["10.0.0.0/8 nexthop weight 257", "out-of-range"],
    ["10.0.0.0/8 nexthop via 192.0.2.1 via 192.0.2.2", "duplicate-option"],
    ["10.0.0.1/8", "host-bits-set"],
    ["10.0.0.0/8 track_group G", "track-group-needs-dev"],
  ])("%p fails with %s", (line, code) => {
    const r = parse(line);
    expect(r.value).toBeUndefined();
    expect(errorsOf(r)).toContain(code);
  });

  test("warnings keep the route", () => {
    const p = parse("10.0.0.0/8 protocol bird");
    expect(p.value).toEqual({ to: "10.0.0.0/8", protocol: "bird" });
    expect(warningsOf(p)).toEqual(["protocol-overridden"]);
    expect(warningsOf(parse("10.0.0.0/8 protocol 18"))).toEqual([]);
    expect(warningsOf(parse("10.0.0.0/8 protocol bird no_track"))).toEqual([]);
    const h = parse("2001:db8::1/64");
    expect(h.value?.to).toBe("2001:db8::1/64");
    expect(warningsOf(h)).toEqual(["host-bits-set"]);
    expect(warningsOf(parse("10.0.0.0/8 onlink onlink"))).toEqual(["duplicate-option"]);
  });

  test("track_group is for static routes only", () => {
    const r = parse("10.0.0.0/8 dev eth0 track_group G", "virtual");
    expect(errorsOf(r)).toContain("unknown-option");
    expect(clean(parse("10.0.0.0/8 dev eth0 track_group G", "static")).track_group).toBe("G");
  });

  test("every error is reported and located", () => {
    const r = parse("10.0.0.0/8 metric x scope galaxy");
    expect(r.issues.map((i) => [i.code, i.at])).toEqual([
      ["bad-number", 2],
      ["bad-scope", 4],
    ]);
  });
});

describe("route fromToml", () => {
  test("a string and a table give the same model", () => {
    const line = "192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 weight 2";
    const table = {
      to: "192.168.100.0/24",
      table: 6909,
      nexthop: [{ via: "192.168.101.1", dev: "wlan0", weight: 2 }],
    };
    expect(clean(fromToml(line))).toEqual(clean(fromToml(table)));
  });

  test("tables", () => {
    expect(
      clean(
        fromToml({
          to: "default",
          via: "FE80::1",
          type: "unicast",
          mode: "add",
          family: "inet6",
          mtu: 1400,
          mtu_lock: true,
          rtt: "1s",
          table: "main",
          encap: { type: "ip6", id: 1 },
          onlink: false,
        }),
      ),
    ).toEqual({
      to: "::/0",
      via: "fe80::1",
      type: "unicast",
      mode: "add",
      family: "inet6",
      mtu: 1400,
      mtu_lock: true,
      rtt: 8000,
      table: "main",
      encap: { type: "ip6", id: 1 },
    });
    expect(
      clean(fromToml({ to: "10.0.0.0/8", type: 6, encap: { type: "mpls", labels: [1, 2] } })),
    ).toEqual({
      to: "10.0.0.0/8",
      type: 6,
      encap: { type: "mpls", labels: [1, 2] },
    });
    expect(
      clean(fromToml({ to: "10.0.0.0/8", encap: { type: "ila", locator: "1:2:3:4" } })).encap,
    ).toEqual({
      type: "ila",
      locator: "1:2:3:4",
    });
  });

  test.each([
    [{ via: "192.0.2.1" }, "missing-field", ["to"]],
    [{ to: 5 }, "bad-type", ["to"]],
    [{ to: "10.0.0.0/8", metrik: 5 }, "unknown-field", ["metrik"]],
    [{ to: "10.0.0.0/8", metric: "5" }, "bad-type", ["metric"]],
    [{ to: "10.0.0.0/8", via: 5 }, "bad-type", ["via"]],
    [{ to: "10.0.0.0/8", via: "x" }, "bad-address", ["via"]],
    [{ to: "10.0.0.0/8", nexthop: { via: "192.0.2.1" } }, "bad-type", ["nexthop"]],
    [{ to: "10.0.0.0/8", nexthop: [5] }, "bad-type", ["nexthop", 0]],
    [{ to: "10.0.0.0/8", nexthop: [{ gw: "192.0.2.1" }] }, "unknown-field", ["nexthop", 0, "gw"]],
    [{ to: "10.0.0.0/8", nexthop: [{ via: 1 }] }, "bad-type", ["nexthop", 0, "via"]],
    [{ to: "10.0.0.0/8", nexthop: [{ via: "fe80::1" }] }, "family-mismatch", ["nexthop", 0]],
    [{ to: "10.0.0.0/8", mtu_lock: true }, "missing-field", ["mtu_lock"]],
    [{ to: "10.0.0.0/8", mtu_lock: 1, mtu: 5 }, "bad-type", ["mtu_lock"]],
    [{ to: "10.0.0.0/8", type: "teleport" }, "bad-value", ["type"]],
    [{ to: "10.0.0.0/8", mode: "insert" }, "bad-value", ["mode"]],
    [{ to: "10.0.0.0/8", encap: "mpls 1" }, "bad-type", ["encap"]],
    [{ to: "10.0.0.0/8", encap: { type: "gre" } }, "bad-encap", ["encap", "type"]],
    [{ to: "10.0.0.0/8", encap: { type: "ip", ttl: 3 } }, "incomplete-encap", ["encap"]],
    [{ to: "10.0.0.0/8", encap: { type: "ip", id: 1, tll: 3 } }, "unknown-field", ["encap", "tll"]],
    [{ to: "10.0.0.0/8", encap: { type: "mpls", labels: "1" } }, "bad-type", ["encap", "labels"]],
    [
      { to: "10.0.0.0/8", encap: { type: "mpls", labels: [1], x: 1 } },
      "unknown-field",
      ["encap", "x"],
    ],
    [{ to: "10.0.0.0/8", track_group: "G" }, "track-group-needs-dev", ["track_group"]],
  ])("%j", (v, code, at) => {
    const r = fromToml(v);
    expect(r.value).toBeUndefined();
    expect(r.issues).toContainEqual(expect.objectContaining({ code, at }));
  });

  test("kind and wrong types", () => {
    expect(errorsOf(fromToml({ to: "10.0.0.0/8", dev: "e", track_group: "G" }, "virtual"))).toEqual(
      ["unknown-field"],
    );
    expect(errorsOf(fromToml(null))).toEqual(["bad-type"]);
    expect(errorsOf(fromToml('10.0.0.0/8 dev "eth0'))).toEqual(["unterminated-quote"]);
  });
});
