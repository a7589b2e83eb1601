/**
 * The metrics endpoint (src/agent/metrics-server.ts) on loopback, port 0: GET /metrics
 * answers what render gives with the 0.0.4 content type, anything else is 404, a throwing
 * render is a 500, and a taken, foreign or malformed address is a typed error.
 */
import { describe, expect, test } from "bun:test";
import { Metrics } from "../../src/agent/metrics.ts";
import {
  METRICS_CONTENT_TYPE,
  MetricsListenError,
  parseListen,
  startMetricsServer,
} from "../../src/agent/metrics-server.ts";
import { doc, VI_1 } from "../helpers/metrics-fixture.ts";
import { parseProm, promSample } from "../helpers/prom-parse.ts";

const quietLog = () => {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) } };
};

describe("startMetricsServer", () => {
  test("GET /metrics answers the rendered text; anything else is 404", async () => {
    const m = new Metrics();
    let scrapes = 0;
    const { log, lines } = quietLog();
    const srv = await startMetricsServer(
      "127.0.0.1:0",
      () => {
        scrapes++;
        return m.render(doc([VI_1]));
      },
      log,
    );
    try {
      expect(srv.port).toBeGreaterThan(0);
      expect(lines.join("\n")).toContain(`127.0.0.1:${srv.port}/metrics`);
      const base = `http://127.0.0.1:${srv.port}`;
      const r = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(METRICS_CONTENT_TYPE);
      const fams = parseProm(await r.text());
      expect(promSample(fams, "keepalived_up")?.value).toBe(1);
      expect(scrapes).toBe(1);
      for (const [path, method] of [
        ["/", "GET"],
        ["/metrics/x", "GET"],
        ["/favicon.ico", "GET"],
        ["/metrics", "POST"],
      ] as const) {
        const nf = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(5000) });
        expect({ path, method, status: nf.status }).toEqual({ path, method, status: 404 });
        await nf.arrayBuffer();
      }
      expect(scrapes).toBe(1);
    } finally {
      await srv.stop();
    }
    // Stopped means closed.
    await expect(
      fetch(`http://127.0.0.1:${srv.port}/metrics`, { signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow();
  });

  test("a render that throws is a 500, logged, and the server keeps serving", async () => {
    let fail = true;
    const { log, lines } = quietLog();
    const srv = await startMetricsServer(
      "127.0.0.1:0",
      () => {
        if (fail) throw new Error("boom");
        return "# TYPE ok gauge\nok 1\n";
      },
      log,
    );
    try {
      const url = `http://127.0.0.1:${srv.port}/metrics`;
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(500);
      await r.arrayBuffer();
      expect(lines.some((l) => l.includes("boom"))).toBe(true);
      fail = false;
      const ok = await fetch(url, { signal: AbortSignal.timeout(5000) });
      expect(promSample(parseProm(await ok.text()), "ok")?.value).toBe(1);
    } finally {
      await srv.stop();
    }
  });

  test("IPv6 loopback in brackets", async () => {
    const srv = await startMetricsServer(
      "[::1]:0",
      () => "# TYPE v6 gauge\nv6 1\n",
      quietLog().log,
    );
    try {
      const r = await fetch(`http://[::1]:${srv.port}/metrics`, {
        signal: AbortSignal.timeout(5000),
      });
      expect(r.status).toBe(200);
      expect(promSample(parseProm(await r.text()), "v6")?.value).toBe(1);
    } finally {
      await srv.stop();
    }
  });

  test("an address in use is a typed error naming the address", async () => {
    const first = await startMetricsServer("127.0.0.1:0", () => "", quietLog().log);
    const listen = `127.0.0.1:${first.port}`;
    try {
      const e = await startMetricsServer(listen, () => "", quietLog().log).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(MetricsListenError);
      const err = e as MetricsListenError;
      expect(err.reason).toBe("in-use");
      expect(err.code).toBe("E_SOCKET");
      expect(err.subject).toBe(listen);
      expect(err.message).toContain("in use");
    } finally {
      await first.stop();
    }
  });

  test("an address this host does not have is a typed error", async () => {
    const e = await startMetricsServer("192.0.2.77:0", () => "", quietLog().log).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(MetricsListenError);
    expect((e as MetricsListenError).reason).toBe("unavailable");
  });

  test("invalid addresses are refused before any socket", async () => {
    for (const listen of [
      "",
      "9165",
      ":9165",
      "localhost:9165",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:65536",
      "127.0.0.1:http",
      "256.0.0.1:9165",
      "::1:9165",
      "[::1]",
      "[127.0.0.1]:9165",
      "[::1]:9165x",
      "[fe80::1%eth0]:9165",
    ]) {
      const e = await startMetricsServer(listen, () => "", quietLog().log).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect({ listen, reason: (e as MetricsListenError | undefined)?.reason }).toEqual({
        listen,
        reason: "invalid",
      });
      expect((e as MetricsListenError).code).toBe("E_USAGE");
    }
  });

  test("parseListen: the forms it takes", () => {
    expect(parseListen("127.0.0.1:9165")).toEqual({ host: "127.0.0.1", port: 9165 });
    expect(parseListen("0.0.0.0:0")).toEqual({ host: "0.0.0.0", port: 0 });
    expect(parseListen("[::]:9165")).toEqual({ host: "::", port: 9165 });
    expect(parseListen("[2001:db8::5]:80")).toEqual({ host: "2001:db8::5", port: 80 });
  });
});
