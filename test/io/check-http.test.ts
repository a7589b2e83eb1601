import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import {
  buildRequest,
  type HttpCheckSpec,
  probeHttpGet,
  statusAccepted,
} from "../../src/io/check-http.ts";
import { driveChecker, expectTimeoutKeepsLoop } from "../helpers/checker-drive.ts";
import { missing } from "../helpers/env.ts";
import { closedTcpPort } from "../helpers/loopback.ts";

const md5 = (s: string | Buffer) => createHash("md5").update(s).digest("hex");

/** How the raw server answers one request. */
type Behaviour =
  | { kind: "respond"; status: number; body: string; contentLength?: number }
  | { kind: "silent" }
  | { kind: "close" }
  | { kind: "trickle" };

interface Raw {
  port: number;
  requests: string[];
  servernames: (string | false)[];
  behaviour: Behaviour;
  close(): void;
}

function onSocket(raw: Raw, s: Socket, held: Socket[]) {
  held.push(s);
  s.on("error", () => {});
  let buf = "";
  s.on("data", (d) => {
    buf += d.toString("latin1");
    if (!buf.includes("\r\n\r\n")) return;
    raw.requests.push(buf);
    const b = raw.behaviour;
    if (b.kind === "close") s.destroy();
    else if (b.kind === "trickle") {
      s.write("HTTP/1.0 200 OK\r\n\r\n");
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write("x")), 20);
    } else if (b.kind === "respond") {
      s.write(
        `HTTP/1.0 ${b.status} X\r\nContent-Length: ${b.contentLength ?? b.body.length}\r\n\r\n`,
      );
      s.end(b.body);
    }
  });
}

async function rawServer(tls?: {
  key: Buffer;
  cert: Buffer;
  /** Require a client certificate signed by `ca` (the SSL block's certificate/key). */
  ca?: Buffer;
}): Promise<Raw> {
  const held: Socket[] = [];
  const raw: Raw = {
    port: 0,
    requests: [],
    servernames: [],
    behaviour: { kind: "respond", status: 200, body: "hello" },
    close: () => {},
  };
  const server: Server = tls
    ? createTlsServer(
        {
          key: tls.key,
          cert: tls.cert,
          ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
        (s: TLSSocket) => {
          raw.servernames.push(s.servername ?? false);
          onSocket(raw, s, held);
        },
      )
    : createServer((s) => onSocket(raw, s, held));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  raw.port = addr.port;
  raw.close = () => {
    server.close();
    for (const s of held) s.destroy();
  };
  return raw;
}

const spec = (port: number, more: Partial<HttpCheckSpec> = {}): HttpCheckSpec => ({
  host: "127.0.0.1",
  port,
  connectTimeoutMs: 1000,
  url: { path: "/health" },
  ...more,
});

describe("HTTP_GET pure parts", () => {
  test.each([
    [200, undefined, true],
    [299, undefined, true],
    [300, undefined, false],
    [404, ["200", "400-404"], true],
    [405, ["200", "400-404"], false],
    [200, ["201"], false],
  ] as const)("status %d in %j → %s", (code, set, ok) => {
    expect(statusAccepted(code, set)).toBe(ok);
  });
  test("request: HTTP/1.0, no Connection, Host from the address (IPv6 bracketed)", () => {
    expect(buildRequest(spec(8080))).toBe(
      "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:8080\r\n\r\n",
    );
    expect(buildRequest({ ...spec(80), host: "2001:db8::1" })).toContain(
      "Host: [2001:db8::1]:80\r\n",
    );
  });
  test.each([
    ["1.0C", "HTTP/1.0", true],
    ["1.1", "HTTP/1.1", true],
    ["1.0", "HTTP/1.0", false],
  ] as const)("http_protocol %s → %s, Connection: close %s", (p, line, close) => {
    const req = buildRequest(spec(80, { httpProtocol: p }));
    expect(req.startsWith(`GET /health ${line}\r\n`)).toBe(true);
    expect(req.includes("Connection: close\r\n")).toBe(close);
  });
});

describe("HTTP_GET probe against a raw server", () => {
  let raw: Raw;
  beforeAll(async () => {
    raw = await rawServer();
  });
  afterAll(() => raw.close());

  test("up: 200 with the right digest; request as keepalived sends it", async () => {
    raw.behaviour = { kind: "respond", status: 200, body: "hello world" };
    const r = await probeHttpGet(
      spec(raw.port, { url: { path: "/a", digest: md5("hello world") } }),
    );
    expect(r).toMatchObject({ ok: true });
    expect(raw.requests.at(-1)).toBe(
      `GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:${raw.port}\r\n\r\n`,
    );
  });
  test("wrong digest", async () => {
    raw.behaviour = { kind: "respond", status: 200, body: "hello world" };
    const r = await probeHttpGet(spec(raw.port, { url: { path: "/", digest: md5("other") } }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain(md5("hello world"));
  });
  test("the digest covers Content-Length bytes only, as keepalived's", async () => {
    raw.behaviour = { kind: "respond", status: 200, body: "hello world", contentLength: 5 };
    const r = await probeHttpGet(spec(raw.port, { url: { path: "/", digest: md5("hello") } }));
    expect(r).toMatchObject({ ok: true });
  });
  test("wrong status, and a range that accepts it", async () => {
    raw.behaviour = { kind: "respond", status: 503, body: "" };
    const bad = await probeHttpGet(spec(raw.port));
    expect(bad.ok).toBe(false);
    expect(bad.reason).toContain("503");
    const ok = await probeHttpGet(spec(raw.port, { url: { path: "/", statusCodes: ["500-503"] } }));
    expect(ok.ok).toBe(true);
  });
  test("virtualhost: the URL's wins over the checker's", async () => {
    raw.behaviour = { kind: "respond", status: 200, body: "" };
    await probeHttpGet(spec(raw.port, { virtualhost: "www.example.com" }));
    expect(raw.requests.at(-1)).toContain("\r\nHost: www.example.com\r\n");
    await probeHttpGet(
      spec(raw.port, {
        virtualhost: "www.example.com",
        url: { path: "/", virtualhost: "a.example.org" },
      }),
    );
    expect(raw.requests.at(-1)).toContain("\r\nHost: a.example.org\r\n");
  });
  test("closed without an answer: no data", async () => {
    raw.behaviour = { kind: "close" };
    const r = await probeHttpGet(spec(raw.port));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("no data");
  });
  test("timeout: a server that accepts and never answers; the loop keeps running", async () => {
    raw.behaviour = { kind: "silent" };
    await expectTimeoutKeepsLoop(
      () => probeHttpGet(spec(raw.port, { connectTimeoutMs: 300 })),
      "timeout",
    );
  });
  test("a body trickling forever is cut by the whole-probe bound", async () => {
    raw.behaviour = { kind: "trickle" };
    const r = await probeHttpGet(spec(raw.port, { connectTimeoutMs: 200, totalTimeoutMs: 400 }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("400 ms");
    expect(r.latencyMs).toBeLessThan(1000);
  });
  test("a body over the size bound fails", async () => {
    raw.behaviour = { kind: "respond", status: 200, body: "y".repeat(5000) };
    const r = await probeHttpGet(spec(raw.port, { maxBodyBytes: 1000 }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("larger");
  });
  test("connection refused", async () => {
    const r = await probeHttpGet(spec(await closedTcpPort()));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("ECONNREFUSED");
  });
  test("retries counted by the machine: retry 1, a failing URL is fetched twice, then down", async () => {
    raw.behaviour = { kind: "respond", status: 200, body: "" };
    const before = raw.requests.length;
    const { reports } = await driveChecker(
      { kind: "http", delayLoopMs: 100, delayBeforeRetryMs: 10, retry: 1 },
      [200, 500, 500],
      async (status) => {
        raw.behaviour = { kind: "respond", status, body: "" };
        return (await probeHttpGet(spec(raw.port))).ok;
      },
    );
    expect(raw.requests.length - before).toBe(3);
    expect(reports).toEqual(["up", "down"]);
  });
});

describe("HTTP_GET probe against Bun.serve", () => {
  test("a real HTTP server: up, digest of the body", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new Response(new URL(req.url).pathname === "/ok" ? "fine" : "no", {
          status: new URL(req.url).pathname === "/ok" ? 200 : 404,
        }),
    });
    try {
      const port = server.port ?? 0;
      const ok = await probeHttpGet(spec(port, { url: { path: "/ok", digest: md5("fine") } }));
      expect(ok).toMatchObject({ ok: true });
      const ok11 = await probeHttpGet(
        spec(port, { httpProtocol: "1.1", url: { path: "/ok", digest: md5("fine") } }),
      );
      expect(ok11).toMatchObject({ ok: true });
      const nf = await probeHttpGet(spec(port, { url: { path: "/missing" } }));
      expect(nf.ok).toBe(false);
      expect(nf.reason).toContain("404");
    } finally {
      server.stop(true);
    }
  });
});

const noOpenssl = missing({ commands: ["openssl"] });
describe.skipIf(noOpenssl !== undefined)(
  `SSL_GET probe${noOpenssl ? ` (skipped: ${noOpenssl})` : ""}`,
  () => {
    let dir = "";
    let raw: Raw;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "check-ssl-"));
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-subj",
          "/CN=localhost",
          "-days",
          "1",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      raw = await rawServer({
        key: readFileSync(join(dir, "key.pem")),
        cert: readFileSync(join(dir, "cert.pem")),
      });
    });
    afterAll(() => {
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("self-signed server is up (no verification, as keepalived), digest checked, no SNI by default", async () => {
      raw.behaviour = { kind: "respond", status: 200, body: "secure" };
      const r = await probeHttpGet(
        spec(raw.port, { tls: {}, url: { path: "/", digest: md5("secure") } }),
      );
      expect(r).toMatchObject({ ok: true });
      expect(raw.servernames.at(-1)).toBe(false);
      const bad = await probeHttpGet(
        spec(raw.port, { tls: {}, url: { path: "/", digest: md5("x") } }),
      );
      expect(bad.ok).toBe(false);
    });
    test("enable_sni: sni_name, else the virtualhost", async () => {
      raw.behaviour = { kind: "respond", status: 200, body: "" };
      await probeHttpGet(spec(raw.port, { tls: { enableSni: true, sniName: "sni.example.com" } }));
      expect(raw.servernames.at(-1)).toBe("sni.example.com");
      await probeHttpGet(
        spec(raw.port, { virtualhost: "vh.example.com", tls: { enableSni: true } }),
      );
      expect(raw.servernames.at(-1)).toBe("vh.example.com");
    });
    test("the SSL block's client certificate and key: accepted by a server that requires one", async () => {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-subj",
          "/CN=lb-checker",
          "-days",
          "1",
          "-passout",
          "pass:s3cret",
          "-keyout",
          join(dir, "client.key"),
          "-out",
          join(dir, "client.pem"),
        ],
        { stdio: "ignore" },
      );
      const clientCert = readFileSync(join(dir, "client.pem"));
      const strict = await rawServer({
        key: readFileSync(join(dir, "key.pem")),
        cert: readFileSync(join(dir, "cert.pem")),
        ca: clientCert,
      });
      try {
        strict.behaviour = { kind: "respond", status: 200, body: "ok" };
        const withCert = await probeHttpGet(
          spec(strict.port, {
            tls: {
              certificate: clientCert.toString(),
              key: readFileSync(join(dir, "client.key"), "utf8"),
              password: "s3cret",
            },
          }),
        );
        expect(withCert).toMatchObject({ ok: true });
        const without = await probeHttpGet(spec(strict.port, { tls: {}, connectTimeoutMs: 1000 }));
        expect(without.ok).toBe(false);
      } finally {
        strict.close();
      }
    });
    test("plain HTTP server probed with TLS fails within the timeout", async () => {
      const plain = await rawServer();
      plain.behaviour = { kind: "silent" };
      const r = await probeHttpGet(spec(plain.port, { tls: {}, connectTimeoutMs: 300 }));
      plain.close();
      expect(r.ok).toBe(false);
      expect(r.latencyMs).toBeLessThan(1000);
    });
  },
);
