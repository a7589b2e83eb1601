import { describe, expect, test } from "bun:test";
import {
  initialScript,
  onScriptResult,
  type ScriptResult,
  type ScriptResultParams,
  scriptUp,
} from "../../../src/core/track/script-result.ts";

const params = (rise: number, fall: number, initFail = false): ScriptResultParams => ({
  rise,
  fall,
  initFail,
  weight: 0,
});

/** Feed results; return the counter, verdict and `changed` after each. */
function run(p: ScriptResultParams, results: string) {
  let s: ScriptResult = initialScript(p);
  const out: { result: number; up: boolean | undefined; changed: boolean }[] = [];
  for (const ch of results) {
    const r = onScriptResult(s, ch === "+", p);
    s = r.state;
    out.push({ result: s.result, up: scriptUp(s), changed: r.changed });
  }
  return out;
}

const ups = (xs: ReturnType<typeof run>) =>
  xs.map((x) => (x.up === undefined ? "?" : x.up ? "U" : "D")).join("");
const changes = (xs: ReturnType<typeof run>) => xs.map((x) => (x.changed ? "!" : ".")).join("");
const counters = (xs: ReturnType<typeof run>) => xs.map((x) => x.result);

describe("initial state (vrrp_scheduler.c:vrrp_init_script)", () => {
  test("without init_fail: result = rise − 1, not reported yet", () => {
    expect(initialScript(params(3, 2))).toEqual({ result: 2, init: "init", up: undefined });
    expect(scriptUp(initialScript(params(1, 1)))).toBeUndefined();
  });
  test("with init_fail: result 0, failed from the start", () => {
    expect(initialScript(params(3, 2, true))).toEqual({
      result: 0,
      init: "init-failed",
      up: false,
    });
  });
  test("rise and fall below 1 are programming errors", () => {
    expect(() => initialScript(params(0, 1))).toThrow(RangeError);
    expect(() => initialScript(params(1, 0))).toThrow(RangeError);
    expect(() => initialScript(params(1.5, 1))).toThrow(RangeError);
  });
});

// "+" a success (exit 0), "-" a failure. U up, D down, ? not reported; "!" marks a report
// on which keepalived calls update_script_priorities (a transition).
const ROWS: [
  rule: string,
  p: ScriptResultParams,
  seq: string,
  up: string,
  changed: string,
  result: number[],
][] = [
  ["rise 1 fall 1: the first success brings it up", params(1, 1), "+", "U", "!", [1]],
  ["rise 1 fall 1: the first failure brings it down", params(1, 1), "-", "D", "!", [0]],
  [
    "rise 1 fall 1: every change of result is a transition",
    params(1, 1),
    "+-+-",
    "UDUD",
    "!!!!",
    [1, 0, 1, 0],
  ],
  [
    "rise 1 fall 1: repeats are not transitions",
    params(1, 1),
    "++--",
    "UUDD",
    "!.!.",
    [1, 1, 0, 0],
  ],
  [
    "init: one success is enough whatever rise is (result starts at rise−1)",
    params(3, 2),
    "+",
    "U",
    "!",
    [4],
  ],
  [
    "init: one failure is enough whatever fall is (init state in the failure branch)",
    params(3, 2),
    "-",
    "D",
    "!",
    [0],
  ],
  [
    "up: fall consecutive failures bring it down (counter 4 → 3 → down at rise)",
    params(3, 2),
    "+--",
    "UUD",
    "!.!",
    [4, 3, 0],
  ],
  ["up: a success refills fall", params(3, 2), "+-+--", "UUUUD", "!...!", [4, 3, 4, 3, 0]],
  [
    "down: rise consecutive successes bring it up",
    params(3, 2),
    "-+++",
    "DDDU",
    "!..!",
    [0, 1, 2, 4],
  ],
  [
    "down: a failure restarts the rise count at 0",
    params(3, 2),
    "-++-+++",
    "DDDDDDU",
    "!.....!",
    [0, 1, 2, 0, 1, 2, 4],
  ],
  ["rise 1 fall 3: three failures from full", params(1, 3), "+---", "UUUD", "!..!", [3, 2, 1, 0]],
  ["rise 5 fall 1: one failure from up", params(5, 1), "+-", "UD", "!!", [5, 0]],
  [
    "init_fail: rise successes needed, the first failure is no transition",
    params(3, 2, true),
    "-++",
    "DDD",
    "...",
    [0, 1, 2],
  ],
  [
    "init_fail: the rise-th success is the transition",
    params(3, 2, true),
    "+++",
    "DDU",
    "..!",
    [1, 2, 4],
  ],
  ["init_fail rise 1: one success", params(1, 1, true), "+", "U", "!", [1]],
  [
    "init_fail rise 1: a failure changes nothing (already failed)",
    params(1, 1, true),
    "-",
    "D",
    ".",
    [0],
  ],
  [
    "the counter never leaves 0 … rise+fall−1",
    params(2, 2),
    "++++++------",
    "UUUUUUUDDDDD",
    "!......!....",
    [3, 3, 3, 3, 3, 3, 2, 0, 0, 0, 0, 0],
  ],
];

describe("onScriptResult: keepalived's counter (vrrp_scheduler.c:vrrp_script_child_thread)", () => {
  for (const [rule, p, seq, up, changed, result] of ROWS)
    test(rule, () => {
      const xs = run(p, seq);
      expect(ups(xs)).toBe(up);
      expect(changes(xs)).toBe(changed);
      expect(counters(xs)).toEqual(result);
    });

  test("changed is exactly a change of verdict", () => {
    for (const [, p, seq] of ROWS) {
      let s = initialScript(p);
      for (const ch of seq) {
        const r = onScriptResult(s, ch === "+", p);
        expect(r.changed).toBe(r.state.up !== s.up);
        expect(r.state.result).toBeGreaterThanOrEqual(0);
        expect(r.state.result).toBeLessThanOrEqual(p.rise + p.fall - 1);
        s = r.state;
      }
    }
  });

  test("after the first report the init state is over", () => {
    const p = params(2, 2);
    const r = onScriptResult(initialScript(p), true, p);
    expect(r.state.init).toBe("done");
    // A later failure from full is counted down, not a forced transition.
    expect(onScriptResult(r.state, false, p).changed).toBe(false);
  });
});
