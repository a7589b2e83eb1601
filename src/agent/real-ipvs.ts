/**
 * The real IpvsHostIo: the kernel through generic netlink (io/ipvs.ts, mapped by
 * core/ipvs/wire.ts), the probes of io/check-*.ts, and a setTimeout timer on the host's clock.
 */
import type { Op } from "../core/ipvs/diff.ts";
import type { Table } from "../core/ipvs/table.ts";
import { sortTable } from "../core/ipvs/table.ts";
import { fromWire, toWireDest, toWireService } from "../core/ipvs/wire.ts";
import { probeDns } from "../io/check-dns.ts";
import { probeHttpGet } from "../io/check-http.ts";
import { probeMisc } from "../io/check-misc.ts";
import { probePing } from "../io/check-ping.ts";
import { probeSmtp } from "../io/check-smtp.ts";
import { type CheckProbeResult, probeTcp } from "../io/check-tcp.ts";
import { probeUdp } from "../io/check-udp.ts";
import type { Ipvs, IpvsCommand } from "../io/ipvs.ts";
import type { ScriptRunner } from "../io/script-runner.ts";
import type { IpvsHostIo, ProbeSpec } from "./ipvs-host.ts";

export interface RealIpvsDeps {
  /** An open kernel handle (Ipvs.open()); the caller closes it. */
  readonly ipvs: Ipvs;
  /** For MISC_CHECK; without it a MISC_CHECK probe fails ("no script runner"). */
  readonly runner?: ScriptRunner;
  /** The clock IpvsHost is given, so `schedule` can turn its deadlines into delays. */
  readonly nowMs: () => number;
}

export class RealIpvsHostIo implements IpvsHostIo {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: RealIpvsDeps) {}

  readTable(): Table {
    const k = this.deps.ipvs;
    return sortTable(k.services().map((s) => fromWire(s, k.dests(s.key))));
  }

  apply(op: Op): void {
    const k = this.deps.ipvs;
    const s = toWireService(op.service);
    switch (op.op) {
      case "add-service":
        k.addService(s);
        return;
      case "edit-service":
        k.editService(s);
        return;
      case "del-service":
        k.delService(s);
        return;
      case "add-dest":
        k.addDest(s, toWireDest(op.dest));
        return;
      case "edit-dest":
        k.editDest(s, toWireDest(op.dest));
        return;
      case "del-dest":
        k.delDest(s, toWireDest(op.dest));
        return;
    }
  }

  /** Many commands at once (Ipvs.batch): the count that succeeded in order, and the refusal. */
  applyMany(ops: readonly Op[]): { done: number; error?: unknown } {
    return this.deps.ipvs.batch(ops.map(opCommand));
  }

  schedule(atMs: number | undefined, fn: () => void): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (atMs === undefined) return;
    const delayMs = Math.max(0, atMs - this.deps.nowMs());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fn();
    }, delayMs);
  }

  probe(p: ProbeSpec): Promise<CheckProbeResult> {
    if (p.kind === "TCP") return probeTcp(p.spec);
    if (p.kind === "HTTP") return probeHttpGet(p.spec);
    if (p.kind === "UDP") return probeUdp(p.spec);
    if (p.kind === "DNS") return probeDns(p.spec);
    if (p.kind === "SMTP") return probeSmtp(p.spec);
    if (p.kind === "PING") return probePing(p.spec);
    const runner = this.deps.runner;
    if (!runner) return Promise.resolve({ ok: false, reason: "no script runner", latencyMs: 0 });
    return probeMisc({
      runner,
      script: p.script,
      timeoutMs: p.timeoutMs,
      dynamic: p.dynamic,
      why: p.why,
    });
  }

  random(): number {
    return Math.random();
  }
}

/** One diff op as the kernel command that carries it out. */
function opCommand(op: Op): IpvsCommand {
  const service = toWireService(op.service);
  switch (op.op) {
    case "add-service":
      return { op: "addService", service };
    case "edit-service":
      return { op: "editService", service };
    case "del-service":
      return { op: "delService", service };
    case "add-dest":
      return { op: "addDest", service, dest: toWireDest(op.dest) };
    case "edit-dest":
      return { op: "editDest", service, dest: toWireDest(op.dest) };
    case "del-dest":
      return { op: "delDest", service, dest: toWireDest(op.dest) };
  }
}
