import { describe, expect, test } from "bun:test";
import { fileCheckStatus, realWeight } from "../../../src/core/check/file.ts";

describe("FILE_CHECK status (track_file.c update_track_file_status)", () => {
  test.each([
    // value, weight, reverse → status
    [0, 0, false, 0],
    [1, 0, false, "fault"],
    [-3, 0, false, "fault"],
    [0, 0, true, "fault"],
    [7, 0, true, 0],
    [5, 3, false, 15],
    [5, 3, true, -15],
    [-2, 10, false, -20],
    [0, -4, false, 0],
    [2, -1073741824, false, "fault"], // exactly −2³¹: the fault value
    [1, -2147483647, false, -2147483647], // one above: a (large) weight change
    [3, 2147483647, false, 2147483647], // clamped to INT_MAX
    [-3, 2147483647, false, "fault"], // below INT_MIN: clamped to it, a fault
  ] as const)("value %p × weight %p (reverse %p) → %p", (v, w, r, want) => {
    expect(fileCheckStatus(v, w, r)).toBe(want);
  });

  test("realWeight clamps into 0 … 2³¹−1", () => {
    expect(realWeight(-5)).toBe(0);
    expect(realWeight(12)).toBe(12);
    expect(realWeight(2 ** 40)).toBe(2147483647);
  });
});
