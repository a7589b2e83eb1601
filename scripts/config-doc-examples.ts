/**
 * One example per top-level block, written in both syntaxes. test/docs.test.ts proves each
 * pair reads to the same document; scripts/config-doc.ts puts them in docs/config.md.
 */
export interface BlockExample {
  readonly key: string;
  readonly about: string;
  readonly toml: string;
  readonly keepalived: string;
}

export const EXAMPLES: readonly BlockExample[] = [
  {
    key: "global_defs",
    about: "Process-wide settings and the defaults every vrrp_instance inherits.",
    toml: `[global_defs]
router_id = "lb1"
enable_script_security = true
script_user = "root"
vrrp_version = 3
vrrp_garp_master_delay = 10
smtp_server = { host = "192.0.2.25", port = 25 }
notification_email = ["ops@example.org"]
metrics_listen = "127.0.0.1:9165"`,
    keepalived: `global_defs {
    router_id lb1
    enable_script_security
    script_user root
    vrrp_version 3
    vrrp_garp_master_delay 10
    smtp_server 192.0.2.25 25
    notification_email {
        ops@example.org
    }
    metrics_listen 127.0.0.1:9165
}`,
  },
  {
    key: "vrrp_script",
    about:
      "A command run every `interval`; its result moves the priority (weight) or, with weight 0, forces FAULT.",
    toml: `[vrrp_script.chk_nginx]
script = ["/usr/bin/pgrep", "-x", "nginx"]
interval = 2
timeout = 1
rise = 2
fall = 2
weight = { value = -30, reverse = false }`,
    keepalived: `vrrp_script chk_nginx {
    script "/usr/bin/pgrep -x nginx"
    interval 2
    timeout 1
    rise 2
    fall 2
    weight -30
}`,
  },
  {
    key: "track_http",
    about:
      "An extension: GET `url` every `interval`; a status in `status` is a success. Weights, rise and fall as for vrrp_script, without a script or curl.",
    toml: `[track_http.nginx]
url = "http://127.0.0.1/healthz"
status = [200, "300-302"]
host = "www.example.org"
interval = 2
timeout = 1
rise = 2
fall = 2
weight = { value = -30, reverse = false }`,
    keepalived: `track_http nginx {
    url http://127.0.0.1/healthz
    status 200 300-302
    host www.example.org
    interval 2
    timeout 1
    rise 2
    fall 2
    weight -30
}`,
  },
  {
    key: "vrrp_instance",
    about: "One virtual router: its VRID, priority, addresses, trackers and notify scripts.",
    toml: `[vrrp_instance.VI_1]
state = "BACKUP"
interface = "eth0"
virtual_router_id = 51
priority = 100
advert_int = 1
nopreempt = true
authentication = { auth_type = "PASS", auth_pass = "secret" }
unicast_src_ip = "192.0.2.11"
unicast_peer = ["192.0.2.12"]
virtual_ipaddress = ["192.0.2.100/24 dev eth0 label eth0:1", { address = "192.0.2.101/24", dev = "eth0" }]
virtual_routes = [{ to = "198.51.100.0/24", via = "192.0.2.1", dev = "eth0" }]
track_interface = [{ name = "eth1", weight = -20 }]
track_script = ["chk_nginx"]
notify_master = ["/usr/local/bin/notify.sh", "master"]
notify = { command = ["/usr/local/bin/notify.sh"], user = "nobody" }`,
    keepalived: `vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    nopreempt
    authentication {
        auth_type PASS
        auth_pass secret
    }
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.12
    }
    virtual_ipaddress {
        192.0.2.100/24 dev eth0 label eth0:1
        192.0.2.101/24 dev eth0
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.1 dev eth0
    }
    track_interface {
        eth1 weight -20
    }
    track_script {
        chk_nginx
    }
    notify_master "/usr/local/bin/notify.sh master"
    notify /usr/local/bin/notify.sh nobody
}`,
  },
  {
    key: "vrrp_sync_group",
    about: "Instances that change state together.",
    toml: `[vrrp_sync_group.G1]
group = ["VI_1", "VI_2"]
notify_master = ["/usr/local/bin/group.sh", "master"]`,
    keepalived: `vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    notify_master "/usr/local/bin/group.sh master"
}`,
  },
  {
    key: "vrrp_track_process",
    about: "Tracks whether (enough of) a process is running.",
    toml: `[vrrp_track_process.nginx]
process = ["nginx"]
quorum = 1
weight = -30
delay = 2`,
    keepalived: `vrrp_track_process nginx {
    process nginx
    quorum 1
    weight -30
    delay 2
}`,
  },
  {
    key: "track_file",
    about: "A file holding a number that, times the weight, moves the priority.",
    toml: `[track_file.maintenance]
file = "/run/lb-weight"
weight = -1
init_file = { value = 0, overwrite = true }`,
    keepalived: `track_file maintenance {
    file /run/lb-weight
    weight -1
    init_file 0 overwrite
}`,
  },
  {
    key: "bfd_instance",
    about: "A BFD session whose state can be tracked.",
    toml: `[bfd_instance.peer]
neighbor_ip = "192.0.2.12"
min_rx = 50
min_tx = 50
multiplier = 3`,
    keepalived: `bfd_instance peer {
    neighbor_ip 192.0.2.12
    min_rx 50
    min_tx 50
    multiplier 3
}`,
  },
  {
    key: "static_ipaddress",
    about:
      "Addresses, routes and rules kept in place whatever the VRRP state (also static_routes, static_rules).",
    toml: `static_ipaddress = ["192.0.2.5/24 dev eth0"]
static_routes = [{ to = "203.0.113.0/24", via = "192.0.2.1", dev = "eth0" }]
static_rules = [{ from = "192.0.2.0/24", table = 100, preference = 100 }]`,
    keepalived: `static_ipaddress {
    192.0.2.5/24 dev eth0
}
static_routes {
    203.0.113.0/24 via 192.0.2.1 dev eth0
}
static_rules {
    from 192.0.2.0/24 table 100 preference 100
}`,
  },
  {
    key: "garp_group",
    about: "GARP / unsolicited-NA pacing for a set of interfaces.",
    toml: `[[garp_group]]
garp_interval = 0.001
interfaces = ["eth0", "eth1"]`,
    keepalived: `garp_group {
    garp_interval 0.001
    interfaces {
        eth0
        eth1
    }
}`,
  },
  {
    key: "virtual_server_group",
    about: "Several service addresses sharing one real-server pool.",
    toml: `[virtual_server_group]
web = [{ address = "192.0.2.100", port = 80 }, "192.0.2.110-120 80", { fwmark = 5 }]`,
    keepalived: `virtual_server_group web {
    192.0.2.100 80
    192.0.2.110-120 80
    fwmark 5
}`,
  },
  {
    key: "virtual_server",
    about:
      "An IPVS service (by ip and port, fwmark or group) with its real servers and their health checks.",
    toml: `[[virtual_server]]
ip = "192.0.2.100"
port = 443
protocol = "TCP"
lvs_sched = "wrr"
lvs_method = "DR"
delay_loop = 5
persistence_timeout = 300
sorry_server = { ip = "192.0.2.99", port = 443 }

[[virtual_server.real_server]]
ip = "192.0.2.21"
port = 443
weight = 2

[[virtual_server.real_server.TCP_CHECK]]
connect_timeout = 3

[[virtual_server.real_server]]
ip = "192.0.2.22"
port = 443

[[virtual_server.real_server.SSL_GET]]
connect_timeout = 3
retry = 2
url = [{ path = "/health", status_code = ["200-299"] }]`,
    keepalived: `virtual_server 192.0.2.100 443 {
    protocol TCP
    lvs_sched wrr
    lvs_method DR
    delay_loop 5
    persistence_timeout 300
    sorry_server 192.0.2.99 443
    real_server 192.0.2.21 443 {
        weight 2
        TCP_CHECK {
            connect_timeout 3
        }
    }
    real_server 192.0.2.22 443 {
        SSL_GET {
            connect_timeout 3
            retry 2
            url {
                path /health
                status_code 200-299
            }
        }
    }
}`,
  },
];
