/**
 * The compiled binary (`npm test` builds it first): it starts, stamps its version and
 * commit, and checks the shipped examples like the source does.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { REPO, run } from "./helpers/env.ts";

const BIN = `${REPO}/dist/agent`;
const why = existsSync(BIN)
  ? undefined
  : "dist/agent is not built: run `npm run build` (npm test does)";

describe.skipIf(why !== undefined)(`compiled binary${why ? ` (skipped: ${why})` : ""}`, () => {
  test("agent version is stamped with the release version and a commit", () => {
    const r = run([BIN, "version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^agent \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?, bun \d+\.\d+\.\d+\)\n$/,
    );
  });
  for (const f of ["lb1.conf", "lb1.toml", "lb2.conf", "lb2.toml"]) {
    test(`checks examples/nginx-pair/${f}`, () => {
      const r = run([BIN, "check", "--offline", "--config", `${REPO}/examples/nginx-pair/${f}`]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 0,
        stderr: `${REPO}/examples/nginx-pair/${f}: valid (0 errors, 0 warnings)\n`,
      });
    });
  }
  test("reports a bad file as the source does", () => {
    const r = run([
      BIN,
      "check",
      "--config",
      `${REPO}/test/fixtures/keepalived-check/duplicate-vrid.conf`,
      "--offline",
      "--json",
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).map((d: { code: string }) => d.code)).toEqual(["duplicate-vrid"]);
  });
});
