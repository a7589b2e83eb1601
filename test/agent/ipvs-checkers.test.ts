import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCheckers } from "../../src/agent/ipvs-checkers.ts";
import { loadText } from "../../src/config/load.ts";

const CONF = `
virtual_server 192.0.2.1 443 {
  delay_loop 7
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.1 8443 {
    weight 2
    SSL_GET {
      url {
        path /health
        digest 640205B7B0FC66C1EA91C463FAC6334D
        status_code 200 204
      }
      url {
        path /ready
      }
      connect_timeout 2
      enable_sni
      sni_name www.example.com
    }
    MISC_CHECK {
      misc_path "/bin/true"
      misc_dynamic
    }
  }
  real_server 198.51.100.2 8443 {
    TCP_CHECK {
      connect_ip 203.0.113.7
      connect_port 9000
      bindto 192.0.2.9
    }
    SMTP_CHECK {
      connect_timeout 3
    }
  }
}
`;

function load() {
  const l = loadText(CONF, "/ipvs-checkers-test.conf", "keepalived", { offline: true });
  if (!l.model) throw new Error(l.diagnostics.map((d) => d.message).join("; "));
  return l.model;
}

test("buildCheckers: one def per runnable checker block, with keepalived's defaults", () => {
  const { defs, notes } = buildCheckers(load());
  expect(defs.map((d) => d.key)).toEqual([
    "192.0.2.1:443/TCP|198.51.100.1:8443|SSL_GET#0",
    "192.0.2.1:443/TCP|198.51.100.1:8443|MISC_CHECK#0",
    "192.0.2.1:443/TCP|198.51.100.2:8443|TCP_CHECK#0",
    "192.0.2.1:443/TCP|198.51.100.2:8443|SMTP_CHECK#0",
  ]);
  expect(notes).toEqual([]);
  const [ssl, misc, tcp, smtp] = defs;
  // check_smtp.c spends its retries inside one round: the machine runs it with retry 0.
  expect(smtp?.timing.retry).toBe(0);
  expect(smtp?.probe(0)).toEqual({
    kind: "SMTP",
    spec: {
      host: "198.51.100.2",
      port: 8443,
      connectTimeoutMs: 3000,
      heloName: "smtpchecker.keepalived.org",
      retry: 1,
      delayBeforeRetryMs: 1000,
    },
  });
  // delay_loop inherited from the VS; retry 1 and delay_before_retry 3 s are keepalived's
  // HTTP/SSL defaults (check_http.c), warmup defaults to delay_loop.
  expect(ssl?.timing).toEqual({
    kind: "http",
    delayLoopMs: 7000,
    delayBeforeRetryMs: 3000,
    retry: 1,
    warmupMs: 7000,
    alpha: false,
    urlCount: 2,
    fastRecovery: false,
  });
  expect(ssl?.probe(0)).toEqual({
    kind: "HTTP",
    spec: {
      host: "198.51.100.1",
      port: 8443,
      connectTimeoutMs: 2000,
      httpProtocol: "1.0",
      url: {
        path: "/health",
        digest: "640205b7b0fc66c1ea91c463fac6334d",
        statusCodes: ["200", "204"],
      },
      tls: { enableSni: true, sniName: "www.example.com" },
    },
  });
  const second = ssl?.probe(1);
  expect(second?.kind === "HTTP" ? second.spec.url.path : undefined).toBe("/ready");
  const m = misc?.probe(0);
  expect(m?.kind).toBe("MISC");
  if (m?.kind === "MISC") {
    expect(m.dynamic).toBe(true);
    expect(m.timeoutMs).toBe(7000); // misc_timeout defaults to delay_loop
    expect(m.script.command).toEqual(["/bin/true"]);
  }
  expect(tcp?.probe(0)).toEqual({
    kind: "TCP",
    spec: { host: "203.0.113.7", port: 9000, connectTimeoutMs: 5000, bindAddress: "192.0.2.9" },
  });
  expect(tcp?.label).toBe("[198.51.100.2]:tcp:8443");
});

const MORE = `
virtual_server 192.0.2.2 53 {
  lb_kind DR
  protocol UDP
  real_server 198.51.100.5 53 {
    UDP_CHECK {
      payload 0102ff
      require_reply 01XX
      min_reply_length 2
    }
    DNS_CHECK {
      type A
      name www.example.com
    }
    PING_CHECK {
      connect_timeout 2
    }
    SMTP_CHECK {
      helo_name lb.example.com
      host {
        connect_ip 198.51.100.6
        connect_port 2525
      }
      host {
        connect_ip 198.51.100.7
      }
    }
  }
}
`;

test("buildCheckers: UDP, DNS, PING specs; SMTP host blocks become checkers of their own", () => {
  const l = loadText(MORE, "/more.conf", "keepalived", { offline: true });
  if (!l.model) throw new Error(l.diagnostics.map((d) => d.message).join("; "));
  const { defs, notes } = buildCheckers(l.model);
  expect(notes).toEqual([]);
  expect(defs.map((d) => d.key.split("|")[2]).sort()).toEqual([
    "DNS_CHECK#0",
    "PING_CHECK#0",
    "SMTP_CHECK#0.host0",
    "SMTP_CHECK#0.host1",
    "UDP_CHECK#0",
  ]);
  const by = (suffix: string) => defs.find((d) => d.key.endsWith(suffix))?.probe(0);
  expect(by("UDP_CHECK#0")).toMatchObject({
    kind: "UDP",
    spec: { host: "198.51.100.5", port: 53, payloadHex: "0102ff", minReplyLength: 2 },
  });
  expect(by("DNS_CHECK#0")).toMatchObject({
    kind: "DNS",
    spec: { host: "198.51.100.5", port: 53, type: "A", name: "www.example.com" },
  });
  expect(by("PING_CHECK#0")).toEqual({
    kind: "PING",
    spec: { host: "198.51.100.5", connectTimeoutMs: 2000 },
  });
  expect(by("SMTP_CHECK#0.host0")).toMatchObject({
    kind: "SMTP",
    spec: { host: "198.51.100.6", port: 2525, heloName: "lb.example.com" },
  });
  // A host without its own port takes the real server's.
  expect(by("SMTP_CHECK#0.host1")).toMatchObject({
    kind: "SMTP",
    spec: { host: "198.51.100.7", port: 53 },
  });
});

test("buildCheckers: the SSL block's files reach SSL_GET; an unreadable one is a note", () => {
  const dir = mkdtempSync(join(tmpdir(), "ssl-block-"));
  try {
    writeFileSync(join(dir, "client.pem"), "CERT PEM\n");
    writeFileSync(join(dir, "client.key"), "KEY PEM\n");
    const conf = `
SSL {
  certificate ${dir}/client.pem
  key ${dir}/client.key
  password s3cret
  ca ${dir}/missing-ca.pem
}
${CONF}`;
    const l = loadText(conf, "/ssl.conf", "keepalived", { offline: true });
    if (!l.model) throw new Error(l.diagnostics.map((d) => d.message).join("; "));
    const { defs, notes } = buildCheckers(l.model);
    const p = defs[0]?.probe(0);
    expect(p?.kind === "HTTP" ? p.spec.tls : undefined).toEqual({
      enableSni: true,
      sniName: "www.example.com",
      certificate: "CERT PEM\n",
      key: "KEY PEM\n",
      password: "s3cret",
    });
    expect(notes.length).toBe(1);
    expect(notes[0]).toStartWith(`SSL ca ${dir}/missing-ca.pem cannot be read (`);
    expect(notes[0]).toEndWith("); SSL_GET runs without it");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
