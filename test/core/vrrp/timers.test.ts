import { describe, expect, test } from "bun:test";
import { masterDownUs, skewUs } from "../../../src/core/vrrp/timers.ts";
import { params } from "./fixtures.ts";

describe("timers (RFC 3768 §6.1, RFC 5798 §6.1, keepalived include/vrrp.h)", () => {
  test("v2, priority 100, advert 1 s: skew 0.609375 s, Master_Down 3.609375 s", () => {
    const p = params({ version: 2, basePriority: 100 });
    expect(skewUs(p, 100, 100)).toBe(609_375);
    expect(masterDownUs(p, 100, 100)).toBe(3_609_375);
  });
  test("v2 skew does not depend on the interval", () => {
    const p = params({ version: 2, advertIntervalCs: 300 });
    expect(skewUs(p, 100, 300)).toBe(609_375);
    expect(masterDownUs(p, 100, 300)).toBe(9_609_375);
  });
  test("priority 128 gives 3.5 s (keepalived.conf(5) example), 254 gives 3.0078125 s", () => {
    const p = params({ version: 2 });
    expect(masterDownUs(p, 128, 100)).toBe(3_500_000);
    expect(masterDownUs(p, 254, 100)).toBe(3_007_812);
  });
  test("v3, advert 0.1 s, priority 200: skew 21.875 ms, Master_Down 321.875 ms", () => {
    const p = params({ version: 3, advertIntervalCs: 10, basePriority: 200 });
    expect(skewUs(p, 200, 10)).toBe(21_875);
    expect(masterDownUs(p, 200, 10)).toBe(321_875);
  });
  test("v3 scales the skew with the master's interval", () => {
    const p = params({ version: 3, advertIntervalCs: 100 });
    expect(skewUs(p, 100, 100)).toBe(609_375);
    expect(masterDownUs(p, 100, 50)).toBe(1_500_000 + 304_687);
  });
  test("an owner counts as 255 whatever its effective priority", () => {
    const p = params({ basePriority: 255 });
    expect(skewUs(p, 100, 100)).toBe(3_906);
  });
  test("down_timer_adverts replaces the RFC's 3", () => {
    const p = params({ downTimerAdverts: 5 });
    expect(masterDownUs(p, 100, 100)).toBe(5_609_375);
  });
});
