/**
 * The two front ends, end to end through loadText: how keepalived statements are lowered
 * with the schema (unknown and deprecated keywords, aliases, named blocks, braces, extra
 * arguments, every atom's bad input, tuples) and how TOML is read (shorthand forms, syntax
 * errors and unknown keys, each at its place). Positive cases assert the raw document
 * exactly; where a construct exists in both formats, both must give the same raw document.
 */
import { describe, expect, test } from "bun:test";
import { type Diagnostic, MAX_DIAGNOSTICS, type Severity } from "../../src/config/diag.ts";
import { MAX_PREPROCESSED_LINES } from "../../src/config/keepalived/lexer.ts";
import type { SourceHost } from "../../src/config/keepalived/types.ts";
import { type ConfigFormat, type Loaded, loadText } from "../../src/config/load.ts";
import { FILES, locate } from "./rule-cases.ts";

const KA = FILES.keepalived;

function load(text: string, format: ConfigFormat, sourceHost?: SourceHost): Loaded {
  return loadText(
    text,
    FILES[format],
    format,
    sourceHost ? { offline: true, sourceHost } : { offline: true },
  );
}
const ka = (text: string) => load(text, "keepalived");
const toml = (text: string) => load(text, "toml");

type Brief = [line: number, col: number, severity: Severity, code: string];
const briefs = (r: Loaded): Brief[] =>
  r.diagnostics.map((d) => [d.line, d.col, d.severity, d.code]);

/** The one diagnostic with `code`, failing if there are none or several. */
function only(r: Loaded, code: string): Diagnostic {
  const found = r.diagnostics.filter((d) => d.code === code);
  expect(found.map((d) => `${d.line}:${d.col} ${d.message}`)).toHaveLength(1);
  return found[0] as Diagnostic;
}

/** A complete instance around `body` (interface, VRID and one address), for context. */
const instanceKa = (body: string) =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.1\n  }\n${body}}\n`;

describe("keepalived: unknown keywords", () => {
  test("a misspelt keyword warns where it is written, suggests the right one and is skipped", () => {
    const r = ka("global_defs {\n  router_idd lb1\n  router_id lb1\n}\n");
    expect(briefs(r)).toEqual([[2, 3, "warning", "unknown-keyword"]]);
    expect(r.diagnostics[0]?.message).toBe(
      "unknown keyword 'router_idd' in global_defs (did you mean 'router_id'?)",
    );
    expect(r.raw).toEqual({ global_defs: { router_id: "lb1" } });
    expect(r.model).toBeDefined();
  });

  test("inside a named block the message names the block; aliases are suggested too", () => {
    const r = ka(instanceKa("  nopreemt\n"));
    expect(briefs(r)).toEqual([[7, 3, "warning", "unknown-keyword"]]);
    expect(r.diagnostics[0]?.message).toBe(
      "unknown keyword 'nopreemt' in vrrp_instance VI_1 (did you mean 'nopreempt'?)",
    );
    const alias = ka("virtual_server 192.0.2.10 80 {\n  lb_algoo rr\n}\n");
    expect(only(alias, "unknown-keyword").message).toContain("(did you mean 'lb_algo'?)");
  });

  test("a word far from every keyword gets no suggestion, and its block is skipped whole", () => {
    const r = ka("frobnicate 1 {\n  priority 5\n}\nglobal_defs {\n  router_id lb1\n}\n");
    expect(briefs(r)).toEqual([[1, 1, "warning", "unknown-keyword"]]);
    expect(r.diagnostics[0]?.message).toBe("unknown keyword 'frobnicate'");
    expect(r.raw).toEqual({ global_defs: { router_id: "lb1" } });
  });
});

describe("keepalived: aliases and deprecated keywords", () => {
  test("lb_algo, lb_kind (virtual and real server) and nb_get_retry are their new names", () => {
    const r = ka(`virtual_server 192.0.2.10 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 192.0.2.21 80 {
    lb_kind TUN
    TCP_CHECK {
      nb_get_retry 3
    }
  }
}
`);
    expect(briefs(r)).toEqual([]);
    expect(r.raw).toEqual({
      virtual_server: [
        {
          ip: "192.0.2.10",
          port: 80,
          lvs_sched: "rr",
          lvs_method: { method: "DR" },
          protocol: "TCP",
          real_server: [
            {
              ip: "192.0.2.21",
              port: 80,
              lvs_method: { method: "TUN" },
              TCP_CHECK: [{ retry: 3 }],
            },
          ],
        },
      ],
    });
  });

  test("global aliases: lvs_flush_onstop, lvs_process_name, enable_snmp_keepalived, *_rlimit_rtime", () => {
    const r = ka(`global_defs {
  lvs_flush_onstop VS
  lvs_process_name ka_checker
  enable_snmp_keepalived
  vrrp_rlimit_rtime 5000
  checker_rlimit_rtime 6000
  bfd_rlimit_rtime 7000
}
`);
    expect(briefs(r)).toEqual([]);
    expect(r.raw).toEqual({
      global_defs: {
        lvs_flush_on_stop: { VS: true },
        checker_process_name: "ka_checker",
        enable_snmp_vrrp: true,
        vrrp_rlimit_rttime: 5000,
        checker_rlimit_rttime: 6000,
        bfd_rlimit_rttime: 7000,
      },
    });
  });

  test("instance and bfd aliases: thread_timer_expired, neighbour_ip, hoplimit", () => {
    const r = ka(`bfd_instance peer {
  neighbour_ip 192.0.2.9
  hoplimit 10
}
${instanceKa("  thread_timer_expired\n")}`);
    expect(briefs(r)).toEqual([]);
    expect(r.raw).toEqual({
      bfd_instance: { peer: { neighbor_ip: "192.0.2.9", ttl: 10 } },
      vrrp_instance: {
        VI_1: {
          interface: "eth0",
          virtual_router_id: 51,
          virtual_ipaddress: [{ address: "192.0.2.1/32" }],
          timer_expired_backup: {},
        },
      },
    });
  });

  test("deprecated aliases warn at the word and still apply", () => {
    const r = ka(`global_defs {
  vrrp_vmac_garp_intvl 30
}
vrrp_track_file maint {
  file /run/maint
}
${instanceKa("  vmac_garp_intvl 10 all\n")}`);
    expect(briefs(r)).toEqual([
      [2, 3, "warning", "deprecated"],
      [4, 1, "warning", "deprecated"],
      [13, 3, "warning", "deprecated"],
    ]);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "'vrrp_vmac_garp_intvl' is deprecated: use vrrp_garp_extra_if",
      "'vrrp_track_file' is deprecated: use track_file",
      "'vmac_garp_intvl' is deprecated: use garp_extra_if",
    ]);
    expect(r.raw).toEqual({
      global_defs: { vrrp_garp_extra_if: { interval: 30 } },
      track_file: { maint: { file: "/run/maint" } },
      vrrp_instance: {
        VI_1: {
          interface: "eth0",
          virtual_router_id: 51,
          virtual_ipaddress: [{ address: "192.0.2.1/32" }],
          garp_extra_if: { all: true, interval: 10 },
        },
      },
    });
  });

  test("deprecated keywords warn in both front ends and are kept", () => {
    const k = ka(`vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  native_ipv6
  linkbeat_use_polling
  lvs_sync_daemon_interface eth1
  virtual_ipaddress {
    2001:db8::1
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  virtual_ipaddress {
    2001:db8::2
  }
}
vrrp_sync_group G {
  group {
    VI_1 VI_2
  }
  global_tracking
}
`);
    const t = toml(`[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
native_ipv6 = true
linkbeat_use_polling = true
lvs_sync_daemon_interface = "eth1"
virtual_ipaddress = ["2001:db8::1"]

[vrrp_instance.VI_2]
interface = "eth0"
virtual_router_id = 52
virtual_ipaddress = ["2001:db8::2"]

[vrrp_sync_group.G]
group = ["VI_1", "VI_2"]
global_tracking = true
`);
    const deprecated: Brief[] = [
      [4, 3, "warning", "deprecated"],
      [5, 3, "warning", "deprecated"],
      [6, 3, "warning", "deprecated"],
      [22, 3, "warning", "deprecated"],
    ];
    expect(briefs(k)).toEqual(deprecated);
    expect(briefs(t)).toEqual([
      [4, 1, "warning", "deprecated"],
      [5, 1, "warning", "deprecated"],
      [6, 1, "warning", "deprecated"],
      [16, 1, "warning", "deprecated"],
    ]);
    expect(k.diagnostics.map((d) => d.message)).toEqual(t.diagnostics.map((d) => d.message));
    expect(k.raw).toEqual(t.raw);
    expect(k.raw.vrrp_instance?.VI_1).toMatchObject({
      native_ipv6: true,
      linkbeat_use_polling: true,
      lvs_sync_daemon_interface: "eth1",
    });
    expect(k.raw.vrrp_sync_group?.G?.global_tracking).toBe(true);
  });

  test("TOML takes no keepalived aliases: the key is unknown, with the new name as hint", () => {
    const r = toml('[[virtual_server]]\nip = "192.0.2.10"\nport = 80\nlb_algo = "rr"\n');
    const d = only(r, "unknown-keyword");
    expect([d.line, d.col, d.severity]).toEqual([4, 1, "warning"]);
    expect(d.message).toBe(
      "unknown key 'lb_algo' in virtual_server[0] (keepalived's 'lb_algo' is 'lvs_sched' here)",
    );
  });
});

describe("keepalived: named blocks and braces", () => {
  test("a second block of one name is an error at the second name; the first is kept", () => {
    const r = ka(`vrrp_script chk {
  script /bin/true
}
vrrp_script chk {
  script /bin/false
}
virtual_server_group G {
  192.0.2.10 80
}
virtual_server_group G {
  192.0.2.11 80
}
`);
    expect(briefs(r)).toEqual([
      [4, 13, "error", "duplicate-name"],
      [10, 22, "error", "duplicate-name"],
    ]);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      `vrrp_script chk is already defined (first defined at ${KA}:1)`,
      `virtual_server_group G is already defined (first defined at ${KA}:7)`,
    ]);
    expect(r.raw).toEqual({
      vrrp_script: { chk: { script: { command: ["/bin/true"] } } },
      virtual_server_group: { G: [{ address: "192.0.2.10", port: 80 }] },
    });
    expect(r.model).toBeUndefined();
  });

  test("a named block without a name is an error at its keyword, and its body is skipped", () => {
    const r = ka("vrrp_instance {\n  interface eth0\n}\n");
    expect(briefs(r)).toEqual([[1, 1, "error", "missing-name"]]);
    expect(r.raw).toEqual({ vrrp_instance: {} });
  });

  test("a block keyword without '{' warns; its would-be body is read at the outer level", () => {
    const r = ka("vrrp_script chk\n  script /bin/true\nglobal_defs\n  router_id lb1\n");
    expect(briefs(r)).toEqual([
      [1, 1, "warning", "missing-brace"],
      [1, 13, "warning", "script-missing"],
      [2, 3, "warning", "unknown-keyword"],
      [3, 1, "warning", "missing-brace"],
      [4, 3, "warning", "unknown-keyword"],
    ]);
    expect(r.raw).toEqual({ vrrp_script: { chk: {} }, global_defs: {} });
  });

  test("'{' on the next line opens the block, as keepalived allows", () => {
    const next = ka(
      "global_defs\n{\n  router_id lb1\n}\nvrrp_script chk\n{\n  script /bin/true\n}\n",
    );
    const same = ka("global_defs { router_id lb1 }\nvrrp_script chk { script /bin/true }\n");
    expect(briefs(next)).toEqual([]);
    expect(briefs(same)).toEqual([]);
    const raw = {
      global_defs: { router_id: "lb1" },
      vrrp_script: { chk: { script: { command: ["/bin/true"] } } },
    };
    expect(next.raw).toEqual(raw);
    expect(same.raw).toEqual(raw);
  });

  test("a block on a keyword that takes none warns at the '{'", () => {
    const r = ka(instanceKa("  priority 100 {\n  }\n"));
    expect(briefs(r)).toEqual([[7, 16, "warning", "unexpected-brace"]]);
    expect(r.raw.vrrp_instance?.VI_1?.priority).toBe(100);
  });

  test("an include's diagnostics name the included file and its line", () => {
    const files: Record<string, string> = {
      [KA]: "include conf.d/*.conf\nglobal_defs {\n  router_id lb1\n}\n",
      "/etc/keepalived/conf.d/vi1.conf": instanceKa("  priority 300\n"),
    };
    const host: SourceHost = {
      readFile: (p) => files[p],
      glob: (pattern) =>
        Object.keys(files).filter((f) => f.startsWith(pattern.slice(0, pattern.indexOf("*")))),
      env: () => undefined,
      configId: "lb1",
      random: (min) => min,
    };
    const r = load(files[KA] as string, "keepalived", host);
    expect(r.diagnostics.map((d) => [d.file, d.line, d.col, d.code])).toEqual([
      ["/etc/keepalived/conf.d/vi1.conf", 7, 12, "out-of-range"],
    ]);
    expect(r.raw).toEqual({
      global_defs: { router_id: "lb1" },
      vrrp_instance: {
        VI_1: {
          interface: "eth0",
          virtual_router_id: 51,
          virtual_ipaddress: [{ address: "192.0.2.1/32" }],
        },
      },
    });
  });
});

describe("keepalived: extra arguments warn at the first extra word", () => {
  const cases: [what: string, marked: string][] = [
    ["after a scalar value", "global_defs {\n  router_id lb1 ‸lb2\n}\n"],
    ["after a flag's on/off", "global_defs {\n  smtp_alert on ‸off\n}\n"],
    ["after a block keyword", "global_defs ‸x {\n  router_id lb1\n}\n"],
    ["after a block's name", "vrrp_script chk ‸other {\n  script /bin/true\n}\n"],
    ["before a lines block", "static_ipaddress ‸x {\n  192.0.2.5/24 dev eth0\n}\n"],
    [
      "after a real server's address and port",
      "virtual_server 192.0.2.10 80 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 192.0.2.21 80 ‸x {\n  }\n}\n",
    ],
    [
      "after a block that takes no head",
      "virtual_server 192.0.2.10 80 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 192.0.2.21 80 {\n    HTTP_GET ‸x {\n      url {\n        path /\n      }\n    }\n  }\n}\n",
    ],
  ];
  for (const [what, marked] of cases) {
    test(what, () => {
      const { text, line, col } = locate(marked);
      const r = ka(text);
      expect(briefs(r)).toEqual([[line, col, "warning", "extra-argument"]]);
      expect(r.model).toBeDefined();
    });
  }

  test("the value before the extra word is kept", () => {
    expect(ka("global_defs {\n  router_id lb1 lb2\n}\n").raw).toEqual({
      global_defs: { router_id: "lb1" },
    });
  });
});

/**
 * Every atom's bad input, in both front ends. keepalived text is a line inside `context`;
 * the diagnostic must be at the ‸. TOML gives the same value (or a value of the wrong type)
 * under the same key; the diagnostic is at the key, or at the field or element inside it.
 */
interface AtomCase {
  readonly atom: string;
  readonly code: string;
  /** keepalived: the whole config, ‸ before the bad token (none for TOML's bad-type). */
  readonly ka?: string;
  /** TOML: the whole config, ‸ where the diagnostic must be; and its code if it differs. */
  readonly toml?: string;
  readonly tomlCode?: string;
}

const IN_GLOBAL = (line: string) => `global_defs {\n  ${line}\n}\n`;
const IN_INSTANCE = (line: string) => `vrrp_instance VI_1 {\n  ${line}\n}\n`;
const IN_URL = (line: string) =>
  `virtual_server 192.0.2.10 80 {\n  real_server 192.0.2.21 80 {\n    HTTP_GET {\n      url {\n        ${line}\n      }\n    }\n  }\n}\n`;
const IN_UDP = (line: string) =>
  `virtual_server 192.0.2.10 80 {\n  real_server 192.0.2.21 80 {\n    UDP_CHECK {\n      ${line}\n    }\n  }\n}\n`;
const T_GLOBAL = (line: string) => `[global_defs]\n${line}\n`;
const T_INSTANCE = (line: string) => `[vrrp_instance.VI_1]\n${line}\n`;
const T_URL = (line: string) =>
  `[[virtual_server]]\nip = "192.0.2.10"\nport = 80\n[[virtual_server.real_server]]\nip = "192.0.2.21"\n[[virtual_server.real_server.HTTP_GET]]\n[[virtual_server.real_server.HTTP_GET.url]]\n${line}\n`;

const ATOMS: AtomCase[] = [
  {
    atom: "int: not a number",
    code: "bad-number",
    ka: IN_INSTANCE("virtual_router_id ‸5x1"),
    toml: T_INSTANCE('‸virtual_router_id = "51"'),
    tomlCode: "bad-type",
  },
  {
    atom: "int: a fraction",
    code: "bad-number",
    ka: IN_INSTANCE("priority ‸100.5"),
    toml: T_INSTANCE("‸priority = 100.5"),
    tomlCode: "bad-type",
  },
  {
    atom: "int: out of range",
    code: "out-of-range",
    ka: IN_INSTANCE("virtual_router_id ‸256"),
    toml: T_INSTANCE("‸virtual_router_id = 0"),
  },
  {
    atom: "int: a huge number",
    code: "out-of-range",
    ka: IN_GLOBAL("vrrp_garp_master_repeat ‸99999999999999999999999999"),
    toml: T_GLOBAL("‸vrrp_garp_master_repeat = 99999999999"),
  },
  {
    atom: "num: not a number",
    code: "bad-number",
    ka: IN_INSTANCE("advert_int ‸1s"),
    toml: T_INSTANCE('‸advert_int = "1"'),
    tomlCode: "bad-type",
  },
  {
    atom: "num: out of range",
    code: "out-of-range",
    ka: IN_INSTANCE("advert_int ‸5000"),
    toml: T_INSTANCE("‸advert_int = 0.0"),
  },
  {
    atom: "num: infinity and nan are not numbers",
    code: "bad-number",
    ka: IN_INSTANCE("advert_int ‸inf"),
    toml: T_INSTANCE("‸advert_int = inf"),
    tomlCode: "bad-type",
  },
  {
    atom: "oneOf: a word not in the set (MASTER is case-sensitive)",
    code: "bad-value",
    ka: IN_INSTANCE("state ‸master"),
    toml: T_INSTANCE('‸state = "master"'),
  },
  {
    atom: "oneOf: not a string",
    code: "bad-type",
    toml: T_INSTANCE("‸state = 1"),
  },
  {
    atom: "bool: not on/off/true/false/yes/no",
    code: "bad-value",
    ka: IN_GLOBAL("smtp_alert ‸maybe"),
    toml: T_GLOBAL('‸smtp_alert = "yes"'),
    tomlCode: "bad-type",
  },
  {
    atom: "ip: not an address",
    code: "bad-address",
    ka: IN_INSTANCE("mcast_src_ip ‸192.0.2.256"),
    toml: T_INSTANCE('‸mcast_src_ip = "192.0.2.256"'),
  },
  {
    atom: "ip: the wrong family",
    code: "bad-address",
    ka: IN_GLOBAL("vrrp_mcast_group4 ‸ff02::12"),
    toml: T_GLOBAL('‸vrrp_mcast_group6 = "224.0.0.18"'),
  },
  {
    atom: "ip: not a string",
    code: "bad-type",
    toml: T_GLOBAL("‸vrrp_mcast_group4 = 3758096402"),
  },
  {
    atom: "host: neither an address nor a host name",
    code: "bad-address",
    ka: IN_GLOBAL("smtp_server ‸mail_relay.example.com"),
    toml: T_GLOBAL('‸smtp_server = "mail_relay.example.com"'),
  },
  {
    atom: "mac: not a MAC address",
    code: "bad-value",
    ka: IN_INSTANCE("use_vmac vrrp.51 ‸02:00:5e:00:01:zz"),
    toml: T_INSTANCE('use_vmac = { interface = "vrrp.51", ‸mac = "02:00:5e:00:01:zz" }'),
  },
  {
    atom: "host: not a string",
    code: "bad-type",
    toml: T_GLOBAL("‸smtp_server = 25"),
  },
  {
    atom: "mac: not a string",
    code: "bad-type",
    toml: T_INSTANCE('use_vmac = { interface = "vrrp.51", ‸mac = 0x02005e000133 }'),
  },
  {
    atom: "port: not a number",
    code: "bad-type",
    toml: '[[virtual_server]]\nip = "192.0.2.10"\nport = 80\nreal_server = [{ ip = "192.0.2.21", ‸port = "80" }]\n',
  },
  {
    atom: "status code: neither a number nor a string",
    code: "bad-type",
    toml: T_URL("status_code = [‸true]"),
  },
  {
    atom: "digest: not a string",
    code: "bad-type",
    toml: T_URL("‸digest = 640205"),
  },
  {
    atom: "flag: not a boolean",
    code: "bad-type",
    toml: T_INSTANCE('‸nopreempt = "true"'),
  },
  {
    atom: "status code: not a code or range",
    code: "bad-value",
    ka: IN_URL("status_code 200 ‸2xx"),
    toml: T_URL('status_code = [200, ‸"2xx"]'),
  },
  {
    atom: "status code: a range the wrong way round",
    code: "out-of-range",
    ka: IN_URL("status_code ‸300-200"),
    toml: T_URL('‸status_code = "300-200"'),
  },
  {
    atom: "digest: not 32 hex digits",
    code: "bad-value",
    ka: IN_URL("digest ‸640205b7b0fc66c1"),
    toml: T_URL('‸digest = "640205b7b0fc66c1"'),
  },
  {
    atom: "hex bytes: an odd number of digits",
    code: "bad-value",
    ka: IN_UDP("payload ‸0a0b0"),
  },
  {
    atom: "port: out of range (a real server's head)",
    code: "out-of-range",
    ka: "virtual_server 192.0.2.10 80 {\n  real_server 192.0.2.21 ‸70000 {\n  }\n}\n",
    toml: '[[virtual_server]]\nip = "192.0.2.10"\nport = 80\nreal_server = [{ ip = "192.0.2.21", ‸port = 70000 }]\n',
  },
  {
    atom: "string: not a string",
    code: "bad-type",
    toml: T_GLOBAL("‸router_id = 5"),
  },
];

describe("every atom's bad input", () => {
  for (const c of ATOMS) {
    const kaText = c.ka;
    if (kaText) {
      test(`keepalived: ${c.atom} → ${c.code}`, () => {
        const { text, line, col } = locate(kaText);
        const d = only(ka(text), c.code);
        expect([d.line, d.col, d.severity]).toEqual([line, col, "error"]);
      });
    }
    if (c.toml) {
      const code = c.tomlCode ?? c.code;
      const marked = c.toml;
      test(`toml: ${c.atom} → ${code}`, () => {
        const { text, line, col } = locate(marked);
        const d = only(toml(text), code);
        expect([d.line, d.col, d.severity]).toEqual([line, col, "error"]);
      });
    }
  }
});

describe("tuples: positional words and options in any order, in both front ends", () => {
  const kaText = `global_defs {
  lvs_sync_daemon eth0 VI_1 id 5
  vrrp_garp_extra_if all 10
  smtp_server 192.0.2.25 587
  script_user nobody :nogroup
  notify_fifo /run/fifo root
  dynamic_interfaces
  vrrp_iptables IN OUT
  lvs_timeouts udp 30 tcp 900
  nftables
  max_auto_priority 5
}
vrrp_script chk {
  script "/usr/bin/check.sh --quiet"
  weight -20 reverse
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  use_vmac name vrrp.51 02:00:5e:00:01:33
  garp_extra_if all 10
  track_script {
    chk weight -20 reverse
  }
  unicast_peer {
    192.0.2.12 min_ttl 250 max_ttl 255
  }
  virtual_ipaddress {
    192.0.2.1/24 dev eth0 label eth0:vip
  }
}
`;
  const tomlText = `[global_defs]
lvs_sync_daemon = { interface = "eth0", instance = "VI_1", id = 5 }
vrrp_garp_extra_if = { all = true, interval = 10 }
smtp_server = { host = "192.0.2.25", port = 587 }
script_user = { user = "nobody", group = ":nogroup" }
notify_fifo = { path = "/run/fifo", user = "root" }
dynamic_interfaces = true
vrrp_iptables = { in_chain = "IN", out_chain = "OUT" }
lvs_timeouts = { udp = 30, tcp = 900 }
nftables = true
max_auto_priority = { priority = 5 }

[vrrp_script.chk]
script = ["/usr/bin/check.sh", "--quiet"]
weight = { value = -20, reverse = true }

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
use_vmac = { interface = "vrrp.51", mac = "02:00:5e:00:01:33" }
garp_extra_if = { all = true, interval = 10 }
track_script = [{ name = "chk", weight = -20, reverse = true }]
unicast_peer = [{ address = "192.0.2.12", min_ttl = 250, max_ttl = 255 }]
virtual_ipaddress = [{ address = "192.0.2.1/24", dev = "eth0", label = "eth0:vip" }]
`;
  const expected = {
    global_defs: {
      lvs_sync_daemon: { interface: "eth0", instance: "VI_1", id: 5 },
      vrrp_garp_extra_if: { all: true, interval: 10 },
      smtp_server: { host: "192.0.2.25", port: 587 },
      script_user: { user: "nobody", group: ":nogroup" },
      notify_fifo: { path: "/run/fifo", user: "root" },
      dynamic_interfaces: {},
      vrrp_iptables: { in_chain: "IN", out_chain: "OUT" },
      lvs_timeouts: { udp: 30, tcp: 900 },
      nftables: {},
      max_auto_priority: { priority: 5 },
    },
    vrrp_script: {
      chk: {
        script: { command: ["/usr/bin/check.sh", "--quiet"] },
        weight: { value: -20, reverse: true },
      },
    },
    vrrp_instance: {
      VI_1: {
        interface: "eth0",
        virtual_router_id: 51,
        use_vmac: { interface: "vrrp.51", mac: "02:00:5e:00:01:33" },
        garp_extra_if: { all: true, interval: 10 },
        track_script: [{ name: "chk", weight: -20, reverse: true }],
        unicast_peer: [{ address: "192.0.2.12", min_ttl: 250, max_ttl: 255 }],
        virtual_ipaddress: [{ address: "192.0.2.1/24", dev: "eth0", label: "eth0:vip" }],
      },
    },
  };
  for (const [format, text] of [
    ["keepalived", kaText],
    ["toml", tomlText],
  ] as const) {
    test(`${format}: every tuple reads to the same raw document`, () => {
      const r = load(text, format);
      expect(briefs(r)).toEqual([]);
      expect(r.raw).toEqual(expected);
    });
  }

  test("option words may come before positional words, and aliases name options", () => {
    const r = ka(`global_defs {
  lvs_sync_daemon eth0 inst VI_1 port 8848 maxlen 1400 ttl 2 group 224.0.0.81
  vrrp_garp_extra_if 10 all
}
`);
    expect(briefs(r)).toEqual([
      [2, 3, "error", "undefined-reference"], // VI_1 is not defined here; the tuple read fine
    ]);
    expect(r.raw).toEqual({
      global_defs: {
        lvs_sync_daemon: {
          interface: "eth0",
          instance: "VI_1",
          port: 8848,
          maxlen: 1400,
          ttl: 2,
          group: "224.0.0.81",
        },
        vrrp_garp_extra_if: { all: true, interval: 10 },
      },
    });
  });

  test("use_vmac alone, with a name only, and with name and MAC", () => {
    const r = ka(
      instanceKa("  use_vmac\n").replace("VI_1", "A") +
        instanceKa("  use_vmac vrrp.52\n").replace("VI_1", "B").replace(" 51", " 52") +
        instanceKa("  use_vmac vrrp.53 02:00:5E:0:1:35\n")
          .replace("VI_1", "C")
          .replace(" 51", " 53"),
    );
    expect(briefs(r)).toEqual([]);
    const vmac = (n: string) => r.raw.vrrp_instance?.[n]?.use_vmac;
    expect([vmac("A"), vmac("B"), vmac("C")]).toEqual([
      {},
      { interface: "vrrp.52" },
      { interface: "vrrp.53", mac: "02:00:5e:00:01:35" },
    ]);
  });

  const errors: [what: string, marked: string, code: string][] = [
    ["an option given twice", "lvs_sync_daemon eth0 VI_1 id 5 ‸id 6", "duplicate-option"],
    [
      "a word that is no option, after the positionals",
      "lvs_sync_daemon eth0 VI_1 ‸bogus",
      "unknown-option",
    ],
    ["an option without its value", "lvs_sync_daemon eth0 VI_1 ‸id", "missing-argument"],
    ["an option's bad value", "lvs_sync_daemon eth0 VI_1 id ‸256", "out-of-range"],
    ["a bad positional value", "vrrp_garp_extra_if all ‸ten", "bad-number"],
  ];
  for (const [what, marked, code] of errors) {
    test(`${what}: ${code} at the word`, () => {
      const { text, line, col } = locate(IN_GLOBAL(marked));
      const d = only(ka(text), code);
      expect([d.line, d.col, d.severity]).toEqual([line, col, "error"]);
    });
  }

  test("a required positional missing: missing-argument at the keyword", () => {
    const r = ka("global_defs {\n  lvs_sync_daemon\n}\n");
    expect(briefs(r)).toEqual([[2, 3, "error", "missing-argument"]]);
    expect(r.raw).toEqual({ global_defs: {} });
    const t = toml('[global_defs]\nlvs_sync_daemon = { instance = "VI_1" }\n');
    expect(briefs(t)).toEqual([[2, 1, "error", "missing-field"]]);
  });

  test("TOML: an unknown tuple field is an error at the field", () => {
    const r = toml('[global_defs]\nsmtp_server = { host = "192.0.2.25", prot = 25 }\n');
    expect(briefs(r)).toEqual([[2, 38, "error", "unknown-field"]]);
    expect(r.diagnostics[0]?.message).toBe(
      "global_defs.smtp_server: unknown field 'prot' (expected one of host, port)",
    );
  });
});

describe("TOML shorthand forms read like the long forms and like keepalived", () => {
  /** [what, TOML shorthand, TOML long form, keepalived, the raw document all three give] */
  const cases: [string, string, string, string, unknown][] = [
    [
      "a scalar for a tuple's short field",
      '[global_defs]\nsmtp_server = "192.0.2.25"\nscript_user = "nobody"\nvrrp_garp_extra_if = 10\nmax_auto_priority = 5\n',
      '[global_defs]\nsmtp_server = { host = "192.0.2.25" }\nscript_user = { user = "nobody" }\nvrrp_garp_extra_if = { interval = 10 }\nmax_auto_priority = { priority = 5 }\n',
      "global_defs {\n  smtp_server 192.0.2.25\n  script_user nobody\n  vrrp_garp_extra_if 10\n  max_auto_priority 5\n}\n",
      {
        global_defs: {
          smtp_server: { host: "192.0.2.25" },
          script_user: { user: "nobody" },
          vrrp_garp_extra_if: { interval: 10 },
          max_auto_priority: { priority: 5 },
        },
      },
    ],
    [
      "a number for a weight, a string for a method",
      '[vrrp_script.chk]\nscript = "/bin/true"\nweight = -20\n\n[[virtual_server]]\nfwmark = 1\nlvs_sched = "rr"\nlvs_method = "DR"\nsorry_server = "192.0.2.99"\n',
      '[vrrp_script.chk]\nscript = ["/bin/true"]\nweight = { value = -20 }\n\n[[virtual_server]]\nfwmark = 1\nlvs_sched = "rr"\nlvs_method = { method = "DR" }\nsorry_server = { ip = "192.0.2.99" }\n',
      "vrrp_script chk {\n  script /bin/true\n  weight -20\n}\nvirtual_server fwmark 1 {\n  lvs_sched rr\n  lb_kind DR\n  sorry_server 192.0.2.99\n}\n",
      {
        vrrp_script: { chk: { script: { command: ["/bin/true"] }, weight: { value: -20 } } },
        virtual_server: [
          {
            fwmark: 1,
            lvs_sched: "rr",
            lvs_method: { method: "DR" },
            sorry_server: { ip: "192.0.2.99" },
          },
        ],
      },
    ],
    [
      "address, route and group lines written as keepalived writes them",
      '[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = ["192.0.2.1/24 dev eth0 label eth0:vip"]\nvirtual_routes = ["198.51.100.0/24 via 192.0.2.254 dev eth0"]\n\n[virtual_server_group]\nweb = ["192.0.2.10-20 80"]\n',
      '[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = [{ address = "192.0.2.1/24", dev = "eth0", label = "eth0:vip" }]\nvirtual_routes = [{ to = "198.51.100.0/24", via = "192.0.2.254", dev = "eth0" }]\n\n[virtual_server_group]\nweb = [{ address = "192.0.2.10-20", port = 80 }]\n',
      "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.1/24 dev eth0 label eth0:vip\n  }\n  virtual_routes {\n    198.51.100.0/24 via 192.0.2.254 dev eth0\n  }\n}\nvirtual_server_group web {\n  192.0.2.10-20 80\n}\n",
      {
        vrrp_instance: {
          VI_1: {
            interface: "eth0",
            virtual_router_id: 51,
            virtual_ipaddress: [{ address: "192.0.2.1/24", dev: "eth0", label: "eth0:vip" }],
            virtual_routes: [{ to: "198.51.100.0/24", via: "192.0.2.254", dev: "eth0" }],
          },
        },
        virtual_server_group: { web: [{ address: "192.0.2.10-20", port: 80 }] },
      },
    ],
    [
      "true for the keyword alone (flag-only tuples); false leaves the key out",
      '[global_defs]\ndynamic_interfaces = true\nlvs_flush_on_stop = true\nnftables = true\nvrrp_iptables = true\nreload_check_config = false\n\n[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = ["192.0.2.1"]\nuse_vmac = true\nold_unicast_checksum = true\nuse_ipvlan = false\n',
      '[global_defs]\ndynamic_interfaces = {}\nlvs_flush_on_stop = {}\nnftables = {}\nvrrp_iptables = {}\n\n[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = [{ address = "192.0.2.1/32" }]\nuse_vmac = {}\nold_unicast_checksum = {}\n',
      `global_defs {\n  dynamic_interfaces\n  lvs_flush_on_stop\n  nftables\n  vrrp_iptables\n}\n${instanceKa("  use_vmac\n  old_unicast_checksum\n")}`,
      {
        global_defs: {
          dynamic_interfaces: {},
          lvs_flush_on_stop: {},
          nftables: {},
          vrrp_iptables: {},
        },
        vrrp_instance: {
          VI_1: {
            interface: "eth0",
            virtual_router_id: 51,
            virtual_ipaddress: [{ address: "192.0.2.1/32" }],
            use_vmac: {},
            old_unicast_checksum: {},
          },
        },
      },
    ],
    [
      "a single value for a list",
      '[global_defs]\nnotification_email = "ops@example.com"\nvrrp_cpu_affinity = 2\n\n[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = "192.0.2.1"\nunicast_peer = "192.0.2.12"\ntrack_script = "chk"\n\n[vrrp_script.chk]\nscript = "/bin/true"\n',
      '[global_defs]\nnotification_email = ["ops@example.com"]\nvrrp_cpu_affinity = [2]\n\n[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = ["192.0.2.1"]\nunicast_peer = [{ address = "192.0.2.12" }]\ntrack_script = [{ name = "chk" }]\n\n[vrrp_script.chk]\nscript = ["/bin/true"]\n',
      `global_defs {\n  notification_email {\n    ops@example.com\n  }\n  vrrp_cpu_affinity 2\n}\n${instanceKa("  unicast_peer {\n    192.0.2.12\n  }\n  track_script {\n    chk\n  }\n")}vrrp_script chk {\n  script /bin/true\n}\n`,
      {
        global_defs: { notification_email: ["ops@example.com"], vrrp_cpu_affinity: [2] },
        vrrp_instance: {
          VI_1: {
            interface: "eth0",
            virtual_router_id: 51,
            virtual_ipaddress: [{ address: "192.0.2.1/32" }],
            unicast_peer: [{ address: "192.0.2.12" }],
            track_script: [{ name: "chk" }],
          },
        },
        vrrp_script: { chk: { script: { command: ["/bin/true"] } } },
      },
    ],
    [
      "a table for an array of tables, a number for a status code list",
      '[[virtual_server]]\nip = "192.0.2.10"\nport = 80\nlvs_sched = "rr"\nlvs_method = "NAT"\nprotocol = "TCP"\nreal_server = { ip = "192.0.2.21", HTTP_GET = { url = { path = "/", status_code = 204 } } }\n',
      '[[virtual_server]]\nip = "192.0.2.10"\nport = 80\nlvs_sched = "rr"\nlvs_method = "NAT"\nprotocol = "TCP"\n\n[[virtual_server.real_server]]\nip = "192.0.2.21"\n\n[[virtual_server.real_server.HTTP_GET]]\nurl = [{ path = "/", status_code = ["204"] }]\n',
      "virtual_server 192.0.2.10 80 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 192.0.2.21 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 204\n      }\n    }\n  }\n}\n",
      {
        virtual_server: [
          {
            ip: "192.0.2.10",
            port: 80,
            lvs_sched: "rr",
            lvs_method: { method: "NAT" },
            protocol: "TCP",
            real_server: [
              { ip: "192.0.2.21", HTTP_GET: [{ url: [{ path: "/", status_code: ["204"] }] }] },
            ],
          },
        ],
      },
    ],
  ];
  for (const [what, short, long, keepalived, raw] of cases) {
    test(what, () => {
      const results = [toml(short), toml(long), ka(keepalived)];
      expect(results.map(briefs)).toEqual([[], [], []]);
      for (const r of results) expect(r.raw).toEqual(raw as typeof r.raw);
    });
  }
});

describe("TOML: syntax errors at their line and column, and nothing else", () => {
  const cases: [what: string, marked: string][] = [
    ["a key without '='", '[global_defs]\nrouter_id ‸"lb1"\n'],
    ["a string left open (at the end of its line)", '[global_defs]\nrouter_id = "lb1‸\n'],
    ["a multi-line string left open", '[global_defs]\nrouter_id = ‸"""lb1\n'],
    ["an unknown escape", '[global_defs]\nrouter_id = "a\\‸q"\n'],
    ["a table header left open", "[global_defs‸\nrouter_id = 1\n"],
    ["an array-of-tables header left open", "[[virtual_server]‸\nport = 80\n"],
    ["a key defined twice", '[global_defs]\nrouter_id = "a"\n‸router_id = "b"\n'],
    ["a table defined twice", "[global_defs]\n[‸global_defs]\n"],
    ["two values on one line", "[global_defs]\nvrrp_version = 2 ‸3\n"],
    ["an array left open", '[global_defs]\nvrrp_ipsets = ["a", "b"\n‸'],
    [
      "an inline table left open",
      '[global_defs]\nsmtp_server = { host = "192.0.2.25"\n‸vrrp_version = 2\n',
    ],
  ];
  for (const [what, marked] of cases) {
    test(what, () => {
      const { text, line, col } = locate(marked);
      const r = toml(text);
      expect(briefs(r)).toEqual([[line, col, "error", "toml-syntax"]]);
      expect(r.diagnostics[0]?.message).not.toMatch(/^Invalid TOML document/);
      expect(r.raw).toEqual({});
      expect(r.model).toBeUndefined();
    });
  }
});

describe("TOML: unknown keys warn at the key", () => {
  const cases: [what: string, marked: string, message: string][] = [
    [
      "a key in a table",
      '[global_defs]\nrouter_id = "lb1"\n‸router_idd = "lb2"\n',
      "unknown key 'router_idd' in global_defs (did you mean 'router_id'?)",
    ],
    [
      "a table at the root",
      '[‸global_def]\nrouter_id = "lb1"\n',
      "unknown key 'global_def' (did you mean 'global_defs'?)",
    ],
    [
      "a dotted key",
      'global_defs.router_id = "lb1"\n‸global_defs.rooter_id = "lb2"\n',
      "unknown key 'rooter_id' in global_defs (did you mean 'router_id'?)",
    ],
    [
      "a key in an inline table that is a block",
      '[vrrp_instance.VI_1]\ninterface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = ["192.0.2.1"]\nauthentication = { auth_type = "PASS", ‸auth_pas = "secret" }\n',
      "unknown key 'auth_pas' in vrrp_instance.VI_1.authentication (did you mean 'auth_pass'?)",
    ],
    [
      "a key in a nested array of tables",
      '[[virtual_server]]\nfwmark = 1\nlvs_sched = "rr"\nlvs_method = "NAT"\n[[virtual_server.real_server]]\nip = "192.0.2.21"\n‸wieght = 3\n',
      "unknown key 'wieght' in virtual_server[0].real_server[0] (did you mean 'weight'?)",
    ],
  ];
  for (const [what, marked, message] of cases) {
    test(what, () => {
      const { text, line, col } = locate(marked);
      const d = only(toml(text), "unknown-keyword");
      expect([d.line, d.col, d.severity, d.message]).toEqual([line, col, "warning", message]);
    });
  }
});

describe("TOML: values of the wrong shape", () => {
  test("a scalar or array where a table, named tables or tables belong", () => {
    const r = toml("global_defs = 5\nvrrp_instance = 3\nvirtual_server = [1]\n[[vrrp_script]]\n");
    expect(briefs(r)).toEqual([
      [1, 1, "error", "bad-type"],
      [2, 1, "error", "bad-type"],
      [3, 19, "error", "bad-type"],
      [4, 3, "error", "bad-type"],
    ]);
    expect(r.raw).toEqual({ global_defs: {}, virtual_server: [] });
  });

  test("a virtual server needs exactly one of ip, fwmark and group", () => {
    const r = toml('[[virtual_server]]\nip = "192.0.2.10"\nfwmark = 1\nlvs_sched = "rr"\n');
    expect(briefs(r)).toEqual([[1, 3, "error", "bad-virtual-server"]]);
  });
});

describe("fixed bugs (regressions)", () => {
  // BUG (keepalived/lexer-text.ts identityCols, and toml.ts reporting smol-toml's column):
  // Loc says "col counts characters", and toml-locate counts code points, but the keepalived
  // front end and TOML syntax errors counted UTF-16 code units: after a character outside
  // the BMP every column was one too far to the right.
  test("keepalived: columns after a non-BMP character count characters", () => {
    const { text, line, col } = locate('global_defs {\n  router_id "😀" ‸5\n}\n');
    expect(briefs(ka(text))).toEqual([[line, col, "warning", "extra-argument"]]);
  });
  test("keepalived: columns on lines without a comment, and of a NUL, count characters", () => {
    const a = locate("global_defs {\n  router_id 😀😀x ‸5\n}\n");
    expect(briefs(ka(a.text))).toEqual([[a.line, a.col, "warning", "extra-argument"]]);
    const b = locate("global_defs {\n  router_id 😀‸\0\n}\n");
    expect(briefs(ka(b.text))).toEqual([[b.line, b.col, "error", "line-has-nul"]]);
  });
  test("keepalived: a lone surrogate is one character, a pair after it is one more", () => {
    const { text, line, col } = locate("global_defs {\n  router_id \udc00\ud800😀 ‸5\n}\n");
    expect(briefs(ka(text))).toEqual([[line, col, "warning", "extra-argument"]]);
  });
  test("TOML: syntax error columns after a non-BMP character count characters", () => {
    const { text, line, col } = locate('[global_defs]\nrouter_id = "😀" ‸x\n');
    expect(briefs(toml(text))).toEqual([[line, col, "error", "toml-syntax"]]);
  });
  test("TOML: ... also on a later line, after CRLF line ends", () => {
    const { text, line, col } = locate('# 😀\r\n[global_defs]\r\nrouter_id = "😀😀" ‸x\r\n');
    expect(briefs(toml(text))).toEqual([[line, col, "error", "toml-syntax"]]);
  });
  test("TOML: semantic diagnostics after a non-BMP character already count characters", () => {
    const { text, line, col } = locate('[global_defs]\nsmtp_server = { host = "😀", ‸prot = 1 }\n');
    expect(briefs(toml(text)).filter((b) => b[3] === "unknown-field")).toEqual([
      [line, col, "error", "unknown-field"],
    ]);
  });

  // BUG (toml.ts readToml): smol-toml was called without integersAsBigInt, so an integer
  // beyond 2^53 — valid TOML, which allows any 64-bit integer — was reported as a syntax
  // error ("cannot be represented losslessly") instead of out-of-range at its key.
  test("TOML: a 64-bit integer is out of range at its key, not a syntax error", () => {
    const r = toml("[global_defs]\nrandom_seed = 9223372036854775807\n");
    expect(briefs(r)).toEqual([[2, 1, "error", "out-of-range"]]);
    expect(r.diagnostics[0]?.message).toContain("9223372036854775807 is out of range");
  });
  test("TOML: 64-bit integers in tuples, address lines and lists are out of range, never kept", () => {
    const r = toml(`[global_defs]
vrrp_garp_master_repeat = 9007199254740993
[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
track_script = [{ name = "chk", weight = -9223372036854775808 }]
virtual_ipaddress = [{ address = "192.0.2.1", label = 1, scope = 9223372036854775807 }]
[vrrp_script.chk]
script = "/bin/true"
`);
    const bigs = r.diagnostics.filter((d) => d.line === 2 || d.line === 6);
    expect(bigs.map((d) => d.code)).toEqual(["out-of-range", "out-of-range"]);
    expect(r.diagnostics.some((d) => d.code === "toml-syntax")).toBe(false);
    expect(JSON.stringify(r.raw, (_k, v) => (typeof v === "bigint" ? "BIG" : v))).not.toContain(
      "BIG",
    );
  });
});

describe("what a small file can cost is bounded", () => {
  const unknown = (n: number) => `global_defs {\n${"  frobnicate\n".repeat(n)}}\n`;

  test("diagnostics past maxDiagnostics are counted in one final warning", () => {
    const r = loadText(unknown(5), KA, "keepalived", { offline: true, maxDiagnostics: 3 });
    expect(briefs(r)).toEqual([
      [2, 3, "warning", "unknown-keyword"],
      [3, 3, "warning", "unknown-keyword"],
      [4, 3, "warning", "unknown-keyword"],
      [5, 3, "warning", "too-many-diagnostics"],
    ]);
    expect(r.diagnostics[3]?.message).toBe(
      "2 more diagnostics not shown: only the first 3 are kept",
    );
    expect(r.model).toBeDefined();
  });

  test("a dropped error makes the summary an error: no model from errors that did not fit", () => {
    const text = `${unknown(3)}vrrp_instance VI_1 {\n  priority 300\n}\n`;
    const r = loadText(text, KA, "keepalived", { offline: true, maxDiagnostics: 3 });
    const last = r.diagnostics.find((d) => d.code === "too-many-diagnostics");
    expect(last?.severity).toBe("error");
    expect(last?.message).toMatch(/^\d+ more diagnostics \(\d+ of them errors\) not shown/);
    expect(r.model).toBeUndefined();
  });

  test("maxLines bounds the preprocessor", () => {
    const r = loadText("~SEQ(i, 1, 100) frobnicate\n", KA, "keepalived", {
      offline: true,
      maxLines: 10,
    });
    expect(r.diagnostics.filter((d) => d.code === "unknown-keyword")).toHaveLength(9);
    expect(briefs(r).filter((b) => b[3] === "too-many-lines")).toEqual([
      [1, 1, "error", "too-many-lines"],
    ]);
  });

  test("by default, a 250,000-line ~SEQ stops at the line limit with at most 1,001 diagnostics", () => {
    const r = ka("~SEQ(i, 1, 250000) frobnicate\n");
    expect(r.diagnostics.map((d) => d.code)).toContain("too-many-lines");
    expect(r.diagnostics.length).toBe(MAX_DIAGNOSTICS + 1);
    const last = r.diagnostics.find((d) => d.code === "too-many-diagnostics");
    expect(last?.message).toBe(
      `${MAX_PREPROCESSED_LINES - 1 - (MAX_DIAGNOSTICS - 1)} more diagnostics not shown: only the first ${MAX_DIAGNOSTICS} are kept`,
    );
  });
});
