/**
 * The minimal list of IPVS commands that takes the table read from the kernel to the
 * desired one. Services and dests are matched by key; what matches and has equal
 * attributes produces nothing, so a table programmed earlier (by us or by keepalived) is
 * adopted without churn. A service we do not own and do not want is never touched.
 *
 * Order (keepalived does the same by construction, check/ipwrapper.c init_service_vs and
 * clear_service_vs): a service is added before its dests, its dests are deleted before it;
 * within a kept service, new dests go in before old ones leave, so a pool being replaced
 * is never empty in between.
 */
import {
  type Dest,
  destKey,
  type Service,
  type ServiceKeyed,
  sameDestAttrs,
  sameServiceAttrs,
  serviceKey,
  sortTable,
  type Table,
} from "./table.ts";

export type Op =
  | { readonly op: "add-service"; readonly service: Service }
  | { readonly op: "edit-service"; readonly service: Service }
  | { readonly op: "del-service"; readonly service: Service }
  | { readonly op: "add-dest"; readonly service: Service; readonly dest: Dest }
  | { readonly op: "edit-dest"; readonly service: Service; readonly dest: Dest }
  | { readonly op: "del-dest"; readonly service: Service; readonly dest: Dest };

export function diff(current: Table, desired: Table, owned: (svc: ServiceKeyed) => boolean): Op[] {
  const have = new Map(current.services.map((s) => [serviceKey(s), s]));
  const want = new Set(desired.services.map(serviceKey));
  const adds: Op[] = [];
  const dels: Op[] = [];
  for (const s of desired.services) {
    const cur = have.get(serviceKey(s));
    if (!cur) {
      adds.push({ op: "add-service", service: s });
      for (const d of s.dests) adds.push({ op: "add-dest", service: s, dest: d });
      continue;
    }
    if (!sameServiceAttrs(cur, s)) adds.push({ op: "edit-service", service: s });
    const curDests = new Map(cur.dests.map((d) => [destKey(d), d]));
    const wantDests = new Set(s.dests.map(destKey));
    for (const d of s.dests) {
      const c = curDests.get(destKey(d));
      if (!c) adds.push({ op: "add-dest", service: s, dest: d });
      else if (!sameDestAttrs(c, d)) adds.push({ op: "edit-dest", service: s, dest: d });
    }
    for (const c of cur.dests)
      if (!wantDests.has(destKey(c))) dels.push({ op: "del-dest", service: s, dest: c });
  }
  for (const c of current.services) {
    if (want.has(serviceKey(c)) || !owned(c)) continue;
    for (const d of c.dests) dels.push({ op: "del-dest", service: c, dest: d });
    dels.push({ op: "del-service", service: c });
  }
  return [...adds, ...dels];
}

/**
 * What the kernel does with the ops, on a plain table: the model the property test and a
 * simulator check against. Deleting a service also drops its dests, as in the kernel.
 * Throws on an op the kernel would refuse (EEXIST, ENOENT), so a wrong diff shows.
 */
export function applyOps(table: Table, ops: readonly Op[]): Table {
  const svcs = new Map<string, Service>(table.services.map((s) => [serviceKey(s), s]));
  const need = (k: string): Service => {
    const s = svcs.get(k);
    if (!s) throw new Error(`no such service ${k}`);
    return s;
  };
  for (const o of ops) {
    const k = serviceKey(o.service);
    switch (o.op) {
      case "add-service":
        if (svcs.has(k)) throw new Error(`service ${k} exists`);
        svcs.set(k, { ...o.service, dests: [] });
        break;
      case "edit-service":
        svcs.set(k, { ...o.service, dests: need(k).dests });
        break;
      case "del-service":
        need(k);
        svcs.delete(k);
        break;
      default:
        svcs.set(k, applyDest(need(k), o));
    }
  }
  return sortTable([...svcs.values()]);
}

function applyDest(s: Service, o: Op & { dest: Dest }): Service {
  const dk = destKey(o.dest);
  const has = s.dests.some((d) => destKey(d) === dk);
  const rest = s.dests.filter((d) => destKey(d) !== dk);
  if (o.op === "add-dest" && has) throw new Error(`dest ${dk} exists`);
  if (o.op !== "add-dest" && !has) throw new Error(`no such dest ${dk}`);
  return { ...s, dests: o.op === "del-dest" ? rest : [...rest, o.dest] };
}
