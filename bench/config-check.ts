/**
 * Benchmark: `agent check` on large generated configurations, beside `keepalived -t -f` on
 * the same file, each run as a whole process N times:
 *  - bench-20k.conf: 255 VRRP instances with scripts and 2,000 real servers (≈19,000 lines);
 *  - lvs-10k.conf: 100 virtual servers × 100 real servers, no checkers (bench/ipvs-scale.ts
 *    scaleConf, ≈30,500 lines): the file whose reload the UML benchmark found slow.
 * Reports medians and ratios of wall time and of CPU time. CPU counts every thread: Bun
 * compiles hot code on background threads, which on the benchmark guest's one vCPU take
 * turns with the main thread, so CPU here predicts the guest's wall time better than wall
 * does. Also in-process: the first (cold) and the median warm `loadText`, split by phase.
 * Absolute times on shared 2-core machines are noise; compare ratios.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { Diags, MAX_DIAGNOSTICS } from "../src/config/diag.ts";
import { nodeHostView } from "../src/config/host-view.ts";
import { nodeHost } from "../src/config/keepalived/host.ts";
import { preprocess } from "../src/config/keepalived/lexer.ts";
import { lowerBlock } from "../src/config/keepalived/lower.ts";
import { parseStatements } from "../src/config/keepalived/parser.ts";
import { loadText } from "../src/config/load.ts";
import { deepFreeze, type MutableModel } from "../src/config/model.ts";
import { normalize } from "../src/config/normalize.ts";
import { LocTable } from "../src/config/path.ts";
import type { BlockSpec, Fields } from "../src/config/schema/dsl.ts";
import { type RawDoc, rootSpec } from "../src/config/schema/root.ts";
import { validate } from "../src/config/validate.ts";
import { validateHost } from "../src/config/validate-host.ts";
import { generateConfig } from "./gen-config.ts";
import { scaleConf } from "./ipvs-scale.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** In-process warm repetitions per file. */
const WARM = Number(process.env.BENCH_WARM ?? 10);
const dir = `${import.meta.dir}/results`;
mkdirSync(dir, { recursive: true });
const iface = existsSync("/sys/class/net/eth0") ? "eth0" : "lo";

interface Timed {
  wallMs: number[];
  cpuMs: number[];
  codes: Set<number>;
}

function time(cmd: string[]): Timed {
  const t: Timed = { wallMs: [], cpuMs: [], codes: new Set() };
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore" });
    t.wallMs.push(performance.now() - t0);
    const cpu = r.resourceUsage?.cpuTime;
    if (cpu) t.cpuMs.push(Number(cpu.user + cpu.system) / 1000);
    t.codes.add(r.exitCode ?? -1);
  }
  return t;
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms1 = (x: number) => +x.toFixed(1);
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? +(a / b).toFixed(2) : null);

/** loadText's steps for keepalived syntax (src/config/load.ts), each timed. */
function phases(text: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    out[name] = ms1(now - t);
    t = now;
  };
  const diags = new Diags(MAX_DIAGNOSTICS);
  const host = nodeHost({});
  const lines = preprocess(
    file,
    { ...host, readFile: (p) => (p === file ? text : host.readFile(p)) },
    diags,
  );
  lap("preprocess");
  const stmts = parseStatements(lines, diags);
  lap("parse");
  const locs = new LocTable({ file, line: 1, col: 1 });
  const raw = lowerBlock(stmts, rootSpec as unknown as BlockSpec<Fields>, [], {}, { diags, locs });
  lap("lower");
  const cx = { diags, locs };
  const model: MutableModel = normalize(raw as RawDoc, cx);
  lap("normalize");
  validate(model, cx);
  lap("validate");
  validateHost(model, cx, nodeHostView());
  lap("validate_host");
  deepFreeze(model);
  lap("freeze");
  return out;
}

function inProcess(text: string, file: string) {
  const t0 = performance.now();
  const loaded = loadText(text, file, "keepalived", { offline: false });
  const firstMs = performance.now() - t0;
  const warm: number[] = [];
  const split: Record<string, number[]> = {};
  for (let i = 0; i < WARM; i++) {
    const t = performance.now();
    loadText(text, file, "keepalived", { offline: false });
    warm.push(performance.now() - t);
    for (const [k, v] of Object.entries(phases(text, file))) split[k] = [...(split[k] ?? []), v];
  }
  return {
    agent_in_process_first_ms: ms1(firstMs),
    agent_in_process_warm_median_ms: ms1(median(warm)),
    agent_in_process_warm_phases_ms: Object.fromEntries(
      Object.entries(split).map(([k, v]) => [k, ms1(median(v))]),
    ),
    agent_diagnostics: loaded.diagnostics.length,
  };
}

/** BENCH_AGENT: another build to time (e.g. one made with `bun scripts/build.ts --dist DIR`). */
const bin = process.env.BENCH_AGENT ?? `${import.meta.dir}/../dist/agent`;
if (!existsSync(bin)) {
  process.stderr.write(`bench: build ${bin} first (npm run build)\n`);
  process.exit(2);
}

function benchFile(name: string, text: string, about: Record<string, number>) {
  const file = `${dir}/${name}`;
  writeFileSync(file, text);
  const agent = time([bin, "check", "--config", file]);
  const keepalived = Bun.which("keepalived") ? time(["keepalived", "-t", "-f", file]) : undefined;
  const a = { wall: median(agent.wallMs), cpu: median(agent.cpuMs) };
  const k = keepalived ? { wall: median(keepalived.wallMs), cpu: median(keepalived.cpuMs) } : null;
  return {
    file: name,
    lines: text.split("\n").length,
    ...about,
    agent_median_ms: ms1(a.wall),
    agent_cpu_median_ms: ms1(a.cpu),
    agent_exit_codes: [...agent.codes],
    ...inProcess(text, file),
    keepalived_median_ms: k ? ms1(k.wall) : null,
    keepalived_cpu_median_ms: k ? ms1(k.cpu) : null,
    keepalived_exit_codes: keepalived ? [...keepalived.codes] : null,
    ratio_agent_over_keepalived: k ? ratio(a.wall, k.wall) : null,
    ratio_agent_over_keepalived_cpu: k ? ratio(a.cpu, k.cpu) : null,
  };
}

const big = benchFile(
  "bench-20k.conf",
  generateConfig({ instances: 255, realServers: 2000, iface }),
  {
    instances: 255,
    real_servers: 2000,
  },
);
const lvs = benchFile("lvs-10k.conf", scaleConf(100, 100, 1), {
  virtual_servers: 100,
  real_servers: 10_000,
});

const result = {
  bench: "config-check",
  date: new Date().toISOString(),
  runs: RUNS,
  // The 20k file's figures stay at the top level, as earlier results have them.
  ...big,
  files: [big, lvs],
};
writeFileSync(`${dir}/config-check.json`, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
