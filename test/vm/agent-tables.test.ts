/**
 * Issue 6, the agent's side: for every test/vm/ipvs-configs/*.conf, the table edge-agent
 * programs (loadConfig → desiredTable → diff → src/io/ipvs.ts, in the User-mode-Linux guest of
 * test/vm/ipvs-vm.sh) must equal, after keepalived-tables.ts's normalization, the golden table
 * keepalived 2.2.7 programs for the same config (test/vm/ipvs-tables/*.txt). A difference fails
 * the test and is printed as a line diff. One guest boot covers every config.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { missing } from "../helpers/env.ts";
import { captureAgentTables, downServers, guestHealth } from "./agent-tables.ts";
import {
  CONFIG_DIR,
  goldenCompare,
  goldenMatch,
  guestSetupProblem,
  hasServices,
  listConfigs,
  runOutline,
} from "./keepalived-tables.ts";

const whyNoGuest =
  missing({ root: true, commands: ["apt-get", "dpkg-deb", "ipvsadm"] }) ?? guestSetupProblem();

test("guestHealth marks exactly the real servers that carry a checker down", () => {
  const base = { ip: "198.51.100.1", weight: 1, lvs_method: { method: "NAT" } };
  expect(guestHealth(base)).toBe("up");
  expect(guestHealth({ ...base, TCP_CHECK: [{ connect_timeout: 1 }] } as typeof base)).toBe("down");
  expect(guestHealth({ ...base, HTTP_GET: [] } as typeof base)).toBe("up");
  // The servers whose checker fails in keepalived's run, as the golden tables show them:
  // inhibit .82 at weight 0, quorum .74 and sorry .62 replaced by the sorry server.
  const down = Object.fromEntries(
    listConfigs().map((n) => [n, downServers(join(CONFIG_DIR, `${n}.conf`))]),
  );
  expect(down).toEqual({
    dr: [],
    fwmark: [],
    inhibit: ["198.51.100.82:9"],
    ipv6: [],
    nat: [],
    quorum: ["198.51.100.74:80"],
    sorry: ["198.51.100.62:80"],
    tun: [],
    vsg: [],
  });
});

test.skipIf(whyNoGuest !== undefined)(
  `in a UML guest, the agent programs exactly keepalived's golden table for every config${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  async () => {
    const names = listConfigs();
    const run = await captureAgentTables(names, { timeoutS: 100 });
    console.log(`agent tables: ${names.length} configs in ${run.wallMs.toFixed(0)} ms`);
    expect(runOutline(run, names)).toEqual({ exitCode: 0, names });
    const results = run.captures.map((c) => ({
      ...goldenCompare(c),
      // Ops a second reconcile finds right after the first (agent-tables.ts logs them).
      again: c.log.split("\n").filter((l) => l.startsWith("again: ")),
      leftover: hasServices(c.afterStop),
    }));
    for (const r of results)
      if (r.error || !r.identical || r.again.length > 0)
        console.log(`${r.name}: ${r.error ?? ""}\n${[...r.differences, ...r.again].join("\n")}`);
    expect(results).toEqual(
      names.map((name) => ({
        ...goldenMatch(name),
        again: [],
        leftover: false,
      })),
    );
  },
  60_000,
);
