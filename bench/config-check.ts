/**
 * Benchmark: `agent check` on a generated ≈20,000-line config (255 instances, 2,000 real
 * servers), beside `keepalived -t -f` on the same file, each run as a whole process N times.
 * Reports medians and the ratio; absolute times on shared 2-core machines are noise.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { loadText } from "../src/config/load.ts";
import { generateConfig } from "./gen-config.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const dir = `${import.meta.dir}/results`;
mkdirSync(dir, { recursive: true });
const iface = existsSync("/sys/class/net/eth0") ? "eth0" : "lo";
const text = generateConfig({ instances: 255, realServers: 2000, iface });
const file = `${dir}/bench-20k.conf`;
writeFileSync(file, text);
const lines = text.split("\n").length;

function time(cmd: string[]): { ms: number[]; codes: Set<number> } {
  const ms: number[] = [];
  const codes = new Set<number>();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore" });
    ms.push(performance.now() - t0);
    codes.add(r.exitCode ?? -1);
  }
  return { ms, codes };
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const bin = `${import.meta.dir}/../dist/agent`;
if (!existsSync(bin)) {
  process.stderr.write("bench: build dist/agent first (npm run build)\n");
  process.exit(2);
}
const agent = time([bin, "check", "--config", file]);
const keepalived = Bun.which("keepalived") ? time(["keepalived", "-t", "-f", file]) : undefined;

// In-process split, for where the time goes.
const t0 = performance.now();
const loaded = loadText(text, file, "keepalived", { offline: false });
const inProcessMs = performance.now() - t0;

const result = {
  bench: "config-check",
  date: new Date().toISOString(),
  lines,
  instances: 255,
  real_servers: 2000,
  runs: RUNS,
  agent_median_ms: +median(agent.ms).toFixed(1),
  agent_exit_codes: [...agent.codes],
  agent_in_process_ms: +inProcessMs.toFixed(1),
  agent_diagnostics: loaded.diagnostics.length,
  keepalived_median_ms: keepalived ? +median(keepalived.ms).toFixed(1) : null,
  keepalived_exit_codes: keepalived ? [...keepalived.codes] : null,
  ratio_agent_over_keepalived: keepalived
    ? +(median(agent.ms) / median(keepalived.ms)).toFixed(2)
    : null,
};
writeFileSync(`${dir}/config-check.json`, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
