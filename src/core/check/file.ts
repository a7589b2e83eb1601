/**
 * FILE_CHECK (check/check_file.c, trackers/track_file.c): a real server follows the integer
 * in a track_file. With a non-zero weight the file's value times the weight (negated with
 * `reverse`) is added to the real server's weight; a result at or below the fault value
 * (−2³¹) takes the real server down. With weight 0 any non-zero value is a fault (with
 * `reverse`, a zero value is). The real server's weight is its configured weight plus what
 * every checker adds, clamped to 0 … 2³¹−1 (check_data.h real_weight).
 */

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** What one FILE_CHECK makes of a value: a weight change, or a fault. */
export type FileCheckStatus = number | "fault";

export function fileCheckStatus(value: number, weight: number, reverse: boolean): FileCheckStatus {
  if (weight === 0) return (value !== 0) !== reverse ? "fault" : 0;
  const product = value * weight * (reverse ? -1 : 1);
  // track_file.h weight_range: clamp into int; INT_MIN is IPVS_WEIGHT_FAULT.
  if (product <= INT32_MIN) return "fault";
  // `+ 0` turns a negative zero (0 × −4) into the 0 an integer product is.
  return Math.min(product, INT32_MAX) + 0;
}

/** check_data.h real_weight: what the kernel is given for an effective weight. */
export function realWeight(effective: number): number {
  return Math.max(0, Math.min(INT32_MAX, effective));
}
