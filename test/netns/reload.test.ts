/**
 * Reload without a flap, with the compiled agent between namespaces: h1 (MASTER, 150) and
 * h2 (BACKUP, 100) at VRRPv3 0.1 s, h1 with a vrrp_script and a track_interface. h1 gets
 * RELOADS SIGHUPs of its unchanged configuration, each sent once the previous reload is
 * logged. Asserted: no transition on either node, no VIP deletion seen by `ip monitor` on
 * h1, no priority-0 advert and no advert from h2 on the wire; h1 kept advertising.
 * RELOADS defaults to 1,000 (the issue's proof); set RELOAD_COUNT to change it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Capture, type Frame } from "../helpers/capture.ts";
import { ensureAgentBinary, type Host, Lab, labMissing, vrrpConf } from "../helpers/lab.ts";

const RELOADS = Number(process.env.RELOAD_COUNT ?? 1000);
const VIP = "192.0.2.100";

const h1Conf = `global_defs {
    router_id h1
    vrrp_version 3
}
vrrp_script chk {
    script "/bin/true"
    interval 0.5
    weight -10
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    track_script {
        chk
    }
    track_interface {
        lo
    }
    virtual_ipaddress {
        ${VIP}/24
    }
}
`;

const why = labMissing();
describe.skipIf(why !== undefined)(
  `reload between namespaces${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let lab: Lab;
    let h1: Host;
    let h2: Host;

    beforeAll(async () => {
      ensureAgentBinary();
      lab = await Lab.create("reload", 2);
      [h1, h2] = [lab.h(1), lab.h(2)];
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    }, 30_000);

    test(`${RELOADS} reloads of an unchanged config under a running pair at 0.1 s: no transition, no VIP deletion, no priority-0 advert`, async () => {
      await lab.reset();
      const cap = await Capture.start(lab, "reload");
      const mon = await lab.monitor(h1);
      const a1 = lab.agent(h1, h1Conf);
      const a2 = lab.agent(
        h2,
        vrrpConf({ version: 3, advertInt: 0.1, priority: 100, vips: [`${VIP}/24`] }, "h2"),
      );
      await a1.waitLine(/Entering MASTER STATE/, 5000);
      await mon.added(VIP, 3000);
      await a2.waitLine(/Entering BACKUP STATE/, 3000);
      // Past the second GARP burst and the script's first results: a steady state.
      await Bun.sleep(1200);
      const [m1, l1, l2, c0] = [mon.events.mark, a1.lines.mark, a2.lines.mark, cap.frames.mark];
      const t0 = performance.now();
      for (let i = 0; i < RELOADS; i++) {
        const mark = a1.lines.mark;
        a1.signal("SIGHUP");
        await a1.waitLine(/reloaded .*: 1 unchanged, 0 changed, 0 added, 0 removed/, 5000, mark);
      }
      const seconds = (performance.now() - t0) / 1000;
      if (process.env.LAB_VERBOSE)
        console.log(
          a1.lines.items
            .slice(l1)
            .map((l) => l.text)
            .join("\n"),
        );
      await Bun.sleep(500); // one more Master_Down's worth of adverts on the wire
      const after = (f: Frame) => cap.frames.items.indexOf(f) >= c0;
      const p0 = cap.adverts((f) => after(f) && f.vrrp?.prio === 0);
      const fromH2 = cap.adverts((f) => after(f) && f.ethSrc === h2.mac);
      const fromH1 = cap.adverts((f) => after(f) && f.ethSrc === h1.mac);
      const transitions = [a1, a2].flatMap((a, k) =>
        a.lines.items.slice(k === 0 ? l1 : l2).filter((l) => /Entering \w+ STATE/.test(l.text)),
      );
      console.log(
        `    ${RELOADS} reloads in ${seconds.toFixed(1)} s; h1 sent ${fromH1.length} adverts meanwhile`,
      );
      expect(transitions.map((l) => l.text)).toEqual([]);
      expect(mon.of(VIP, m1).filter((e) => e.deleted)).toEqual([]);
      expect(p0.length).toBe(0);
      expect(fromH2.length).toBe(0);
      expect(fromH1.length).toBeGreaterThan(seconds * 10 * 0.9);
      expect(lab.hasAddr(h1, VIP)).toBe(true);
      await lab.stopAll((p) => p.name.includes("-agent-"));
      await cap.stop();
    }, 600_000);
  },
);
