import { describe, expect, test } from "bun:test";
import { desiredTable, INITIAL_QUORUM_STATE } from "../../../src/core/ipvs/desired.ts";
import { applyOps, diff } from "../../../src/core/ipvs/diff.ts";
import type { Table } from "../../../src/core/ipvs/table.ts";
import { mulberry32 } from "../../../src/core/prng.ts";
import { allMaster, healthOf, model } from "./helpers.ts";

const vs = (body: string, head: string) =>
  `virtual_server ${head} {\n lvs_sched wrr\n lvs_method NAT\n protocol TCP\n${body}\n}\n`;
const rs = (ip: string, port: number, body = "") =>
  ` real_server ${ip} ${port} {\n weight 1\n${body}\n }\n`;

describe("random verdict sequences (seeded)", () => {
  const seed = Number(process.env.SEED ?? 0x5eed) >>> 0;
  const ips = [11, 12, 13, 14].map((n) => `192.0.2.${n}`);
  const text =
    `virtual_server_group G {\n 192.0.2.1-2 80\n fwmark 5\n}\n` +
    vs(
      `quorum 4\n hysteresis 2\n sorry_server 192.0.2.50 80\n sorry_server_inhibit\n alpha\n` +
        ips
          .map((ip, i) => rs(ip, 80, `weight ${i + 1}${i % 2 ? "\ninhibit_on_failure" : ""}`))
          .join(""),
      "group G",
    );
  test(`invariants hold and each table is reached by diff from the last (seed ${seed})`, () => {
    console.log(`ipvs desired sequence seed=${seed} (replay with SEED=${seed})`);
    const rnd = mulberry32(seed);
    const m = model(text);
    let st = INITIAL_QUORUM_STATE;
    let last: Table = { services: [] };
    for (let step = 0; step < 300; step++) {
      const verdicts = Object.fromEntries(
        ips.map((ip) => [`${ip}:80`, (["up", "down", "unknown"] as const)[Math.floor(rnd() * 3)]!]),
      );
      const r = desiredTable(m, healthOf(verdicts), allMaster, st);
      const up = r.quorum.vs["group G"]!.quorumUp;
      expect(r.table.services.length).toBe(3);
      for (const s of r.table.services) {
        const sorry = s.dests.find((d) => d.addr === "192.0.2.50");
        // sorry_server_inhibit: always present; serving exactly while quorum is down.
        expect({ step, sorry: sorry?.weight }).toEqual({ step, sorry: up ? 0 : 1 });
        for (const [i, ip] of ips.entries()) {
          const d = s.dests.find((x) => x.addr === ip);
          const alive = r.quorum.vs["group G"]!.alive[`${ip}:80`];
          const want = alive && up ? i + 1 : !alive && i % 2 ? 0 : undefined;
          expect({ step, ip, w: d?.weight }).toEqual({ step, ip, w: want });
        }
      }
      const after = applyOps(
        last,
        diff(last, r.table, () => true),
      );
      expect({ step, after }).toEqual({ step, after: r.table });
      const changed = r.events.length > 0;
      expect({ step, changed }).toEqual({
        step,
        // The first evaluation is always announced here: up ("Gained quorum"), or down
        // because a sorry server must go in (ipwrapper.c update_quorum_state(init)).
        changed: (st.vs["group G"]?.quorumUp ?? up) !== up || step === 0,
      });
      st = r.quorum;
      last = r.table;
    }
  });
});
