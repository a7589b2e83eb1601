/**
 * `agent status` without --json: the StatusDoc as a compact table for a human at a terminal.
 * Pure — the caller passes the clock reading — so the rendering is testable to the character.
 */
import type {
  StatusDoc,
  StatusInstance,
  StatusRealServer,
  StatusVirtualServer,
} from "../agent/status-types.ts";

/** "45s", "3m12s", "2h05m", "3d04h": two units at most, the larger first. */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** An ISO time relative to `nowMs`: "3m12s ago"; a clock step backwards says so. */
export function formatAgo(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const ms = nowMs - t;
  if (Math.abs(ms) < 1000) return "just now";
  return ms > 0 ? `${formatDuration(ms)} ago` : `in ${formatDuration(ms)}`;
}

/** Left-aligned columns, two spaces apart, no trailing blanks. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

function instanceRow(i: StatusInstance, nowMs: number): string[] {
  const master = i.master ? `${i.master.address} (${i.master.priority})` : "-";
  const reason = [
    i.last_transition?.reason,
    i.faults.length ? `faults: ${i.faults.join(", ")}` : undefined,
  ].filter((x): x is string => x !== undefined && x !== "");
  return [
    i.name,
    i.state,
    `${i.priority.effective}/${i.priority.base}`,
    master,
    i.vips.length ? i.vips.join(", ") : "-",
    formatAgo(i.since, nowMs),
    reason.length ? reason.join("; ") : "-",
  ];
}

/** "TCP_CHECK up 1.2ms", "HTTP_GET down (status 500)": each checker in a few words. */
function checkerText(rs: StatusRealServer): string {
  if (rs.checkers.length === 0) return "-";
  return rs.checkers
    .map((c) => {
      const latency = c.last_latency_ms === undefined ? "" : ` ${c.last_latency_ms.toFixed(1)}ms`;
      const why = c.state === "down" && c.last_reason ? ` (${c.last_reason})` : "";
      return `${c.type} ${c.state}${latency}${why}`;
    })
    .join(", ");
}

function realServerRows(vs: StatusVirtualServer): string[][] {
  const flags = [
    vs.quorum_up ? undefined : "quorum down",
    vs.sorry_server_active ? "sorry server active" : undefined,
  ].filter((x): x is string => x !== undefined);
  const head = `${vs.name} ${vs.scheduler}/${vs.forwarding}${flags.length ? ` [${flags.join(", ")}]` : ""}`;
  if (vs.real_servers.length === 0) return [[head, "-", "-", "-", "-"]];
  return vs.real_servers.map((rs, n) => [
    n === 0 ? head : "",
    `${rs.address.includes(":") ? `[${rs.address}]` : rs.address}:${rs.port}`,
    rs.alive ? "up" : "down",
    `${rs.kernel_weight ?? "-"}/${rs.weight}`,
    checkerText(rs),
  ]);
}

export function renderStatus(doc: StatusDoc, nowMs: number): string {
  const a = doc.agent;
  const c = doc.config;
  const reloads = `${c.reloads} reload${c.reloads === 1 ? "" : "s"}`;
  const startedMs = Date.parse(a.started);
  const up = Number.isNaN(startedMs) ? a.started : formatDuration(nowMs - startedMs);
  let out =
    `agent ${a.version} (pid ${a.pid}, up ${up})` +
    ` · config ${c.file} (loaded ${formatAgo(c.loaded, nowMs)}, ${reloads})\n`;
  if (a.maintenance)
    out +=
      "\n*** MAINTENANCE ON: this node stays BACKUP and never becomes MASTER" +
      " ('agent maintenance off' ends it) ***\n";
  out += "\n";
  out += doc.instances.length
    ? table(
        ["INSTANCE", "STATE", "PRIO EFF/BASE", "MASTER SEEN", "VIPS", "SINCE", "LAST REASON"],
        doc.instances.map((i) => instanceRow(i, nowMs)),
      )
    : "no VRRP instances\n";
  if (doc.sync_groups.length)
    out += `\n${table(
      ["SYNC GROUP", "STATE", "MEMBERS"],
      doc.sync_groups.map((g) => [g.name, g.state, g.members.join(", ")]),
    )}`;
  if (doc.virtual_servers.length)
    out += `\n${table(
      ["VIRTUAL SERVER", "REAL SERVER", "STATE", "WEIGHT KERNEL/NOW", "CHECKERS"],
      doc.virtual_servers.flatMap(realServerRows),
    )}`;
  return out;
}
