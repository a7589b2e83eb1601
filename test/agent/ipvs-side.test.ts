/**
 * The IPVS half of `agent run` (src/agent/ipvs-side.ts) against an in-memory kernel: LVS
 * globals (lvs_timeouts saved and put back, lvs_flush), the "no IPVS" path, the status
 * section checked against docs/status.schema.json, and what the operator's hooks receive
 * when a real TCP server dies and comes back (notify_down/up scripts, `RS …` FIFO lines,
 * the checker's mail).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { IpvsSide } from "../../src/agent/ipvs-side.ts";
import type { ScriptCommand } from "../../src/config/lines/shell.ts";
import { loadText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/model.ts";
import type {
  IpvsDaemon,
  IpvsDest,
  IpvsService,
  IpvsTimeouts,
  ServiceKey,
} from "../../src/core/ipvs/types.ts";
import type { AlertEvent } from "../../src/core/notify/format.ts";
import { alertText } from "../../src/core/notify/format.ts";
import type { Ipvs, IpvsCommand } from "../../src/io/ipvs.ts";
import { IpvsError } from "../../src/io/ipvs.ts";
import { ScriptRunner } from "../../src/io/script-runner.ts";
import { validate } from "../helpers/json-schema.ts";
import { STATUS_SCHEMA } from "./status-fixture.ts";

function model(text: string): Model {
  const l = loadText(text, "/ipvs-side-test.conf", "keepalived", { offline: true });
  const errors = l.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => d.message)).toEqual([]);
  if (!l.model) throw new Error("fixture did not load");
  return l.model;
}

const keyText = (k: ServiceKey): string =>
  JSON.stringify(k, (_, v) => (v instanceof Uint8Array ? [...v] : v));

/** An in-memory IPVS: services and dests as wire records, timeouts, a call log. */
class FakeKernel {
  readonly calls: string[] = [];
  readonly svcs = new Map<string, { s: IpvsService; dests: IpvsDest[] }>();
  timeouts: IpvsTimeouts = { tcpS: 900, tcpFinS: 120, udpS: 300 };
  closed = false;
  readonly handle = {
    services: () => [...this.svcs.values()].map((x) => x.s),
    dests: (k: ServiceKey) => this.svcs.get(keyText(k))?.dests ?? [],
    addService: (s: IpvsService) => {
      this.calls.push("addService");
      this.svcs.set(keyText(s.key), { s, dests: [] });
    },
    editService: (s: IpvsService) => {
      this.calls.push("editService");
      const x = this.svcs.get(keyText(s.key));
      if (x) x.s = s;
    },
    delService: (s: IpvsService) => {
      this.calls.push("delService");
      this.svcs.delete(keyText(s.key));
    },
    addDest: (s: IpvsService, d: IpvsDest) => {
      this.calls.push(`addDest w${d.weight}`);
      this.svcs.get(keyText(s.key))?.dests.push(d);
    },
    editDest: (s: IpvsService, d: IpvsDest) => {
      this.calls.push(`editDest w${d.weight}`);
      const x = this.svcs.get(keyText(s.key));
      if (x) x.dests = x.dests.map((o) => (sameDest(o, d) ? d : o));
    },
    delDest: (s: IpvsService, d: IpvsDest) => {
      this.calls.push("delDest");
      const x = this.svcs.get(keyText(s.key));
      if (x) x.dests = x.dests.filter((o) => !sameDest(o, d));
    },
    flush: () => {
      this.calls.push("flush");
      this.svcs.clear();
    },
    getTimeouts: () => {
      this.calls.push("getTimeouts");
      return this.timeouts;
    },
    setTimeouts: (t: IpvsTimeouts) => {
      this.calls.push(`setTimeouts ${t.tcpS}/${t.tcpFinS}/${t.udpS}`);
      // 0 leaves a value as it is (IPVS_CMD_SET_CONFIG).
      this.timeouts = {
        tcpS: t.tcpS || this.timeouts.tcpS,
        tcpFinS: t.tcpFinS || this.timeouts.tcpFinS,
        udpS: t.udpS || this.timeouts.udpS,
      };
    },
    close: () => {
      this.closed = true;
    },
    batch: (cmds: readonly IpvsCommand[]) => {
      this.calls.push(`batch ${cmds.length}`);
      for (const [i, c] of cmds.entries()) {
        try {
          if ("dest" in c) this.handle[c.op](c.service, c.dest);
          else this.handle[c.op](c.service);
        } catch (error) {
          return { done: i, error };
        }
      }
      return { done: cmds.length };
    },
    startDaemon: (d: IpvsDaemon) => {
      this.calls.push(`startDaemon ${d.state} ${d.mcastIfn} id ${d.syncId}`);
    },
    stopDaemon: (state: string, syncId: number) => {
      this.calls.push(`stopDaemon ${state} id ${syncId}`);
    },
  };
  get ipvs(): Ipvs {
    // Only the methods IpvsSide and RealIpvsHostIo call; Ipvs's constructor opens a socket.
    return this.handle as unknown as Ipvs;
  }
}

const sameDest = (a: IpvsDest, b: IpvsDest): boolean =>
  a.port === b.port && a.addr.join(".") === b.addr.join(".");

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

interface Heard {
  scripts: string[];
  lines: string[];
  mails: AlertEvent[];
  log: string[];
}

function side(
  m: Model,
  k: FakeKernel | "none",
  heard: Heard,
  vrrp: () => "MASTER" | "other" = () => "MASTER",
  runner = new ScriptRunner({ log: QUIET }),
) {
  const log = {
    info: (s: string) => heard.log.push(s),
    warn: (s: string) => heard.log.push(`WARN ${s}`),
    error: (s: string) => heard.log.push(`ERROR ${s}`),
  };
  return new IpvsSide(m, {
    log: log as unknown as ConstructorParameters<typeof IpvsSide>[1]["log"],
    nowMs: () => performance.now(),
    vrrpState: vrrp,
    hooks: () => ({
      runner,
      runScript: (cmd: ScriptCommand, args: readonly string[], why: string) =>
        heard.scripts.push(
          `${cmd.command.join(" ")}${args.length ? ` ${args.join(" ")}` : ""} (${why})`,
        ),
      lvs: (line: string) => heard.lines.push(line),
      alert: (e: AlertEvent) => heard.mails.push(e),
      watchFile: () => ({ stop() {} }),
    }),
    open: () => {
      if (k === "none") throw new IpvsError("E_NO_IPVS", "this kernel has no IPVS (CONFIG_IP_VS)");
      return k.ipvs;
    },
  });
}

const fresh = (): Heard => ({ scripts: [], lines: [], mails: [], log: [] });

const STATIC = (globals: string) => `
global_defs {
  ${globals}
}
virtual_server 192.0.2.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.1 80 {
    weight 2
  }
  real_server 198.51.100.2 80 {
    weight 1
  }
}
`;

describe("IpvsSide: LVS globals", () => {
  test("lvs_timeouts: the kernel's values are read first, set, and put back at stop", () => {
    const k = new FakeKernel();
    const s = side(model(STATIC("lvs_timeouts tcp 7200 udp 60")), k, fresh());
    s.start();
    expect(k.calls.slice(0, 2)).toEqual(["getTimeouts", "setTimeouts 7200/0/60"]);
    expect(k.timeouts).toEqual({ tcpS: 7200, tcpFinS: 120, udpS: 60 });
    expect(k.svcs.size).toBe(1);
    s.stop();
    expect(k.timeouts).toEqual({ tcpS: 900, tcpFinS: 120, udpS: 300 });
    expect(k.calls.at(-1)).toBe("setTimeouts 900/120/300");
    expect(k.svcs.size).toBe(0);
    expect(k.closed).toBe(true);
  });

  test("a reload that drops lvs_timeouts puts the kernel's values back at once", () => {
    const k = new FakeKernel();
    const s = side(model(STATIC("lvs_timeouts tcp 7200")), k, fresh());
    s.start();
    s.reload(model(STATIC("")));
    expect(k.timeouts).toEqual({ tcpS: 900, tcpFinS: 120, udpS: 300 });
    k.calls.length = 0;
    s.stop();
    expect(k.calls.filter((c) => c.startsWith("setTimeouts"))).toEqual([]);
  });

  test("lvs_flush flushes before programming; lvs_flush_on_stop flushes at stop", () => {
    const k = new FakeKernel();
    const s = side(model(STATIC("lvs_flush\n  lvs_flush_on_stop")), k, fresh());
    s.start();
    expect(k.calls[0]).toBe("flush");
    expect(k.calls).toContain("addService");
    s.stop();
    expect(k.calls.at(-1)).toBe("flush");
  });

  test("without timeouts configured the kernel's are neither read nor written", () => {
    const k = new FakeKernel();
    const s = side(model(STATIC("")), k, fresh());
    s.start();
    s.stop();
    expect(k.calls.filter((c) => c.includes("imeouts"))).toEqual([]);
  });

  test("no IPVS in the kernel: one clear error, VRRP's side untouched, empty status", () => {
    const heard = fresh();
    const s = side(model(STATIC("")), "none", heard);
    s.start();
    s.reload(model(STATIC("")));
    s.vrrpChanged();
    expect(s.status((ms) => new Date(ms))).toEqual([]);
    s.stop();
    expect(heard.log).toEqual([
      "ERROR this kernel has no IPVS (CONFIG_IP_VS); the 1 virtual server(s) are not programmed and their checkers do not run",
    ]);
  });

  test("a configuration without virtual servers never opens IPVS", () => {
    const heard = fresh();
    const s = side(model("global_defs {\n  router_id r\n}\n"), "none", heard);
    s.start();
    s.stop();
    expect(heard.log).toEqual([]);
  });
});

describe("IpvsSide: lvs_sync_daemon", () => {
  const SYNCD = (extra: string) => `
global_defs {
  lvs_sync_daemon eth0 ${extra}
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.10/24
  }
}
`;

  test("tied to an instance: backup daemon, master daemon on MASTER, back, stopped at exit", () => {
    const k = new FakeKernel();
    let state: "MASTER" | "other" = "other";
    const s = side(model(SYNCD("VI_1 id 7")), k, fresh(), () => state);
    s.start();
    expect(k.calls).toEqual(["startDaemon backup eth0 id 7"]);
    state = "MASTER";
    s.vrrpChanged();
    expect(k.calls.slice(1)).toEqual(["stopDaemon backup id 7", "startDaemon master eth0 id 7"]);
    s.vrrpChanged(); // no change: nothing sent
    expect(k.calls.length).toBe(3);
    state = "other";
    s.vrrpChanged();
    expect(k.calls.slice(3)).toEqual(["stopDaemon master id 7", "startDaemon backup eth0 id 7"]);
    s.stop();
    expect(k.calls.slice(5)).toEqual(["stopDaemon backup id 7"]);
  });

  test("without an instance both daemons run; a reload that changes the id restarts them", () => {
    const k = new FakeKernel();
    const s = side(model(SYNCD("")), k, fresh());
    s.start();
    expect(k.calls).toEqual(["startDaemon master eth0 id 0", "startDaemon backup eth0 id 0"]);
    s.reload(model(SYNCD("")));
    expect(k.calls.length).toBe(2);
    s.reload(model(SYNCD("id 3")));
    expect(k.calls.slice(2)).toEqual([
      "stopDaemon master id 0",
      "stopDaemon backup id 0",
      "startDaemon master eth0 id 3",
      "startDaemon backup eth0 id 3",
    ]);
    s.reload(model("global_defs {\n  router_id r\n}\n"));
    expect(k.calls.slice(6)).toEqual(["stopDaemon master id 3", "stopDaemon backup id 3"]);
  });
});

describe("IpvsSide: status", () => {
  test("virtual servers with kernel weights validate against the schema", () => {
    const k = new FakeKernel();
    const s = side(model(STATIC("")), k, fresh());
    s.start();
    const vs = s.status((ms) => new Date(1_700_000_000_000 + ms));
    expect(vs).toEqual([
      {
        name: "192.0.2.1:80/TCP",
        address: "192.0.2.1",
        port: 80,
        protocol: "TCP",
        scheduler: "rr",
        forwarding: "NAT",
        quorum_up: true,
        sorry_server_active: false,
        real_servers: [
          {
            address: "198.51.100.1",
            port: 80,
            alive: true,
            weight: 2,
            configured_weight: 2,
            kernel_weight: 2,
            checkers: [],
          },
          {
            address: "198.51.100.2",
            port: 80,
            alive: true,
            weight: 1,
            configured_weight: 1,
            kernel_weight: 1,
            checkers: [],
          },
        ],
      },
    ]);
    const doc = {
      schema: 1,
      agent: {
        version: "1",
        commit: "c",
        pid: 1,
        started: new Date(0).toISOString(),
        maintenance: false,
      },
      config: { file: "/a.conf", loaded: new Date(0).toISOString(), reloads: 0 },
      instances: [],
      sync_groups: [],
      virtual_servers: vs,
    };
    expect(validate(STATUS_SCHEMA, JSON.parse(JSON.stringify(doc)))).toEqual([]);
    s.stop();
  });
});

describe("IpvsSide: a real TCP server dies and comes back", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  const listen = (port = 0): Promise<Server> =>
    new Promise((resolve, reject) => {
      const srv = createServer((c) => c.destroy());
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => resolve(srv));
    });

  async function until(what: string, ok: () => boolean, boundMs = 8000): Promise<void> {
    const t0 = performance.now();
    while (!ok()) {
      if (performance.now() - t0 > boundMs) throw new Error(`not within ${boundMs} ms: ${what}`);
      await Bun.sleep(20);
    }
  }

  test("notify_down/up scripts, RS FIFO lines and the TCP_CHECK mails, in keepalived's words", async () => {
    server = await listen();
    const port = (server.address() as { port: number }).port;
    const m = model(`
global_defs {
  router_id lb1
}
virtual_server 192.0.2.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${port} {
    weight 1
    notify_up "/usr/local/bin/rs-up web"
    notify_down /usr/local/bin/rs-down
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`);
    const k = new FakeKernel();
    const heard = fresh();
    const s = side(m, k, heard);
    s.start();
    const weights = () => [...k.svcs.values()].flatMap((x) => x.dests.map((d) => d.weight));
    expect(weights()).toEqual([1]);
    await until(
      "a first successful probe",
      () =>
        s.status((ms) => new Date(ms))[0]?.real_servers[0]?.checkers[0]?.last_result === "success",
    );
    server.close();
    server = undefined;
    await until("the dest removed", () => weights().length === 0);
    expect(heard.scripts).toEqual([
      `/usr/local/bin/rs-down (notify_down of 127.0.0.1:${port} in VS 192.0.2.1:80/TCP)`,
    ]);
    // The last server gone takes the quorum (default 1) with it: RS line, then VS line,
    // as ipwrapper.c perform_svr_state runs do_rs_notifies before update_quorum_state.
    expect(heard.lines).toEqual([
      // At start: keepalived's quorum state starts down, so reaching it is announced.
      "VS [192.0.2.1]:tcp:80 UP\n",
      `RS [127.0.0.1]:tcp:${port} [192.0.2.1]:tcp:80 DOWN\n`,
      "VS [192.0.2.1]:tcp:80 DOWN\n",
    ]);
    expect(heard.mails.map((e) => alertText(e, "lb1"))).toEqual([
      {
        subject: `[lb1] Realserver [127.0.0.1]:tcp:${port} of virtual server [192.0.2.1]:tcp:80 - DOWN`,
        body: "=> TCP CHECK failed on service <=",
      },
    ]);
    const down = s.status((ms) => new Date(ms))[0]?.real_servers[0];
    expect(down?.alive).toBe(false);
    expect(down?.kernel_weight).toBeUndefined();
    expect(down?.checkers[0]?.state).toBe("down");
    expect(down?.checkers[0]?.last_result).toBe("failure");
    server = await listen(port);
    await until("the dest back", () => weights().length === 1);
    expect(heard.scripts[1]).toBe(
      `/usr/local/bin/rs-up web (notify_up of 127.0.0.1:${port} in VS 192.0.2.1:80/TCP)`,
    );
    expect(heard.lines.slice(3)).toEqual([
      `RS [127.0.0.1]:tcp:${port} [192.0.2.1]:tcp:80 UP\n`,
      "VS [192.0.2.1]:tcp:80 UP\n",
    ]);
    expect(heard.mails[1] && alertText(heard.mails[1], "lb1").body).toBe(
      "=> TCP CHECK succeed on service <=",
    );
    s.stop();
    expect(k.svcs.size).toBe(0);
  }, 20_000);
});
