/** Shared fixtures for the IPVS desired-state tests: a model from keepalived.conf text. */
import { loadText } from "../../../src/config/load.ts";
import type { Model } from "../../../src/config/model.ts";
import type { IpvsInput } from "../../../src/core/ipvs/desired.ts";

export function model(text: string): Model {
  const r = loadText(text, "/nonexistent/ipvs-test.conf", "keepalived");
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.model || errors.length > 0)
    throw new Error(`config invalid: ${JSON.stringify(errors.length ? errors : r.diagnostics)}`);
  // The whole point of IpvsInput: the validated model is one, with no adapter.
  const input: IpvsInput = r.model;
  return input as Model;
}

/** A health function from a table of "ip:port" → verdict; anything not listed is "up". */
export function healthOf(verdicts: Record<string, "up" | "down" | "unknown">) {
  return (_vs: unknown, rs: { ip: string; port?: number }) =>
    verdicts[rs.port === undefined ? rs.ip : `${rs.ip}:${rs.port}`] ?? "up";
}

export const allMaster = () => "MASTER" as const;
