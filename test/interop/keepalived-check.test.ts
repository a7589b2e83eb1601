/**
 * Differential: `agent check` and `keepalived -t -f` (Debian's 2.2.7) give the same verdict
 * for every sample Debian installs and for our own fixtures, run side by side in a network
 * namespace this test creates (holding only lo and eth0), so both see the same interfaces.
 *
 * Verdicts: keepalived exit 0 ⇔ agent exit 0 with no diagnostic at all; keepalived 5/6
 * (warnings or errors, it would still run) ⇔ agent reports at least one diagnostic; every
 * keepalived message that names a line has an agent diagnostic on that line. Where the agent
 * is stricter (exit 1 where keepalived runs anyway) the sample is listed in STRICTER and in
 * docs/keepalived-differences.md with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { agentCmd, missing, REPO, run } from "../helpers/env.ts";
import { Netns } from "../helpers/netns.ts";

const SAMPLES = "/usr/share/doc/keepalived/samples";
const FIXTURES = `${REPO}/test/fixtures/keepalived-check`;

/** Samples where the agent reports an error and keepalived only warns; reasons in the docs. */
export const STRICTER: Record<string, string> = {
  "keepalived.conf.conditional_conf": "track_script names a vrrp_script that keepalived drops",
  "keepalived.conf.vrrp": "the same virtual address listed twice",
  "keepalived.conf.vrrp.rules": "an unparseable address in a rule (192.168.100./24)",
};

/** keepalived reports these at another line than we do (file basename:line → why). */
const ELSEWHERE: Record<string, string> = {
  "keepalived.conf.conditional_conf:13":
    "a vrrp_script without script: keepalived points at its closing brace, we at its name",
};

interface Diag {
  line: number;
  severity: string;
  code: string;
}

function keepalivedTest(ns: Netns, file: string): { code: number; lines: number[]; out: string } {
  const r = run(ns.exec(["keepalived", "-t", "-f", file, "-l"]));
  const out = r.stdout + r.stderr;
  const lines = [...out.matchAll(/Line (\d+)\)/g)].map((m) => Number(m[1]));
  return { code: r.code, lines: [...new Set(lines)], out };
}

function agentCheck(ns: Netns, file: string): { code: number; diags: Diag[] } {
  const r = run(agentCmd(["check", "--config", file, "--json"], ns.name));
  let diags: Diag[] = [];
  try {
    diags = JSON.parse(r.stdout) as Diag[];
  } catch {
    throw new Error(`agent check --json printed no JSON for ${file}: ${r.stdout}${r.stderr}`);
  }
  return { code: r.code, diags };
}

function fixtureExpectation(file: string): { clean: boolean; severity?: string; code?: string } {
  const m = /^! expect: (clean|error|warning)(?: (\S+))?/m.exec(readFileSync(file, "utf8"));
  if (!m) throw new Error(`${file} has no '! expect:' line`);
  if (m[1] === "clean") return { clean: true };
  return { clean: false, severity: m[1] as string, code: m[2] as string };
}

const why = missing({ root: true, commands: ["keepalived", "ip"], paths: [SAMPLES] });
const samples = why
  ? []
  : readdirSync(SAMPLES)
      .filter((f) => f.startsWith("keepalived.conf."))
      .sort();
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".conf"))
  .sort();

describe.skipIf(why !== undefined)(
  `agent check vs keepalived -t${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let ns: Netns;
    beforeAll(() => {
      ns = new Netns("ck").create().addInterface("eth0");
    });
    afterAll(() => ns?.remove());

    test("Debian ships samples to compare against", () => {
      expect(samples.length).toBeGreaterThanOrEqual(20);
    });

    for (const name of samples) {
      test(`sample ${name}`, () => {
        const file = `${SAMPLES}/${name}`;
        const ka = keepalivedTest(ns, file);
        const ag = agentCheck(ns, file);
        expect([0, 4, 5, 6]).toContain(ka.code);
        if (ka.code === 0) {
          expect({ code: ag.code, diags: ag.diags }).toEqual({ code: 0, diags: [] });
          return;
        }
        expect(ag.diags.length).toBeGreaterThan(0);
        expect(ag.code).toBe(ka.code === 4 || STRICTER[name] ? 1 : 0);
        const ours = new Set(ag.diags.map((d) => d.line));
        const unmatched = ka.lines.filter((l) => !ours.has(l) && !ELSEWHERE[`${name}:${l}`]);
        expect({ name, unmatched, keepalived: unmatched.length ? ka.out : "" }).toEqual({
          name,
          unmatched: [],
          keepalived: "",
        });
      });
    }

    for (const name of fixtures) {
      test(`fixture ${name}`, () => {
        const file = `${FIXTURES}/${name}`;
        const want = fixtureExpectation(file);
        const ka = keepalivedTest(ns, file);
        const ag = agentCheck(ns, file);
        expect(ka.code === 0).toBe(want.clean);
        if (want.clean) {
          expect({ code: ag.code, diags: ag.diags }).toEqual({ code: 0, diags: [] });
          return;
        }
        expect(ag.diags.map((d) => `${d.severity} ${d.code}`)).toContain(
          `${want.severity} ${want.code}`,
        );
        expect(ag.code).toBe(want.severity === "error" ? 1 : 0);
      });
    }

    test("every stricter sample is explained in docs/keepalived-differences.md", () => {
      const doc = readFileSync(`${REPO}/docs/keepalived-differences.md`, "utf8");
      for (const name of Object.keys(STRICTER)) expect(doc).toContain(name);
    });
  },
);
