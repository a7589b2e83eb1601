/**
 * The validator's track_http rules (an edge-agent extension), as rule cases: validate.test.ts
 * runs them with the others, against both front ends, each at the place marked ‸.
 */
import type { RuleCase } from "./rule-cases.ts";

const URL_KA = "url http://127.0.0.1/healthz";
const URL_TOML = 'url = "http://127.0.0.1/healthz"';

const instanceKa = (track: string) => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_http {
    ${track}
  }
}
`;

const instanceToml = (track: string) => `[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
track_http = [${track}]
`;

export const HTTP_TRACK_CASES: RuleCase[] = [
  {
    name: "track_http without a url line",
    code: "url-missing",
    severity: "warning",
    keepalived: {
      text: `track_http ‸web {
  interval 2
}
`,
      fix: ["interval 2", URL_KA],
    },
    toml: {
      text: `[‸track_http.web]
interval = 2
`,
      fix: ["interval = 2", URL_TOML],
    },
  },
  {
    name: "track_http timeout longer than its interval",
    code: "timeout-over-interval",
    severity: "error",
    says: "interval 2s",
    keepalived: {
      text: `track_http web {
  ${URL_KA}
  interval 2
  ‸timeout 3
}
`,
      fix: ["timeout 3", "timeout 2"],
    },
    toml: {
      text: `[track_http.web]
${URL_TOML}
interval = 2
‸timeout = 3
`,
      fix: ["timeout = 3", "timeout = 0.5"],
    },
  },
  {
    name: "track_http timeout longer than the default interval (1 s)",
    code: "timeout-over-interval",
    severity: "error",
    says: "interval 1s",
    keepalived: {
      text: `track_http web {
  ${URL_KA}
  ‸timeout 1.5
}
`,
      fix: ["timeout 1.5", "interval 1.5"],
    },
    toml: {
      text: `[track_http.web]
${URL_TOML}
‸timeout = 1.5
`,
      fix: ["timeout = 1.5", "interval = 1.5"],
    },
  },
  {
    name: "an instance's track_http names no track_http",
    code: "undefined-reference",
    severity: "error",
    says: "track_http 'nginix' is not a defined track_http",
    keepalived: {
      text: `track_http nginx {
  ${URL_KA}
}
${instanceKa("‸nginix weight -30")}`,
      fix: ["nginix", "nginx"],
    },
    toml: {
      text: `[track_http.nginx]
${URL_TOML}

${instanceToml('‸{ name = "nginix", weight = -30 }')}`,
      fix: ['"nginix"', '"nginx"'],
    },
  },
  {
    name: "an instance's track_http names a track_http that is ignored (no url)",
    code: "undefined-reference",
    severity: "error",
    says: "is ignored",
    also: ["url-missing"],
    keepalived: {
      text: `track_http nginx {
  interval 2
}
${instanceKa("‸nginx")}`,
      fix: ["interval 2", URL_KA],
    },
    toml: {
      text: `[track_http.nginx]
interval = 2

${instanceToml('‸"nginx"')}`,
      fix: ["interval = 2", URL_TOML],
    },
  },
  {
    name: "a vrrp_sync_group's track_http names no track_http",
    code: "undefined-reference",
    severity: "error",
    keepalived: {
      text: `track_http nginx {
  ${URL_KA}
}
vrrp_instance VI_1 {
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
vrrp_sync_group G {
  group {
    VI_1 VI_2
  }
  track_http {
    ‸ngnix
  }
}
`,
      fix: ["ngnix", "nginx"],
    },
    toml: {
      text: `[track_http.nginx]
${URL_TOML}

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]

[vrrp_instance.VI_2]
interface = "eth0"
virtual_router_id = 52
virtual_ipaddress = ["192.0.2.2"]

[vrrp_sync_group.G]
group = ["VI_1", "VI_2"]
track_http = [‸"ngnix"]
`,
      fix: ['"ngnix"', '"nginx"'],
    },
  },
];
