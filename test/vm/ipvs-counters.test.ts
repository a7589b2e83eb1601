/**
 * Issue 6, the kernel's counters: readCounters (src/io/ipvs-counters.ts) against a real IPVS in
 * the User-mode-Linux guest of test/vm/ipvs-vm.sh. N TCP connections with known payloads go
 * through a NAT service; the counters readCounters reports must show them (conns = N on the
 * service and on the real server that took them, bytes at least the payload, nothing on the
 * weight-0 server) and must equal, field for field, what `ipvsadm -Ln --stats --exact`,
 * `--rate --exact` and `-Ln` print in the same estimator period. How the guest gets there is
 * in test/vm/ipvs-counters.ts.
 */
import { expect, test } from "bun:test";
import { missing } from "../helpers/env.ts";
import {
  type CounterJson,
  PAYLOADS,
  parseIpvsadm,
  REPLY_BYTES,
  RS,
  RS_IDLE,
  runGuest,
  VIP,
} from "./ipvs-counters.ts";
import { guestSetupProblem } from "./keepalived-tables.ts";

const whyNoGuest =
  missing({ root: true, commands: ["apt-get", "dpkg-deb", "ipvsadm"] }) ?? guestSetupProblem();

const STATS_COLUMNS = ["conns", "inPkts", "outPkts", "inBytes", "outBytes"] as const;
const RATE_COLUMNS = ["cps", "inPps", "outPps", "inBps", "outBps"] as const;

test("parseIpvsadm reads ipvsadm 1.31's listings into table.ts keys", () => {
  const stats = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  192.0.2.1:36725                     5       30       20    25710     1400
  -> 198.51.100.1:36725                  5       30       20    25710     1400
  -> 198.51.100.2:36725                  0        0        0        0        0
UDP  [2001:db8::1]:53                    1        1        0       60        0
  -> [2001:db8::10]:53                   1        1        0       60        0
FWM  42 IPv6                             0        0        0        0        0
`;
  const t = parseIpvsadm(stats);
  expect([...t.keys()]).toEqual(["4|TCP|192.0.2.1|36725", "6|UDP|2001:db8::1|53", "6|fwmark|42"]);
  expect(t.get("4|TCP|192.0.2.1|36725")?.values).toEqual([5, 30, 20, 25710, 1400]);
  expect(t.get("4|TCP|192.0.2.1|36725")?.dests.get("198.51.100.2|36725")?.values).toEqual([
    0, 0, 0, 0, 0,
  ]);
  expect(t.get("6|UDP|2001:db8::1|53")?.dests.get("2001:db8::10|53")?.values).toEqual([
    1, 1, 0, 60, 0,
  ]);
  const list = parseIpvsadm(`TCP  192.0.2.1:80 wrr persistent 300
  -> 198.51.100.1:80           Masq    1      2          5
`);
  expect(list.get("4|TCP|192.0.2.1|80")?.dests.get("198.51.100.1|80")?.values).toEqual([1, 2, 5]);
});

/** readCounters' fields in ipvsadm's column order, for one service or dest row. */
function columns(
  row: { stats?: Record<string, number> } | undefined,
  names: readonly string[],
): (number | undefined)[] {
  return names.map((n) => row?.stats?.[n]);
}

/** Every service and dest of `ours` beside ipvsadm's numbers for the same columns. */
function sideBySide(ours: CounterJson, listing: string, names: readonly string[]) {
  const theirs = parseIpvsadm(listing);
  const rows: { key: string; ours: (number | undefined)[]; ipvsadm: number[] | undefined }[] = [];
  for (const [sk, s] of Object.entries(ours)) {
    const t = theirs.get(sk);
    rows.push({ key: sk, ours: columns(s, names), ipvsadm: t?.values.slice() });
    for (const [dk, d] of Object.entries(s.dests))
      rows.push({
        key: `${sk} -> ${dk}`,
        ours: columns(d as { stats?: Record<string, number> }, names),
        ipvsadm: t?.dests.get(dk)?.values.slice(),
      });
  }
  return { rows, services: theirs.size };
}

test.skipIf(whyNoGuest !== undefined)(
  `in a UML guest, readCounters counts N connections through a NAT service and equals ipvsadm --stats/--rate${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  async () => {
    const run = await runGuest({ timeoutS: 60 });
    console.log(`ipvs counters: guest boot+run+poweroff ${run.wallMs.toFixed(0)} ms`);
    const r = run.result;
    if (run.exitCode !== 0 || !r || r.error) console.log(run.console, run.stderr);
    expect(r?.error).toBeUndefined();
    expect(run.exitCode).toBe(0);
    if (!r) throw new Error("the guest printed no IPVS_COUNTERS line");
    console.log(
      `ipvs counters: conns visible after ${r.waitMs.toFixed(0)} ms, ${r.attempts} sample(s)`,
    );
    const n = PAYLOADS.length;
    const payload = PAYLOADS.reduce((a, b) => a + b, 0);
    // The traffic really happened, all of it through the VIP.
    expect({ accepted: r.accepted, received: r.received }).toEqual({
      accepted: n,
      received: payload,
    });
    // A stable sample: readCounters read the same table before and after ipvsadm ran.
    expect(r.after).toEqual(r.before);

    const sk = `4|TCP|${VIP}|${r.port}`;
    const svc = r.before[sk];
    const busy = svc?.dests[`${RS}|${r.port}`] as { stats?: Record<string, number> } | undefined;
    const idle = svc?.dests[`${RS_IDLE}|${r.port}`] as { stats?: Record<string, number> };
    expect(Object.keys(r.before)).toEqual([sk]);
    expect(svc?.stats?.conns).toBe(n);
    expect(busy?.stats?.conns).toBe(n);
    // Bytes as IPVS counts them: whole IP packets, so at least the payload each way.
    expect(svc?.stats?.inBytes).toBeGreaterThanOrEqual(payload);
    expect(busy?.stats?.inBytes).toBeGreaterThanOrEqual(payload);
    expect(busy?.stats?.outBytes).toBeGreaterThanOrEqual(n * REPLY_BYTES);
    expect(busy?.stats?.inPkts).toBeGreaterThanOrEqual(n * 3); // SYN, data, ACK/FIN at least
    expect(Object.values(idle?.stats ?? { missing: -1 }).every((v) => v === 0)).toBe(true);

    // Field for field what ipvsadm printed between the two reads.
    const stats = sideBySide(r.before, r.stats, STATS_COLUMNS);
    const rate = sideBySide(r.before, r.rate, RATE_COLUMNS);
    expect(stats.services).toBe(1);
    for (const row of [...stats.rows, ...rate.rows]) expect(row.ours).toEqual(row.ipvsadm ?? []);
    expect(stats.rows.length).toBe(3);
    // ActiveConn / InActConn of `ipvsadm -Ln` (Weight is its first column).
    const list = parseIpvsadm(r.list).get(sk);
    for (const [dk, d] of Object.entries(svc?.dests ?? {})) {
      const c = d as { activeConns?: number; inactiveConns?: number };
      expect([c.activeConns, c.inactiveConns]).toEqual(
        list?.dests.get(dk)?.values.slice(1, 3) ?? [],
      );
    }
    // GET_DEST for a service that does not exist is an empty dump, not an error.
    expect(r.goneDests).toBe(0);
  },
  90_000,
);
