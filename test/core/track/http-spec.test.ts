/**
 * track_http's model → probe spec: status words become ranges (HTTP_GET's status_code
 * syntax), seconds become milliseconds, and optional fields stay absent.
 */
import { describe, expect, test } from "bun:test";
import { loadText } from "../../../src/config/load.ts";
import { httpProbeSpec, statusMatcher, statusRanges } from "../../../src/core/track/http-spec.ts";

describe("status words", () => {
  test("a code, a range, several, and words that are neither (skipped)", () => {
    expect(statusRanges(["200"])).toEqual([[200, 200]]);
    expect(statusRanges(["200-299", "404"])).toEqual([
      [200, 299],
      [404, 404],
    ]);
    expect(statusRanges(["ok", "2000", "299-200", "20x"])).toEqual([]);
  });

  test("the matcher holds exactly the listed statuses", () => {
    const m = statusMatcher(["200-204", "301"]);
    const held = [100, 199, 200, 203, 204, 205, 300, 301, 302, 503].filter(m);
    expect(held).toEqual([200, 203, 204, 301]);
    expect([200, 0, 599].some(statusMatcher([]))).toBe(false);
  });
});

describe("httpProbeSpec", () => {
  const base = { status: ["200"], tls_verify: true, timeout: 1.5 };

  test("seconds to milliseconds; host only when set", () => {
    const s = httpProbeSpec({ ...base, url: "http://127.0.0.1/healthz" });
    expect(s && { ...s, expect: undefined }).toEqual({
      url: "http://127.0.0.1/healthz",
      expect: undefined,
      timeoutMs: 1500,
      tlsVerify: true,
    });
    expect(s && "host" in s).toBe(false);
    expect(s?.expect(200)).toBe(true);
    expect(s?.expect(204)).toBe(false);
    const h = httpProbeSpec({ ...base, url: "https://[2001:db8::1]/", host: "www.example.org" });
    expect(h?.host).toBe("www.example.org");
  });

  test("a block without url gives no probe (the config ignores it, with a warning)", () => {
    expect(httpProbeSpec(base)).toBeUndefined();
  });

  test("the smallest timeout the config allows is still a positive number of ms", () => {
    expect(httpProbeSpec({ ...base, url: "http://127.0.0.1/", timeout: 0.0004 })?.timeoutMs).toBe(
      1,
    );
  });

  test("takes the loaded model as it is, defaults included", () => {
    const l = loadText(
      "track_http web {\n  url http://127.0.0.1/\n  interval 3\n  tls_verify off\n}\n",
      "/x.conf",
      "keepalived",
      { offline: true },
    );
    const web = l.model?.track_http.web;
    expect(web).toBeDefined();
    const s = web && httpProbeSpec(web);
    expect(s?.timeoutMs).toBe(3000);
    expect(s?.tlsVerify).toBe(false);
    expect([200, 250, 299, 300].map((x) => s?.expect(x))).toEqual([true, true, true, false]);
  });
});
