/**
 * The status document (design §4) from real agents on the simulated segment: MASTER,
 * BACKUP with the master heard, FAULT from a weight-0 tracker, a sync group, a track_file
 * value, IPv6 with VRRPv3. Every document is checked against docs/status.schema.json by a
 * validator that is itself shown to fail on wrong documents, and no document may carry
 * the configured password.
 */
import { describe, expect, test } from "bun:test";
import { COUNTER_NAMES, snapshot } from "../../src/agent/snapshot.ts";
import type { StatusDoc, StatusInstance } from "../../src/agent/status-types.ts";
import { type Schema, SchemaError, validate } from "../helpers/json-schema.ts";
import {
  docOf,
  GLOBAL,
  instance,
  isoAt,
  meta,
  node,
  SECRET,
  SimNet,
  STATUS_SCHEMA,
  wallOf,
} from "./status-fixture.ts";

/** Valid against the schema as it travels: through JSON. */
function expectValid(doc: StatusDoc): void {
  expect(validate(STATUS_SCHEMA, JSON.parse(JSON.stringify(doc)))).toEqual([]);
}

const inst = (d: StatusDoc, name = "VI_1"): StatusInstance => {
  const i = d.instances.find((x) => x.name === name);
  if (!i) throw new Error(`no instance ${name} in ${d.instances.map((x) => x.name)}`);
  return i;
};

/** A hand-made valid document, mutated below into wrong ones. */
function goodDoc(): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      schema: 1,
      agent: { version: "1", commit: "c", pid: 1, started: isoAt(0), maintenance: false },
      config: { file: "/a.conf", loaded: isoAt(0), reloads: 0 },
      instances: [
        {
          name: "VI_1",
          vrid: 51,
          interface: "eth0",
          family: 4,
          version: 2,
          state: "MASTER",
          since: isoAt(10),
          priority: { base: 100, effective: 100 },
          advert_interval_ms: 1000,
          master_down_interval_ms: 3609.375,
          skew_ms: 609.375,
          vips: ["192.0.2.1/24"],
          faults: [],
          trackers: [
            {
              kind: "file",
              name: "f",
              weight: 2,
              reverse: false,
              state: "value",
              value: 3,
              delta: 6,
              fault: false,
            },
          ],
          counters: Object.fromEntries(COUNTER_NAMES.map((k) => [k, 0])),
        },
      ],
      sync_groups: [],
      virtual_servers: [],
    }),
  );
}

describe("the JSON Schema validator can fail", () => {
  test("a hand-made document passes", () => {
    expect(validate(STATUS_SCHEMA, goodDoc())).toEqual([]);
  });

  // biome-ignore lint/suspicious/noExplicitAny: each case reaches into the parsed JSON at will.
  type Json = any;
  const wrong: [string, (d: Json) => void, RegExp][] = [
    ["a missing required field", (d) => delete d.agent.pid, /^\/agent: missing required pid/],
    [
      "an unknown field",
      (d) => (d.instances[0].auth_pass = "x"),
      /^\/instances\/0\/auth_pass: not allowed/,
    ],
    ["a wrong type", (d) => (d.agent.pid = "1"), /^\/agent\/pid: expected integer, got string/],
    [
      "a fraction where an integer belongs",
      (d) => (d.instances[0].vrid = 1.5),
      /^\/instances\/0\/vrid: expected integer/,
    ],
    [
      "a state outside the enum",
      (d) => (d.instances[0].state = "BACKUP_X"),
      /^\/instances\/0\/state: must be one of/,
    ],
    ["another schema version", (d) => (d.schema = 2), /^\/schema: must be 1/],
    [
      "a time that is not RFC 3339",
      (d) => (d.config.loaded = "yesterday"),
      /^\/config\/loaded: .*date-time/,
    ],
    [
      "a VRID above 255",
      (d) => (d.instances[0].vrid = 256),
      /^\/instances\/0\/vrid: 256 > maximum 255/,
    ],
    [
      "a negative counter",
      (d) => (d.instances[0].counters.advert_sent = -1),
      /counters\/advert_sent: -1 < minimum 0/,
    ],
    [
      "a VIP without a prefix length",
      (d) => (d.instances[0].vips = ["192.0.2.1"]),
      /\/vips\/0: .* does not match/,
    ],
    [
      "a file tracker without its value",
      (d) => delete d.instances[0].trackers[0].value,
      /trackers\/0: must match exactly one of oneOf, matches 0/,
    ],
    [
      "an up/down tracker with a value",
      (d) => Object.assign(d.instances[0].trackers[0], { kind: "script", state: "up" }),
      /trackers\/0: must match exactly one/,
    ],
    [
      "a virtual server without its real servers",
      (d) =>
        d.virtual_servers.push({
          name: "192.0.2.1:80/TCP",
          scheduler: "rr",
          forwarding: "NAT",
          quorum_up: true,
          sorry_server_active: false,
        }),
      /^\/virtual_servers\/0: missing required real_servers/,
    ],
    [
      "a checker state outside the enum",
      (d) =>
        d.virtual_servers.push({
          name: "192.0.2.1:80/TCP",
          scheduler: "rr",
          forwarding: "NAT",
          quorum_up: true,
          sorry_server_active: false,
          real_servers: [
            {
              address: "198.51.100.1",
              port: 80,
              alive: true,
              weight: 1,
              configured_weight: 1,
              checkers: [{ type: "TCP_CHECK", state: "maybe", attempts: 1 }],
            },
          ],
        }),
      /real_servers\/0\/checkers\/0\/state: must be one of/,
    ],
    [
      "a sync group without members",
      (d) => d.sync_groups.push({ name: "G", state: "INIT", members: [] }),
      /sync_groups\/0\/members: fewer than 1 items/,
    ],
  ];
  for (const [what, mutate, expected] of wrong) {
    test(`rejects ${what}`, () => {
      const d = goodDoc();
      mutate(d);
      const errors = validate(STATUS_SCHEMA, d);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.some((e) => expected.test(e))).toBe(true);
    });
  }

  test("refuses a schema keyword it does not implement, rather than ignore it", () => {
    const s: Schema = { type: "object", patternProperties: { "^x": { type: "string" } } };
    expect(() => validate(s, { x: 1 })).toThrow(SchemaError);
    expect(() => validate({ $ref: "#/$defs/nope" }, 1)).toThrow(SchemaError);
  });
});

describe("snapshot of a running agent", () => {
  test("MASTER and BACKUP with the master heard: states, timers, VIPs, trackers, counters", async () => {
    const net = new SimNet();
    const a = await node(
      net,
      "a",
      1,
      GLOBAL + instance({ priority: 100, auth: true, evips: ["203.0.113.7"] }),
    );
    const b = await node(
      net,
      "b",
      2,
      `${GLOBAL}vrrp_script chk {\n    script "/chk"\n    interval 1\n    weight -20\n}\n${instance(
        {
          priority: 90,
          auth: true,
          evips: ["203.0.113.7"],
          extra:
            "track_script {\n        chk\n    }\n    track_interface {\n        eth1 weight -10\n    }",
        },
      )}`,
    );
    net.run(6000);
    const da = docOf(a, { maintenance: true, reloads: 2 });
    const db = docOf(b);
    for (const d of [da, db]) {
      expectValid(d);
      expect(JSON.stringify(d)).not.toContain(SECRET);
    }
    const ra = a.agent.running.get("VI_1");
    const ia = inst(da);
    expect(ia.state).toBe("MASTER");
    expect(ia.since).toBe(isoAt(ra?.state.sinceMs ?? -1));
    expect(ia.vips).toEqual(["192.0.2.101/24", "203.0.113.7/32"]);
    expect([...a.host.held].sort()).toEqual([...ia.vips].sort());
    expect(ia.master).toBeUndefined();
    expect(ia.last_transition).toMatchObject({ from: "BACKUP", to: "MASTER" });
    expect(ia.counters.become_master).toBe(1);
    expect(ia.counters.advert_sent).toBeGreaterThan(0);
    expect(da.agent).toEqual({
      version: "0.1.0-test",
      commit: "0123abc",
      pid: 4242,
      started: isoAt(0),
      maintenance: true,
    });
    expect(da.config.reloads).toBe(2);

    const ib = inst(db);
    expect(ib.state).toBe("BACKUP");
    expect(ib.vips).toEqual([]);
    expect(ib.master?.address).toBe("192.0.2.11");
    expect(ib.master?.priority).toBe(100);
    const seenMs = Date.parse(ib.master?.seen ?? "") - wallOf(0).getTime();
    expect(seenMs).toBeGreaterThan(5000);
    expect(seenMs).toBeLessThanOrEqual(6000);
    // v2: Skew_Time = (256 − P)/256 s; Master_Down = 3 × interval + skew (RFC 3768 §6.1),
    // in whole microseconds as keepalived computes them (3648437 usecs in its data dump).
    const skew = Math.floor(((256 - 90) * 1e6) / 256) / 1000;
    expect(ib.skew_ms).toBe(skew);
    expect(ib.master_down_interval_ms).toBe(3000 + skew);
    expect(ib.advert_interval_ms).toBe(1000);
    expect(ib.counters.advert_rcvd).toBe(ia.counters.advert_sent);
    expect(ib.trackers).toEqual([
      {
        kind: "interface",
        name: "eth1",
        weight: -10,
        reverse: false,
        state: "up",
        delta: 0,
        fault: false,
      },
      {
        kind: "script",
        name: "chk",
        weight: -20,
        reverse: false,
        state: "up",
        delta: 0,
        fault: false,
      },
    ]);

    b.host.setLink("eth1", false);
    net.run(6500);
    const after = inst(docOf(b));
    expect(after.priority).toEqual({ base: 90, effective: 80 });
    expect(after.trackers[0]).toMatchObject({
      name: "eth1",
      state: "down",
      delta: -10,
      fault: false,
    });
    // The skew follows the effective priority.
    expect(after.skew_ms).toBe(Math.floor(((256 - 80) * 1e6) / 256) / 1000);
  });

  test("FAULT from a failing weight-0 script: the reason, the tracker's fault, no VIPs", async () => {
    const net = new SimNet();
    let ok = true;
    const a = await node(
      net,
      "a",
      1,
      `${GLOBAL}vrrp_script chk {\n    script "/chk"\n    interval 1\n    weight 0\n}\n${instance({
        priority: 100,
        extra: "track_script {\n        chk\n    }",
      })}`,
      (h) => {
        h.outcome = () => ({ success: ok });
      },
    );
    net.run(5000);
    expect(inst(docOf(a)).state).toBe("MASTER");
    ok = false;
    net.run(7000);
    const d = docOf(a);
    expectValid(d);
    const i = inst(d);
    expect(i.state).toBe("FAULT");
    expect(i.faults).toEqual(["track_script chk"]);
    expect(i.vips).toEqual([]);
    expect(i.trackers).toEqual([
      {
        kind: "script",
        name: "chk",
        weight: 0,
        reverse: false,
        state: "down",
        delta: 0,
        fault: true,
      },
    ]);
    expect(i.last_transition).toMatchObject({ from: "MASTER", to: "FAULT" });
    expect(i.counters.release_master).toBe(1);
  });

  test("a sync group and a track_file value beside it", async () => {
    const net = new SimNet();
    const conf = `${GLOBAL}vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\ntrack_file f {\n    file /run/f\n    weight 5\n}\n${instance(
      { priority: 100 },
    )}${instance({ name: "VI_2", vrid: 52, priority: 100 })}${instance({
      name: "VI_3",
      vrid: 53,
      priority: 100,
      extra: "track_file {\n        f\n    }",
    })}`;
    const a = await node(net, "a", 1, conf);
    a.host.setFile("/run/f", 3);
    net.run(6000);
    const d = docOf(a);
    expectValid(d);
    expect(d.sync_groups).toEqual([{ name: "G1", state: "MASTER", members: ["VI_1", "VI_2"] }]);
    expect(d.instances.map((i) => [i.name, i.state, i.sync_group])).toEqual([
      ["VI_1", "MASTER", "G1"],
      ["VI_2", "MASTER", "G1"],
      ["VI_3", "MASTER", undefined],
    ]);
    const v3 = inst(d, "VI_3");
    expect(v3.trackers).toEqual([
      {
        kind: "file",
        name: "f",
        weight: 5,
        reverse: false,
        state: "value",
        value: 3,
        delta: 15,
        fault: false,
      },
    ]);
    expect(v3.priority).toEqual({ base: 100, effective: 115 });
  });

  test("IPv6 with VRRPv3: family, millisecond intervals, the master's interval learned", async () => {
    const net = new SimNet();
    const v6 = (prio: number, advert: number) =>
      GLOBAL + instance({ priority: prio, version: 3, advert, vips: ["2001:db8::51/64"] });
    await node(net, "a", 1, v6(200, 0.5));
    const b = await node(net, "b", 2, v6(100, 1));
    net.run(5000);
    const d = docOf(b);
    expectValid(d);
    const i = inst(d);
    expect([i.family, i.version, i.state]).toEqual([6, 3, "BACKUP"]);
    expect(i.master?.address).toBe("fe80::1");
    expect(i.advert_interval_ms).toBe(1000);
    // v3: Skew_Time = ((256 − P) × Master_Adver_Interval)/256 with the master's 50 cs.
    const skew = Math.floor(((256 - 100) * 500e3) / 256) / 1000;
    expect(i.skew_ms).toBe(skew);
    expect(i.master_down_interval_ms).toBe(3 * 500 + skew);
  });

  test("an agent before start: INIT, no transition yet, nothing held", () => {
    const d = snapshot(
      { running: new Map(), groupState: () => "INIT", trackers: () => [] },
      meta({ startedAt: new Date(Date.UTC(2026, 5, 1)) }),
    );
    expectValid(d);
    expect(d.instances).toEqual([]);
    expect(d.agent.started).toBe("2026-06-01T00:00:00.000Z");
  });
});
