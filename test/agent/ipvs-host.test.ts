import { describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import {
  IpvsHost,
  type IpvsHostIo,
  type ProbeSpec,
  type RsEvent,
} from "../../src/agent/ipvs-host.ts";
import { loadText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/model.ts";
import type { QuorumEvent } from "../../src/core/ipvs/desired.ts";
import { desiredTable } from "../../src/core/ipvs/desired.ts";
import { applyOps, type Op } from "../../src/core/ipvs/diff.ts";
import { sortTable, type Table } from "../../src/core/ipvs/table.ts";
import { probeTcp } from "../../src/io/check-tcp.ts";

function model(text: string): Model {
  const l = loadText(text, "/ipvs-host-test.conf", "keepalived", { offline: true });
  // A typo in a fixture would otherwise run with defaults and prove nothing.
  const errors = l.diagnostics.filter(
    (d) => d.severity === "error" || /unexpected/.test(d.message),
  );
  expect(errors.map((d) => d.message)).toEqual([]);
  if (!l.model) throw new Error("fixture did not load");
  return l.model;
}

/** A fake kernel (a Table changed by applyOps), fake probes and a fake clock. */
class Fake implements IpvsHostIo {
  nowMs = 0;
  kernel: Table = { services: [] };
  ops: Op[] = [];
  /** "host:port" → pass or fail; absent = pass. */
  readonly failing = new Set<string>();
  /** MISC targets whose script exits with a misc_dynamic weight. */
  readonly weights = new Map<string, number>();
  readonly probes: string[] = [];
  private timer: { atMs: number; fn: () => void } | undefined;
  readonly lines: string[] = [];
  readonly log = {
    info: (m: string) => this.lines.push(m),
    warn: (m: string) => this.lines.push(`WARN ${m}`),
    error: (m: string) => this.lines.push(`ERROR ${m}`),
  };

  readTable(): Table {
    return this.kernel;
  }
  apply(op: Op): void {
    this.kernel = applyOps(this.kernel, [op]);
    this.ops.push(op);
  }
  schedule(atMs: number | undefined, fn: () => void): void {
    this.timer = atMs === undefined ? undefined : { atMs, fn };
  }
  probe(p: ProbeSpec) {
    const target =
      p.kind === "MISC" ? p.why : `${p.spec.host}:${"port" in p.spec ? p.spec.port : 0}`;
    this.probes.push(target);
    const weight = this.weights.get(target);
    return Promise.resolve({
      ok: !this.failing.has(target),
      latencyMs: 1,
      ...(weight !== undefined ? { weight } : {}),
    });
  }
  random(): number {
    return 0;
  }
  /** Run the timer up to `toMs`, letting probe results land between firings. */
  async advance(toMs: number): Promise<void> {
    for (let guard = 0; guard < 10_000; guard++) {
      const t = this.timer;
      if (!t || t.atMs > toMs) break;
      this.timer = undefined;
      this.nowMs = t.atMs;
      t.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.nowMs = toMs;
  }
  dests(vsAddr: string): string[] {
    const s = this.kernel.services.find((x) => x.addr === vsAddr);
    return s ? s.dests.map((d) => `${d.addr}:${d.port}/${d.weight}`) : [];
  }
}

const TWO_RS = (extra = "", rsExtra = "") => `
virtual_server 192.0.2.1 80 {
  delay_loop 5
  lb_algo rr
  lb_kind NAT
  protocol TCP
  ${extra}
  real_server 198.51.100.1 80 {
    weight 1
    ${rsExtra}
    TCP_CHECK {
      connect_timeout 3
      retry 2
      delay_before_retry 1
    }
  }
  real_server 198.51.100.2 80 {
    weight 1
    ${rsExtra}
    TCP_CHECK {
      connect_timeout 3
      retry 2
      delay_before_retry 1
    }
  }
}
`;

/** A VS whose address is VI's VIP, with ha_suspend. */
const HA_SUSPEND = `
vrrp_instance VI {
  interface lo
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.1/32
  }
}
${TWO_RS("ha_suspend")}`;

function host(m: Model, f: Fake, events: RsEvent[] = [], quorum: QuorumEvent[] = []) {
  return new IpvsHost(m, f, f.log, () => f.nowMs, {
    onRealServer: (e) => events.push(e),
    onQuorum: (e) => quorum.push(e),
  });
}

const DYNAMIC = `
virtual_server 192.0.2.1 80 {
  delay_loop 5
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  omega
  quorum 2
  quorum_down /bin/true
  real_server 198.51.100.1 80 {
    weight 3
    MISC_CHECK {
      misc_path "/bin/true one"
      misc_dynamic
    }
  }
  real_server 198.51.100.2 80 {
    weight 1
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
`;

const FILES = `
track_file tf_weight {
  file /run/weight
  weight 3
}
track_file tf_drain {
  file /run/drain
}
virtual_server 192.0.2.1 80 {
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.1 80 {
    weight 10
    FILE_CHECK {
      track_file tf_weight
    }
  }
  real_server 198.51.100.2 80 {
    weight 5
    FILE_CHECK {
      track_file tf_drain
      weight 0
    }
  }
}
`;

/** A stand-in for the inotify watcher: the test sets values, callbacks fire at once. */
class Files {
  readonly values = new Map<string, number>();
  private readonly subs = new Map<string, (v: number | undefined) => void>();
  readonly watch = (path: string, _init: unknown, onValue: (v: number | undefined) => void) => {
    this.subs.set(path, onValue);
    onValue(this.values.get(path) ?? 0);
    return { stop: () => this.subs.delete(path) };
  };
  set(path: string, v: number): void {
    this.values.set(path, v);
    this.subs.get(path)?.(v);
  }
}

describe("IpvsHost: FILE_CHECK", () => {
  function setup(files: Files) {
    const f = new Fake();
    const ev: RsEvent[] = [];
    const h = new IpvsHost(model(FILES), f, f.log, () => f.nowMs, {
      onRealServer: (e) => ev.push(e),
      watchFile: files.watch,
    });
    return { f, ev, h };
  }

  test("a value moves the weight (value × weight added) with one edit", () => {
    const files = new Files();
    const { f, h } = setup(files);
    h.start();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/10", "198.51.100.2:80/5"]);
    f.ops = [];
    files.set("/run/weight", 2);
    expect(
      f.ops.map((o) => `${o.op} ${"dest" in o ? `${o.dest.addr}/${o.dest.weight}` : ""}`),
    ).toEqual(["edit-dest 198.51.100.1/16"]);
    files.set("/run/weight", -5); // 10 − 15 < 0: weight 0, still up
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/0", "198.51.100.2:80/5"]);
    expect(h.health().find((x) => x.rs === "198.51.100.1:80")?.up).toBe(true);
  });

  test("weight 0: a non-zero value is a fault — removed, notify_down; zero brings it back", () => {
    const files = new Files();
    const { f, ev, h } = setup(files);
    h.start();
    files.set("/run/drain", 1);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/10"]);
    expect(ev.map((e) => `${e.type} ${e.rs} ${e.checker}`)).toEqual([
      "notify_down 198.51.100.2:80 FILE_CHECK",
    ]);
    const rs2 = h.health().find((x) => x.rs === "198.51.100.2:80");
    expect(rs2?.checkers).toEqual([
      { key: expect.any(String), type: "FILE_CHECK", up: false, attempts: 0 },
    ]);
    files.set("/run/drain", 0);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/10", "198.51.100.2:80/5"]);
    expect(ev.at(-1)?.type).toBe("notify_up");
  });

  test("a file already faulted at start: the server is never added, and no event fires", () => {
    const files = new Files();
    files.values.set("/run/drain", 7);
    const { f, ev, h } = setup(files);
    h.start();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/10"]);
    expect(ev).toEqual([]);
  });

  test("a reload of the same config re-reads the files and changes nothing", () => {
    const files = new Files();
    files.values.set("/run/weight", 4);
    const { f, ev, h } = setup(files);
    h.start();
    f.ops = [];
    h.reload(model(FILES));
    expect(f.ops).toEqual([]);
    expect(ev).toEqual([]);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/22", "198.51.100.2:80/5"]);
  });
});

describe("IpvsHost: misc_dynamic weights and omega", () => {
  test("a dynamic exit status sets the weight with one edit; status 0 puts it back", async () => {
    const m = model(DYNAMIC);
    const f = new Fake();
    const h = host(m, f);
    h.start();
    await f.advance(1000);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/3", "198.51.100.2:80/1"]);
    const misc = f.probes.find((p) => p.startsWith("MISC_CHECK")) ?? "";
    expect(misc).toContain("198.51.100.1");
    f.weights.set(misc, 7);
    f.ops = [];
    await f.advance(6000);
    expect(
      f.ops.map((o) => `${o.op} ${"dest" in o ? `${o.dest.addr}/${o.dest.weight}` : ""}`),
    ).toEqual(["edit-dest 198.51.100.1/7"]);
    expect(h.health().find((x) => x.rs === "198.51.100.1:80")?.weight).toBe(7);
    expect(f.lines).toContain(
      "Changing weight from 3 to 7 for service [198.51.100.1]:tcp:80 of VS [192.0.2.1]:tcp:80",
    );
    f.weights.delete(misc);
    f.ops = [];
    await f.advance(11_000);
    expect(f.ops.map((o) => ("dest" in o ? o.dest.weight : -1))).toEqual([3]);
  });

  test("stop: an omega VS runs its live servers' notify_down and quorum_down, marked stopping", async () => {
    const m = model(DYNAMIC);
    const f = new Fake();
    const ev: RsEvent[] = [];
    const q: QuorumEvent[] = [];
    const h = host(m, f, ev, q);
    h.start();
    await f.advance(1000);
    h.stop();
    expect(ev.map((e) => `${e.type} ${e.rs} ${e.stopping}`)).toEqual([
      "notify_down 198.51.100.1:80 true",
      "notify_down 198.51.100.2:80 true",
    ]);
    expect(q.map((e) => `${e.type} ${e.vs} ${e.stopping}`)).toEqual([
      "quorum_up 192.0.2.1:80/TCP undefined", // the start: "Gained quorum"
      "quorum_down 192.0.2.1:80/TCP true",
    ]);
    expect(f.kernel.services).toEqual([]);
  });
});

describe("IpvsHost with a fake kernel", () => {
  test("start adopts an equal table with zero ops", () => {
    const m = model(TWO_RS());
    const f = new Fake();
    f.kernel = desiredTable(
      m,
      () => "up",
      () => "MASTER",
    ).table;
    expect(f.kernel.services.length).toBe(1);
    host(m, f).start();
    expect(f.ops).toEqual([]);
  });

  test("start programs an empty kernel: service first, then its dests", () => {
    const m = model(TWO_RS());
    const f = new Fake();
    const h = host(m, f);
    h.start();
    expect(f.ops.map((o) => o.op)).toEqual(["add-service", "add-dest", "add-dest"]);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    expect(h.table()).toEqual(f.kernel);
    // keepalived logs nothing per real server at start: one summary line.
    expect(f.lines).toContain(
      "IPVS at start: 1 virtual service(s), 2 real server(s); 3 command(s) sent",
    );
    expect(f.lines.some((l) => l.startsWith("Adding service"))).toBe(false);
  });

  test("a failing real server is removed after its retries, added back on success", async () => {
    const m = model(TWO_RS());
    const f = new Fake();
    const ev: RsEvent[] = [];
    const h = host(m, f, ev);
    h.start();
    await f.advance(1000); // first probes (bootstrap delay 1 s, warmup draw 0): success
    expect(f.probes.length).toBe(2);
    f.failing.add("198.51.100.2:80");
    await f.advance(6000); // first failure: retry 1 of 2
    await f.advance(7000); // retry 2 of 2
    expect(f.dests("192.0.2.1")).toContain("198.51.100.2:80/1");
    expect(ev).toEqual([]);
    await f.advance(8000); // third failure: down
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1"]);
    expect(ev).toEqual([
      {
        type: "notify_down",
        vs: "192.0.2.1:80/TCP",
        rs: "198.51.100.2:80",
        vsIndex: 0,
        rsIndex: 1,
        checker: "TCP_CHECK",
      },
    ]);
    expect(f.lines).toContain("TCP_CHECK on service [198.51.100.2]:tcp:80 failed after 2 retries.");
    // check_tcp.c tcp_epilog speaks on the first run and on changes, not on every probe.
    expect(f.lines.filter((l) => l.startsWith("TCP connection to [198.51.100.1]"))).toEqual([
      "TCP connection to [198.51.100.1]:tcp:80 success.",
    ]);
    expect(f.lines).toContain("Removing service [198.51.100.2]:tcp:80 from VS [192.0.2.1]:tcp:80");
    expect(h.health().find((x) => x.rs === "198.51.100.2:80")?.up).toBe(false);
    f.failing.delete("198.51.100.2:80");
    await f.advance(13_000);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    expect(ev.map((e) => `${e.type} ${e.rs}`)).toEqual([
      "notify_down 198.51.100.2:80",
      "notify_up 198.51.100.2:80",
    ]);
  });

  test("inhibit_on_failure keeps a dead real server at weight 0", async () => {
    const m = model(TWO_RS("", "inhibit_on_failure"));
    const f = new Fake();
    host(m, f).start();
    f.failing.add("198.51.100.1:80");
    await f.advance(1000); // at start the retry budget is spent: down at once
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/0", "198.51.100.2:80/1"]);
    expect(f.ops.at(-1)?.op).toBe("edit-dest");
  });

  test("quorum loss puts the sorry server in, and quorum_down fires", async () => {
    const m = model(TWO_RS("quorum 2\n sorry_server 203.0.113.50 8080"));
    const f = new Fake();
    const q: QuorumEvent[] = [];
    host(m, f, [], q).start();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    f.failing.add("198.51.100.1:80");
    await f.advance(1000);
    expect(f.dests("192.0.2.1")).toEqual(["203.0.113.50:8080/1"]);
    expect(q.map((e) => `${e.type} ${e.vs}`)).toEqual([
      "quorum_up 192.0.2.1:80/TCP",
      "quorum_down 192.0.2.1:80/TCP",
    ]);
    expect(f.lines).toContain("Lost quorum 2-0=2 > 1 for VS [192.0.2.1]:tcp:80");
    expect(f.lines).toContain(
      "Adding sorry server [203.0.113.50]:tcp:8080 to VS [192.0.2.1]:tcp:80",
    );
    f.failing.clear();
    await f.advance(6000);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    expect(q.map((e) => e.type)).toEqual(["quorum_up", "quorum_down", "quorum_up"]);
  });

  test("stop removes owned services and leaves foreign ones", () => {
    const m = model(TWO_RS());
    const f = new Fake();
    const foreign = sortTable([
      {
        af: 4,
        protocol: "TCP",
        addr: "203.0.113.9",
        port: 443,
        fwmark: 0,
        sched: "wlc",
        flags: 0,
        timeoutS: 0,
        netmask: 0xffffffff,
        peName: null,
        dests: [],
      },
    ]);
    f.kernel = foreign;
    const h = host(m, f);
    h.start();
    expect(f.kernel.services.length).toBe(2);
    h.stop();
    expect(f.kernel).toEqual(foreign);
    // ipwrapper.c clear_service_rs: one line per real server, none per virtual server.
    expect(f.lines.slice(-2)).toEqual([
      "Shutting down service [198.51.100.1]:tcp:80 from VS [192.0.2.1]:tcp:80",
      "Shutting down service [198.51.100.2]:tcp:80 from VS [192.0.2.1]:tcp:80",
    ]);
  });

  test("stop with leaveOnStop leaves the kernel alone", () => {
    const m = model(TWO_RS());
    const f = new Fake();
    const h = new IpvsHost(m, f, f.log, () => f.nowMs, { leaveOnStop: true });
    h.start();
    const before = f.kernel;
    h.stop();
    expect(f.kernel).toBe(before);
  });

  test("reload: one weight change is one edit-dest; checker state carries over", async () => {
    const f = new Fake();
    const h = host(model(TWO_RS()), f);
    h.start();
    await f.advance(1000);
    const attempts = h.health().map((x) => x.checkers[0]?.attempts);
    expect(attempts).toEqual([1, 1]);
    f.ops.length = 0;
    h.reload(
      model(
        TWO_RS().replace(
          "real_server 198.51.100.2 80 {\n    weight 1",
          "real_server 198.51.100.2 80 {\n    weight 5",
        ),
      ),
    );
    expect(f.ops.map((o) => o.op)).toEqual(["edit-dest"]);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/5"]);
    expect(f.lines).toContain(
      "Changing weight from 1 to 5 for service [198.51.100.2]:tcp:80 of VS [192.0.2.1]:tcp:80",
    );
    // The carried checkers keep their schedule: the next probes are at 6 s, not after a new bootstrap.
    expect(h.health().map((x) => x.checkers[0]?.attempts)).toEqual([1, 1]);
    await f.advance(6000);
    expect(h.health().map((x) => x.checkers[0]?.attempts)).toEqual([2, 2]);
  });

  test("reload: a virtual server dropped from the config is removed", () => {
    const f = new Fake();
    const h = host(model(TWO_RS()), f);
    h.start();
    h.reload(model(TWO_RS().replace("192.0.2.1 80", "192.0.2.2 80")));
    expect(f.kernel.services.map((x) => x.addr)).toEqual(["192.0.2.2"]);
    expect(f.dests("192.0.2.2")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
  });

  test("a refused command is logged; the next pass re-reads the kernel and finishes", () => {
    const f = new Fake();
    let refuse = true;
    const apply = f.apply.bind(f);
    f.apply = (op) => {
      if (refuse && op.op === "add-dest" && op.dest.addr === "198.51.100.2") {
        refuse = false;
        throw new Error("NEW_DEST: EBUSY");
      }
      apply(op);
    };
    const h = host(model(TWO_RS()), f);
    h.start();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1"]);
    expect(f.lines).toContain("ERROR IPVS add-dest failed: NEW_DEST: EBUSY");
    h.reconcile();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    expect(h.table()).toEqual(f.kernel);
  });

  test("batched: a refusal mid-batch marks the table stale; the next pass re-reads and finishes", () => {
    const f = new Fake();
    let refuse = true;
    const batches: number[] = [];
    const io = Object.assign(f, {
      applyMany(ops: readonly Op[]) {
        batches.push(ops.length);
        for (const [i, op] of ops.entries()) {
          if (refuse && op.op === "add-dest" && op.dest.addr === "198.51.100.2") {
            refuse = false;
            return { done: i, error: new Error("NEW_DEST: EBUSY") };
          }
          f.apply(op);
        }
        return { done: ops.length };
      },
    });
    const h = host(model(TWO_RS()), io);
    h.start();
    expect(batches).toEqual([3]);
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1"]);
    expect(f.lines).toContain("ERROR IPVS add-dest failed: NEW_DEST: EBUSY");
    h.reconcile();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    expect(h.table()).toEqual(f.kernel);
  });

  test("ha_suspend withdraw: the service follows the owning VRRP instance", () => {
    const conf = HA_SUSPEND;
    const m = model(conf);
    const f = new Fake();
    let state: "MASTER" | "other" = "other";
    const h = new IpvsHost(m, f, f.log, () => f.nowMs, {
      vrrpState: () => state,
      haSuspend: "withdraw",
    });
    h.start();
    expect(f.kernel.services).toEqual([]);
    state = "MASTER";
    h.reconcile();
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
  });

  test("ha_suspend freeze (keepalived's): no probe while BACKUP, verdicts held, probes resume on MASTER", async () => {
    const conf = HA_SUSPEND;
    const f = new Fake();
    let state: "MASTER" | "other" = "other";
    const ev: RsEvent[] = [];
    const h = new IpvsHost(model(conf), f, f.log, () => f.nowMs, {
      vrrpState: () => state,
      onRealServer: (e) => ev.push(e),
    });
    h.start();
    // Frozen: the service stays programmed with the held (initial) verdicts.
    expect(f.dests("192.0.2.1")).toEqual(["198.51.100.1:80/1", "198.51.100.2:80/1"]);
    f.failing.add("198.51.100.2:80");
    await f.advance(30_000);
    expect(f.probes).toEqual([]);
    expect(ev).toEqual([]);
    state = "MASTER";
    h.reconcile();
    await f.advance(36_000);
    expect(f.probes.length).toBeGreaterThan(0);
    expect(ev.map((e) => `${e.type} ${e.rs}`)).toEqual(["notify_down 198.51.100.2:80"]);
  });
});

async function listen(port = 0): Promise<Server> {
  const s = createServer((c) => c.destroy());
  await new Promise<void>((res, rej) => {
    s.once("error", rej);
    s.listen(port, "127.0.0.1", () => res());
  });
  return s;
}

function portOf(s: Server): number {
  const a = s.address();
  if (a === null || typeof a === "string") throw new Error("no port");
  return a.port;
}

describe("IpvsHost with real TCP probes (fake kernel)", () => {
  test("a killed server is removed, a restarted one added back", async () => {
    let srv = await listen();
    const port = portOf(srv);
    const m = model(`
virtual_server 192.0.2.1 80 {
  delay_loop 0.1
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${port} {
    TCP_CHECK {
      connect_timeout 1
      retry 0
      warmup 0
    }
  }
}`);
    const fake = new Fake();
    const t0 = performance.now();
    const nowMs = () => performance.now() - t0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waiters: ((e: RsEvent) => void)[] = [];
    const io: IpvsHostIo = {
      readTable: () => fake.readTable(),
      apply: (op) => fake.apply(op),
      schedule: (atMs, fn) => {
        if (timer) clearTimeout(timer);
        timer = atMs === undefined ? undefined : setTimeout(fn, Math.max(0, atMs - nowMs()));
      },
      probe: (p) =>
        p.kind === "TCP" ? probeTcp(p.spec) : Promise.resolve({ ok: false, latencyMs: 0 }),
      random: () => 0,
    };
    const next = (type: RsEvent["type"]) =>
      new Promise<RsEvent>((res, rej) => {
        const bound = setTimeout(() => rej(new Error(`no ${type} within 10 s`)), 10_000);
        waiters.push((e) => {
          if (e.type !== type) return;
          clearTimeout(bound);
          res(e);
        });
      });
    const h = new IpvsHost(m, io, fake.log, nowMs, {
      onRealServer: (e) => {
        for (const w of waiters.splice(0)) w(e);
      },
    });
    try {
      h.start();
      expect(fake.dests("192.0.2.1")).toEqual([`127.0.0.1:${port}/1`]);
      const down = next("notify_down");
      await new Promise<void>((res) => srv.close(() => res()));
      await down;
      expect(fake.dests("192.0.2.1")).toEqual([]);
      expect(fake.lines).toContain(`TCP_CHECK on service [127.0.0.1]:tcp:${port} failed.`);
      const up = next("notify_up");
      srv = await listen(port);
      await up;
      expect(fake.dests("192.0.2.1")).toEqual([`127.0.0.1:${port}/1`]);
      expect(fake.lines).toContain(`TCP connection to [127.0.0.1]:tcp:${port} success.`);
    } finally {
      h.stop();
      if (timer) clearTimeout(timer);
      srv.close();
    }
    expect(fake.kernel.services).toEqual([]);
  }, 30_000);
});
