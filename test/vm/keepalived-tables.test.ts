/**
 * The reference IPVS tables (test/vm/ipvs-tables/*.txt) are reproducible: keepalived 2.2.7,
 * run in the User-mode-Linux guest on each test/vm/ipvs-configs/*.conf, still programs exactly
 * those tables, and removes them again on SIGTERM. One guest boot covers every config
 * (about 30 s here). Regenerate the files with `bun test/vm/keepalived-tables.ts`.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { missing } from "../helpers/env.ts";
import {
  CONFIG_DIR,
  captureTables,
  configTest,
  goldenPath,
  guestSetupProblem,
  hasServices,
  KEEPALIVED,
  listConfigs,
  normalizeTable,
  parseConsole,
  TABLE_DIR,
} from "./keepalived-tables.ts";

const noKeepalived = missing({ paths: [KEEPALIVED] });
const whyNoGuest =
  missing({ root: true, commands: ["apt-get", "dpkg-deb", "ipvsadm"], paths: [KEEPALIVED] }) ??
  guestSetupProblem();

test("parseConsole splits the guest's marked sections and keeps a config's error", () => {
  const out = [
    "=== ipvs-vm: boot noise",
    "@@BEGIN a",
    "@@TABLE",
    "TCP  192.0.2.1:80 rr   ",
    "",
    "@@THRESHOLDS",
    "th",
    "@@TIMEOUT",
    "Timeout (tcp tcpfin udp): 900 120 300",
    "@@SAVE",
    "-A -t 192.0.2.1:80 -s rr",
    "@@AFTER_STOP",
    "Prot LocalAddress:Port Scheduler Flags",
    "@@LOG",
    "Startup complete",
    "@@END rc=0 ready_ms=12 stop_ms=3",
    "",
    "@@BEGIN b",
    "@@TABLE",
    "@@END rc=0 ready_ms=20000 stop_ms=4 error=ready-table never matched: x",
    "IPVS_VM_EXIT=0",
  ].join("\n");
  const caps = parseConsole(out);
  expect(caps.map((c) => c.name)).toEqual(["a", "b"]);
  expect(caps[0]?.table).toBe(
    "TCP  192.0.2.1:80 rr\nth\nTimeout (tcp tcpfin udp): 900 120 300\n-A -t 192.0.2.1:80 -s rr\n",
  );
  expect(caps[0]?.afterStop).toBe("Prot LocalAddress:Port Scheduler Flags\n");
  expect(caps[0]?.log).toBe("Startup complete\n");
  expect([caps[0]?.readyMs, caps[0]?.stopMs, caps[0]?.error]).toEqual([12, 3, undefined]);
  expect(caps[1]?.error).toBe("ready-table never matched: x");
  expect(hasServices(caps[0]?.table ?? "")).toBe(true);
  expect(hasServices(caps[0]?.afterStop ?? "")).toBe(false);
});

test("every config has a golden table and every golden table a config", () => {
  const tables = readdirSync(TABLE_DIR)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -".txt".length))
    .sort();
  expect(listConfigs(CONFIG_DIR)).toEqual(tables);
  for (const n of tables) {
    const golden = readFileSync(goldenPath(n), "utf8");
    expect(normalizeTable(golden)).toBe(golden);
    expect(hasServices(golden)).toBe(true);
  }
});

test.skipIf(noKeepalived !== undefined)(
  `keepalived 2.2.7's own config check accepts every config without a message${noKeepalived ? ` (skipped: ${noKeepalived})` : ""}`,
  () => {
    const verdicts = listConfigs().map((n) => configTest(n));
    expect(verdicts.filter((v) => v.code !== 0 || v.messages.length > 0)).toEqual([]);
  },
);

test.skipIf(whyNoGuest !== undefined)(
  `in a UML guest, keepalived 2.2.7 programs exactly the golden tables and removes them on SIGTERM${whyNoGuest ? ` (skipped: ${whyNoGuest})` : ""}`,
  async () => {
    const names = listConfigs();
    const run = await captureTables(names, { timeoutS: 100 });
    console.log(`keepalived tables: ${names.length} configs in ${run.wallMs.toFixed(0)} ms`);
    if (run.exitCode !== 0 || run.captures.length !== names.length)
      console.log(run.console, run.stderr);
    expect(run.exitCode).toBe(0);
    expect(run.captures.map((c) => c.name)).toEqual(names);
    for (const c of run.captures) {
      if (c.error) console.log(`${c.name}: ${c.error}\n${c.log}`);
      const path = goldenPath(c.name);
      const want = existsSync(path) ? readFileSync(path, "utf8") : "(missing)";
      expect({ name: c.name, error: c.error, table: c.table }).toEqual({
        name: c.name,
        error: undefined,
        table: want,
      });
      expect({ name: c.name, leftover: hasServices(c.afterStop) }).toEqual({
        name: c.name,
        leftover: false,
      });
    }
  },
  120_000,
);
