import { describe, expect, test } from "bun:test";
import { contribution, effectivePriority, evaluate } from "../../../src/core/track/priority.ts";
import type { TrackBinding, TrackerKind, TrackerStatus } from "../../../src/core/track/types.ts";

const bind = (weight: number, reverse = false, kind: TrackerKind = "script", name = "chk") =>
  ({ kind, name, weight, reverse }) satisfies TrackBinding;
const updown = (up: boolean | undefined): TrackerStatus => ({ kind: "updown", up });
const value = (v: number): TrackerStatus => ({ kind: "value", value: v });

type Row = [
  rule: string,
  weight: number,
  reverse: boolean,
  up: boolean | undefined,
  delta: number,
  fault: boolean,
];

// Each row: the rule it checks (reference §2.6, keepalived/vrrp/vrrp_track.c), then the
// binding, the tracker's status and the expected contribution.
const UPDOWN: Row[] = [
  [
    "weight 0: FAULT while down (process_script_update_priority → down_instance)",
    0,
    false,
    false,
    0,
    true,
  ],
  ["weight 0: nothing while up", 0, false, true, 0, false],
  ["weight 0 reverse: FAULT while up", 0, true, true, 0, true],
  ["weight 0 reverse: nothing while down", 0, true, false, 0, false],
  [
    "weight 0, not reported: held in INIT (num_script_init), not a fault",
    0,
    false,
    undefined,
    0,
    false,
  ],
  ["weight 0 reverse, not reported: held too, not a fault", 0, true, undefined, 0, false],
  ["W > 0: +W while up", 20, false, true, 20, false],
  ["W > 0: 0 while down", 20, false, false, 0, false],
  ["W > 0 reverse: −W while up", 20, true, true, -20, false],
  ["W > 0 reverse: 0 while down", 20, true, false, 0, false],
  ["W < 0: 0 while up", -30, false, true, 0, false],
  ["W < 0: W while down", -30, false, false, -30, false],
  ["W < 0 reverse: 0 while up", -30, true, true, 0, false],
  ["W < 0 reverse: +|W| while down", -30, true, false, 30, false],
  [
    "W > 0, not reported: initialise_track_script_state adds nothing in INIT",
    20,
    false,
    undefined,
    0,
    false,
  ],
  ["W < 0, not reported: nothing either (not counted as failed)", -30, false, undefined, 0, false],
  ["W > 0 reverse, not reported: nothing", 20, true, undefined, 0, false],
  ["W < 0 reverse, not reported: nothing", -30, true, undefined, 0, false],
  ["extreme weight 253 while up", 253, false, true, 253, false],
  ["extreme weight −253 while down", -253, false, false, -253, false],
];

describe("contribution: up/down trackers (reference §2.6, vrrp_track.c)", () => {
  for (const [rule, weight, reverse, up, delta, fault] of UPDOWN)
    test(rule, () => {
      expect(contribution(bind(weight, reverse), updown(up))).toEqual({ delta, fault });
    });

  test("the rules do not depend on the tracker kind", () => {
    for (const kind of ["script", "interface", "process", "http", "group"] as const)
      for (const [, weight, reverse, up, delta, fault] of UPDOWN)
        expect(contribution(bind(weight, reverse, kind), updown(up))).toEqual({ delta, fault });
  });
});

type FileRow = [
  rule: string,
  weight: number,
  reverse: boolean,
  value: number,
  delta: number,
  fault: boolean,
];

// track_file: keepalived/trackers/track_file.c (update_track_file_status,
// process_update_vrrp_track_file_status) and vrrp_track.c:initialise_vrrp_file_tracking_priorities.
const FILE: FileRow[] = [
  ["weight 0: value 0 is fine", 0, false, 0, 0, false],
  ["weight 0: any non-zero value is a FAULT", 0, false, 7, 0, true],
  ["weight 0: a negative value is a FAULT too", 0, false, -1, 0, true],
  ["weight 0 reverse: value 0 is a FAULT", 0, true, 0, 0, true],
  ["weight 0 reverse: a non-zero value is fine", 0, true, 5, 0, false],
  ["value × weight is added", 2, false, 10, 20, false],
  ["default weight 1: the value itself", 1, false, -15, -15, false],
  ["reverse negates the product", 2, true, 10, -20, false],
  ["reverse of a negative product adds", 3, true, -4, 12, false],
  ["a product of −253 is still a delta", 1, false, -253, -253, false],
  ["a product of −254 is a FAULT, per file (clamped to −254 = fault)", 1, false, -254, 0, true],
  ["a product far below −254 is a FAULT and adds nothing", 10, false, -1000, 0, true],
  ["reverse can make the FAULT: −(127 × 2) = −254", 2, true, 127, 0, true],
  ["a product above 253 counts as 253", 10, false, 100, 253, false],
  [
    "a huge product saturates (weight_range) and still counts as 253",
    254,
    false,
    2147483648,
    253,
    false,
  ],
  ["a huge negative product saturates and is a FAULT", 254, false, -2147483648, 0, true],
  ["value 0 with any weight adds 0 (never −0)", -5, false, 0, 0, false],
];

describe("contribution: track_file values (track_file.c)", () => {
  for (const [rule, weight, reverse, v, delta, fault] of FILE)
    test(rule, () => {
      const c = contribution(bind(weight, reverse, "file", "f"), value(v));
      expect(c).toEqual({ delta, fault });
      expect(Object.is(c.delta, -0)).toBe(false);
    });
});

describe("evaluate: effective priority and faults", () => {
  const item = (b: TrackBinding, s: TrackerStatus) => ({ binding: b, status: s });

  test("base + Σ deltas", () => {
    const r = evaluate(100, [
      item(bind(20, false, "script", "a"), updown(true)),
      item(bind(-30, false, "interface", "eth1"), updown(false)),
      item(bind(2, false, "file", "f"), value(3)),
    ]);
    expect(r).toEqual({ effective: 96, faults: [], pending: [] });
  });

  test("no trackers: the base priority", () => {
    expect(evaluate(150, []).effective).toBe(150);
  });

  const CLAMP: [rule: string, base: number, deltas: number[], effective: number][] = [
    ["a total below 1 gives 1 (vrrp_set_effective_priority)", 100, [-253], 1],
    ["a total of exactly 0 gives 1", 50, [-50], 1],
    ["a total of exactly 1 stays 1", 51, [-50], 1],
    ["a total above 254 gives 254", 200, [100], 254],
    ["a total of exactly 255 gives 254 (only the owner has 255)", 200, [55], 254],
    ["a total of exactly 254 stays 254", 200, [54], 254],
    ["the owner's 255 never changes, whatever the deltas", 255, [-200], 255],
    ["the owner's 255 never changes upwards either", 255, [100], 255],
    ["base 254 plus a positive delta stays 254", 254, [10], 254],
  ];
  for (const [rule, base, deltas, effective] of CLAMP)
    test(rule, () => {
      const items = deltas.map((w, i) => item(bind(w, false, "script", `s${i}`), updown(w > 0)));
      expect(evaluate(base, items).effective).toBe(effective);
      expect(effectivePriority(base, base + deltas.reduce((a, b) => a + b, 0))).toBe(effective);
    });

  test("the owner still goes to FAULT on a weight-0 failure", () => {
    const r = evaluate(255, [item(bind(0, false, "interface", "eth1"), updown(false))]);
    expect(r).toEqual({ effective: 255, faults: ["track_interface eth1"], pending: [] });
  });

  test("faults are trackFault strings, sorted and unique", () => {
    const r = evaluate(100, [
      item(bind(0, false, "script", "zz"), updown(false)),
      item(bind(0, false, "interface", "eth0"), updown(false)),
      item(bind(0, false, "script", "zz"), updown(false)),
      item(bind(0, false, "file", "f"), value(1)),
      item(bind(0, true, "process", "nginx"), updown(true)),
      item(bind(0, false, "group", "g"), updown(false)),
      item(bind(0, false, "http", "web"), updown(true)),
    ]);
    expect(r.faults).toEqual([
      "track_file f",
      "track_group g",
      "track_interface eth0",
      "track_process nginx",
      "track_script zz",
    ]);
  });

  test("a faulted track_file adds nothing to the sum, the rule is per file", () => {
    // −254 from one file is a FAULT; two files of −200 each are not, their sum is clamped.
    const one = evaluate(200, [item(bind(1, false, "file", "a"), value(-254))]);
    expect(one).toEqual({ effective: 200, faults: ["track_file a"], pending: [] });
    const two = evaluate(200, [
      item(bind(1, false, "file", "a"), value(-200)),
      item(bind(1, false, "file", "b"), value(-200)),
    ]);
    expect(two).toEqual({ effective: 1, faults: [], pending: [] });
  });

  test("weight-0 trackers that have not reported are pending, not faults", () => {
    const r = evaluate(100, [
      item(bind(0, false, "script", "b"), updown(undefined)),
      item(bind(0, true, "http", "a"), updown(undefined)),
      item(bind(-10, false, "script", "c"), updown(undefined)),
    ]);
    expect(r).toEqual({ effective: 100, faults: [], pending: ["track_http a", "track_script b"] });
  });
});
