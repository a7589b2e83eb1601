/** `bun run bench [name…]`: run benchmarks (all by default); results go to bench/results/. */
const BENCHES: Record<string, string> = {
  "config-check": "config-check.ts",
  failover: "failover.ts",
  "ipvs-checkers": "ipvs-checkers.ts",
  "ipvs-scale": "ipvs-scale.ts",
  lateness: "lateness.ts",
  resources: "resources.ts",
  scripts: "scripts.ts",
};
const want = process.argv.slice(2);
const names = want.length ? want : Object.keys(BENCHES);
let failed = 0;
for (const n of names) {
  const f = BENCHES[n];
  if (!f) {
    process.stderr.write(
      `bench: unknown benchmark '${n}' (have: ${Object.keys(BENCHES).join(", ")})\n`,
    );
    process.exit(2);
  }
  process.stderr.write(`bench: ${n}\n`);
  const r = Bun.spawnSync([process.execPath, `${import.meta.dir}/${f}`], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) failed++;
}
process.exit(failed ? 1 : 0);
