import { expect, test } from "bun:test";
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
  ]);
  expect(notes).toEqual([
    "SMTP_CHECK of [198.51.100.2]:tcp:8443 in VS 192.0.2.1:443/TCP is not supported; it is not run",
  ]);
  const [ssl, misc, tcp] = defs;
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
