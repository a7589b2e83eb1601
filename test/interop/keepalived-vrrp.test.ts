/**
 * Mixed clusters: the compiled agent and Debian's keepalived 2.2.7 in one VRRP group, in
 * a two-host namespace lab (test/helpers/lab.ts): keepalived in h1, the agent in h2.
 *
 * For each wire format (v2/IPv4 with PASS auth at 1 s, v3/IPv4 at 0.1 s, v3/IPv6 multicast,
 * v3/IPv4 unicast) both roles and both directions of failover:
 *   keepalived MASTER + agent BACKUP: the agent stays BACKUP on keepalived's adverts; a crash
 *     of keepalived's VRRP child (kill -9; killing only the parent makes the child stop
 *     gracefully) → the agent takes over after Master_Down; keepalived restarted with the
 *     higher priority preempts the agent; keepalived's SIGTERM (priority 0) → the agent takes
 *     over after Skew_Time;
 *   agent MASTER + keepalived BACKUP: keepalived stays BACKUP; the agent's SIGTERM →
 *     keepalived logs "Backup received priority 0 advertisement" and takes over; the agent
 *     restarted with the higher priority preempts keepalived; kill -9 of the agent →
 *     keepalived takes over after Master_Down.
 * VIP placement comes from `ip monitor` events and `ip addr`, timings from the capture on
 * the bridge; keepalived must log nothing about our packets being bogus, invalid, failing
 * authentication or their checksum, and the agent must refuse none of keepalived's. Every
 * advert the agent sent decodes in `tshark -V` as VRRP with a good checksum.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AddrMonitor, Capture, type Frame, fromAddresses } from "../helpers/capture.ts";
import {
  ensureAgentBinary,
  epochMs,
  type Host,
  type Keepalived,
  Lab,
  type Line,
  labMissing,
  masterDownMs,
  type Proc,
  skewMs,
  type VrrpOpts,
  vrrpConf,
} from "../helpers/lab.ts";

const TOLERANCE_MS = 50;

interface Mode {
  readonly title: string;
  readonly version: 2 | 3;
  readonly advertInt: number;
  readonly vip: string;
  readonly authPass?: string;
  readonly unicast?: boolean;
  /** use_vmac: VIPs on vrrp.51, adverts from 00:00:5e:00:01:33 on both sides. */
  readonly useVmac?: boolean;
}

const MODES: readonly Mode[] = [
  {
    title: "v2/IPv4, PASS auth, 1 s",
    version: 2,
    advertInt: 1,
    vip: "192.0.2.100/24",
    authPass: "labpass",
  },
  { title: "v3/IPv4, 0.1 s", version: 3, advertInt: 0.1, vip: "192.0.2.100/24" },
  { title: "v3/IPv6 multicast, 0.1 s", version: 3, advertInt: 0.1, vip: "2001:db8::100/64" },
  {
    title: "v3/IPv4 unicast, 0.1 s",
    version: 3,
    advertInt: 0.1,
    vip: "192.0.2.100/24",
    unicast: true,
  },
  {
    title: "v3/IPv4 use_vmac, 0.1 s",
    version: 3,
    advertInt: 0.1,
    vip: "192.0.2.100/24",
    useVmac: true,
  },
];

/** What keepalived must never say about the agent's packets (vrrp_check_packet's logs). */
const KEEPALIVED_COMPLAINT =
  /bogus|invalid|authentication|checksum|mismatch|not present|passwd|ttl/i;
/** What the agent logs when it refuses an advert (debug level). */
const AGENT_COMPLAINT = /refused|bad advert/i;

const why = labMissing(["keepalived"]);
describe.skipIf(why !== undefined)(
  `agent and keepalived 2.2.7 in one VRRP group${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let lab: Lab;
    let h1: Host;
    let h2: Host;

    beforeAll(async () => {
      ensureAgentBinary();
      lab = await Lab.create("kavr", 2);
      [h1, h2] = [lab.h(1), lab.h(2)];
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    }, 30_000);

    for (const mode of MODES) {
      const addr = mode.vip.split("/")[0] as string;
      const opts = (
        me: Host,
        peer: Host,
        priority: number,
        state: "MASTER" | "BACKUP",
      ): VrrpOpts => ({
        version: mode.version,
        advertInt: mode.advertInt,
        priority,
        state,
        vips: [mode.vip],
        ...(mode.authPass === undefined ? {} : { authPass: mode.authPass }),
        ...(mode.unicast ? { unicastSrc: me.ip4, unicastPeers: [peer.ip4] } : {}),
        ...(mode.useVmac ? { useVmac: true } : {}),
      });
      const dev = mode.useVmac ? "vrrp.51" : "eth0";
      // With use_vmac both sides send from the same virtual MAC: tell them by IP source.
      const srcOf = (h: Host) => (mode.vip.includes(":") ? h.linkLocal : h.ip4);
      const kaConf = (priority: number, state: "MASTER" | "BACKUP") =>
        vrrpConf(opts(h1, h2, priority, state), "keepalived-h1");
      const agConf = (priority: number, state: "MASTER" | "BACKUP") =>
        vrrpConf(opts(h2, h1, priority, state), "agent-h2");
      const from = (h: Host, prio?: number) => (f: Frame) =>
        f.vrrp !== undefined && f.src === srcOf(h) && (prio === undefined || f.vrrp.prio === prio);
      const mdi = (p: number) => masterDownMs(p, mode.version, mode.advertInt);
      const skew = (p: number) => skewMs(p, mode.version, mode.advertInt);
      // Budget: a few Master_Down intervals per step plus process starts and the capture.
      const bound = (n: number) => Math.max(3000, n * mdi(100) + 1500);

      /** Capture and monitors on a clean lab; afterwards the log and decode checks. */
      const scenario = (
        title: string,
        body: (c: {
          cap: Capture;
          mon1: AddrMonitor;
          mon2: AddrMonitor;
          kas: Keepalived[];
          agents: Proc[];
        }) => Promise<void>,
      ) =>
        test(
          `${mode.title}: ${title}`,
          async () => {
            await lab.reset();
            const started = lab.started;
            const [cap, mon1, mon2] = await Promise.all([
              Capture.start(lab, `${mode.title} ${title}`),
              lab.monitor(h1),
              lab.monitor(h2),
            ]);
            const kas: Keepalived[] = [];
            const agents: Proc[] = [];
            await body({ cap, mon1, mon2, kas, agents });
            await lab.stopAll((p) => p !== cap.proc && !p.name.includes("monitor"));
            await cap.stop();
            if (process.env.LAB_VERBOSE) console.log(lab.dump(started));
            const complaints = kas.flatMap((k) =>
              k.proc.lines.items
                .filter((l) => KEEPALIVED_COMPLAINT.test(l.text))
                .map((l) => l.text),
            );
            expect(complaints).toEqual([]);
            const refused = agents.flatMap((a) =>
              a.lines.items.filter((l) => AGENT_COMPLAINT.test(l.text)).map((l) => l.text),
            );
            expect(refused).toEqual([]);
            const rep = cap.verifyAdverts(fromAddresses([srcOf(h2)]));
            console.log(`    ${rep.checked} agent adverts decoded by tshark -V`);
            expect(rep.problems).toEqual([]);
            expect(rep.checked).toBeGreaterThan(0);
          },
          mode.advertInt >= 1 ? 60_000 : 30_000,
        );

      scenario(
        "keepalived MASTER + agent BACKUP → crash of keepalived's VRRP child → agent; keepalived (higher) preempts it; keepalived's SIGTERM → agent",
        async ({ cap, mon1, mon2, kas, agents }) => {
          let ka = await lab.keepalived(h1, kaConf(150, "MASTER"));
          kas.push(ka);
          await ka.proc.waitLine(/\(VI_1\) Entering MASTER STATE/, bound(2));
          await mon1.added(addr, 2000, 0, dev);
          const ag = lab.agent(h2, agConf(100, "BACKUP"));
          agents.push(ag);
          const init = await ag.waitLine(/\(VI_1\) Entering BACKUP STATE/, 3000);
          // The agent hears keepalived: more than its Master_Down passes without a takeover.
          await cap.frames.waitCount(
            (f) => from(h1, 150)(f) && f.t > init.t + mdi(100),
            1,
            bound(2),
            "keepalived's adverts after the agent's Master_Down",
          );
          expect(ag.text).not.toMatch(/Entering MASTER STATE/);
          expect(lab.hasAddr(h2, addr, dev)).toBe(false);

          // 1. Crash: kill -9 of keepalived's VRRP child.
          let m2 = mon2.events.mark;
          let l = ag.lines.mark;
          const tKill = epochMs();
          await ka.crash();
          await ag.waitLine(/\(VI_1\) Entering MASTER STATE/, bound(2), l);
          await mon2.added(addr, 2000, m2, dev);
          const first = await cap.advert(
            (f) => from(h2, 100)(f) && f.t > tKill,
            3000,
            "the agent's first advert",
          );
          const last = cap.frames
            .filter((f) => from(h1, 150)(f) && f.t < tKill + 1)
            .at(-1) as Frame;
          const down = first.t - last.t;
          console.log(
            `    keepalived crash → agent: Master_Down ${down.toFixed(1)} ms (RFC ${mdi(100).toFixed(1)})`,
          );
          expect(Math.abs(down - mdi(100))).toBeLessThanOrEqual(TOLERANCE_MS);
          // A crashed keepalived leaves its VIP (and VMAC), like a crashed agent; clear them as
          // a reboot would.
          if (mode.useVmac && lab.ip(h1, "-o", "link", "show").includes(`${dev}@`))
            lab.ip(h1, "link", "del", dev);
          else if (lab.hasAddr(h1, addr, dev)) lab.ip(h1, "addr", "del", mode.vip, "dev", dev);

          // 2. keepalived restarted with the higher priority preempts the agent.
          m2 = mon2.events.mark;
          const m1 = mon1.events.mark;
          l = ag.lines.mark;
          ka = await lab.keepalived(h1, kaConf(150, "MASTER"));
          kas.push(ka);
          await ka.proc.waitLine(/\(VI_1\) Entering MASTER STATE/, bound(2));
          await ag.waitLine(/\(VI_1\) Entering BACKUP STATE/, 3000, l);
          await mon2.deleted(addr, 2000, m2, dev);
          await mon1.added(addr, 2000, m1, dev);
          expect(lab.hasAddr(h2, addr, dev)).toBe(false);

          // 3. keepalived's SIGTERM: priority 0, the agent takes over after its skew.
          m2 = mon2.events.mark;
          l = ag.lines.mark;
          const tTerm = epochMs();
          await ka.stop();
          expect(ka.proc.text).toMatch(/\(VI_1\) sent 0 priority/);
          await ag.waitLine(/\(VI_1\) Entering MASTER STATE/, 3000, l);
          await mon2.added(addr, 2000, m2, dev);
          const p0 = await cap.advert(
            (f) => from(h1, 0)(f) && f.t > tTerm,
            3000,
            "keepalived's priority-0 advert",
          );
          const next = await cap.advert(
            (f) => from(h2, 100)(f) && f.t > p0.t,
            3000,
            "the agent's advert",
          );
          console.log(
            `    keepalived SIGTERM → agent: priority 0 → first advert ${(next.t - p0.t).toFixed(1)} ms (Skew_Time ${skew(100).toFixed(1)})`,
          );
          expect(Math.abs(next.t - p0.t - skew(100))).toBeLessThanOrEqual(TOLERANCE_MS);
        },
      );

      scenario(
        "agent MASTER + keepalived BACKUP → agent's SIGTERM → keepalived; the agent (higher) preempts it; kill -9 of the agent → keepalived",
        async ({ cap, mon1, mon2, kas, agents }) => {
          let ag = lab.agent(h2, agConf(150, "BACKUP"));
          agents.push(ag);
          await ag.waitLine(/\(VI_1\) Entering MASTER STATE/, bound(2));
          await mon2.added(addr, 2000, 0, dev);
          const ka = await lab.keepalived(h1, kaConf(100, "BACKUP"));
          kas.push(ka);
          const init = await ka.proc.waitLine(/\(VI_1\) Entering BACKUP STATE/, 3000);
          await cap.frames.waitCount(
            (f) => from(h2, 150)(f) && f.t > init.t + mdi(100),
            1,
            bound(2),
            "the agent's adverts after keepalived's Master_Down",
          );
          expect(ka.proc.text).not.toMatch(/Entering MASTER STATE/);
          expect(lab.hasAddr(h1, addr, dev)).toBe(false);

          // 1. The agent's SIGTERM: keepalived takes over on the priority-0 advert.
          let m1 = mon1.events.mark;
          const m2 = mon2.events.mark;
          let l: number = ka.proc.lines.mark;
          const tTerm = epochMs();
          expect(await ag.stop("SIGTERM")).toBe(0);
          await ka.proc.waitLine(/\(VI_1\) Backup received priority 0 advertisement/, 3000, l);
          await ka.proc.waitLine(/\(VI_1\) Entering MASTER STATE/, 3000, l);
          await mon1.added(addr, 3000, m1, dev);
          await mon2.deleted(addr, 1000, m2, dev);
          const p0 = await cap.advert(
            (f) => from(h2, 0)(f) && f.t > tTerm,
            3000,
            "the agent's priority-0 advert",
          );
          const next = await cap.advert(
            (f) => from(h1, 100)(f) && f.t > p0.t,
            3000,
            "keepalived's advert",
          );
          console.log(
            `    agent SIGTERM → keepalived: priority 0 → first advert ${(next.t - p0.t).toFixed(1)} ms (Skew_Time ${skew(100).toFixed(1)})`,
          );
          expect(Math.abs(next.t - p0.t - skew(100))).toBeLessThanOrEqual(TOLERANCE_MS);

          // 2. The agent restarted with the higher priority preempts keepalived.
          m1 = mon1.events.mark;
          l = ka.proc.lines.mark;
          ag = lab.agent(h2, agConf(150, "BACKUP"));
          agents.push(ag);
          const start: Line = await ag.waitLine(/\(VI_1\) Entering BACKUP STATE/, 3000);
          await ag.waitLine(/\(VI_1\) Entering MASTER STATE/, bound(2));
          await ka.proc.waitLine(/\(VI_1\) Entering BACKUP STATE/, 3000, l);
          await mon1.deleted(addr, 2000, m1, dev);
          const took = await cap.advert(
            (f) => from(h2, 150)(f) && f.t > start.t,
            3000,
            "the agent's advert",
          );
          console.log(
            `    agent preempts keepalived ${(took.t - start.t).toFixed(1)} ms after its start (Master_Down ${mdi(150).toFixed(1)})`,
          );
          // The start is when its log line reached us, a little after the timer started.
          expect(took.t - start.t).toBeGreaterThanOrEqual(mdi(150) - 2 * TOLERANCE_MS);
          expect(took.t - start.t).toBeLessThanOrEqual(mdi(150) + TOLERANCE_MS);

          // 3. kill -9 of the agent: keepalived takes over after its Master_Down.
          await cap.frames.waitCount(
            (f) => from(h2, 150)(f) && f.t > took.t,
            2,
            3000,
            "agent adverts",
          );
          m1 = mon1.events.mark;
          l = ka.proc.lines.mark;
          const tKill = epochMs();
          await ag.kill9();
          await ka.proc.waitLine(/\(VI_1\) Entering MASTER STATE/, bound(2), l);
          await mon1.added(addr, 2000, m1, dev);
          const first = await cap.advert(
            (f) => from(h1, 100)(f) && f.t > tKill,
            3000,
            "keepalived's first advert",
          );
          const last = cap.frames
            .filter((f) => from(h2, 150)(f) && f.t < tKill + 1)
            .at(-1) as Frame;
          const down = first.t - last.t;
          console.log(
            `    agent crash → keepalived: Master_Down ${down.toFixed(1)} ms (RFC ${mdi(100).toFixed(1)})`,
          );
          expect(Math.abs(down - mdi(100))).toBeLessThanOrEqual(TOLERANCE_MS);
        },
      );
    }
  },
);
