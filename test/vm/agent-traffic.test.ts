/**
 * Issue 6: in the User-mode-Linux guest, the compiled agent's checkers, run against real
 * TCP/HTTP servers, remove and restore IPVS destinations, and a client's traffic through the
 * VIP reaches only the healthy ones (scenario and topology: agent-traffic.ts). One guest boot,
 * about 50 s here. AGENT_BINARY=path runs another build than dist/agent.
 */
import { beforeAll, expect, test } from "bun:test";
import { missing } from "../helpers/env.ts";
import { AGENT, ensureAgentBinary } from "../helpers/lab.ts";
import {
  DETECT_BOUND_MS,
  HEALTHY_BODY,
  md5Hex,
  parseTraffic,
  REAL_SERVERS,
  REQUESTS,
  runTraffic,
  type TrafficRun,
  tally,
  trafficConfig,
  VIP,
} from "./agent-traffic.ts";
import { guestSetupProblem } from "./keepalived-tables.ts";

const agent = process.env.AGENT_BINARY ?? AGENT;
const whyNoGuest =
  missing({ root: true, commands: ["apt-get", "dpkg-deb", "ipvsadm"] }) ?? guestSetupProblem();

interface RsStatus {
  address: string;
  alive: boolean;
  kernel_weight?: number;
  checkers: { type: string; state: string }[];
}

/** address → [alive, kernel weight or "absent", "TYPE:state" of each checker]. */
function rsView(statusJson: string | undefined): Record<string, unknown[]> {
  const doc = JSON.parse(statusJson ?? "{}") as {
    virtual_servers?: { real_servers: RsStatus[] }[];
  };
  const out: Record<string, unknown[]> = {};
  for (const vs of doc.virtual_servers ?? [])
    for (const rs of vs.real_servers)
      out[rs.address] = [
        rs.alive,
        rs.kernel_weight ?? "absent",
        ...rs.checkers.map((c) => `${c.type}:${c.state}`),
      ];
  return out;
}

const { rs1, rs2, rs3 } = REAL_SERVERS;

/** The non-empty lines of a section. */
const lines = (s: string | undefined): string[] => (s ?? "").split("\n").filter((l) => l !== "");

test("parseTraffic reads waits, traffic samples, sections and the stop line", () => {
  const r = parseTraffic(
    [
      "boot noise",
      "@@WAIT b-out ok ms=734 bound=5000",
      "@@WAIT c-out timeout ms=5012 bound=5000",
      "@@TRAFFIC a rs1 rs2 FAIL rs1",
      "@@SECTION status-a",
      '{"schema": 1}',
      "@@WAIT inside-a-section ok ms=1 bound=2",
      "@@ENDSECTION",
      "@@STOP rc=0 ms=123",
    ].join("\n"),
  );
  expect(r.waits).toEqual([
    { label: "b-out", ok: true, ms: 734, boundMs: 5000 },
    { label: "c-out", ok: false, ms: 5012, boundMs: 5000 },
  ]);
  expect(tally(r.traffic.a ?? [])).toEqual({ rs1: 2, rs2: 1, FAIL: 1 });
  expect(r.sections["status-a"]).toBe('{"schema": 1}\n@@WAIT inside-a-section ok ms=1 bound=2\n');
  expect(r.stop).toEqual({ rc: 0, ms: 123 });
});

test("the scenario's config has three checked real servers and rs3's digest is its healthy body's", () => {
  const c = trafficConfig();
  expect(c.match(/real_server /g)?.length).toBe(3);
  expect(c.match(/TCP_CHECK/g)?.length).toBe(2);
  expect(c).toContain(`digest ${md5Hex(HEALTHY_BODY)}`);
  expect(md5Hex("")).toBe("d41d8cd98f00b204e9800998ecf8427e");
  expect(c).toContain(`virtual_server ${VIP} 80`);
});

/** Every bounded wait of the scenario, in order (agent-traffic.ts trafficGuestScript). */
const WAITS = [
  "started",
  `a-in-${rs1}`,
  `a-in-${rs2}`,
  `a-in-${rs3}`,
  "a-checked",
  `b-out-${rs2}`,
  "b-notify",
  "b-fifo",
  `c-out-${rs3}`,
  "c-notify",
  "c-fifo",
  `d-in-${rs2}`,
  `d-in-${rs3}`,
  "d-notify-rs2",
  "d-notify-rs3",
  "d-fifo-rs2",
  "d-fifo-rs3",
  "f-no-service",
];

let run: TrafficRun | undefined;

beforeAll(() => {
  if (whyNoGuest === undefined && agent === AGENT) ensureAgentBinary();
});

test.skipIf(whyNoGuest !== undefined)(
  `in a UML guest, the compiled agent's checkers remove and restore real servers and traffic through the VIP reaches only healthy ones${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  async () => {
    run = await runTraffic(agent, { timeoutS: 120 });
    const r = run.report;
    console.log(
      `agent traffic: ${run.wallMs.toFixed(0)} ms; ${r.waits.map((w) => `${w.label} ${w.ms}`).join(", ")}`,
    );
    const dump = (): void => console.log(run?.console, run?.stderr);
    if (run.exitCode !== 0 || r.waits.some((w) => !w.ok)) dump();
    expect(run.exitCode).toBe(0);

    // Every bounded wait happened, within its bound (checker reaction: delay_loop +
    // connect_timeout + margin).
    const waits = Object.fromEntries(r.waits.map((w) => [w.label, w.ok]));
    expect(waits).toMatchObject(Object.fromEntries(WAITS.map((l) => [l, true])));
    for (const w of r.waits.filter((x) => /^[bcd]-/.test(x.label)))
      expect(w.boundMs).toBe(DETECT_BOUND_MS);

    // Traffic: REQUESTS through the VIP each time, none failing, only to healthy servers.
    const seen = (label: string): string[] => Object.keys(tally(r.traffic[label] ?? [])).sort();
    expect((r.traffic.a ?? []).length).toBe(REQUESTS);
    expect(seen("a")).toEqual(["rs1", "rs2", "rs3"]);
    expect(seen("b")).toEqual(["rs1", "rs3"]);
    expect(seen("c")).toEqual(["rs1"]);
    expect(seen("d")).toEqual(["rs1", "rs2", "rs3"]);
    // rr over fresh connections: an even share each.
    expect(tally(r.traffic.d ?? [])).toEqual({ rs1: 10, rs2: 10, rs3: 10 });

    // The status document agrees: alive, kernel weight, each checker's state.
    expect(rsView(r.sections["status-a"])).toEqual({
      [rs1]: [true, 1, "TCP_CHECK:up"],
      [rs2]: [true, 1, "TCP_CHECK:up"],
      [rs3]: [true, 1, "HTTP_GET:up"],
    });
    expect(rsView(r.sections["status-c"])).toEqual({
      [rs1]: [true, 1, "TCP_CHECK:up"],
      [rs2]: [false, "absent", "TCP_CHECK:down"],
      [rs3]: [false, "absent", "HTTP_GET:down"],
    });
    expect(rsView(r.sections["status-d"])).toEqual(rsView(r.sections["status-a"]));

    // notify_down/notify_up and the LVS FIFO lines, in keepalived's format.
    const notify = lines(r.sections["notify-log"]);
    expect(notify.slice(0, 2)).toEqual(["down rs2", "down rs3"]);
    expect(notify.slice(2).sort()).toEqual(["up rs2", "up rs3"]);
    // The VS UP line at start (quorum gained) is the parity test's below; then the RS lines.
    const fifo = lines(r.sections["fifo-log"]).filter((l) => l.startsWith("RS "));
    const rsLine = (a: string, s: string): string => `RS [${a}]:tcp:8080 [${VIP}]:tcp:80 ${s}`;
    expect(fifo.slice(0, 2)).toEqual([rsLine(rs2, "DOWN"), rsLine(rs3, "DOWN")]);
    expect(fifo.slice(2).sort()).toEqual([rsLine(rs2, "UP"), rsLine(rs3, "UP")].sort());

    // SIGTERM: a clean exit and nothing left in the kernel.
    expect(r.stop?.rc).toBe(0);
    expect(r.sections["table-f"] ?? "").not.toMatch(/^(TCP|UDP|FWM) /m);
  },
  180_000,
);

// keepalived 2.2.7 parity, from the same scenario's run (keepalived itself, run on the same
// config in the same guest, logged and wrote exactly what these expect).

test.skipIf(whyNoGuest !== undefined)(
  `the LVS FIFO starts with the VS UP line keepalived writes when the service gains quorum at startup${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  () => {
    // check/ipwrapper.c init_service_vs → update_quorum_state(vs, init=true): quorum_state_up
    // starts false, so a service whose live weight reaches its quorum "Gained quorum" at
    // startup and do_vs_notifies writes "VS [vip]:tcp:80 UP" (notify_fifo_vs) and runs
    // notify_quorum_up. keepalived 2.2.7 in this guest: "Gained quorum 1+0=1 <= 3 for VS
    // [192.0.2.100]:tcp:80", FIFO line 1 "VS [192.0.2.100]:tcp:80 UP".
    if (!run) throw new Error("the scenario did not run");
    const fifo = lines(run.report.sections["fifo-log"]);
    expect(fifo[0]).toBe(`VS [${VIP}]:tcp:80 UP`);
    expect(lines(run.report.sections["agent-log"]).some((l) => l.includes("Gained quorum"))).toBe(
      true,
    );
  },
);

test.skipIf(whyNoGuest !== undefined)(
  `TCP_CHECK logs a connection's success only when the checker comes up, and no per-probe failures${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  () => {
    // check/check_tcp.c tcp_epilog: "TCP connection to %s success." only if the checker was
    // down or had not run; "TCP connection to %s failed." only for an up checker with
    // log_all_failures. keepalived 2.2.7 in this guest logged rs1's success once, rs2's twice
    // (start, restart) and no "failed." connection line.
    if (!run) throw new Error("the scenario did not run");
    const log = lines(run.report.sections["agent-log"]);
    const count = (re: RegExp): number => log.filter((l) => re.test(l)).length;
    expect({
      rs1Success: count(/TCP connection to \[198\.51\.100\.11\]:tcp:8080 success\./),
      rs2Success: count(/TCP connection to \[198\.51\.100\.12\]:tcp:8080 success\./),
      failedLines: count(/TCP connection to .* failed\./),
    }).toEqual({ rs1Success: 1, rs2Success: 2, failedLines: 0 });
  },
);
