/**
 * Loading large configurations gives exactly what it gave before the loader was optimised:
 * the frozen model, the raw document and every diagnostic (text, order, file:line:col) of
 * the benchmark files are pinned by hashes computed with the unoptimised code. A change
 * here is a change of behaviour, not of speed: find it before updating a hash.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { generateConfig } from "../../bench/gen-config.ts";
import { type Loaded, loadText } from "../../src/config/load.ts";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 24);

/** bench/ipvs-scale.ts scaleConf(vs, rs, 1), copied so that file can change freely. */
function lvsConf(vsCount: number, rsCount: number): string {
  const out: string[] = ["# bench/ipvs-scale.ts: virtual servers only, no checkers\n"];
  for (let i = 0; i < vsCount; i++) {
    const vip = `203.0.113.${i + 1}`;
    out.push(`virtual_server ${vip} 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n`);
    for (let j = 0; j < rsCount; j++)
      out.push(`  real_server 198.51.100.${j + 1} ${10000 + i} {\n    weight 1\n  }\n`);
    out.push("}\n");
  }
  return out.join("");
}

/**
 * The same text with mistakes sprinkled in by line number, so the golden diagnostics hold
 * errors and warnings from every stage: preprocessor (quotes, parameters, ~SEQ), parser
 * (braces), lowering (unknown keywords, bad values, duplicate names), normalisation
 * (defaults) and validation (duplicates, family mismatches).
 */
function noisy(text: string, errors = true): string {
  const out: string[] = ["$W=1", "$RS=real_server 192.0.2.200 99 { weight $W }"];
  if (errors)
    for (const name of ["VI_dup", "VI_dup"])
      out.push(`vrrp_instance ${name} {`, "  interface lo", "  virtual_router_id 300", "}");
  text.split("\n").forEach((line, i) => {
    if (i % 101 === 2)
      out.push("  bogus_keyword 1", `  real_server 192.0.2.${i % 250} 1 { weight \${W} }`);
    if (!errors) {
      out.push(line.replace("protocol TCP", i % 7 === 0 ? "! no protocol" : "protocol TCP"));
      return;
    }
    if (i % 97 === 5) out.push("  lb_algo bogus");
    if (i % 1009 === 7) out.push('  bogus_keywrd "open');
    if (i % 83 === 3) out.push("  weight x", "  real_server 2001:db8::1 80 {", "  }");
    if (i % 113 === 11) out.push("  ~SEQ(N,1,3) real_server 192.0.2.$N 7 {", "  }");
    if (i % 131 === 13)
      out.push("  $RS", "  $UNDEFINED_PARAM", "  real_server 192.0.2.201 5 weight 2 }");
    if (i % 127 === 17) out.push("vrrp_instance VI_dup {", "  interface lo", "}");
    if (i % 211 === 19) out.push("  protocol");
    out.push(line.replace("protocol TCP", i % 7 === 0 ? "! no protocol" : "protocol TCP"));
  });
  return out.join("\n");
}

function digest(l: Loaded) {
  return {
    model: l.model ? sha(JSON.stringify(l.model)) : "none",
    raw: sha(JSON.stringify(l.raw)),
    diagnostics: l.diagnostics.length,
    diagnosticsHash: sha(JSON.stringify(l.diagnostics)),
  };
}

const lvs = lvsConf(100, 100);
const bench20k = generateConfig({ instances: 255, realServers: 2000, iface: "lo" });
const CASES: Record<string, { text: () => string; maxDiagnostics?: number }> = {
  "lvs-100x100": { text: () => lvs },
  "bench-20k": { text: () => bench20k },
  "lvs-100x100-noisy": { text: () => noisy(lvs), maxDiagnostics: 100_000 },
  "lvs-100x100-noisy-capped": { text: () => noisy(lvs), maxDiagnostics: 300 },
  "lvs-100x100-warnings": { text: () => noisy(lvs, false) },
  "bench-20k-noisy": { text: () => noisy(bench20k), maxDiagnostics: 100_000 },
};

/** Computed with the loader as it was before the speed work (see bench/config-check.ts). */
const GOLDEN: Record<string, { input: string; result: ReturnType<typeof digest> }> = {
  "lvs-100x100": {
    input: "c9aa476d53e0ca6eaee2b5ce",
    result: {
      model: "ff5c80b0a343950e6eef385e",
      raw: "b59406762f6dc4ba10da4a5e",
      diagnostics: 0,
      diagnosticsHash: "4f53cda18c2baa0c0354bb5f",
    },
  },
  "bench-20k": {
    input: "1c8ee455cfb75d7014469a2e",
    result: {
      model: "defebc197e648e7194394836",
      raw: "d2138697e1905a9927f3659c",
      diagnostics: 0,
      diagnosticsHash: "4f53cda18c2baa0c0354bb5f",
    },
  },
  "lvs-100x100-noisy": {
    input: "9b2a78b0cf78b941c61522e5",
    result: {
      model: "none",
      raw: "c8e2a97163bfb0560fec56db",
      diagnostics: 388,
      diagnosticsHash: "c0d158328adf5fa6c267bd40",
    },
  },
  "lvs-100x100-noisy-capped": {
    input: "9b2a78b0cf78b941c61522e5",
    result: {
      model: "none",
      raw: "c8e2a97163bfb0560fec56db",
      diagnostics: 301,
      diagnosticsHash: "659243cbeb77ebe405cd4f6b",
    },
  },
  "lvs-100x100-warnings": {
    input: "b44ca4a9ba7af5db63ebf2c1",
    result: {
      model: "673f1e5e6f645581d6062240",
      raw: "17d8859b035d4f238e3d8aab",
      diagnostics: 516,
      diagnosticsHash: "2cecef18d311ae14b60d8978",
    },
  },
  "bench-20k-noisy": {
    input: "9750ff2f9da0602b7d76bab1",
    result: {
      model: "none",
      raw: "f3d71da115feaf9d389ad597",
      diagnostics: 237,
      diagnosticsHash: "33c09a4063faa3fb5deecea9",
    },
  },
};

describe("loading the benchmark configurations gives the pinned result", () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(name, () => {
      const text = c.text();
      const opts = c.maxDiagnostics === undefined ? {} : { maxDiagnostics: c.maxDiagnostics };
      const got = digest(
        loadText(text, `/etc/keepalived/${name}.conf`, "keepalived", {
          offline: true,
          configId: "bench",
          ...opts,
        }),
      );
      const want = GOLDEN[name];
      if (process.env.PRINT_GOLDEN)
        console.log(JSON.stringify({ [name]: { input: sha(text), result: got } }));
      expect(want).toBeDefined();
      expect(sha(text)).toBe(want?.input ?? "");
      expect(got).toEqual(want?.result ?? got);
    });
  }
});
