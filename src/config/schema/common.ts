/** Shorthands used by the schema tables, so each keyword reads as one short line. */
import { flag, scalar, words } from "./args.ts";
import { type Atom, int, num, oneOf, str } from "./atoms.ts";
import { type ArgSpec, arg, lines, rawArg } from "./dsl.ts";
import { scriptCodec } from "./script.ts";
import { FLAG, LEAD_FLAG, tuple } from "./tuple.ts";

export const Int = (min: number, max: number) => arg(scalar(int(min, max)));
/** Seconds (keepalived TIMER / decimal), kept as written: the runtime converts to ms. */
export const Secs = (min = 0, max = 86400 * 31) => arg(scalar(num(min, max, "s")));
export const Str = (what?: string) => arg(scalar(str(what)));
export const Enum = <const T extends string>(values: readonly T[], caseInsensitive = false) =>
  arg(scalar(oneOf(values, { caseInsensitive })));
/** `keyword [on|off|…]` — writes `keyword false` when false. */
export const Bool = () => arg(flag(false));
/** `keyword` alone; nothing is written when false. */
export const Flag = () => arg(flag(true));
export const Words = <T>(a: Atom<T>, min = 0) => arg(words(a, min));
export const Script = () => rawArg(scriptCodec);
/** `{ word word … }` blocks: every word is an item. */
export const WordList = <T>(a: Atom<T>) => lines(scalar(a), true);

/** `keyword [VALUE]`: alone means "on with the default value". */
export function OptValue<K extends string, T>(key: K, a: Atom<T>) {
  return arg(
    tuple({ [key]: { atom: a, pos: 0 } } as { [P in K]: { atom: Atom<T>; pos: 0 } }, {
      flagShort: true,
      short: key,
    }),
  );
}

/** `user [[:]group]`: who a script runs as (script_user, vrrp_script user, MISC_CHECK user). */
export function RunAs() {
  return arg(
    tuple(
      {
        user: { atom: str("a user"), pos: 0, required: true },
        group: { atom: str("[:]group"), pos: 1 },
      },
      { short: "user" },
    ),
  );
}

/** Tracker weights: `weight W [reverse]`. */
export function Weight(min: number, max: number) {
  return arg(
    tuple(
      { value: { atom: int(min, max), pos: 0, required: true }, reverse: FLAG },
      { short: "value" },
    ),
  );
}

export type { ArgSpec };
export { FLAG, int, LEAD_FLAG, num, oneOf, str, tuple };
