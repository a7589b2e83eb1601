/**
 * `agent demo`: the story plays in the simulator anywhere, and on a real namespace lab
 * as root, each step within a bound of the protocol's timing; nothing is left behind.
 */
import { describe, expect, test } from "bun:test";
import { agentCmd, missing, run } from "./helpers/env.ts";

const steps = (out: string) => out.split("\n").filter((l) => /^\s{3}h\d /.test(l));
const ms = (line: string | undefined, re: RegExp) => Number(re.exec(line ?? "")?.[1] ?? Number.NaN);

function checkStory(out: string): void {
  const s = steps(out);
  expect(s).toHaveLength(4);
  expect(ms(s[0], /after (\d+) ms/)).toBeGreaterThanOrEqual(3414);
  expect(ms(s[0], /after (\d+) ms/)).toBeLessThan(3414 + 400);
  expect(ms(s[1], /over (\d+) ms/)).toBeLessThanOrEqual(3609 + 50);
  expect(ms(s[2], /after (\d+) ms/)).toBeLessThan(3414 + 1000 + 400);
  expect(ms(s[3], /MASTER (\d+) ms/)).toBeGreaterThanOrEqual(605);
  expect(ms(s[3], /MASTER (\d+) ms/)).toBeLessThan(609 + 60);
  expect(out).toContain("VIP on h2.");
  expect(out).toContain("Done:");
}

describe("agent demo", () => {
  test("plays the story in the simulator and says so", () => {
    const r = run(agentCmd(["demo", "--simulate"]));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("playing the same story in the simulator");
    checkStory(r.stdout);
  });

  const why = missing({ root: true, commands: ["ip"] });
  test.skipIf(why !== undefined)(
    `runs on a real namespace lab and removes it${why ? ` (skipped: ${why})` : ""}`,
    () => {
      const r = run(agentCmd(["demo"]));
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("(namespaces)");
      checkStory(r.stdout);
      const left = run(["ip", "netns", "list"])
        .stdout.split("\n")
        .filter((l) => l.includes("ea-demo-"));
      expect(left).toEqual([]);
    },
    60_000,
  );
});
