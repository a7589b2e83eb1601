/**
 * probeHttp against servers on 127.0.0.1 (port 0) that this test starts and stops: the
 * status decides, 3xx is not followed, the Host header is sent, every probe opens its own
 * connection, the body is read only up to a bound, a server that never answers costs the
 * timeout and no more (with the event loop free all along), a refused connection and a
 * certificate that does not verify are failures with a reason — and nothing ever throws.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:tls";
import { statusMatcher } from "../../src/core/track/http-spec.ts";
import { type HttpProbeSpec, MAX_BODY_BYTES, probeHttp } from "../../src/io/http-probe.ts";
import { missing, run } from "../helpers/env.ts";

const OK_200 = statusMatcher(["200"]);
const RAW_200 = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n";
const TIMEOUT_MS = 300;
/** How late a timed-out probe may report, on a loaded test machine. */
const LATE_MS = 250;

/** Every request the server saw: path, Host header and the client's port. */
const seen: { path: string; host: string | null; port: number | undefined }[] = [];
/** Bytes the endless body produced, and whether the client's hang-up cancelled it. */
const endless = { sent: 0, cancelled: false };

let server: ReturnType<typeof Bun.serve>;
let base: string;

function route(req: Request, port: number | undefined): Response | Promise<Response> {
  const url = new URL(req.url);
  seen.push({ path: url.pathname, host: req.headers.get("host"), port });
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) return new Response("status\n", { status: Number(status[1]) });
  switch (url.pathname) {
    case "/ok":
      return new Response("ok\n");
    case "/redirect":
      return new Response(null, { status: 302, headers: { location: "/ok" } });
    case "/vhost":
      return new Response(null, {
        status: req.headers.get("host") === "www.example.org" ? 200 : 421,
      });
    case "/endless":
      return new Response(
        new ReadableStream({
          pull(c) {
            endless.sent += 16384;
            c.enqueue(new Uint8Array(16384));
          },
          cancel() {
            endless.cancelled = true;
          },
        }),
      );
    case "/headers-only":
      // Headers and a first chunk, then nothing: the body never ends.
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode("partial"));
          },
        }),
      );
    default:
      return new Response("not found\n", { status: 404 });
  }
}

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req, srv) => route(req, srv.requestIP(req)?.port),
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const spec = (path: string, more: Partial<HttpProbeSpec> = {}): HttpProbeSpec => ({
  url: `${base}${path}`,
  expect: OK_200,
  timeoutMs: 2000,
  tlsVerify: true,
  ...more,
});

/** Runs `p` while a 5 ms interval timer measures the longest gap the event loop allowed. */
async function withLoopWatch<T>(p: () => Promise<T>): Promise<{ value: T; maxGapMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  try {
    const value = await p();
    maxGapMs = Math.max(maxGapMs, performance.now() - last);
    return { value, maxGapMs };
  } finally {
    clearInterval(timer);
  }
}

describe("the status decides", () => {
  test("200 is a success, with its status and latency", async () => {
    const r = await probeHttp(spec("/ok"));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.reason).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(r.latencyMs).toBeLessThan(2000);
  });

  test("503 is a failure that names the status", async () => {
    const r = await probeHttp(spec("/status/503"));
    expect(r).toMatchObject({ ok: false, status: 503, reason: "unexpected status 503" });
  });

  test("a range: 200-299 holds 204 and not 300 or 404", async () => {
    const expect2xx = statusMatcher(["200-299"]);
    const got = [];
    for (const s of [200, 204, 299, 300, 404])
      got.push((await probeHttp(spec(`/status/${s}`, { expect: expect2xx }))).ok);
    expect(got).toEqual([true, true, true, false, false]);
  });

  test("a redirect is the answer, not followed", async () => {
    const before = seen.length;
    const r = await probeHttp(spec("/redirect"));
    expect(r).toMatchObject({ ok: false, status: 302 });
    expect(seen.slice(before).map((s) => s.path)).toEqual(["/redirect"]);
    const ok3xx = await probeHttp(spec("/redirect", { expect: statusMatcher(["301-302"]) }));
    expect(ok3xx.ok).toBe(true);
  });
});

describe("the request", () => {
  test("the Host header is sent when set (a virtual host), else the URL's", async () => {
    expect((await probeHttp(spec("/vhost", { host: "www.example.org" }))).ok).toBe(true);
    const plain = await probeHttp(spec("/vhost"));
    expect(plain).toMatchObject({ ok: false, status: 421 });
    expect(seen.at(-1)?.host).toBe(`127.0.0.1:${server.port}`);
  });

  test("every probe opens its own connection (a pooled one would hide a stuck accept)", async () => {
    const before = seen.length;
    for (let i = 0; i < 3; i++) expect((await probeHttp(spec("/ok"))).ok).toBe(true);
    const ports = seen.slice(before).map((s) => s.port);
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(3);
  });

  test("an http_proxy in the environment is not used: the probe checks the server itself", async () => {
    const saved = { lower: process.env.http_proxy, upper: process.env.HTTP_PROXY };
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
    const proxy = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    process.env.http_proxy = proxy;
    process.env.HTTP_PROXY = proxy;
    try {
      // Plain fetch goes to the (dead) proxy, so the environment really is in effect...
      const plain = await fetch(`${base}/ok`).then(
        (r) => r.status,
        () => "refused",
      );
      expect(plain).toBe("refused");
      // ...and the probe still reaches the server.
      expect(await probeHttp(spec("/ok"))).toMatchObject({ ok: true, status: 200 });
    } finally {
      for (const [k, v] of [
        ["http_proxy", saved.lower],
        ["HTTP_PROXY", saved.upper],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });

  test("an endless body is read up to the bound and dropped: quick, and the server sees the hang-up", async () => {
    endless.sent = 0;
    endless.cancelled = false;
    const r = await probeHttp(spec("/endless"));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.latencyMs).toBeLessThan(2000);
    const until = performance.now() + 2000;
    while (!endless.cancelled && performance.now() < until) await Bun.sleep(5);
    expect(endless.cancelled).toBe(true);
    expect(endless.sent).toBeGreaterThanOrEqual(MAX_BODY_BYTES);
  });

  test("a body that never ends fails at the timeout, with the status it had", async () => {
    const r = await probeHttp(spec("/headers-only", { timeoutMs: TIMEOUT_MS }));
    expect(r).toMatchObject({ ok: false, status: 200 });
    expect(r.reason).toContain(`within ${TIMEOUT_MS} ms`);
    expect(r.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(r.latencyMs).toBeLessThan(TIMEOUT_MS + LATE_MS);
  });
});

describe("failures never throw", () => {
  test("a server that accepts and never answers: the timeout is honoured, the loop stays free", async () => {
    const held: { end(): void }[] = [];
    const silent = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (s) => void held.push(s),
        data: () => {},
      },
    });
    try {
      const { value: r, maxGapMs } = await withLoopWatch(() =>
        probeHttp({
          url: `http://127.0.0.1:${silent.port}/healthz`,
          expect: OK_200,
          timeoutMs: TIMEOUT_MS,
          tlsVerify: true,
        }),
      );
      expect(held.length).toBe(1);
      expect(r.ok).toBe(false);
      expect(r.status).toBeUndefined();
      expect(r.reason).toBe(`no complete answer within ${TIMEOUT_MS} ms`);
      expect(r.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
      expect(r.latencyMs).toBeLessThan(TIMEOUT_MS + LATE_MS);
      expect(maxGapMs).toBeLessThan(100);
    } finally {
      for (const s of held) s.end();
      silent.stop(true);
    }
  });

  test("connection refused: a failure with the reason, long before the timeout", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: () => {} } });
    const port = probe.port;
    probe.stop(true);
    const r = await probeHttp({
      url: `http://127.0.0.1:${port}/`,
      expect: OK_200,
      timeoutMs: 2000,
      tlsVerify: true,
    });
    expect(r.ok).toBe(false);
    expect(r.status).toBeUndefined();
    expect(r.reason).toMatch(/refused/i);
    expect(r.latencyMs).toBeLessThan(1000);
  });

  test("a URL fetch cannot even parse is a failure, not an exception", async () => {
    const r = await probeHttp({
      url: "http://[::1/",
      expect: OK_200,
      timeoutMs: 100,
      tlsVerify: true,
    });
    expect(r.ok).toBe(false);
    expect(r.reason).toStartWith("request failed: ");
  });
});

const noOpenssl = missing({ commands: ["openssl"] });
describe.skipIf(noOpenssl !== undefined)(
  `TLS with a self-signed certificate${noOpenssl ? ` (skipped: ${noOpenssl})` : ""}`,
  () => {
    let dir: string;
    let tls: ReturnType<typeof Bun.serve>;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "http-probe-"));
      const gen = run([
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ]);
      if (gen.code !== 0) throw new Error(`openssl failed: ${gen.stderr}`);
      tls = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        tls: {
          cert: readFileSync(join(dir, "cert.pem"), "utf8"),
          key: readFileSync(join(dir, "key.pem"), "utf8"),
        },
        fetch: () => new Response("ok\n"),
      });
    });
    afterAll(() => {
      tls?.stop(true);
      rmSync(dir, { recursive: true, force: true });
    });

    test("tls_verify false: the certificate is not checked, the status decides", async () => {
      const r = await probeHttp({
        url: `https://127.0.0.1:${tls.port}/healthz`,
        expect: OK_200,
        timeoutMs: 2000,
        tlsVerify: false,
      });
      expect(r).toMatchObject({ ok: true, status: 200 });
    });

    test("a Host header names the virtual host in SNI too; an address URL alone sends none", async () => {
      const names: unknown[] = [];
      const key = readFileSync(join(dir, "key.pem"));
      const cert = readFileSync(join(dir, "cert.pem"));
      const raw = createServer({ key, cert }, (s) => {
        names.push((s as unknown as { servername?: unknown }).servername ?? false);
        s.on("data", () => s.end(RAW_200));
        s.on("error", () => {});
      });
      await new Promise<void>((ok) => raw.listen(0, "127.0.0.1", ok));
      try {
        const port = (raw.address() as { port: number }).port;
        const url = `https://127.0.0.1:${port}/healthz`;
        const tlsOff = { expect: OK_200, timeoutMs: 2000, tlsVerify: false } as const;
        expect(await probeHttp({ url, ...tlsOff, host: "www.example.org:8443" })).toMatchObject({
          ok: true,
          status: 200,
        });
        expect((await probeHttp({ url, ...tlsOff })).ok).toBe(true);
        expect((await probeHttp({ url, ...tlsOff, host: "192.0.2.1" })).ok).toBe(true);
        expect(names).toEqual(["www.example.org", false, false]);
      } finally {
        raw.close();
      }
    });

    test("tls_verify true: a self-signed certificate fails, saying why", async () => {
      const r = await probeHttp({
        url: `https://127.0.0.1:${tls.port}/healthz`,
        expect: OK_200,
        timeoutMs: 2000,
        tlsVerify: true,
      });
      expect(r.ok).toBe(false);
      expect(r.status).toBeUndefined();
      expect(r.reason).toMatch(/self.signed|certificate/i);
    });
  },
);
