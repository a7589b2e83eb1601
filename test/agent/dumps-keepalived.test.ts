/**
 * Our dumps beside keepalived 2.2.7's for the same configuration: keepalived runs in a
 * network namespace this test creates and removes, writes its three dumps on SIGUSR1,
 * SIGUSR2 and its JSON signal into a temporary TMPDIR, and the same configuration runs in
 * the agent on the simulated segment until it reaches the same states. Then:
 * - keepalived.json: the same keys in the same order, and the same values where both
 *   describe the same fact (not times, script paths keepalived resolved, or auth_data,
 *   which 2.2.7 prints in clear and we mask);
 * - keepalived.stats: the same layout, line for line;
 * - keepalived.data: each instance's lines are, in order, a subset of keepalived's, and
 *   agree on the values the exporter and operators read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataDump, dumpContext, jsonDump, statsDump } from "../../src/agent/dumps.ts";
import { missing, run } from "../helpers/env.ts";
import { Proc, pidAlive, until } from "../helpers/lab.ts";
import { Netns } from "../helpers/netns.ts";
import { statsLayout } from "./dump-readers.ts";
import { docOf, node, SimNet } from "./status-fixture.ts";

const CONF = `global_defs {
    router_id ka-compare
}
vrrp_script chk {
    script "/bin/true"
    interval 1
    weight -20
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass kaCmp9
    }
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101
    }
    virtual_ipaddress_excluded {
        192.0.2.102/32
    }
    track_script {
        chk
    }
    notify_master "/bin/echo master"
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    version 3
    priority 90
    advert_int 0.5
    virtual_ipaddress {
        192.0.2.110/24
    }
}
`;

type JsonEntry = { data: Record<string, unknown>; stats: Record<string, number> };

/** Data values both sides must agree on (times, fds, paths and the password excluded). */
const SAME_JSON = [
  "iname",
  "dont_track_primary",
  "skip_check_adv_addr",
  "strict_mode",
  "vmac_ifname",
  "ifp_ifname",
  "master_priority",
  "garp_delay",
  "garp_refresh",
  "garp_rep",
  "garp_refresh_rep",
  "garp_lower_prio_delay",
  "garp_lower_prio_rep",
  "lower_prio_no_advert",
  "higher_prio_send_advert",
  "vrid",
  "base_priority",
  "effective_priority",
  "vipset",
  "promote_secondaries",
  "adver_int",
  "master_adver_int",
  "accept",
  "nopreempt",
  "preempt_delay",
  "state",
  "wantstate",
  "version",
  "smtp_alert",
  "notify_deleted",
  "vips",
  "evips",
  "auth_type",
];

/** keepalived.data: " VRRP Instance = X" / " VRRP Script = X" → its lines, in order. */
function dataBlocks(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const l of text.split("\n")) {
    const m = /^ (VRRP (?:Instance|Script) = .+)$/.exec(l);
    if (m) {
      cur = [];
      out.set(m[1] as string, cur);
    } else if (cur && l.startsWith("   ")) cur.push(l);
    else cur = undefined;
  }
  return out;
}

/** A line's key: before " = ", a list header without its ":", else the whole line. */
const keyOf = (l: string): string => {
  const t = l.trim();
  if (t.includes(" = ")) return t.slice(0, t.indexOf(" = "));
  return t.endsWith(":") ? t.slice(0, -1).trim() : t;
};

/**
 * Lines whose values legitimately differ: clock readings, fds, resolved paths, secrets, and
 * a script's timeout (keepalived shows 0 for "not set"; we show the interval it then uses).
 */
const DIFFERENT =
  /^(Last transition|Read timeout|fd_in|Password|.* state transition script|Command|Timeout)/;

function isSubsequence(small: readonly string[], big: readonly string[]): string | undefined {
  let j = 0;
  for (const x of small) {
    while (j < big.length && big[j] !== x) j++;
    if (j === big.length) return x;
    j++;
  }
  return undefined;
}

const why = missing({ root: true, commands: ["ip", "keepalived"] });

describe.skipIf(why !== undefined)(
  `our dumps beside keepalived 2.2.7's${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let dir: string;
    let ns: Netns;
    let ka: Proc | undefined;
    let kaChild = 0;
    const theirs = { data: "", stats: "", json: "" };
    const ours = { data: "", stats: "", json: "" };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "ea-kadump-"));
      ns = new Netns("kadump").create().addInterface("eth0");
      ns.ip("link", "set", "eth0p", "up");
      ns.ip("addr", "add", "192.0.2.10/24", "dev", "eth0");
      writeFileSync(join(dir, "k.conf"), CONF);
      ka = new Proc(
        "keepalived",
        ns.exec([
          "env",
          `TMPDIR=${dir}`,
          "keepalived",
          ...["-n", "-l", "-G", "-P", "-f", join(dir, "k.conf")],
          ...["-p", join(dir, "k.pid"), "-r", join(dir, "v.pid")],
        ]),
      );
      const started = await ka.waitLine(/Starting VRRP child process, pid=\d+/, 10_000);
      kaChild = Number(/pid=(\d+)/.exec(started.text)?.[1]);
      await ka.waitLine(/\(VI_1\) Entering MASTER STATE/, 10_000);
      await ka.waitLine(/\(VI_2\) Entering MASTER STATE/, 10_000);
      // Handled one after the other by the VRRP child: once the JSON file is renamed into
      // place, the data and stats files written before it are complete.
      const jsonSignal = Number(run(["keepalived", "--signum=JSON"]).stdout.trim());
      process.kill(ka.pid, "SIGUSR1");
      await ka.waitLine(/Printing VRRP data/, 5000);
      process.kill(ka.pid, "SIGUSR2");
      await ka.waitLine(/Printing VRRP stats/, 5000);
      process.kill(ka.pid, jsonSignal);
      await until(() => existsSync(join(dir, "keepalived.json")), 5000, "keepalived.json");
      for (const k of ["data", "stats", "json"] as const)
        theirs[k] = readFileSync(join(dir, `keepalived.${k}`), "utf8");

      const net = new SimNet();
      const a = await node(net, "a", 0, CONF);
      net.run(8000);
      const doc = docOf(a);
      const ctx = dumpContext(a.agent, a.model);
      Object.assign(ours, {
        data: dataDump(doc, ctx),
        stats: statsDump(doc),
        json: jsonDump(doc, ctx),
      });
    }, 30_000);

    afterAll(async () => {
      if (ka) await ka.stop("SIGTERM", 5000);
      if (kaChild) await until(() => !pidAlive(kaChild), 5000, `keepalived child ${kaChild} gone`);
      ns?.remove();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("keepalived.json: same keys in the same order, same values for the same facts", () => {
      const t = JSON.parse(theirs.json) as JsonEntry[];
      const o = JSON.parse(ours.json) as JsonEntry[];
      expect(o.map((e) => e.data.iname)).toEqual(t.map((e) => e.data.iname));
      for (const [n, te] of t.entries()) {
        const oe = o[n] as JsonEntry;
        expect(Object.keys(oe.data)).toEqual(Object.keys(te.data));
        expect(Object.keys(oe.stats)).toEqual(Object.keys(te.stats));
        const pick = (d: Record<string, unknown>) =>
          Object.fromEntries(SAME_JSON.filter((k) => k in d).map((k) => [k, d[k]]));
        expect(pick(oe.data)).toEqual(pick(te.data));
        expect(oe.stats.become_master).toBe(te.stats.become_master as number);
      }
      // keepalived 2.2.7 prints the password; we never do.
      expect(theirs.json).toContain("kaCmp9");
      expect(ours.json).not.toContain("kaCmp9");
    });

    test("keepalived.stats: the same layout, line for line", () => {
      expect(statsLayout(ours.stats)).toBe(statsLayout(theirs.stats));
    });

    test("keepalived.data: our lines are keepalived's, in its order, with its values", () => {
      const t = dataBlocks(theirs.data);
      const o = dataBlocks(ours.data);
      expect([...o.keys()]).toEqual([...t.keys()]);
      expect([...o.keys()]).toContain("VRRP Script = chk");
      for (const [name, lines] of o) {
        const tl = t.get(name) ?? [];
        expect(isSubsequence(lines.map(keyOf), tl.map(keyOf))).toBeUndefined();
        const same = (ls: string[]) => ls.filter((l) => !DIFFERENT.test(l.trim()));
        expect(isSubsequence(same(lines), same(tl))).toBeUndefined();
      }
      expect(ours.data).not.toContain("kaCmp9");
    });
  },
);
