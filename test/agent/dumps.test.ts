/**
 * keepalived's dump files from status documents of real agents on the simulated segment:
 * keepalived.stats read back the way keepalived-exporter reads it, keepalived.json with
 * keepalived's field names and order, keepalived.data with the lines the exporter reads,
 * no password anywhere, and the atomic writer and file locations. The comparison with a
 * live keepalived 2.2.7 is in dumps-keepalived.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_DUMP_PATHS,
  dataDump,
  dumpContext,
  dumpPaths,
  jsonDump,
  statsDump,
  tmpDirFrom,
  writeAtomic,
} from "../../src/agent/dumps.ts";
import type { StatusDoc } from "../../src/agent/status-types.ts";
import { AgentError } from "../../src/errors.ts";
import { validate } from "../helpers/json-schema.ts";
import {
  KA_JSON_DATA_KEYS,
  KA_JSON_STATS_KEYS,
  KA_STATS_LAYOUT,
  parseDataLikeExporter,
  parseStatsLikeExporter,
  STATS_TO_COUNTER,
  statsLayout,
} from "./dump-readers.ts";
import {
  docOf,
  GLOBAL,
  instance,
  type Node,
  node,
  SECRET,
  SimNet,
  STATUS_SCHEMA,
} from "./status-fixture.ts";

interface Cluster {
  a: Node;
  b: Node;
  c: Node;
  docs: { a: StatusDoc; b: StatusDoc };
}

/**
 * a (100) MASTER, b (90) BACKUP with a weighted script and interface; c (50) has another
 * password, so it hears nobody, becomes MASTER and a and b count its adverts as
 * authentication failures; then a stops: a priority-0 advert, and b takes over.
 */
async function cluster(): Promise<Cluster> {
  const net = new SimNet();
  const vi = (prio: number, extra = "") =>
    instance({ priority: prio, auth: true, evips: ["203.0.113.7"], extra });
  const a = await node(net, "a", 1, GLOBAL + vi(100, 'notify_master "/bin/echo master"'));
  const chk = 'vrrp_script chk {\n    script "/chk arg"\n    interval 1\n    weight -20\n}\n';
  const b = await node(
    net,
    "b",
    2,
    GLOBAL +
      chk +
      vi(
        90,
        "track_script {\n        chk\n    }\n    track_interface {\n        eth1 weight -10\n    }",
      ),
  );
  const c = await node(net, "c", 3, GLOBAL + vi(50).replace(SECRET, "otherpw"));
  net.run(6000);
  await a.agent.stop();
  net.run(9000);
  return { a, b, c, docs: { a: docOf(a), b: docOf(b) } };
}

let k: Cluster;
beforeAll(async () => {
  k = await cluster();
});

describe("keepalived.stats", () => {
  test("reads back, the exporter's way, as the document's counters", () => {
    for (const d of [k.docs.a, k.docs.b]) {
      const parsed = parseStatsLikeExporter(statsDump(d));
      expect([...parsed.keys()]).toEqual(d.instances.map((i) => i.name));
      for (const i of d.instances) {
        const got = parsed.get(i.name) ?? {};
        const want = Object.fromEntries(
          Object.entries(STATS_TO_COUNTER).map(([line, c]) => [line, i.counters[c]]),
        );
        expect(got).toEqual(want);
      }
    }
    // The scenario moved the counters that matter, so equality above means something.
    const ca = k.docs.a.instances[0]?.counters;
    const cb = k.docs.b.instances[0]?.counters;
    expect(ca?.pri_zero_sent).toBe(1);
    expect(cb?.pri_zero_rcvd).toBe(1);
    expect(ca?.release_master).toBe(1);
    expect(cb?.become_master).toBe(1);
    expect(cb?.auth_failure).toBeGreaterThan(0);
    expect(cb?.advert_rcvd).toBeGreaterThan(3);
  });

  test("has keepalived 2.2.7's layout, line for line", () => {
    const text = statsDump(k.docs.b);
    expect(statsLayout(text)).toEqual(KA_STATS_LAYOUT);
    expect(text.endsWith("    Sent: 0\n")).toBe(true);
  });
});

describe("keepalived.json", () => {
  test("an array of { data, stats } with keepalived's names, in its order", () => {
    const text = jsonDump(k.docs.b, dumpContext(k.b.agent, k.b.model));
    expect(text.endsWith("]\n")).toBe(true);
    // keepalived's json_writer escapes "/"; a parser reads both the same.
    expect(text).toContain("192.0.2.101\\/24 dev eth0");
    const list = JSON.parse(text) as {
      data: Record<string, unknown>;
      stats: Record<string, number>;
    }[];
    expect(list).toHaveLength(1);
    const [e] = list;
    expect(Object.keys(e ?? {})).toEqual(["data", "stats"]);
    const keys = Object.keys(e?.data ?? {});
    const inKeepalivedOrder: string[] = KA_JSON_DATA_KEYS.filter((x) => keys.includes(x));
    expect(inKeepalivedOrder).toEqual(keys);
    expect(Object.keys(e?.stats ?? {})).toEqual([...KA_JSON_STATS_KEYS]);
    const i = k.docs.b.instances[0];
    expect(e?.data).toMatchObject({
      iname: "VI_1",
      ifp_ifname: "eth0",
      vmac_ifname: "",
      vrid: 51,
      state: 2,
      wantstate: 2,
      version: 2,
      base_priority: 90,
      effective_priority: 90,
      master_priority: 0,
      vipset: true,
      adver_int: 1,
      master_adver_int: 1,
      garp_delay: 5,
      garp_rep: 5,
      accept: 1,
      nopreempt: false,
      last_transition: Date.parse(i?.since ?? "") / 1000,
      vips: ["192.0.2.101/24 dev eth0 scope global set"],
      evips: ["203.0.113.7 dev eth0 scope global set"],
      track_ifp: ["eth1"],
      track_script: ["'/chk' 'arg'"],
      auth_type: 1,
      auth_data: "********",
    });
    for (const [name, v] of Object.entries(e?.stats ?? {}))
      expect(v).toBe(i?.counters[name as keyof typeof i.counters] ?? -1);
  });

  test("a BACKUP: not holding, the master's priority, notify scripts quoted as keepalived does", () => {
    const net = new SimNet();
    return (async () => {
      const m = await node(
        net,
        "m",
        1,
        GLOBAL + instance({ priority: 200, version: 3, advert: 0.5 }),
      );
      const s = await node(
        net,
        "s",
        2,
        GLOBAL + instance({ priority: 100, version: 3, extra: `notify_backup "/n.sh it\\'s"` }),
      );
      net.run(4000);
      const [e] = JSON.parse(jsonDump(docOf(s), dumpContext(s.agent, s.model)));
      expect(e.data).toMatchObject({
        state: 1,
        master_priority: 200,
        vipset: false,
        adver_int: 1,
        // v3 learns the master's interval (RFC 5798 §6.4.2).
        master_adver_int: 0.5,
        vips: ["192.0.2.101/24 dev eth0 scope global"],
        script_backup: "'/n.sh' 'it'\\''s'",
        auth_type: 0,
      });
      expect("auth_data" in e.data).toBe(false);
      expect(JSON.parse(jsonDump(docOf(m), dumpContext(m.agent)))[0].data.state).toBe(2);
    })();
  });
});

describe("keepalived.data", () => {
  test("the exporter finds state, interface, VRID, GARP delay, VIPs and script status", () => {
    const text = dataDump(k.docs.b, dumpContext(k.b.agent, k.b.model));
    const { instances, scripts } = parseDataLikeExporter(text);
    expect(instances.get("VI_1")).toEqual({
      State: "MASTER",
      Wantstate: "MASTER",
      Interface: "eth0",
      "Virtual Router ID": "51",
      "Gratuitous ARP delay": "5",
      vips: ["192.0.2.101/24 dev eth0 scope global set"],
    });
    expect(scripts.get("chk")).toEqual({ Status: "GOOD", State: "idle" });
    expect(text).toContain("   Password = ********\n");
    expect(text).toContain("     chk weight -20\n");
    expect(text).toContain("   Master down timer = 3648437 usecs\n");
  });

  test("a BACKUP shows the master it hears", () => {
    const net = new SimNet();
    return (async () => {
      await node(net, "m", 1, GLOBAL + instance({ priority: 200 }));
      const s = await node(net, "s", 2, GLOBAL + instance({ priority: 100 }));
      net.run(5000);
      const text = dataDump(docOf(s), dumpContext(s.agent, s.model));
      expect(text).toContain(
        " VRRP Instance = VI_1\n   VRRP Version = 2\n   State = BACKUP\n   Master router = 192.0.2.11\n   Master priority = 200\n",
      );
      expect(parseDataLikeExporter(text).instances.get("VI_1")?.vips).toEqual([
        "192.0.2.101/24 dev eth0 scope global",
      ]);
    })();
  });
});

test('after shutdown: STOP in the document, keepalived\'s 98 in JSON, "unknown" in the data', () => {
  const d = k.docs.a;
  expect(validate(STATUS_SCHEMA, JSON.parse(JSON.stringify(d)))).toEqual([]);
  expect(d.instances[0]?.state).toBe("STOP");
  expect(d.instances[0]?.vips).toEqual([]);
  const ctx = dumpContext(k.a.agent, k.a.model);
  expect(JSON.parse(jsonDump(d, ctx))[0].data).toMatchObject({ state: 98, vipset: false });
  expect(parseDataLikeExporter(dataDump(d, ctx)).instances.get("VI_1")?.State).toBe("unknown");
});

test("no dump and no document carries the password", () => {
  for (const [n, d] of [
    [k.a, k.docs.a],
    [k.b, k.docs.b],
    [k.c, docOf(k.c)],
  ] as const) {
    const ctx = dumpContext(n.agent, n.model);
    for (const text of [JSON.stringify(d), statsDump(d), jsonDump(d, ctx), dataDump(d, ctx)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("otherpw");
    }
  }
});

describe("writeAtomic and where the dumps go", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ea-dumps-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("writes whole files, 0644 whatever the umask, replacing the old one, leaving no temp", () => {
    const p = join(dir, "keepalived.stats");
    const old = process.umask(0o077);
    try {
      writeAtomic(p, "one\n");
      expect(readFileSync(p, "utf8")).toBe("one\n");
      expect(statSync(p).mode & 0o777).toBe(0o644);
      const big = "x".repeat(300_000);
      writeAtomic(p, big);
      expect(readFileSync(p, "utf8")).toBe(big);
    } finally {
      process.umask(old);
    }
    expect(readdirSync(dir)).toEqual(["keepalived.stats"]);
  });

  test("replaces a planted symlink instead of writing through it", () => {
    const target = join(dir, "victim");
    writeFileSync(target, "keep\n");
    const p = join(dir, "keepalived.json");
    symlinkSync(target, p);
    writeAtomic(p, "[]\n");
    expect(readFileSync(target, "utf8")).toBe("keep\n");
    expect(lstatSync(p).isSymbolicLink()).toBe(false);
    expect(readFileSync(p, "utf8")).toBe("[]\n");
  });

  test("a directory that is not there: a typed error naming the file", () => {
    const p = join(dir, "nope", "keepalived.data");
    let err: unknown;
    try {
      writeAtomic(p, "x");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe("E_OUTPUT_UNWRITABLE");
    expect((err as AgentError).subject).toBe(p);
  });

  test("a rename that fails (a directory in the way): a typed error, and the temp file gone", () => {
    const sub = mkdtempSync(join(dir, "busy-"));
    mkdirSync(join(sub, "keepalived.json"));
    expect(() => writeAtomic(join(sub, "keepalived.json"), "[]\n")).toThrow(AgentError);
    expect(readdirSync(sub)).toEqual(["keepalived.json"]);
  });

  test("paths: /tmp by default, TMPDIR when it is an absolute directory, state_dump_file", () => {
    expect(DEFAULT_DUMP_PATHS).toEqual({
      data: "/tmp/keepalived.data",
      stats: "/tmp/keepalived.stats",
      json: "/tmp/keepalived.json",
    });
    expect(dumpPaths()).toEqual(DEFAULT_DUMP_PATHS);
    expect(tmpDirFrom({})).toBe("/tmp");
    expect(tmpDirFrom({ TMPDIR: "relative" })).toBe("/tmp");
    expect(tmpDirFrom({ TMPDIR: join(dir, "missing") })).toBe("/tmp");
    mkdirSync(join(dir, "t"));
    expect(tmpDirFrom({ TMPDIR: join(dir, "t") })).toBe(join(dir, "t"));
    expect(dumpPaths({ tmpDir: "/run/x/" })).toEqual({
      data: "/run/x/keepalived.data",
      stats: "/run/x/keepalived.stats",
      json: "/run/x/keepalived.json",
    });
    const data = (f: string) => dumpPaths({ tmpDir: "/run/x", stateDumpFile: f }).data;
    expect(data("/var/lib/ka/")).toBe("/var/lib/ka/keepalived.data");
    expect(data("/var/lib/ka/state.txt")).toBe("/var/lib/ka/state.txt");
    expect(data("state.txt")).toBe("/run/x/state.txt");
  });
});
