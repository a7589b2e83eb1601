/**
 * track_file's number (src/core/track/file-value.ts): a table of keepalived's reading rules,
 * then the same inputs through glibc's own strtol with keepalived's range check, compiled
 * on the spot when gcc is installed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTrackFile, strtol0 } from "../../../src/core/track/file-value.ts";
import { missing, run } from "../../helpers/env.ts";

// biome-ignore format: a table
const CASES: [string, number | "refused"][] = [
  ["5\n", 5], ["  42\n", 42], ["\t\n\v\f\r 7", 7], ["-3", -3], ["+9", 9], ["-0", 0],
  ["12abc", 12], ["abc", 0], ["", 0], ["\n", 0], ["- 5", 0], ["+-5", 0], ["1e3", 1], ["3.9", 3],
  ["0x10", 16], ["0X1f", 31], ["-0x10", -16], ["0x", 0], ["0xg", 0], ["010", 8], ["08", 0],
  ["0", 0], ["00017", 15],
  ["2147483647", 2147483647], ["2147483648", 2147483648], ["2147483649", "refused"],
  ["-2147483648", -2147483648], ["-2147483649", "refused"],
  ["9223372036854775807", "refused"], ["9223372036854775808", "refused"],
  ["99999999999999999999999", "refused"], ["-9223372036854775808", "refused"],
  ["0x80000000", 2147483648], ["0xffffffffffffffffff", "refused"],
  ["4\u00005", 4], ["\u00005", 0],
  [`${" ".repeat(126)}7`, 7], [`${" ".repeat(127)}7`, 0], [`${" ".repeat(126)}78`, 7],
];

const show = (v: ReturnType<typeof parseTrackFile>) => (v.ok ? v.value : "refused");

describe("parseTrackFile: keepalived's rules", () => {
  test.each(CASES)("%j → %p", (text, want) => {
    expect(show(parseTrackFile(text))).toBe(want);
  });
  test("a refusal says why", () => {
    const v = parseTrackFile("5000000000");
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.why).toContain("5000000000");
  });
  test("strtol0 reports ERANGE as undefined, at the exact C long limits", () => {
    expect(strtol0("9223372036854775807")).toBe(9223372036854775807n);
    expect(strtol0("9223372036854775808")).toBeUndefined();
    expect(strtol0("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(strtol0("-9223372036854775809")).toBeUndefined();
  });
});

const C_SOURCE = `
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* keepalived's process_track_file reading rule, one line per file named on the command line */
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char buf[128]; long long v = 0; int fd = open(argv[i], O_RDONLY | O_NONBLOCK);
    if (fd != -1) {
      ssize_t len = read(fd, buf, sizeof(buf) - 1); close(fd);
      if (len > 0) {
        buf[len] = 0; errno = 0; v = strtol(buf, NULL, 0);
        if (errno || v < (long long)INT32_MIN || v > (long long)INT32_MAX + 1) { puts("refused"); continue; }
      }
    }
    printf("%lld\\n", v);
  }
  return 0;
}
`;

describe("parseTrackFile agrees with glibc strtol", () => {
  const why = missing({ commands: ["gcc"] });
  const dir = mkdtempSync(join(tmpdir(), "ea-fv-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  test.skipIf(why !== undefined)(`every table case${why ? ` (skipped: ${why})` : ""}`, () => {
    writeFileSync(join(dir, "oracle.c"), C_SOURCE);
    const cc = run(["gcc", "-O0", "-o", join(dir, "oracle"), join(dir, "oracle.c")]);
    expect(cc.stderr).toBe("");
    const files = CASES.map(([text], i) => {
      const f = join(dir, `case${i}`);
      writeFileSync(f, text, "latin1");
      return f;
    });
    const out = run([join(dir, "oracle"), ...files])
      .stdout.trim()
      .split("\n");
    const ours = CASES.map(([text]) => String(show(parseTrackFile(text))));
    expect(ours).toEqual(out);
  });
});
