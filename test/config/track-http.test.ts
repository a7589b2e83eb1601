/**
 * track_http, edge-agent's built-in HTTP tracker (an extension keepalived lacks): both
 * front ends read it to one model with vrrp_script's defaults, a bad URL or Host or an
 * unknown keyword is reported where it is written, and `convert --to keepalived` writes it
 * (the agent reads it back) with a comment and a located warning, last in its block, so
 * keepalived itself loses nothing else. The validator's rules are in track-http-cases.ts.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConversionWarning, convertDoc } from "../../src/config/convert.ts";
import type { Diagnostic } from "../../src/config/diag.ts";
import { EXTENSION_NOTE, keepalivedLacks } from "../../src/config/emit-keepalived.ts";
import type { Loaded } from "../../src/config/load.ts";
import { missing, REPO, run } from "../helpers/env.ts";
import { brief, load, locate } from "./rule-cases.ts";

const ka = (text: string) => load(text, "keepalived");
const toml = (text: string) => load(text, "toml");

/** The diagnostics as [line, col, severity, code]. */
const briefs = (r: Loaded) => r.diagnostics.map((d) => [d.line, d.col, d.severity, d.code]);

const FULL_KA = `track_http nginx {
    url https://[2001:db8::10]:8443/healthz?deep=1
    status 200 204 300-302
    host www.example.org:8443
    tls_verify off
    interval 2
    timeout 1.5
    weight -30 reverse
    rise 3
    fall 2
    init_fail
}
`;

const FULL_TOML = `[track_http.nginx]
url = "https://[2001:db8::10]:8443/healthz?deep=1"
status = [200, 204, "300-302"]
host = "www.example.org:8443"
tls_verify = false
interval = 2
timeout = 1.5
weight = { value = -30, reverse = true }
rise = 3
fall = 2
init_fail = true
`;

describe("both syntaxes read track_http to one model", () => {
  test("every keyword, as written", () => {
    const a = ka(FULL_KA);
    const b = toml(FULL_TOML);
    expect(a.diagnostics.map(brief)).toEqual([]);
    expect(b.diagnostics.map(brief)).toEqual([]);
    const nginx = {
      url: "https://[2001:db8::10]:8443/healthz?deep=1",
      status: ["200", "204", "300-302"],
      host: "www.example.org:8443",
      tls_verify: false,
      interval: 2,
      timeout: 1.5,
      weight: { value: -30, reverse: true },
      rise: 3,
      fall: 2,
      init_fail: true,
    };
    expect(a.raw).toEqual({ track_http: { nginx } });
    expect(b.raw).toEqual(a.raw);
    expect(a.model?.track_http).toEqual({ nginx });
    expect(b.model).toEqual(a.model as NonNullable<typeof b.model>);
  });

  test("defaults are vrrp_script's (timeout = interval) and HTTP_GET's status 200-299", () => {
    const a = ka("track_http web {\n  url http://127.0.0.1/healthz\n}\n");
    const b = toml('[track_http.web]\nurl = "http://127.0.0.1/healthz"\n');
    const web = {
      url: "http://127.0.0.1/healthz",
      status: ["200-299"],
      tls_verify: true,
      interval: 1,
      timeout: 1,
      weight: { value: 0 },
      rise: 1,
      fall: 1,
    };
    expect(a.model?.track_http).toEqual({ web });
    expect(b.model).toEqual(a.model as NonNullable<typeof b.model>);
    const slow = ka("track_http web {\n  url http://127.0.0.1/healthz\n  interval 5\n}\n");
    expect(slow.model?.track_http.web?.timeout).toBe(5);
  });

  test("a model without track_http has an empty table, so the agent can always read it", () => {
    expect(ka("global_defs {\n  router_id lb1\n}\n").model?.track_http).toEqual({});
  });

  test("status: one code, a bare number in TOML, and a list mixing codes and ranges", () => {
    expect(ka(`${FULL_KA.replace("status 200 204 300-302", "status 503")}`).raw).toMatchObject({
      track_http: { nginx: { status: ["503"] } },
    });
    expect(toml(`${FULL_TOML.replace('[200, 204, "300-302"]', "503")}`).raw).toMatchObject({
      track_http: { nginx: { status: ["503"] } },
    });
  });

  test("instances and sync groups bind it like the other trackers, in both syntaxes", () => {
    const a = ka(`track_http nginx {
  url http://127.0.0.1/healthz
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.0.2.1
  }
  track_http {
    nginx weight -30
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  virtual_ipaddress {
    192.0.2.2
  }
}
vrrp_sync_group G {
  group {
    VI_1 VI_2
  }
  track_http {
    nginx
  }
}
`);
    const b = toml(`[track_http.nginx]
url = "http://127.0.0.1/healthz"

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
track_http = [{ name = "nginx", weight = -30 }]

[vrrp_instance.VI_2]
interface = "eth0"
virtual_router_id = 52
virtual_ipaddress = ["192.0.2.2"]

[vrrp_sync_group.G]
group = ["VI_1", "VI_2"]
track_http = ["nginx"]
`);
    expect(a.diagnostics.map(brief)).toEqual([]);
    expect(b.diagnostics.map(brief)).toEqual([]);
    expect(a.model?.vrrp_instance.VI_1?.track_http).toEqual([{ name: "nginx", weight: -30 }]);
    expect(a.model?.vrrp_sync_group?.G?.track_http).toEqual([{ name: "nginx" }]);
    expect(b.model).toEqual(a.model as NonNullable<typeof b.model>);
  });
});

describe("bad values are reported at their place", () => {
  const BAD_URLS: [url: string, why: string][] = [
    ["ftp://127.0.0.1/", "http:// or https://"],
    ["127.0.0.1/healthz", "http:// or https://"],
    ["http://user:pw@127.0.0.1/", "user:password@"],
    ["http://127.1/", "neither an IP address nor a host name"],
    ["http://192.0.2.300/", "neither an IP address nor a host name"],
    ["http://example.0x7f/", "neither an IP address nor a host name"],
    ["http://-bad-.example/", "neither an IP address nor a host name"],
    ["http://2001:db8::1/", "in brackets"],
    ["http://[2001:db8::1/", "closing ']'"],
    ["http://[192.0.2.1]/", "not an IPv6 address"],
    ["http://[2001:db8::1]x/", "after the address"],
    ["http://127.0.0.1:0/", "port '0'"],
    ["http://127.0.0.1:70000/", "port '70000'"],
    ["http:///healthz", "no host"],
    ["http://127.0.0.1/a b", "space or control character"],
    ["http://127.0.0.1/#top", "fragment"],
  ];
  for (const [url, why] of BAD_URLS) {
    test(`url ${url}: bad-url (${why})`, () => {
      // The block is then ignored, which the validator says at its name.
      const k = locate(`track_http web {\n  url ‸"${url}"\n}\n`);
      const r = ka(k.text);
      expect(briefs(r)).toEqual([
        [1, 12, "warning", "url-missing"],
        [k.line, k.col, "error", "bad-url"],
      ]);
      expect(r.diagnostics[1]?.message).toContain(why);
      expect(r.model).toBeUndefined();
      const t = locate(`[track_http.web]\n‸url = ${JSON.stringify(url)}\n`);
      const s = toml(t.text);
      expect(briefs(s)).toEqual([
        [1, 2, "warning", "url-missing"],
        [t.line, t.col, "error", "bad-url"],
      ]);
      expect(s.diagnostics[1]?.message).toContain(why);
    });
  }

  const GOOD_URLS = [
    "http://127.0.0.1/healthz",
    "HTTP://127.0.0.1",
    "https://[2001:db8::1]:8443/healthz?full=1&x=%20",
    "http://localhost:8080/",
    "http://lb1.example.org./status",
    "http://0xcafe.example.org/",
  ];
  for (const url of GOOD_URLS) {
    test(`url ${url} is accepted, kept as written`, () => {
      const r = ka(`track_http web {\n  url "${url}"\n}\n`);
      expect(r.diagnostics.map(brief)).toEqual([]);
      expect(r.model?.track_http.web?.url).toBe(url);
    });
  }

  for (const [host, ok] of [
    ["www.example.org", true],
    ["www.example.org:8080", true],
    ["192.0.2.1", true],
    ["[2001:db8::1]:80", true],
    ["2001:db8::1", false],
    ["www.example.org/x", false],
    ["a@b", false],
    ["host:99999", false],
  ] as const) {
    test(`host ${host}: ${ok ? "accepted" : "bad-value at the word"}`, () => {
      const k = locate(`track_http web {\n  url http://127.0.0.1/\n  host ‸${host}\n}\n`);
      const r = ka(k.text);
      expect(briefs(r)).toEqual(ok ? [] : [[k.line, k.col, "error", "bad-value"]]);
      const t = locate(`[track_http.web]\nurl = "http://127.0.0.1/"\n‸host = "${host}"\n`);
      expect(briefs(toml(t.text))).toEqual(ok ? [] : [[t.line, t.col, "error", "bad-value"]]);
    });
  }

  test("an unknown keyword warns where it is written, suggesting the right one", () => {
    const k = locate("track_http web {\n  url http://127.0.0.1/\n  ‸tls_verfy off\n}\n");
    const r = ka(k.text);
    expect(briefs(r)).toEqual([[k.line, k.col, "warning", "unknown-keyword"]]);
    // (keepalived/lower.ts names the block "web" rather than "track_http web": its list of
    // named parents predates track_http.)
    expect(r.diagnostics[0]?.message).toStartWith("unknown keyword 'tls_verfy' in ");
    expect(r.diagnostics[0]?.message).toEndWith("web (did you mean 'tls_verify'?)");
    const t = locate('[track_http.web]\nurl = "http://127.0.0.1/"\n‸status_code = 200\n');
    const s = toml(t.text);
    expect(s.diagnostics.map((d: Diagnostic) => [d.line, d.col, d.severity])).toEqual([
      [t.line, t.col, "warning"],
    ]);
  });

  test("weight, rise and status are range-checked like vrrp_script's and HTTP_GET's", () => {
    for (const [line, code] of [
      ["weight -254", "out-of-range"],
      ["rise 0", "out-of-range"],
      ["status 600", "out-of-range"],
      ["status 299-200", "out-of-range"],
      ["status ok", "bad-value"],
      ["interval 0", "out-of-range"],
    ] as const) {
      const k = locate(
        `track_http web {\n  url http://127.0.0.1/\n  ${line.replace(" ", " ‸")}\n}\n`,
      );
      expect(briefs(ka(k.text))).toEqual([[k.line, k.col, "error", code]]);
    }
  });
});

describe("agent convert --to keepalived", () => {
  const DOC = `[global_defs]
router_id = "lb1"

[track_http.nginx]
url = "http://127.0.0.1/healthz"
weight = -30

[vrrp_instance.VI_1]
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.1"]
track_http = [{ name = "nginx", weight = -30 }]
notify_master = ["/usr/local/bin/master.sh"]
nopreempt = true
`;

  function converted() {
    const src = toml(DOC);
    expect(src.diagnostics.map(brief)).toEqual([]);
    const out = convertDoc(src.raw as Record<string, unknown>, "keepalived", undefined, "out.conf");
    if (!out.ok) throw new Error(out.message);
    return { src, out, lines: out.text.split("\n") };
  }

  test("writes track_http as it is: the agent reads the text back to the same model", () => {
    const { src, out } = converted();
    const back = ka(out.text);
    expect(back.diagnostics.map(brief)).toEqual([]);
    expect(back.raw).toEqual(src.raw);
    expect(back.model).toEqual(src.model as NonNullable<typeof back.model>);
  });

  test("warns once per extension, at its keyword in the written text, after a comment", () => {
    const { out, lines } = converted();
    const at = (w: ConversionWarning) => lines[w.line - 1]?.slice(w.col - 1);
    expect(out.warnings.map((w) => [w.file, w.severity, w.code, at(w)])).toEqual([
      ["out.conf", "warning", "keepalived-lacks", "track_http nginx {"],
      ["out.conf", "warning", "keepalived-lacks", "track_http {"],
    ]);
    expect(out.warnings.map((w) => w.path)).toEqual([
      ["track_http", "nginx"],
      ["vrrp_instance", "VI_1", "track_http"],
    ]);
    expect(out.warnings[1]?.message).toBe(
      "vrrp_instance.VI_1.track_http: keepalived has no 'track_http' (an edge-agent extension); it would warn and run without it",
    );
    for (const w of out.warnings) expect(lines[w.line - 2]?.trim()).toStartWith(EXTENSION_NOTE);
  });

  test("inside an instance the binding comes last, so keepalived's early '}' cuts nothing", () => {
    const { lines } = converted();
    const open = lines.indexOf("    track_http {");
    expect(open).toBeGreaterThan(lines.indexOf("    notify_master /usr/local/bin/master.sh"));
    expect(open).toBeGreaterThan(lines.indexOf("    nopreempt"));
    expect(lines.slice(open + 1, open + 4)).toEqual(["        nginx weight -30", "    }", "}"]);
  });

  test("to TOML there is nothing to warn about", () => {
    const src = ka(FULL_KA);
    const out = convertDoc(src.raw as Record<string, unknown>, "toml");
    expect(out.ok && out.warnings).toEqual([]);
  });

  test("the extension table names schema paths, * for a block's name", () => {
    expect(keepalivedLacks(["track_http"])).toBe(true);
    expect(keepalivedLacks(["vrrp_instance", "VI_1", "track_http"])).toBe(true);
    expect(keepalivedLacks(["vrrp_sync_group", "G", "track_http"])).toBe(true);
    expect(keepalivedLacks(["vrrp_instance", "VI_1", "track_script"])).toBe(false);
    expect(keepalivedLacks(["track_http", "nginx"])).toBe(false);
  });

  const why = missing({ commands: ["keepalived"] });
  test.skipIf(why !== undefined)(
    `keepalived 2.2.7 reads the rest of the instance and only warns about the extension${why ? ` (skipped: ${why})` : ""}`,
    () => {
      const { out, lines } = converted();
      const dir = mkdtempSync(join(tmpdir(), "track-http-"));
      try {
        const file = join(dir, "keepalived.conf");
        writeFileSync(file, out.text);
        const r = run(["keepalived", "-t", "-f", file, "-l", "-D"]);
        const text = r.stdout + r.stderr;
        const unknown = [...text.matchAll(/Line (\d+)\) Unknown keyword '([^']*)'/g)].map(
          (m) => [Number(m[1]), m[2]] as const,
        );
        expect(unknown.length).toBeGreaterThan(0);
        // Only the extensions' own lines, and the instance's final brace they leave over.
        const extLines = new Set<number>();
        for (const w of out.warnings) {
          const depth = lines[w.line - 1]?.search(/\S/) ?? 0;
          for (let i = w.line - 1; i < lines.length; i++) {
            extLines.add(i + 1);
            if (i > w.line - 1 && lines[i]?.search(/\S/) === depth) break;
          }
        }
        const last = lines.lastIndexOf("}") + 1;
        for (const [line, word] of unknown)
          expect({ line, word, ok: extLines.has(line) || line === last }).toEqual({
            line,
            word,
            ok: true,
          });
        expect(text).not.toContain("Unknown keyword 'notify_master'");
        expect(text).not.toContain("Unknown keyword 'nopreempt'");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  for (const node of ["lb1", "lb2"])
    test.skipIf(why !== undefined)(
      `examples/nginx-pair/${node}.conf uses no extension: keepalived 2.2.7 knows every line${why ? ` (skipped: ${why})` : ""}`,
      () => {
        const file = `${REPO}/examples/nginx-pair/${node}.conf`;
        expect(readFileSync(file, "utf8")).toContain("vrrp_track_process nginx {");
        const r = run(["keepalived", "-t", "-f", file, "-l", "-D"]);
        expect((r.stdout + r.stderr).match(/.*(Unknown|Unexpected|invalid).*/gi) ?? []).toEqual([]);
      },
    );
});
