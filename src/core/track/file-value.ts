/**
 * The number a `track_file` holds (reference §1.7), read as keepalived reads it
 * (keepalived/trackers/track_file.c process_track_file, in 2.2.7 and 2.4):
 *
 * - only the first 127 bytes count (its read buffer), and the text ends at a NUL byte;
 * - the value is strtol(text, NULL, 0): leading white space (space \t \n \v \f \r) skipped,
 *   an optional sign, then "0x"/"0X" + hex digits, "0" + octal digits, or decimal digits,
 *   up to the first character that does not fit; no digits at all gives 0, so an empty
 *   file, "abc" or "- 5" all read as 0 and "12abc" as 12;
 * - a result outside [-2147483648, 2147483648] (the upper bound is INT32_MAX + 1 in
 *   keepalived's check) or beyond the range of a C long (ERANGE) is refused: keepalived
 *   logs "Invalid number" and keeps the value it had;
 * - a file that is missing or cannot be read counts as 0 (as does its deletion).
 */

/** track_file.c reads into a 128-byte buffer, leaving room for the NUL. */
export const TRACK_FILE_READ_BYTES = 127;

const INT32_MIN = -2147483648;
/** keepalived's upper bound is INT32_MAX + 1, one more than an int holds. */
const INT32_MAX_PLUS_1 = 2147483648;
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

export type FileValue =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly why: string };

const SPACE = " \t\n\v\f\r";

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return 99;
}

/** strtol(s, NULL, 0) on a 64-bit C long; undefined on ERANGE. */
export function strtol0(s: string): bigint | undefined {
  let i = 0;
  while (i < s.length && SPACE.includes(s[i] as string)) i++;
  let negative = false;
  if (s[i] === "+" || s[i] === "-") {
    negative = s[i] === "-";
    i++;
  }
  let base = 10;
  if (s[i] === "0") {
    // "0x" counts as a prefix only when a hex digit follows; otherwise the "0" is the number.
    const x = s[i + 1];
    if ((x === "x" || x === "X") && digitValue(s[i + 2] ?? "") < 16) {
      base = 16;
      i += 2;
    } else base = 8;
  }
  let n = 0n;
  let overflow = false;
  for (; i < s.length; i++) {
    const d = digitValue(s[i] as string);
    if (d >= base) break;
    if (!overflow) {
      n = n * BigInt(base) + BigInt(d);
      if (n > LONG_MAX + 1n) overflow = true;
    }
  }
  const v = negative ? -n : n;
  if (overflow || v > LONG_MAX || v < LONG_MIN) return undefined;
  return v;
}

/** The value of a track file's contents (already decoded, any length). */
export function parseTrackFile(text: string): FileValue {
  let s = text.slice(0, TRACK_FILE_READ_BYTES);
  const nul = s.indexOf("\0");
  if (nul >= 0) s = s.slice(0, nul);
  const v = strtol0(s);
  if (v === undefined)
    return { ok: false, why: `invalid number ${JSON.stringify(s.trim())}: out of range` };
  if (v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX_PLUS_1))
    return { ok: false, why: `invalid number ${v}: outside [${INT32_MIN}, ${INT32_MAX_PLUS_1}]` };
  return { ok: true, value: Number(v) };
}
