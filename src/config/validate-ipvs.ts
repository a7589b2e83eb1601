/** Validation of virtual servers, real servers and checkers (reference §1.11–§1.14). */
import type { MutableModel } from "./model.ts";
import type { NormCx } from "./normalize.ts";
import { vsName } from "./normalize-ipvs.ts";
import type { Path } from "./path.ts";
import { err, warn } from "./validate.ts";

type Obj = Record<string, unknown>;
const family = (addr: string): 4 | 6 => (addr.includes(":") ? 6 : 4);

export function validateIpvs(m: MutableModel, cx: NormCx): void {
  const seen = new Map<string, number>();
  m.virtual_server.forEach((model, n) => {
    const vs = model as unknown as Obj;
    const p: Path = ["virtual_server", n];
    const key =
      vs.fwmark !== undefined
        ? `fwm|${vs.fwmark}`
        : vs.group !== undefined
          ? `grp|${vs.group}`
          : `ip|${vs.ip}|${vs.port}|${vs.protocol}`;
    if (seen.has(key))
      err(cx, p, "duplicate-virtual-server", `virtual_server ${vsName(vs)} is defined twice`);
    seen.set(key, n);
    if (typeof vs.group === "string" && !m.virtual_server_group?.[vs.group])
      err(
        cx,
        p,
        "undefined-reference",
        `virtual_server group '${vs.group}' is not a defined virtual_server_group`,
      );
    validateFlags(vs, p, cx);
    validateRealServers(vs, p, m, cx);
  });
}

function validateFlags(vs: Obj, p: Path, cx: NormCx): void {
  const name = vsName(vs);
  for (const sched of ["sh", "mh"]) {
    for (const f of [`${sched}-port`, `${sched}-fallback`]) {
      if (vs[f] && vs.lvs_sched !== sched)
        warn(
          cx,
          [...p, f],
          "flag-ignored",
          `virtual_server ${name}: ${f} only applies with lvs_sched ${sched}`,
        );
    }
  }
  if (vs.ops && vs.fwmark === undefined && vs.protocol !== "UDP")
    warn(
      cx,
      [...p, "ops"],
      "flag-ignored",
      `virtual_server ${name}: ops (one-packet scheduling) only applies to UDP or fwmark services`,
    );
  const q = vs.quorum as number;
  const h = vs.hysteresis as number;
  if (h >= q && h > 0)
    warn(
      cx,
      [...p, "hysteresis"],
      "hysteresis-too-big",
      `virtual_server ${name}: hysteresis ${h} should be smaller than quorum ${q}`,
    );
  const sorry = vs.sorry_server as { ip: string } | undefined;
  if (sorry && typeof vs.ip === "string" && family(sorry.ip) !== family(vs.ip))
    err(
      cx,
      [...p, "sorry_server"],
      "family-mismatch",
      `virtual_server ${name}: sorry_server ${sorry.ip} is not the service's family`,
    );
}

function validateRealServers(vs: Obj, p: Path, m: MutableModel, cx: NormCx): void {
  const name = vsName(vs);
  const seen = new Set<string>();
  const list = (vs.real_server ?? NONE) as Obj[];
  for (let n = 0; n < list.length; n++) {
    const rs = list[n] as Obj;
    const rp: Path = p.concat("real_server", n);
    const id = `${rs.ip}|${rs.port}`;
    if (seen.has(id))
      err(
        cx,
        rp,
        "duplicate-real-server",
        `virtual_server ${name}: real_server ${rs.ip} ${rs.port ?? ""} is listed twice`,
      );
    seen.add(id);
    const method = (rs.lvs_method as { method?: string } | undefined)?.method;
    if (typeof vs.ip === "string" && method !== "TUN" && family(String(rs.ip)) !== family(vs.ip))
      err(
        cx,
        rp,
        "family-mismatch",
        `virtual_server ${name}: real_server ${rs.ip} is not the service's family (only TUN may mix)`,
      );
    validateCheckers(rs, rp, m, cx);
  }
}

/** Shared stand-in for an absent list: tens of thousands of real servers have no checker. */
const NONE: readonly Obj[] = [];
const HTTP_CHECKERS = ["HTTP_GET", "SSL_GET"] as const;

function validateCheckers(rs: Obj, rp: Path, m: MutableModel, cx: NormCx): void {
  // Most real servers of a large configuration have no checker at all.
  if (
    (rs.HTTP_GET ?? rs.SSL_GET ?? rs.MISC_CHECK ?? rs.FILE_CHECK ?? rs.BFD_CHECK ?? null) === null
  )
    return;
  for (const type of HTTP_CHECKERS) {
    ((rs[type] ?? NONE) as Obj[]).forEach((c, n) => {
      const urls = (c.url ?? NONE) as Obj[];
      if (urls.length === 0)
        err(cx, [...rp, type, n], "url-missing", `${type} needs at least one url { path … }`);
      urls.forEach((u, k) => {
        if (!u.path)
          err(cx, [...rp, type, n, "url", k], "url-path-missing", `${type} url needs a path`);
      });
    });
  }
  ((rs.MISC_CHECK ?? NONE) as Obj[]).forEach((c, n) => {
    if (!c.misc_path)
      err(cx, [...rp, "MISC_CHECK", n], "misc-path-missing", "MISC_CHECK needs misc_path");
  });
  ((rs.FILE_CHECK ?? NONE) as Obj[]).forEach((c, n) => {
    const f = c.track_file as string | undefined;
    if (!f || !m.track_file[f])
      err(
        cx,
        [...rp, "FILE_CHECK", n],
        "undefined-reference",
        `FILE_CHECK track_file '${f ?? ""}' is not a defined track_file`,
      );
  });
  ((rs.BFD_CHECK ?? NONE) as Obj[]).forEach((c, n) => {
    const b = c.name as string | undefined;
    if (!b || !m.bfd_instance?.[b])
      err(
        cx,
        [...rp, "BFD_CHECK", n],
        "undefined-reference",
        `BFD_CHECK name '${b ?? ""}' is not a defined bfd_instance`,
      );
  });
}
