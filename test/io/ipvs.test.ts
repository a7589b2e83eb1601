/**
 * src/io/ipvs.ts against real kernels.
 *  - Here: this machine's kernel has no IPVS, so open() must fail with the typed E_NO_IPVS.
 *  - In a User-mode-Linux guest with ip_vs (test/vm/ipvs-vm.sh): Bun runs
 *    test/vm/ipvs-smoke.ts from source, which programs a TCP service and two real servers
 *    through Ipvs; the table it reads back and the guest's own `ipvsadm -Ln` must both equal
 *    the expected table.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ipvs, IpvsError, NO_IPVS_MESSAGE } from "../../src/io/ipvs.ts";
import { isRoot, missing, REPO } from "../helpers/env.ts";

const hostHasIpvs = existsSync("/proc/net/ip_vs");

test.skipIf(hostHasIpvs)(
  `open() on a kernel without IPVS throws IpvsError E_NO_IPVS${hostHasIpvs ? " (skipped: this kernel has IPVS)" : ""}`,
  () => {
    let caught: unknown;
    try {
      Ipvs.open().close();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IpvsError);
    expect((caught as IpvsError).code).toBe("E_NO_IPVS");
    expect((caught as IpvsError).message).toBe(NO_IPVS_MESSAGE);
    expect(NO_IPVS_MESSAGE).toContain("CONFIG_IP_VS");
  },
);

const why =
  missing({ root: true, commands: ["apt-get", "dpkg-deb"] }) ?? (isRoot ? undefined : "needs root");

/** What test/vm/ipvs-smoke.ts reads back through Ipvs (see the steps there). */
const EXPECTED_SMOKE = {
  version: 0x010201,
  first: ["198.51.100.10:8080 nat w1", "198.51.100.11:8080 nat w3"],
  dup: "E_IPVS_KERNEL/EEXIST",
  goneAgain: "E_IPVS_KERNEL/ENOENT",
  noService: "E_IPVS_KERNEL/ESRCH",
  before: { tcpS: 900, tcpFinS: 120, udpS: 300 },
  after: { tcpS: 901, tcpFinS: 120, udpS: 300 },
  services: [
    {
      key: "17 20010db8000000000000000000000001:53",
      scheduler: "rr",
      flags: { hashed: true, onePacket: true },
      timeoutS: 0,
      netmask: 128,
    },
    {
      key: "6 192.0.2.1:80",
      scheduler: "rr",
      flags: { persistent: true, hashed: true },
      timeoutS: 60,
      netmask: 0xffffffff,
    },
    {
      key: "fwm 42",
      scheduler: "sh",
      flags: { hashed: true, sched1: true, sched2: true },
      timeoutS: 0,
      netmask: 0xffffffff,
    },
  ],
  v6: [
    {
      af: 10,
      addr: "20010db8000000000000000000000010",
      port: 53,
      fwd: "dr",
      weight: 2,
      upperThreshold: 50,
      lowerThreshold: 5,
      activeConns: 0,
      inactiveConns: 0,
      persistConns: 0,
    },
  ],
};

/** ipvsadm's own view of the same table (it decodes the kernel's replies independently). */
const HEADER = [
  "IP Virtual Server version 1.2.1 (size=4096)",
  "Prot LocalAddress:Port Scheduler Flags",
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
];
const EXPECTED_IPVSADM = [
  ...HEADER,
  "TCP  192.0.2.1:80 rr persistent 60",
  "  -> 198.51.100.11:8080           Masq    3      0          0",
  "UDP  [2001:db8::1]:53 rr ops",
  "  -> [2001:db8::10]:53            Route   2      0          0",
  "FWM  42 sh (sh-fallback,sh-port)",
];

/** The blocks between IPVSADM_BEGIN and IPVSADM_END, trailing blanks dropped. */
function ipvsadmBlocks(out: string): string[][] {
  return out
    .split("IPVSADM_BEGIN\n")
    .slice(1)
    .map((b) =>
      b
        .slice(0, b.indexOf("IPVSADM_END"))
        .split("\n")
        .map((l) => l.trimEnd())
        .filter((l) => l !== ""),
    );
}

test.skipIf(why !== undefined)(
  `in a UML guest with ip_vs, Bun from source programs the table ipvsadm -Ln shows${why ? ` (skipped: ${why})` : ""}`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ipvs-vm-test-"));
    try {
      const script = join(dir, "run.sh");
      writeFileSync(
        script,
        [
          "cd /app && /bin/bun test/vm/ipvs-smoke.ts; rc=$?",
          'echo "IPVSADM_BEGIN"; ipvsadm -Ln; echo "IPVSADM_END"',
          "/bin/bun test/vm/ipvs-smoke.ts flush || rc=$?",
          'echo "IPVSADM_BEGIN"; ipvsadm -Ln; echo "IPVSADM_END"',
          "exit $rc",
          "",
        ].join("\n"),
      );
      const t0 = performance.now();
      const proc = Bun.spawn(
        [
          "bash",
          `${REPO}/test/vm/ipvs-vm.sh`,
          "--mem",
          "1024",
          "--timeout",
          "150",
          script,
          `${process.execPath}:/bin/bun`,
          `${REPO}/src:/app/src`,
          `${REPO}/native:/app/native`,
          `${REPO}/test/vm:/app/test/vm`,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      console.log(`ipvs vm: exit ${code} after ${(performance.now() - t0).toFixed(0)} ms`);
      if (code !== 0) console.log(out, err);
      expect(code).toBe(0);
      const smokes = out
        .split("\n")
        .filter((l) => l.startsWith("IPVS_SMOKE "))
        .map((l) => JSON.parse(l.slice("IPVS_SMOKE ".length)));
      expect(smokes).toEqual([EXPECTED_SMOKE, { remaining: 0 }]);
      expect(ipvsadmBlocks(out)).toEqual([EXPECTED_IPVSADM, HEADER]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  240_000,
);
