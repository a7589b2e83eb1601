import { describe, expect, test } from "bun:test";
import {
  genhashVerbose,
  hexDump,
  hexToBytes,
  parseGenhashUrl,
} from "../../../src/core/check/digest.ts";

describe("genhash URL", () => {
  test.each([
    ["http://127.0.0.1/", { tls: false, host: "127.0.0.1", port: 80, path: "/" }],
    ["https://www.example.com", { tls: true, host: "www.example.com", port: 443, path: "/" }],
    [
      "http://[2001:db8::1]:8080/a/b?x=1",
      { tls: false, host: "2001:db8::1", port: 8080, path: "/a/b?x=1" },
    ],
    ["http://h:81?q", { tls: false, host: "h", port: 81, path: "/?q" }],
  ])("%s", (url, want) => {
    expect(parseGenhashUrl(url)).toEqual(want);
  });
  test.each(["ftp://h/", "http://", "http://h:99999/", "127.0.0.1/x"])("rejects %s", (url) => {
    expect(typeof parseGenhashUrl(url)).toBe("string");
  });
});

describe("dump_buffer layout", () => {
  test("a full line and a short line", () => {
    const bytes = new TextEncoder().encode("HTTP/1.0 200 OK\r\nhello world");
    expect(hexDump(bytes)).toBe(
      "0000  48 54 54 50 2f 31 2e 30 - 20 32 30 30 20 4f 4b 0d   HTTP/1.0 200 OK.\n" +
        "0016  0a 68 65 6c 6c 6f 20 77 - 6f 72 6c 64               .hello world    \n",
    );
  });
  test("fewer than 8 bytes keeps the separator and pads", () => {
    expect(hexDump(new Uint8Array([0x41, 0x00]))).toBe(
      `0000  41 00${" ".repeat(18)} -${" ".repeat(24)}   A.${" ".repeat(14)}\n`,
    );
  });
  test("empty input prints nothing; hex round-trip", () => {
    expect(hexDump(new Uint8Array())).toBe("");
    expect(Array.from(hexToBytes("00ff10"))).toEqual([0, 255, 16]);
  });
});

describe("genhash verbose report", () => {
  test("sections in keepalived's order, digest last before the time", () => {
    const enc = new TextEncoder();
    const out = genhashVerbose({
      header: enc.encode("HTTP/1.0 200 OK\r\n\r\n"),
      body: enc.encode("hi"),
      digestHex: "49f68a5c8493ec2c0bf489821c21fc3b",
      path: "/x",
      responseUs: 1234.4,
    });
    const titles = [...out.matchAll(/\[([^\]]+)\]-/g)].map((m) => m[1]?.trim());
    expect(titles).toEqual([
      "HTTP Header Buffer",
      "HTTP Header Ascii Buffer",
      "HTML Buffer",
      "HTML hash resulting",
      "HTML hash final resulting",
    ]);
    expect(out).toContain(
      "HTML hash final resulting ]-----------------------\n49f68a5c8493ec2c0bf489821c21fc3b\n",
    );
    expect(out.endsWith("\nGlobal response time for [/x] = 1234 usecs\n")).toBe(true);
  });
});
