/**
 * `agent status|reload|failover|maintenance` as a user runs them (`bun src/main.ts …` in a
 * child process) against a control server this test starts with fake handlers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { type ControlServer, startControlServer } from "../../src/agent/control.ts";
import type { StatusDoc, StatusInstance } from "../../src/agent/status-types.ts";
import { renderStatus } from "../../src/cli/status-format.ts";
import { AgentError } from "../../src/errors.ts";
import { agentCmd, type Ran, REPO } from "../helpers/env.ts";

const tmp = mkdtempSync(`${tmpdir()}/agent-status-`);
const quiet = { debug() {}, info() {}, warn() {} };

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Asynchronous on purpose: the server answering the child runs in this process. */
async function agent(...args: string[]): Promise<Ran> {
  const p = Bun.spawn(agentCmd(args), {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await within(
    Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]),
    20_000,
    `agent ${args.join(" ")}`,
  );
  return { code, stdout, stderr };
}

const COUNTERS = {
  advert_rcvd: 1200,
  advert_sent: 3,
  become_master: 1,
  release_master: 0,
  packet_len_err: 0,
  advert_interval_err: 0,
  ip_ttl_err: 0,
  invalid_type_rcvd: 0,
  addr_list_err: 0,
  invalid_authtype: 0,
  authtype_mismatch: 0,
  auth_failure: 0,
  pri_zero_rcvd: 0,
  pri_zero_sent: 0,
  chk_err: 0,
  vers_err: 0,
};

function instance(over: Partial<StatusInstance> & Pick<StatusInstance, "name">): StatusInstance {
  return {
    vrid: 51,
    interface: "eth0",
    family: 4,
    version: 2,
    state: "BACKUP",
    since: "2025-01-01T00:00:00.000Z",
    priority: { base: 100, effective: 100 },
    advert_interval_ms: 1000,
    master_down_interval_ms: 3609,
    skew_ms: 609,
    vips: [],
    faults: [],
    trackers: [],
    counters: COUNTERS,
    ...over,
  };
}

/** A StatusDoc whose times are `nowMs` minus fixed offsets, so "… ago" is predictable. */
function fixture(nowMs: number, maintenance: boolean): StatusDoc {
  const ago = (ms: number) => new Date(nowMs - ms).toISOString();
  return {
    schema: 1,
    agent: { version: "0.1.0", commit: "abc1234", pid: 4242, started: ago(7_380_000), maintenance },
    config: { file: "/etc/keepalived/keepalived.conf", loaded: ago(300_000), reloads: 2 },
    instances: [
      instance({
        name: "VI_WEB",
        state: "MASTER",
        since: ago(192_000),
        priority: { base: 100, effective: 110 },
        vips: ["192.0.2.10/24", "192.0.2.11/24"],
        last_transition: {
          from: "BACKUP",
          to: "MASTER",
          reason: "master down timer",
          at: ago(192_000),
        },
        sync_group: "G_EDGE",
      }),
      instance({
        name: "VI_DB",
        vrid: 52,
        since: ago(3_725_000),
        master: { address: "198.51.100.2", priority: 150, seen: ago(400) },
        last_transition: { from: "INIT", to: "BACKUP", reason: "startup", at: ago(3_725_000) },
        sync_group: "G_EDGE",
      }),
      instance({
        name: "VI6_API",
        vrid: 53,
        family: 6,
        version: 3,
        state: "FAULT",
        since: ago(45_000),
        priority: { base: 90, effective: 90 },
        faults: ["track_interface eth1 down"],
      }),
    ],
    sync_groups: [{ name: "G_EDGE", state: "MASTER", members: ["VI_WEB", "VI_DB"] }],
    virtual_servers: [],
  };
}

const DIAG = {
  file: "/etc/keepalived/keepalived.conf",
  line: 12,
  col: 3,
  severity: "error",
  code: "vrid-range",
  message: "virtual_router_id 300 is out of range 1..255",
};

let server: ControlServer;
const sock = `${tmp}/x.sock`;
let maintenance = false;
let reloadOk = true;
const failovers: (string | undefined)[] = [];
const drains: boolean[] = [];

beforeAll(async () => {
  server = await startControlServer(
    sock,
    {
      status: () => fixture(Date.now(), maintenance),
      reload: async () => (reloadOk ? { ok: true } : { ok: false, diagnostics: [DIAG] }),
      failover: async (i) => {
        if (i === "VI_NOPE") throw new AgentError("E_USAGE", "no vrrp_instance VI_NOPE");
        failovers.push(i);
        return { handed_over: i ? [i] : ["VI_WEB"] };
      },
      maintenance: async (on) => {
        drains.push(on);
        maintenance = on;
        return { maintenance: on };
      },
    },
    quiet,
  );
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("agent status", () => {
  test("the table shows instance, state, priority, master seen, VIPs, since, reason", async () => {
    maintenance = false;
    const r = await agent("status", "--control", sock);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = r.stdout.split("\n");
    const row = (name: string) => rows.find((l) => l.startsWith(`${name} `)) ?? "";
    expect(rows.find((l) => l.startsWith("INSTANCE"))).toMatch(
      /^INSTANCE\s+STATE\s+PRIO EFF\/BASE\s+MASTER SEEN\s+VIPS\s+SINCE\s+LAST REASON$/,
    );
    expect(row("VI_WEB")).toMatch(
      /^VI_WEB\s+MASTER\s+110\/100\s+-\s+192\.0\.2\.10\/24, 192\.0\.2\.11\/24\s+3m1[2-5]s ago\s+master down timer$/,
    );
    expect(row("VI_DB")).toMatch(
      /^VI_DB\s+BACKUP\s+100\/100\s+198\.51\.100\.2 \(150\)\s+-\s+1h02m ago\s+startup$/,
    );
    expect(row("VI6_API")).toMatch(
      /^VI6_API\s+FAULT\s+90\/90\s+.*faults: track_interface eth1 down$/,
    );
    expect(row("G_EDGE")).toMatch(/^G_EDGE\s+MASTER\s+VI_WEB, VI_DB$/);
    expect(r.stdout).toContain("pid 4242");
    expect(r.stdout).toContain("/etc/keepalived/keepalived.conf");
    expect(r.stdout).not.toContain("MAINTENANCE");
  });

  test("--json prints the status document itself", async () => {
    const before = Date.now();
    const r = await agent("status", "--json", "--control", sock);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as StatusDoc;
    // The fixture's times move with the clock: rebuild it for the moment it was served.
    const servedMs = Date.parse(doc.config.loaded) + 300_000;
    expect(servedMs).toBeGreaterThanOrEqual(before);
    expect(doc).toEqual(fixture(servedMs, maintenance));
    expect(r.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  test("exit 3 and a clear message when no agent answers", async () => {
    const none = `${tmp}/none.sock`;
    const r = await agent("status", "--control", none);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`no agent answers on ${none}: `);
    expect(r.stderr).not.toContain("internal error");
  });

  test("--help names --control and --json", async () => {
    const r = await agent("status", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--control");
    expect(r.stdout).toContain("--json");
  });
});

describe("agent maintenance, failover, reload", () => {
  test("maintenance on is passed on and the banner appears in status; off clears it", async () => {
    const on = await agent("maintenance", "on", "--control", sock);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain("maintenance on");
    expect(drains.at(-1)).toBe(true);
    const st = await agent("status", "--control", sock);
    expect(st.stdout).toContain("MAINTENANCE ON");
    const off = await agent("maintenance", "off", "--control", sock);
    expect(off.code).toBe(0);
    expect(drains.at(-1)).toBe(false);
    expect((await agent("status", "--control", sock)).stdout).not.toContain("MAINTENANCE");
  });

  test("maintenance with neither on nor off is bad usage", async () => {
    const r = await agent("maintenance", "maybe", "--control", sock);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'on' or 'off'");
  });

  test("failover names the instance or none; a refused one exits 1 with the agent's words", async () => {
    const one = await agent("failover", "VI_WEB", "--control", sock, "--json");
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ handed_over: ["VI_WEB"] });
    const all = await agent("failover", "--control", sock);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("all instances");
    expect(failovers.slice(-2)).toEqual(["VI_WEB", undefined]);
    const bad = await agent("failover", "VI_NOPE", "--control", sock);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("no vrrp_instance VI_NOPE [E_USAGE]");
  });

  test("reload: accepted → exit 0; refused → exit 1 with the diagnostics", async () => {
    reloadOk = true;
    const ok = await agent("reload", "--control", sock);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("reloaded\n");
    reloadOk = false;
    const bad = await agent("reload", "--control", sock);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "/etc/keepalived/keepalived.conf:12:3: error: virtual_router_id 300 is out of range 1..255 [vrid-range]",
    );
    expect(bad.stderr).toContain("[E_RELOAD_REJECTED]");
  });

  test("every control command exits 3 when no agent answers", async () => {
    const none = `${tmp}/gone.sock`;
    for (const args of [["reload"], ["failover", "VI_1"], ["maintenance", "on"]]) {
      const r = await agent(...args, "--control", none);
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toContain(`no agent answers on ${none}`);
    }
  });
});

describe("renderStatus", () => {
  test("renders the whole table, to the character", () => {
    const now = Date.parse("2025-06-01T12:00:00.000Z");
    expect(renderStatus(fixture(now, true), now)).toBe(
      [
        "agent 0.1.0 (pid 4242, up 2h03m) · config /etc/keepalived/keepalived.conf (loaded 5m00s ago, 2 reloads)",
        "",
        "*** MAINTENANCE ON: this node stays BACKUP and never becomes MASTER ('agent maintenance off' ends it) ***",
        "",
        "INSTANCE  STATE   PRIO EFF/BASE  MASTER SEEN         VIPS                          SINCE      LAST REASON",
        "VI_WEB    MASTER  110/100        -                   192.0.2.10/24, 192.0.2.11/24  3m12s ago  master down timer",
        "VI_DB     BACKUP  100/100        198.51.100.2 (150)  -                             1h02m ago  startup",
        "VI6_API   FAULT   90/90          -                   -                             45s ago    faults: track_interface eth1 down",
        "",
        "SYNC GROUP  STATE   MEMBERS",
        "G_EDGE      MASTER  VI_WEB, VI_DB",
        "",
      ].join("\n"),
    );
  });

  test("virtual servers: one row per real server, checkers in a few words", () => {
    const now = Date.parse("2025-06-01T12:00:00.000Z");
    const doc = {
      ...fixture(now, false),
      virtual_servers: [
        {
          name: "192.0.2.1:80/TCP",
          scheduler: "wrr",
          forwarding: "NAT" as const,
          quorum_up: false,
          sorry_server_active: true,
          real_servers: [
            {
              address: "198.51.100.1",
              port: 80,
              alive: true,
              weight: 3,
              configured_weight: 3,
              kernel_weight: 0,
              checkers: [
                { type: "TCP_CHECK", state: "up" as const, attempts: 3, last_latency_ms: 0.42 },
              ],
            },
            {
              address: "2001:db8::2",
              port: 8080,
              alive: false,
              weight: 1,
              configured_weight: 1,
              checkers: [
                {
                  type: "HTTP_GET",
                  state: "down" as const,
                  attempts: 5,
                  last_reason: "status 500",
                },
              ],
            },
          ],
        },
        {
          name: "fwmark 7",
          scheduler: "sh",
          forwarding: "DR" as const,
          quorum_up: true,
          sorry_server_active: false,
          real_servers: [],
        },
      ],
    };
    const text = renderStatus(doc, now);
    expect(text.slice(text.indexOf("VIRTUAL SERVER"))).toBe(
      [
        "VIRTUAL SERVER                                               REAL SERVER         STATE  WEIGHT KERNEL/NOW  CHECKERS",
        "192.0.2.1:80/TCP wrr/NAT [quorum down, sorry server active]  198.51.100.1:80     up     0/3                TCP_CHECK up 0.4ms",
        "                                                             [2001:db8::2]:8080  down   -/1                HTTP_GET down (status 500)",
        "fwmark 7 sh/DR                                               -                   -      -                  -",
        "",
      ].join("\n"),
    );
  });

  test("no instances says so", () => {
    const now = Date.parse("2025-06-01T12:00:00.000Z");
    const doc = { ...fixture(now, false), instances: [], sync_groups: [] };
    expect(renderStatus(doc, now)).toContain("\nno VRRP instances\n");
  });
});
