/** The line codecs (lines/*.ts) as argument codecs for `lines(...)` blocks. */

import type { Tok } from "../keepalived/types.ts";
import * as address from "../lines/address.ts";
import type { Result as LineResult } from "../lines/common.ts";
import * as route from "../lines/route.ts";
import * as rule from "../lines/rule.ts";
import * as vsg from "../lines/vsg.ts";
import type { ArgCodec, TomlValue } from "./args.ts";

interface LineCodec<T> {
  fromTokens(toks: readonly Tok[]): LineResult<T>;
  fromToml(v: unknown): LineResult<T>;
  toLine(v: T): string;
}

/**
 * For a lines block the whole line is the item; toArgs writes the line. The example is
 * given as keepalived text and read by the codec itself, so it is always canonical.
 */
function adapt<T>(c: LineCodec<T>, exampleLine: string, what: string): ArgCodec<T> {
  const words = exampleLine
    .split(" ")
    .map((text, i) => ({ text, quoted: false, file: "", line: 1, col: i + 1 }));
  const example = c.fromTokens(words).value;
  if (example === undefined) throw new Error(`schema example does not parse: ${exampleLine}`);
  return {
    fromTokens: (toks) => c.fromTokens(toks),
    fromToml: (v) => c.fromToml(v),
    toArgs: (v) => c.toLine(v),
    toToml: (v) => v as unknown as TomlValue,
    example,
    what,
  };
}

export const addressLine = adapt<address.AddressLine>(
  address,
  "192.0.2.100/24 dev eth0 label eth0:vip",
  "address lines: ADDR[/LEN] [brd ADDR|+|-] [dev IF] [scope S] [label L] [peer ADDR] [-nodad] [no_track] …",
);
export const routeLine = adapt(
  route,
  "198.51.100.0/24 via 192.0.2.1 dev eth0 table 100",
  "route lines as `ip route`: [src A] [to] PREFIX [via A] [dev IF] [table T] [metric N] [nexthop …] …",
);
export const ruleLine = adapt(
  rule,
  "from 192.0.2.0/24 table 100 priority 100",
  "rule lines as `ip rule`: [from P] [to P] [table T] [preference N] [fwmark M] [iif IF] …",
);
export const vsgLine = adapt<vsg.VsgEntry>(
  vsg,
  "192.0.2.10-20 80",
  "entries: IP [PORT], IP ranges A.B.C.D-E [PORT], fwmark N [inet|inet6]",
);
