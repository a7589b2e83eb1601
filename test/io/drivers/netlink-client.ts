/**
 * Test-side helpers for the netlink drivers: run API calls inside a namespace through
 * netlink-ops.ts, and read the kernel's view back with `ip -j` to compare field by field.
 */
import { REPO, run } from "../../helpers/env.ts";
import type { Netns } from "../../helpers/netns.ts";

export type OpResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Runs `calls` ([function, ...args]) in one driver process inside `ns`, in order. */
export function ops(ns: Netns, calls: readonly (readonly unknown[])[]): OpResult[] {
  const driver = `${REPO}/test/io/drivers/netlink-ops.ts`;
  const r = run(ns.exec([process.execPath, driver, JSON.stringify(calls)]));
  if (r.code !== 0) throw new Error(`netlink-ops exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as OpResult[];
}

/** One call; returns its value or throws its error text, for terse tests. */
export function op(ns: Netns, ...call: readonly unknown[]): unknown {
  const [r] = ops(ns, [call]);
  if (!r) throw new Error("no result");
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

/** `ip -n NS -j ARGS` parsed. */
export function ipJson<T = Record<string, unknown>[]>(ns: Netns, ...args: string[]): T {
  const r = run(["ip", "-n", ns.name, "-j", ...args]);
  if (r.code !== 0) throw new Error(`ip -j ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout || "[]") as T;
}

export interface IpAddrInfo {
  readonly family: string;
  readonly local: string;
  readonly address?: string;
  readonly prefixlen: number;
  readonly broadcast?: string;
  readonly scope: string;
  readonly label?: string;
  readonly valid_life_time: number;
  readonly preferred_life_time: number;
  readonly [flag: string]: unknown;
}

/** The addresses `ip -j addr show dev DEV` lists. */
export function addrInfo(ns: Netns, dev: string): IpAddrInfo[] {
  const links = ipJson<{ addr_info?: IpAddrInfo[] }[]>(ns, "addr", "show", "dev", dev);
  return links[0]?.addr_info ?? [];
}

/** The address `local` on `dev`, or undefined. */
export function findAddr(ns: Netns, dev: string, local: string): IpAddrInfo | undefined {
  return addrInfo(ns, dev).find((a) => a.local === local);
}
