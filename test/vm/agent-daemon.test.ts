/**
 * Issue 6 with the compiled binary: for every test/vm/ipvs-configs/*.conf, the table that
 * `dist/agent run` programs in the User-mode-Linux guest equals, after keepalived-tables.ts's
 * normalisation, the golden table keepalived 2.2.7 programs for the same config in the same
 * guest (test/vm/ipvs-tables/*.txt); `agent status --json` agrees with that table; SIGTERM
 * leaves nothing behind. One guest boot covers every config (about 45 s here).
 * AGENT_BINARY=path runs another build than dist/agent.
 */
import { beforeAll, expect, test } from "bun:test";
import { missing } from "../helpers/env.ts";
import { AGENT, ensureAgentBinary } from "../helpers/lab.ts";
import {
  captureDaemonTables,
  daemonGuestScript,
  lineDiff,
  parseListing,
  parseStatus,
  statusDisagreements,
} from "./agent-daemon.ts";
import {
  goldenCompare,
  goldenMatch,
  guestSetupProblem,
  hasServices,
  listConfigs,
  parseConsole,
  runOutline,
} from "./keepalived-tables.ts";

const agent = process.env.AGENT_BINARY ?? AGENT;
const whyNoGuest =
  missing({ root: true, commands: ["apt-get", "dpkg-deb", "ipvsadm"] }) ?? guestSetupProblem();

const TABLE = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.0.2.50:80 lc
  -> 198.51.100.51:80             Route   1      0          0
  -> 198.51.100.52:80             Route   2      0          0
TCP  [2001:db8::10]:80 wrr persistent 120 mask 64
  -> [2001:db8:1::11]:8080        Masq    3      0          0
FWM  7 lc
  -> 198.51.100.51:0              Route   1      0          0
  -> 198.51.100.52:0              Route   2      0          0
IP Virtual Server version 1.2.1 (size=4096)
TCP  192.0.2.99:80 rr
`;

test("parseListing reads the first listing: services, IPv6 dests, fwmarks", () => {
  expect(parseListing(TABLE)).toEqual([
    {
      key: "TCP 192.0.2.50:80",
      dests: [
        { addr: "198.51.100.51", port: 80, fwd: "Route", weight: 1 },
        { addr: "198.51.100.52", port: 80, fwd: "Route", weight: 2 },
      ],
    },
    {
      key: "TCP [2001:db8::10]:80",
      dests: [{ addr: "2001:db8:1::11", port: 8080, fwd: "Masq", weight: 3 }],
    },
    {
      key: "FWM 7",
      dests: [
        { addr: "198.51.100.51", port: 0, fwd: "Route", weight: 1 },
        { addr: "198.51.100.52", port: 0, fwd: "Route", weight: 2 },
      ],
    },
  ]);
});

test("statusDisagreements finds a wrong kernel weight, a missing dest, a missing service", () => {
  const rs = (address: string, port: number, kernel_weight?: number) => ({
    address,
    port,
    ...(kernel_weight !== undefined ? { kernel_weight } : {}),
  });
  const doc = (weight52: number, v6port: number) =>
    JSON.stringify({
      virtual_servers: [
        {
          name: "group web",
          group: "web",
          forwarding: "DR",
          real_servers: [rs("198.51.100.51", 80, 1), rs("198.51.100.52", 80, weight52)],
        },
        {
          name: "[2001:db8::10]:80/TCP",
          address: "2001:db8::10",
          port: 80,
          protocol: "TCP",
          forwarding: "NAT",
          real_servers: [rs("2001:db8:1::11", v6port, 3), rs("2001:db8:1::12", 80)],
        },
      ],
    });
  expect(statusDisagreements(doc(2, 8080), TABLE)).toEqual([]);
  expect(statusDisagreements(doc(5, 8080), TABLE)).toEqual([
    "group web: 198.51.100.52:80 kernel_weight 5, TCP 192.0.2.50:80 has 2",
    "group web: 198.51.100.52:80 kernel_weight 5, FWM 7 has 2",
  ]);
  expect(statusDisagreements(doc(2, 80), TABLE)).toEqual([
    "[2001:db8::10]:80/TCP: 2001:db8:1::11:80 not in TCP [2001:db8::10]:80",
  ]);
  const gone = TABLE.replace(/TCP {2}\[2001:db8::10\][^\n]*\n[^\n]*\n/, "");
  expect(statusDisagreements(doc(2, 8080), gone)).toEqual([
    "[2001:db8::10]:80/TCP: no kernel service",
  ]);
  expect(statusDisagreements("agent: cannot connect", TABLE)[0]).toMatch(/^status is not JSON/);
});

test("the guest script keeps keepalived-tables.ts's network setup and readiness rule", () => {
  const s = daemonGuestScript();
  expect(s).toContain("ip route add local 198.51.100.0/24 dev lo");
  expect(s).toContain("# ready-table: ");
  expect(s).toContain('/bin/agent run --config "$conf" --control /run/a.sock');
  expect(s).toContain("/bin/agent status --json --control /run/a.sock");
  // As the script prints it when -Sn and status print nothing: no section swallows the next.
  const out =
    "\n@@BEGIN x\n@@TABLE\nt\n@@SAVE\n\n@@STATUS\n\n@@AFTER_STOP\na\n@@END rc=0 ready_ms=1 stop_ms=2\n" +
    "\n@@BEGIN y\n@@TABLE\nt\n@@SAVE\ns\n\n@@STATUS\n{}\n\n@@AFTER_STOP\na\n@@END rc=0 ready_ms=1 stop_ms=2\n";
  expect(parseStatus(out)).toEqual({ x: "\n", y: "{}\n\n" });
  expect(parseConsole(out).map((c) => [c.table, c.afterStop])).toEqual([
    ["t\n", "a\n"],
    ["t\ns\n", "a\n"],
  ]);
  expect(lineDiff("a\nb\n", "a\nc\n")).toEqual(["- b", "+ c"]);
});

beforeAll(() => {
  if (whyNoGuest === undefined && agent === AGENT) ensureAgentBinary();
});

test.skipIf(whyNoGuest !== undefined)(
  `in a UML guest, the compiled agent programs exactly keepalived's golden table for every config, its status agrees, SIGTERM removes it${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  async () => {
    const names = listConfigs();
    const run = await captureDaemonTables(names, agent, { timeoutS: 110 });
    console.log(
      `agent daemon tables: ${names.length} configs in ${run.wallMs.toFixed(0)} ms; ` +
        run.captures.map((c) => `${c.name} ready ${c.readyMs} stop ${c.stopMs}`).join(", "),
    );
    expect(runOutline(run, names)).toEqual({ exitCode: 0, names });
    const results = run.captures.map((c) => ({
      ...goldenCompare(c),
      status: statusDisagreements(run.status[c.name] ?? "", c.table),
      leftover: hasServices(c.afterStop),
    }));
    for (const r of results)
      if (r.error || !r.identical || r.status.length > 0 || r.leftover) {
        const log = run.captures.find((c) => c.name === r.name)?.log ?? "";
        console.log(
          `${r.name}: ${r.error ?? ""}\n${[...r.differences, ...r.status].join("\n")}\n${log}`,
        );
      }
    expect(results).toEqual(
      names.map((name) => ({
        ...goldenMatch(name),
        status: [],
        leftover: false,
      })),
    );
  },
  150_000,
);
