/**
 * One test per rule of normalize.ts, validate.ts and validate-host.ts (the IPVS rules are in
 * validate-ipvs.test.ts): a minimal config that gives exactly that diagnostic, at the place
 * marked ‸, and a one-replacement fix that gives none. Each case runs against the keepalived
 * front end and, where written, the TOML one with the same expectations (rule-cases.ts).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { REPO } from "../helpers/env.ts";
import {
  brief,
  codesOf,
  fakeHost,
  load,
  locate,
  type RuleCase,
  runRuleCases,
  tomlShare,
} from "./rule-cases.ts";
import { HTTP_TRACK_CASES } from "./track-http-cases.ts";

const HOST = fakeHost(["eth0"], ["/usr/bin/check.sh"]);

const NORMALIZE: RuleCase[] = [
  {
    name: "AH authentication with state MASTER starts as BACKUP",
    code: "state-cleared",
    severity: "warning",
    keepalived: {
      text: `vrrp_instance VI_1 {
  ‸state MASTER
  priority 100
  interface eth0
  virtual_router_id 51
  authentication {
    auth_type AH
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["auth_type AH", "auth_type PASS"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
‸state = "MASTER"
priority = 100
interface = "eth0"
virtual_router_id = 51
authentication = { auth_type = "AH", auth_pass = "secret" }
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"AH"', '"PASS"'],
    },
  },
  {
    name: "nopreempt with initial state MASTER",
    code: "nopreempt-cleared",
    severity: "warning",
    says: "initial state MASTER",
    keepalived: {
      text: `vrrp_instance VI_1 {
  state MASTER
  priority 150
  ‸nopreempt
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["state MASTER", "state BACKUP"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
state = "MASTER"
priority = 150
‸nopreempt = true
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"MASTER"', '"BACKUP"'],
    },
  },
  {
    name: "nopreempt with priority 255 (address owner)",
    code: "nopreempt-cleared",
    severity: "warning",
    says: "priority 255",
    also: ["owner-backup"],
    keepalived: {
      text: `vrrp_instance VI_1 {
  state BACKUP
  priority 255
  ‸nopreempt
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["priority 255", "priority 254"],
    },
  },
  {
    name: "preempt_delay with initial state MASTER",
    code: "preempt-delay-cleared",
    severity: "warning",
    says: "initial state MASTER",
    keepalived: {
      text: `vrrp_instance VI_1 {
  state MASTER
  priority 150
  ‸preempt_delay 10
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["state MASTER", "state BACKUP"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
state = "MASTER"
priority = 150
‸preempt_delay = 10
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"MASTER"', '"BACKUP"'],
    },
  },
  {
    name: "preempt_delay with nopreempt",
    code: "preempt-delay-cleared",
    severity: "warning",
    says: "nopreempt",
    keepalived: {
      text: `vrrp_instance VI_1 {
  nopreempt
  ‸preempt_delay 10
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["nopreempt", "preempt"],
    },
  },
  {
    name: "preempt_delay in strict mode (from global vrrp_strict)",
    code: "preempt-delay-cleared",
    severity: "warning",
    says: "strict mode",
    keepalived: {
      text: `global_defs {
  vrrp_strict
}
vrrp_instance VI_1 {
  ‸preempt_delay 10
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["preempt_delay 10", "preempt_delay 0"],
    },
    toml: {
      text: `[global_defs]
vrrp_strict = true

[vrrp_instance.VI_1]
‸preempt_delay = 10
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["vrrp_strict = true", "vrrp_strict = false"],
    },
  },
  {
    name: "VRRPv2 advert_int that is not whole seconds",
    code: "advert-int-rounded",
    severity: "warning",
    says: "using 2",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸advert_int 1.5
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["advert_int 1.5", "advert_int 2"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
‸advert_int = 1.5
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["advert_int = 1.5", "advert_int = 2.0"],
    },
  },
  {
    name: "VRRPv2 advert_int above 255 s is capped",
    code: "advert-int-rounded",
    severity: "warning",
    says: "using 255",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸advert_int 256
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["advert_int 256", "advert_int 255"],
    },
  },
  {
    name: "VRRPv3 advert_int that is not a multiple of 10 ms",
    code: "advert-int-rounded",
    severity: "warning",
    says: "using 0.13",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 3
  ‸advert_int 0.125
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["advert_int 0.125", "advert_int 0.12"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
version = 3
‸advert_int = 0.125
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["0.125", "0.12"],
    },
  },
  {
    name: "VRRPv3 advert_int above 40.95 s (the version from an IPv6 address)",
    code: "advert-int-range",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸advert_int 41
  virtual_ipaddress {
    2001:db8::1
  }
}
`,
      fix: ["advert_int 41", "advert_int 40.95"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
‸advert_int = 41
virtual_ipaddress = ["2001:db8::1"]
`,
      fix: ["advert_int = 41", "advert_int = 40"],
    },
  },
  {
    name: "VRRPv3 advert_int below 10 ms",
    code: "advert-int-range",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 3
  ‸advert_int 0.004
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["advert_int 0.004", "advert_int 0.01"],
    },
  },
];

const TRACKERS: RuleCase[] = [
  {
    name: "vrrp_script without a script line",
    code: "script-missing",
    severity: "warning",
    keepalived: {
      text: `vrrp_script ‸chk {
  interval 2
}
`,
      fix: ["interval 2", "script /usr/bin/check.sh"],
    },
    toml: {
      text: `[‸vrrp_script.chk]
interval = 2
`,
      fix: ["interval = 2", 'script = "/usr/bin/check.sh"'],
    },
  },
  {
    name: "vrrp_track_process without a process line",
    code: "process-missing",
    severity: "warning",
    keepalived: {
      text: `vrrp_track_process ‸nginx {
  quorum 2
}
`,
      fix: ["quorum 2", "process nginx"],
    },
    toml: {
      text: `[‸vrrp_track_process.nginx]
quorum = 2
`,
      fix: ["quorum = 2", 'process = "nginx"'],
    },
  },
  {
    name: "track_file without a file line",
    code: "file-missing",
    severity: "warning",
    keepalived: {
      text: `track_file ‸maint {
  weight 10
}
`,
      fix: ["weight 10", "file /run/maint"],
    },
    toml: {
      text: `[‸track_file.maint]
weight = 10
`,
      fix: ["weight = 10", 'file = "/run/maint"'],
    },
  },
  {
    name: "bfd_instance without neighbor_ip",
    code: "bfd-neighbor-missing",
    severity: "error",
    keepalived: {
      text: `bfd_instance ‸peer {
  min_rx 50
}
`,
      fix: ["min_rx 50", "neighbor_ip 192.0.2.9"],
    },
    toml: {
      text: `[‸bfd_instance.peer]
min_rx = 50
`,
      fix: ["min_rx = 50", 'neighbor_ip = "192.0.2.9"'],
    },
  },
  {
    name: "track_script names no vrrp_script",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `vrrp_script chk {
  script /usr/bin/check.sh
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_script {
    ‸chk_web weight -20
  }
}
`,
      fix: ["chk_web", "chk"],
    },
    toml: {
      text: `[vrrp_script.chk]
script = "/usr/bin/check.sh"

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
track_script = [‸{ name = "chk_web", weight = -20 }]
`,
      fix: ['"chk_web"', '"chk"'],
    },
  },
  {
    name: "track_script names a vrrp_script that is ignored (no script line)",
    code: "undefined-reference",
    severity: "error",
    says: "is ignored",
    also: ["script-missing"],
    keepalived: {
      text: `vrrp_script chk {
  interval 2
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_script {
    ‸chk
  }
}
`,
      fix: ["interval 2", "script /usr/bin/check.sh"],
    },
    toml: {
      text: `[vrrp_script.chk]
interval = 2

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
track_script = [‸"chk"]
`,
      fix: ["interval = 2", 'script = ["/usr/bin/check.sh"]'],
    },
  },
  {
    name: "track_process names no vrrp_track_process",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `vrrp_track_process nginx {
  process nginx
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_process {
    ‸nginix
  }
}
`,
      fix: ["nginix", "nginx"],
    },
  },
  {
    name: "track_file names no track_file",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `track_file maint {
  file /run/maint
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_file {
    ‸maintenance
  }
}
`,
      fix: ["maintenance", "maint"],
    },
    toml: {
      text: `[track_file.maint]
file = "/run/maint"

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
‸track_file = "maintenance"
`,
      fix: ['"maintenance"', '"maint"'],
    },
  },
  {
    name: "track_bfd names no bfd_instance",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `bfd_instance peer {
  neighbor_ip 192.0.2.9
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_bfd {
    ‸peer2
  }
}
`,
      fix: ["peer2", "peer"],
    },
  },
];

/** Two instances, shared by the sync group and track_group cases. */
const TWO_KA = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  virtual_ipaddress {
    192.0.2.2
  }
}
`;
const TWO_TOML = `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]

[vrrp_instance.VI_2]
interface = "eth0"
virtual_router_id = 52
virtual_ipaddress = ["192.0.2.2"]
`;
const FOUR_KA = `${TWO_KA}vrrp_instance VI_3 {
  interface eth0
  virtual_router_id 53
  virtual_ipaddress {
    192.0.2.3
  }
}
vrrp_instance VI_4 {
  interface eth0
  virtual_router_id 54
  virtual_ipaddress {
    192.0.2.4
  }
}
`;
const FOUR_TOML = `${TWO_TOML}
[vrrp_instance.VI_3]
interface = "eth0"
virtual_router_id = 53
virtual_ipaddress = ["192.0.2.3"]

[vrrp_instance.VI_4]
interface = "eth0"
virtual_router_id = 54
virtual_ipaddress = ["192.0.2.4"]
`;

const REFERENCES: RuleCase[] = [
  {
    name: "vrrp_sync_group member that is no vrrp_instance",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `${TWO_KA}vrrp_sync_group G {
  group {
    VI_1
    ‸VI_3
  }
}
`,
      fix: ["VI_3", "VI_2"],
    },
    toml: {
      text: `${TWO_TOML}
[vrrp_sync_group.G]
group = ["VI_1", ‸"VI_3"]
`,
      fix: ['"VI_3"', '"VI_2"'],
    },
  },
  {
    name: "vrrp_sync_group track_script names no vrrp_script",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `${TWO_KA}vrrp_script chk {
  script /usr/bin/check.sh
}
vrrp_sync_group G {
  group {
    VI_1 VI_2
  }
  track_script {
    ‸chk2
  }
}
`,
      fix: ["chk2", "chk"],
    },
  },
  {
    name: "lvs_sync_daemon names no vrrp_instance",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `global_defs {
  ‸lvs_sync_daemon eth0 VI_2 id 5
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["VI_2", "VI_1"],
    },
    toml: {
      text: `[global_defs]
‸lvs_sync_daemon = { interface = "eth0", instance = "VI_2", id = 5 }

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"VI_2"', '"VI_1"'],
    },
  },
  {
    name: "track_group member that is no vrrp_instance",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `${TWO_KA}track_group TG {
  group {
    VI_1 ‸VI_9
  }
}
`,
      fix: ["VI_9", "VI_2"],
    },
    toml: {
      text: `${TWO_TOML}
[track_group.TG]
group = ["VI_1", ‸"VI_9"]
`,
      fix: ['"VI_9"', '"VI_2"'],
    },
  },
  {
    name: "static_ipaddress names no track_group",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `${TWO_KA}track_group TG {
  group {
    VI_1 VI_2
  }
}
static_ipaddress {
  ‸198.51.100.1/24 dev eth0 track_group TG2
}
`,
      fix: ["TG2", "TG"],
    },
    toml: {
      text: `static_ipaddress = [‸{ address = "198.51.100.1/24", dev = "eth0", track_group = "TG2" }]

${TWO_TOML}
[track_group.TG]
group = ["VI_1", "VI_2"]
`,
      fix: ['"TG2"', '"TG"'],
    },
  },
];

const INSTANCE: RuleCase[] = [
  {
    name: "no virtual_router_id",
    code: "vrid-missing",
    severity: "error",
    keepalived: {
      text: `vrrp_instance ‸VI_1 {
  interface eth0
  priority 100
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["priority 100", "virtual_router_id 51"],
    },
    toml: {
      text: `[‸vrrp_instance.VI_1]
interface = "eth0"
priority = 100
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["priority = 100", "virtual_router_id = 51"],
    },
  },
  {
    name: "no interface",
    code: "interface-missing",
    severity: "error",
    keepalived: {
      text: `vrrp_instance ‸VI_1 {
  priority 100
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["priority 100", "interface eth0"],
    },
    toml: {
      text: `[‸vrrp_instance.VI_1]
priority = 100
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["priority = 100", 'interface = "eth0"'],
    },
  },
  {
    name: "no interface for unicast without unicast_src_ip",
    code: "interface-missing",
    severity: "error",
    keepalived: {
      text: `vrrp_instance ‸VI_1 {
  priority 100
  virtual_router_id 51
  unicast_peer {
    192.0.2.12
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["priority 100", "unicast_src_ip 192.0.2.11"],
    },
    toml: {
      text: `[‸vrrp_instance.VI_1]
priority = 100
virtual_router_id = 51
unicast_peer = ["192.0.2.12"]
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["priority = 100", 'unicast_src_ip = "192.0.2.11"'],
    },
  },
  {
    name: "strict mode with unicast peers",
    code: "strict-unicast",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  strict_mode on
  interface eth0
  virtual_router_id 51
  ‸unicast_peer {
    192.0.2.12
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["strict_mode on", "strict_mode off"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
strict_mode = true
interface = "eth0"
virtual_router_id = 51
‸unicast_peer = ["192.0.2.12"]
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ["strict_mode = true", "strict_mode = false"],
    },
  },
  {
    name: "strict mode without a virtual address",
    code: "strict-no-vip",
    severity: "error",
    keepalived: {
      text: `global_defs {
  vrrp_strict
}
vrrp_instance ‸VI_1 {
  interface eth0
  virtual_router_id 51
  no_virtual_ipaddress
}
`,
      fix: ["  vrrp_strict\n", ""],
    },
    toml: {
      text: `[global_defs]
vrrp_strict = true

[‸vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
no_virtual_ipaddress = true
`,
      fix: ["vrrp_strict = true", "vrrp_strict = false"],
    },
  },
  {
    name: "priority 255 with state BACKUP",
    code: "owner-backup",
    severity: "warning",
    keepalived: {
      text: `vrrp_instance VI_1 {
  ‸state BACKUP
  priority 255
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["state BACKUP", "state MASTER"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
‸state = "BACKUP"
priority = 255
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"BACKUP"', '"MASTER"'],
    },
  },
  {
    name: "an empty virtual_ipaddress block",
    code: "no-vip",
    severity: "warning",
    keepalived: {
      text: `vrrp_instance ‸VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
  }
}
`,
      fix: ["virtual_ipaddress {\n  }", "no_virtual_ipaddress"],
    },
    toml: {
      text: `[‸vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = []
`,
      fix: ["virtual_ipaddress = []", 'virtual_ipaddress = ["192.0.2.1"]'],
    },
  },
  {
    name: "virtual addresses of both families",
    code: "vip-family",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
    ‸2001:db8::1
  }
}
`,
      fix: ["2001:db8::1", "192.0.2.2"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1", ‸"2001:db8::1 dev eth0"]
`,
      fix: ['"2001:db8::1 dev eth0"', '"192.0.2.2 dev eth0"'],
    },
  },
  {
    name: "a virtual address listed twice (192.0.2.1 is 192.0.2.1/32)",
    code: "duplicate-vip",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1/32
    192.0.2.2
    ‸192.0.2.1 label eth0:1
  }
}
`,
      fix: ["192.0.2.1 label", "192.0.2.3 label"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = [
  "192.0.2.1/32",
  ‸{ address = "192.0.2.1", label = "eth0:1" },
]
`,
      fix: ['"192.0.2.1", label', '"192.0.2.3", label'],
    },
  },
  {
    name: "IPv6 with version 2",
    code: "ipv6-v2",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸version 2
  virtual_ipaddress {
    2001:db8::1
  }
}
`,
      fix: ["version 2", "version 3"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
‸version = 2
virtual_ipaddress = ["2001:db8::1"]
`,
      fix: ["version = 2", "version = 3"],
    },
  },
  {
    name: "unicast_src_ip of the other family",
    code: "family-mismatch",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸unicast_src_ip 2001:db8::11
  unicast_peer {
    192.0.2.12
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["2001:db8::11", "192.0.2.11"],
    },
  },
  {
    name: "mcast_src_ip of the other family",
    code: "family-mismatch",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸mcast_src_ip 192.0.2.11
  virtual_ipaddress {
    2001:db8::1
  }
}
`,
      fix: ["192.0.2.11", "2001:db8::11"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
‸mcast_src_ip = "192.0.2.11"
virtual_ipaddress = ["2001:db8::1"]
`,
      fix: ['"192.0.2.11"', '"2001:db8::11"'],
    },
  },
  {
    name: "a unicast_peer of the other family",
    code: "family-mismatch",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  unicast_peer {
    192.0.2.12
    ‸2001:db8::13
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["2001:db8::13", "192.0.2.13"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
unicast_peer = ["192.0.2.12", ‸{ address = "2001:db8::13", min_ttl = 254 }]
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"2001:db8::13"', '"192.0.2.13"'],
    },
  },
  {
    name: "authentication with VRRPv3",
    code: "auth-v3",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 3
  ‸authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["version 3", "version 2"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
version = 3
virtual_ipaddress = ["192.0.2.1"]

[‸vrrp_instance.VI_1.authentication]
auth_type = "PASS"
auth_pass = "secret"
`,
      fix: ["version = 3", "version = 2"],
    },
  },
  {
    name: "authentication together with auth_hmac",
    code: "auth-conflict",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸authentication {
    auth_type PASS
    auth_pass secret
  }
  auth_hmac {
    key 1 hex:00112233445566778899aabbccddeeff
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["  auth_hmac {\n    key 1 hex:00112233445566778899aabbccddeeff\n  }\n", ""],
    },
  },
  {
    name: "authentication without auth_type",
    code: "auth-type-missing",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸authentication {
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["auth_pass secret", "auth_pass secret\n    auth_type PASS"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
‸authentication = { auth_pass = "secret" }
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['{ auth_pass = "secret" }', '{ auth_pass = "secret", auth_type = "PASS" }'],
    },
  },
  {
    name: "authentication without auth_pass",
    code: "auth-pass-missing",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  ‸authentication {
    auth_type PASS
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["auth_type PASS", "auth_type PASS\n    auth_pass secret"],
    },
  },
  {
    name: "auth_pass longer than 8 characters",
    code: "auth-pass-truncated",
    severity: "warning",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  authentication {
    auth_type PASS
    ‸auth_pass 123456789
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["123456789", "12345678"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]

[vrrp_instance.VI_1.authentication]
auth_type = "PASS"
‸auth_pass = "123456789"
`,
      fix: ['"123456789"', '"12345678"'],
    },
  },
  {
    name: "authentication in strict mode",
    code: "auth-strict",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  strict_mode on
  ‸authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["strict_mode on", "strict_mode off"],
    },
  },
  {
    name: "strict mode overrides what it forbids",
    code: "strict-override",
    severity: "warning",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  strict_mode on
  ‸higher_prio_send_advert true
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["higher_prio_send_advert true", "higher_prio_send_advert false"],
    },
  },
  {
    // An IPv6 instance is VRRPv3 (auth-v3) unless forced to v2 (ipv6-v2), so this rule
    // always comes with ipv6-v2; the fix changes the family, which clears both.
    name: "AH authentication with IPv6",
    code: "auth-ah-ipv6",
    severity: "error",
    also: ["ipv6-v2"],
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 2
  ‸authentication {
    auth_type AH
    auth_pass secret
  }
  virtual_ipaddress {
    2001:db8::1
  }
}
`,
      fix: ["2001:db8::1", "192.0.2.1"],
    },
  },
  {
    name: "two instances with one VRID, family and interface",
    code: "duplicate-vrid",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
vrrp_instance VI_2 {
  interface eth0
  ‸virtual_router_id 51
  virtual_ipaddress {
    192.0.2.2
  }
}
`,
      fix: [
        "virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.2",
        "virtual_router_id 51\n  virtual_ipaddress {\n    2001:db8::2",
      ],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]

[vrrp_instance.VI_2]
interface = "eth0"
‸virtual_router_id = 51
virtual_ipaddress = ["192.0.2.2"]
`,
      fix: [
        'interface = "eth0"\nvirtual_router_id = 51\nvirtual_ipaddress = ["192.0.2.2"]',
        'interface = "eth1"\nvirtual_router_id = 51\nvirtual_ipaddress = ["192.0.2.2"]',
      ],
    },
  },
  {
    name: "unicast instances sharing a VRID and a peer (disjoint peers may share)",
    code: "duplicate-vrid",
    severity: "error",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  unicast_peer {
    192.0.2.12
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
vrrp_instance VI_2 {
  interface eth0
  ‸virtual_router_id 51
  unicast_peer {
    192.0.2.13
    192.0.2.12
  }
  virtual_ipaddress {
    192.0.2.2
  }
}
`,
      fix: ["192.0.2.13\n    192.0.2.12", "192.0.2.13\n    192.0.2.14"],
    },
  },
  {
    name: "vrrp_sync_group with no members",
    code: "sync-group-empty",
    severity: "warning",
    keepalived: {
      text: `${TWO_KA}vrrp_sync_group ‸G {
  group {
  }
}
`,
      fix: ["group {\n  }", "group {\n    VI_1 VI_2\n  }"],
    },
    toml: {
      text: `${TWO_TOML}
[‸vrrp_sync_group.G]
group = []
`,
      fix: ["group = []", 'group = ["VI_1", "VI_2"]'],
    },
  },
  {
    name: "vrrp_sync_group with one member",
    code: "sync-group-single",
    severity: "warning",
    keepalived: {
      text: `${TWO_KA}vrrp_sync_group G {
  ‸group {
    VI_1
  }
}
`,
      fix: ["    VI_1\n", "    VI_1\n    VI_2\n"],
    },
    toml: {
      text: `${TWO_TOML}
[vrrp_sync_group.G]
‸group = "VI_1"
`,
      fix: ['"VI_1"', '["VI_1", "VI_2"]'],
    },
  },
  {
    name: "an instance in two sync groups",
    code: "duplicate-sync-member",
    severity: "error",
    keepalived: {
      text: `${FOUR_KA}vrrp_sync_group G1 {
  group {
    VI_1 VI_2
  }
}
vrrp_sync_group G2 {
  group {
    VI_3 ‸VI_2
  }
}
`,
      fix: ["VI_3 VI_2", "VI_3 VI_4"],
    },
    toml: {
      text: `${FOUR_TOML}
[vrrp_sync_group.G1]
group = ["VI_1", "VI_2"]

[vrrp_sync_group.G2]
group = ["VI_3", ‸"VI_1"]
`,
      fix: ['["VI_3", "VI_1"]', '["VI_3", "VI_4"]'],
    },
  },
  {
    name: "garp_group without interface or interfaces",
    code: "garp-group-interface",
    severity: "error",
    keepalived: {
      text: `‸garp_group {
  garp_interval 0.1
}
`,
      fix: ["garp_interval 0.1", "interface eth0"],
    },
    toml: {
      text: `[[‸garp_group]]
garp_interval = 0.1
`,
      fix: ["garp_interval = 0.1", 'interfaces = ["eth0", "eth1"]'],
    },
  },
  {
    name: "a virtual route with no dev",
    code: "route-untracked",
    severity: "warning",
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  virtual_routes {
    ‸198.51.100.0/24 via 192.0.2.254
  }
}
`,
      fix: ["via 192.0.2.254", "via 192.0.2.254 dev eth0"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
virtual_routes = [‸"198.51.100.0/24 via 192.0.2.254"]
`,
      fix: ["via 192.0.2.254", "via 192.0.2.254 no_track"],
    },
  },
  {
    name: "a static route with no dev",
    code: "route-untracked",
    severity: "warning",
    keepalived: {
      text: `static_routes {
  203.0.113.0/24 dev eth0
  ‸198.51.100.0/24 via 192.0.2.254
}
`,
      fix: ["198.51.100.0/24 via 192.0.2.254", "198.51.100.0/24 via 192.0.2.254 dev eth0"],
    },
  },
];

const HOST_CASES: RuleCase[] = [
  {
    name: "the instance's interface does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `vrrp_instance VI_1 {
  ‸interface eth1
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["eth1", "eth0"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
‸interface = "eth1"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"eth1"', '"eth0"'],
    },
  },
  {
    name: "a track_interface does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_interface {
    ‸bond0 weight 10
  }
}
`,
      fix: ["bond0", "eth0"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
track_interface = [‸{ name = "bond0", weight = 10 }]
`,
      fix: ['"bond0"', '"eth0"'],
    },
  },
  {
    name: "a virtual address's dev does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
    ‸192.0.2.2 dev eth2
  }
}
`,
      fix: ["dev eth2", "dev eth0"],
    },
    toml: {
      text: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1", ‸{ address = "192.0.2.2", dev = "eth2" }]
`,
      fix: ['"eth2"', '"eth0"'],
    },
  },
  {
    name: "an excluded address's dev does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  virtual_ipaddress_excluded {
    ‸2001:db8::1/64 dev eth2
  }
}
`,
      fix: ["dev eth2", "dev eth0"],
    },
  },
  {
    name: "a virtual route's dev does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  virtual_routes {
    ‸198.51.100.0/24 via 192.0.2.254 dev eth3
  }
}
`,
      fix: ["dev eth3", "dev eth0"],
    },
  },
  {
    name: "a static address's dev does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `static_ipaddress {
  ‸203.0.113.1/24 dev eth4
}
`,
      fix: ["eth4", "eth0"],
    },
    toml: {
      text: `static_ipaddress = [‸"203.0.113.1/24 dev eth4"]
`,
      fix: ["eth4", "eth0"],
    },
  },
  {
    name: "a static route's dev does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `static_routes {
  ‸198.51.100.0/24 dev eth5
}
`,
      fix: ["eth5", "eth0"],
    },
  },
  {
    name: "a sync group's track_interface does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `${TWO_KA}vrrp_sync_group G {
  group {
    VI_1 VI_2
  }
  track_interface {
    ‸eth6
  }
}
`,
      fix: ["eth6", "eth0"],
    },
  },
  {
    name: "lvs_sync_daemon's interface does not exist",
    code: "interface-not-found",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `global_defs {
  ‸lvs_sync_daemon eth7 VI_1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      fix: ["eth7", "eth0"],
    },
    toml: {
      text: `[global_defs]
‸lvs_sync_daemon = { interface = "eth7", instance = "VI_1" }

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
`,
      fix: ['"eth7"', '"eth0"'],
    },
  },
  {
    name: "a script exists but enable_script_security is not set",
    code: "script-security",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `global_defs {
  router_id lb1
}
vrrp_script chk {
  ‸script "/usr/bin/check.sh --quiet"
}
`,
      fix: ["router_id lb1", "enable_script_security"],
    },
    toml: {
      text: `[global_defs]
router_id = "lb1"

[vrrp_script.chk]
‸script = ["/usr/bin/check.sh", "--quiet"]
`,
      fix: ['router_id = "lb1"', "enable_script_security = true"],
    },
  },
  {
    name: "a notify script found on PATH (a script that does not exist is no risk)",
    code: "script-security",
    severity: "warning",
    host: HOST,
    keepalived: {
      text: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  ‸notify_master "check.sh master"
}
`,
      fix: ["check.sh master", "no-such-script master"],
    },
  },
];

const CASES = [
  ...NORMALIZE,
  ...TRACKERS,
  ...HTTP_TRACK_CASES,
  ...REFERENCES,
  ...INSTANCE,
  ...HOST_CASES,
];

runRuleCases("VRRP rules", CASES);

describe("the case table", () => {
  test("covers every code that normalize.ts, validate.ts and validate-host.ts emit", () => {
    const emitted = new Set<string>();
    for (const f of ["normalize.ts", "validate.ts", "validate-host.ts"]) {
      const src = readFileSync(`${REPO}/src/config/${f}`, "utf8");
      for (const m of src.matchAll(/"([a-z0-9]+(?:-[a-z0-9]+)+)"/g)) emitted.add(m[1] as string);
    }
    expect(emitted.size).toBeGreaterThan(30);
    const covered = codesOf(CASES);
    expect([...emitted].filter((c) => !covered.has(c)).sort()).toEqual([]);
  });

  test("at least half the cases also run in TOML", () => {
    expect(tomlShare(CASES)).toBeGreaterThanOrEqual(0.5);
  });
});

/** Bugs found while writing this file, kept as regression tests. */
/** A complete instance VI_1 with `body` lines added. */
const instanceWith = (body: string) =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${body}  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n`;

describe("fixed bugs (regressions)", () => {
  // BUG (normalize.ts normInstance): the version is derived from the first virtual address
  // only, while validate.ts instanceFamily also takes the family from unicast_src_ip. An
  // IPv6 unicast instance without virtual addresses so gets version 2 and a false ipv6-v2
  // error at a `version` line nobody wrote. keepalived makes every IPv6 instance v3
  // (vrrp.c vrrp_complete_instance: `else if (!vrrp->version) vrrp->version = 3`).
  test("an IPv6 unicast instance without virtual addresses is VRRPv3, not an error", () => {
    const r = load(
      `vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 51
  unicast_src_ip 2001:db8::11
  unicast_peer {
    2001:db8::12
  }
  no_virtual_ipaddress
}
`,
      "keepalived",
    );
    expect(r.diagnostics.map(brief)).toEqual([]);
    expect(r.model?.vrrp_instance.VI_6?.version).toBe(3);
  });

  // BUG (validate.ts instanceFamily): keepalived takes an instance's family from the first
  // address of any kind it reads: a virtual address, mcast_src_ip/unicast_src_ip
  // (vrrp_parser.c vrrp_srcip_handler) or a unicast peer (vrrp_data.c
  // alloc_vrrp_unicast_peer). Without virtual addresses edge-agent ignores mcast_src_ip and
  // the peers, calls the instance IPv4 and reports a false family-mismatch.
  for (const [what, line] of [
    ["mcast_src_ip", "mcast_src_ip 2001:db8::11"],
    ["unicast_peer", "unicast_peer {\n    2001:db8::12\n  }"],
  ] as const) {
    test(`an instance without virtual addresses takes its family from ${what}`, () => {
      const r = load(
        `vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 51
  ${line}
  no_virtual_ipaddress
}
`,
        "keepalived",
      );
      expect(r.diagnostics.map(brief)).toEqual([]);
      expect(r.model?.vrrp_instance.VI_6?.version).toBe(3);
    });
  }

  // BUG (toml.ts readLines/readRepeat): an array element that fails to read is dropped, so
  // the model's indices no longer match the TOML array's, and a later diagnostic located
  // by model index pointed at the wrong element (fixed: LocTable.remap). keepalived's front
  // end records locations by model index and gets it right (checked here too).
  const dupAfterBad = {
    keepalived: `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.300
    192.0.2.1
    ‸192.0.2.1
  }
}
`,
    toml: `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.300", "192.0.2.1", ‸"192.0.2.1"]
`,
  } as const;
  for (const format of ["keepalived", "toml"] as const) {
    const run = () => {
      const { text, line, col } = locate(dupAfterBad[format]);
      const dup = load(text, format).diagnostics.find((d) => d.code === "duplicate-vip");
      expect(dup && [dup.line, dup.col]).toEqual([line, col]);
    };
    const name = `${format}: duplicate-vip after an address that failed to read points at the duplicate`;
    test(name, run);
  }

  // BUG (validate.ts validateAddresses): keepalived refuses a VRRPv3 instance with no
  // virtual address unless no_virtual_ipaddress is set ("No VIP specified; at least one is
  // required", and the instance is not run; reference §2.8, keepalived.conf(5)
  // no_virtual_ipaddress). edge-agent only warns no-vip, as it does for v2.
  test("a VRRPv3 instance without virtual addresses is an error", () => {
    const r = load(
      `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 3
}
`,
      "keepalived",
    );
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => [d.line, d.col])).toEqual(
      [[1, 15]],
    );
  });

  // BUG (normalize.ts normInstance): strict mode forces these settings in keepalived, with
  // a config error, even when the instance sets them (vrrp.c vrrp_complete_instance:
  // "Strict mode requires no lower priority advert. resetting", "strict mode requires
  // higher_prio_send_advert to be clear", "Strict mode requires no repeat garps"; reference
  // §2.8). normalize only applies them as defaults, so the model keeps what strict mode
  // forbids, silently.
  test("strict mode overrides explicit settings it forbids, with a warning each", () => {
    const r = load(
      `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  strict_mode on
  higher_prio_send_advert true
  lower_prio_no_advert false
  garp_lower_prio_repeat 2
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      "keepalived",
    );
    const i = r.model?.vrrp_instance.VI_1;
    expect([
      i?.higher_prio_send_advert,
      i?.lower_prio_no_advert,
      i?.garp_lower_prio_repeat,
    ]).toEqual([false, true, 0]);
    expect(r.diagnostics.map((d) => d.line)).toEqual([5, 6, 7]);
  });

  // BUG (validate.ts validateAuth): in strict mode keepalived ignores `authentication`
  // ("Strict mode does not support authentication. Ignoring.", vrrp.c; reference §2.8), so
  // adverts go out unauthenticated. edge-agent says nothing and keeps the block, though it
  // makes the same situation with VRRPv3 an error (auth-v3).
  test("authentication in strict mode is reported at the block", () => {
    const r = load(
      `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  strict_mode on
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    192.0.2.1
  }
}
`,
      "keepalived",
    );
    expect(r.diagnostics.map((d) => [d.line, d.col])).toEqual([[5, 3]]);
  });

  // BUG (schema/vrrp.ts + normalize.ts): keepalived's `preempt` (backwards compatibility)
  // clears `nopreempt`, and the later line wins (vrrp_parser.c vrrp_preempt_handler:
  // __clear_bit(VRRP_FLAG_NOPREEMPT)). edge-agent keeps two independent flags, so after
  // `nopreempt` then `preempt` the model still says nopreempt: the instance would not
  // preempt where keepalived does. (`accept` / `no_accept` are two flags the same way.)
  test("`preempt` after `nopreempt` turns nopreempt off, as in keepalived", () => {
    const r = load(instanceWith("  nopreempt\n  preempt\n"), "keepalived");
    expect(r.diagnostics.map(brief)).toEqual([]);
    expect(r.model?.vrrp_instance.VI_1?.nopreempt ?? false).toBe(false);
  });
});
