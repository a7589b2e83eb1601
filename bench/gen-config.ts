/**
 * A large, valid keepalived.conf for benchmarks: 255 VRRP instances with scripts, and
 * virtual servers with 2,000 real servers in all, ≈20,000 lines. Documentation addresses.
 */
export interface GenOptions {
  instances: number;
  realServers: number;
  iface: string;
}

export function generateConfig({ instances, realServers, iface }: GenOptions): string {
  const out: string[] = [
    "! generated for benchmarks",
    "global_defs {",
    "    router_id bench",
    "    vrrp_version 3",
    "}",
    "",
  ];
  for (let s = 0; s < 16; s++) {
    out.push(
      `vrrp_script chk_${s} {`,
      `    script "/usr/bin/test -e /run/bench-${s}"`,
      "    interval 2",
      "    fall 2",
      "    rise 2",
      "    weight -20",
      "}",
      "",
    );
  }
  for (let i = 1; i <= instances; i++) {
    const a = (i % 250) + 1;
    out.push(
      `vrrp_instance VI_${i} {`,
      `    interface ${iface}`,
      `    state ${i % 2 ? "MASTER" : "BACKUP"}`,
      `    virtual_router_id ${i}`,
      `    priority ${100 + (i % 100)}`,
      "    advert_int 1",
      "    virtual_ipaddress {",
      `        192.0.2.${a}/24 dev ${iface}`,
      `        198.51.100.${a}/24 dev ${iface}`,
      "    }",
      "    track_script {",
      `        chk_${i % 16}`,
      "    }",
      "    garp_master_delay 5",
      '    notify "/usr/local/bin/notify.sh arg"',
      "}",
      "",
    );
  }
  const perVs = 50;
  for (let v = 0; v < Math.ceil(realServers / perVs); v++) {
    out.push(
      `virtual_server 203.0.113.${(v % 250) + 1} ${8000 + v} {`,
      "    delay_loop 6",
      "    lb_algo wrr",
      "    lb_kind NAT",
      "    protocol TCP",
      "",
    );
    for (let r = 0; r < perVs && v * perVs + r < realServers; r++) {
      const n = v * perVs + r;
      out.push(
        `    real_server 198.51.100.${(n % 250) + 1} ${10000 + n} {`,
        "        weight 1",
        "        TCP_CHECK {",
        "            connect_timeout 3",
        "            retry 2",
        "        }",
        "    }",
      );
    }
    out.push("}", "");
  }
  return `${out.join("\n")}\n`;
}
