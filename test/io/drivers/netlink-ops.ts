/**
 * Runs netlink API calls inside the network namespace it was started in (`ip netns exec NS
 * bun netlink-ops.ts 'JSON'`): the argument is a list of [function, ...args]; prints one
 * JSON array with each call's result or its AgentError (code, message), in order.
 */
import * as api from "../../../src/io/netlink.ts";

const FNS: Record<string, (...args: never[]) => unknown> = {
  addAddress: api.addAddress,
  deleteAddress: api.deleteAddress,
  listAddresses: api.listAddresses,
  findAddresses: api.findAddresses,
  addRoute: api.addRoute,
  deleteRoute: api.deleteRoute,
  addRule: api.addRule,
  deleteRule: api.deleteRule,
  linkInfo: api.linkInfo,
  createMacvlan: api.createMacvlan,
  setLinkUp: api.setLinkUp,
  setLinkDown: api.setLinkDown,
  deleteLink: api.deleteLink,
};

const calls = JSON.parse(process.argv[2] ?? "[]") as [string, ...unknown[]][];
const out = calls.map(([name, ...args]) => {
  const f = FNS[name];
  if (!f) return { ok: false, code: "E_USAGE", message: `unknown function ${name}` };
  try {
    return { ok: true, value: f(...(args as never[])) ?? null };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { ok: false, code: err.code ?? "throw", message: err.message ?? String(e) };
  }
});
api.closeNetlink();
process.stdout.write(`${JSON.stringify(out)}\n`);
