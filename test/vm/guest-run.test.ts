/**
 * The pure parts of guest-run.ts: the ipvs-vm.sh argv, the /cfg copy, and the per-config loop
 * text (the daemon-specific pieces land where they must; the rest is the same for every daemon).
 * The guest tests of this directory exercise bootGuest itself.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bunAppFiles,
  CONFIG_DIR,
  configFiles,
  configLoop,
  type LoopDaemon,
  REPO,
  VM_SCRIPT,
  vmCommand,
} from "./guest-run.ts";

test("vmCommand passes --mem only when asked, then --timeout, the script and the files", () => {
  const boot = { tmpPrefix: "x-", script: "", timeoutS: 30, files: () => [] };
  expect(vmCommand("/d/run.sh", boot, ["a:/a"])).toEqual([
    "bash",
    VM_SCRIPT,
    "--timeout",
    "30",
    "/d/run.sh",
    "a:/a",
  ]);
  expect(vmCommand("/d/run.sh", { ...boot, memMb: 1024 }, [])).toEqual([
    "bash",
    VM_SCRIPT,
    "--mem",
    "1024",
    "--timeout",
    "30",
    "/d/run.sh",
  ]);
  expect(existsSync(VM_SCRIPT)).toBe(true);
});

test("configFiles copies exactly the named configs and maps them to /cfg", () => {
  const dir = mkdtempSync(join(tmpdir(), "guest-run-test-"));
  try {
    expect(configFiles(dir, ["nat", "tun"])).toBe(`${dir}/cfg:/cfg`);
    expect(readdirSync(join(dir, "cfg")).sort()).toEqual(["nat.conf", "tun.conf"]);
    expect(readFileSync(join(dir, "cfg", "nat.conf"), "utf8")).toBe(
      readFileSync(join(CONFIG_DIR, "nat.conf"), "utf8"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bunAppFiles maps Bun, the sources and the named node_modules under /app", () => {
  const files = bunAppFiles(["smol-toml"]);
  expect(files[0]).toBe(`${process.execPath}:/bin/bun`);
  expect(files.slice(1)).toEqual([
    `${REPO}/src:/app/src`,
    `${REPO}/native:/app/native`,
    `${REPO}/test/vm:/app/test/vm`,
    `${REPO}/node_modules/smol-toml:/app/node_modules/smol-toml`,
  ]);
  expect(existsSync(join(REPO, "src"))).toBe(true);
});

test("configLoop puts the daemon's pieces in place and adds the optional ones only when given", () => {
  const d: LoopDaemon = {
    pidVar: "dpid",
    start: "/bin/d --conf $conf",
    started: "up and running",
    exitedEarly: "d died",
    notStarted: "d slow",
  };
  const plain = configLoop(d);
  expect(plain).toContain('  /bin/d --conf $conf >"$log" 2>&1 &\n  dpid=$!\n');
  expect(plain).toContain(`until grep -q 'up and running' "$log"; do`);
  expect(plain).toContain('kill -0 $dpid 2>/dev/null || { err="d died"; break; }');
  expect(plain).toContain("  wait $dpid 2>/dev/null\n");
  expect(plain).toContain("  printf '@@AFTER_STOP\\n'\n");
  expect(plain).not.toContain("arc=");
  const full = configLoop({
    ...d,
    prepare: "  rm -f /run/x\n",
    afterCapture: "  printf '\\n@@X\\n'\n",
    checkExit: true,
  });
  expect(full).toContain("log=/tmp/$name.log\n  rm -f /run/x\n  t0=$(now_ms)");
  expect(full).toContain("  ipvsadm -Sn\n  printf '\\n@@X\\n'\n  t1=$(now_ms)");
  expect(full).toContain("  wait $dpid 2>/dev/null; arc=$?\n");
  expect(full).toContain("  printf '\\n@@AFTER_STOP\\n'\n");
  // Every marker parseConsole reads, in order.
  const order = ["@@BEGIN", "@@TABLE", "@@THRESHOLDS", "@@TIMEOUT", "@@SAVE", "@@AFTER_STOP"];
  const at = order.map((m) => plain.indexOf(m));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
});
