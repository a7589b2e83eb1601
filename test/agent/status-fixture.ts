/**
 * Real agents on the simulated segment (src/agent/sim-io.ts) for the status document and
 * dump tests: a config text → model → plans → Agent with Tracking and Hooks, as
 * test/agent/tracking.test.ts builds them. Wall-clock time is a fixed base plus the
 * simulator's monotonic milliseconds, so every date in a document is predictable.
 */
import { readFileSync } from "node:fs";
import { createConsola } from "consola";
import { Hooks } from "../../src/agent/hooks.ts";
import { Agent } from "../../src/agent/loop.ts";
import { planInstances } from "../../src/agent/params.ts";
import { type SimHost, SimNet } from "../../src/agent/sim-io.ts";
import { type SnapshotMeta, snapshot } from "../../src/agent/snapshot.ts";
import type { StatusDoc } from "../../src/agent/status-types.ts";
import { planTracking } from "../../src/agent/track-plan.ts";
import { loadText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/model.ts";
import { REPO } from "../helpers/env.ts";
import type { Schema } from "../helpers/json-schema.ts";

const quiet = createConsola({ level: -999 });

/** 2026-01-02T03:04:05.000Z: the simulator's time 0. */
export const BASE_MS = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
export const wallOf = (monoMs: number): Date => new Date(BASE_MS + monoMs);
export const isoAt = (monoMs: number): string => wallOf(monoMs).toISOString();

export const STATUS_SCHEMA = JSON.parse(
  readFileSync(`${REPO}/docs/status.schema.json`, "utf8"),
) as Schema;

export { SimNet };

export interface Node {
  readonly host: SimHost;
  readonly agent: Agent;
  readonly model: Model;
}

/** A host with eth0 (192.0.2.(10+n)) and eth1 (198.51.100.(10+n)), running `conf`. */
export async function node(
  net: SimNet,
  name: string,
  n: number,
  conf: string,
  setup?: (h: SimHost) => void,
): Promise<Node> {
  const host = net.host(name, [
    { name: "eth0", ipv4: `192.0.2.${10 + n}`, ipv6: `fe80::${n}` },
    { name: "eth1", ipv4: `198.51.100.${10 + n}`, ipv6: `fe80::1:${n}` },
  ]);
  setup?.(host);
  const loaded = loadText(conf, `/${name}.conf`, "keepalived", { offline: true });
  if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  const model = loaded.model;
  const agent = new Agent(planInstances(model, host), host, quiet, {
    hooks: new Hooks(model, host),
    tracking: { model, plan: planTracking(model), io: host, linkUp: (i) => host.isUp(i) },
  });
  await agent.start();
  return { host, agent, model };
}

export function meta(over: Partial<SnapshotMeta> = {}): SnapshotMeta {
  return {
    version: "0.1.0-test",
    commit: "0123abc",
    pid: 4242,
    startedAt: wallOf(0),
    configFile: "/etc/keepalived/keepalived.conf",
    loadedAt: wallOf(0),
    reloads: 0,
    maintenance: false,
    wallOf,
    ...over,
  };
}

export const docOf = (n: Node, over: Partial<SnapshotMeta> = {}): StatusDoc =>
  snapshot(n.agent, meta(over));

/** The secret every fixture config uses; it must never appear in any output. */
export const SECRET = "pw0Secr";

/** A vrrp_instance block in keepalived syntax. */
export function instance(o: {
  name?: string;
  vrid?: number;
  priority: number;
  state?: "MASTER" | "BACKUP";
  version?: 2 | 3;
  advert?: number;
  auth?: boolean;
  vips?: string[];
  evips?: string[];
  extra?: string;
}): string {
  const vrid = o.vrid ?? 51;
  const vips = o.vips ?? [`192.0.2.${vrid + 50}/24`];
  return `vrrp_instance ${o.name ?? "VI_1"} {
    state ${o.state ?? "BACKUP"}
    interface eth0
    virtual_router_id ${vrid}
    priority ${o.priority}
    advert_int ${o.advert ?? 1}
    ${o.version ? `version ${o.version}` : ""}
    ${o.auth ? `authentication {\n        auth_type PASS\n        auth_pass ${SECRET}\n    }` : ""}
    virtual_ipaddress {
        ${vips.join("\n        ")}
    }
    ${o.evips ? `virtual_ipaddress_excluded {\n        ${o.evips.join("\n        ")}\n    }` : ""}
    ${o.extra ?? ""}
}
`;
}

export const GLOBAL = "global_defs {\n    router_id test-node\n}\n";
