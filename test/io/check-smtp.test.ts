import { afterEach, describe, expect, test } from "bun:test";
import { probeSmtp, type SmtpCheckSpec } from "../../src/io/check-smtp.ts";
import { driveChecker, expectTimeoutKeepsLoop } from "../helpers/checker-drive.ts";
import { closedTcpPort, listenTcp } from "../helpers/loopback.ts";
import {
  type SmtpServer,
  type SmtpServerOptions,
  startSmtpServer,
} from "../helpers/smtp-server.ts";

let servers: SmtpServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function server(opts: SmtpServerOptions = {}): Promise<SmtpServer> {
  const s = await startSmtpServer(opts);
  servers.push(s);
  return s;
}

const spec = (port: number, over: Partial<SmtpCheckSpec> = {}): SmtpCheckSpec => ({
  host: "127.0.0.1",
  port,
  connectTimeoutMs: 2000,
  heloName: "checker.example",
  retry: 0,
  delayBeforeRetryMs: 10,
  ...over,
});

describe("SMTP_CHECK probe", () => {
  test("up: banner, HELO helo_name, 250, QUIT, 221", async () => {
    const srv = await server();
    const r = await probeSmtp(spec(srv.port));
    expect(r).toMatchObject({ ok: true });
    const s = await srv.session(0);
    expect(s.commands).toEqual(["HELO checker.example", "QUIT"]);
  });

  test("bad banner: keepalived's text names the server", async () => {
    const srv = await server({ reply: (c) => (c === "greeting" ? "554 no service" : undefined) });
    const r = await probeSmtp(spec(srv.port));
    expect(r.ok).toBe(false);
    expect(r.reason).toBe(`Bad greeting banner from server [127.0.0.1]:${srv.port}`);
    expect(srv.sessions[0]?.commands).toEqual([]);
  });

  test("multi-line greeting is refused, as keepalived does", async () => {
    const srv = await server({
      reply: (c) => (c === "greeting" ? "220-mx.example\n220 mx.example" : undefined),
    });
    const r = await probeSmtp(spec(srv.port));
    expect(r.reason).toContain("Bad greeting banner");
  });

  test("bad HELO reply", async () => {
    const srv = await server({ reply: (c) => (c === "HELO" ? "502 not today" : undefined) });
    const r = await probeSmtp(spec(srv.port));
    expect(r.reason).toBe(`Bad HELO response from server [127.0.0.1]:${srv.port}`);
  });

  test("early close: the server hangs up after HELO, or instead of answering QUIT", async () => {
    const a = await server({ reply: (c) => (c === "HELO" ? "close" : undefined) });
    expect((await probeSmtp(spec(a.port))).reason).toContain("Read failure from server");
    const b = await server({ reply: (c) => (c === "QUIT" ? "close" : undefined) });
    expect((await probeSmtp(spec(b.port))).reason).toContain("Read failure from server");
  });

  test("refused", async () => {
    const port = await closedTcpPort();
    const r = await probeSmtp(spec(port));
    expect(r.reason).toBe(`Error connecting to server [127.0.0.1]:${port}`);
  });

  test("silent server: read timeout, and the event loop keeps running", async () => {
    const srv = await server({ reply: (c) => (c === "greeting" ? null : undefined) });
    const r = await expectTimeoutKeepsLoop(
      () => probeSmtp(spec(srv.port, { connectTimeoutMs: 300 })),
      "Read timeout",
    );
    expect(r.reason).toBe(`Read timeout from server [127.0.0.1]:${srv.port}`);
  });

  test("retries inside the probe: retry 2 makes three connections, then the last reason", async () => {
    const srv = await server({ reply: (c) => (c === "greeting" ? "421 busy" : undefined) });
    const r = await probeSmtp(spec(srv.port, { retry: 2, delayBeforeRetryMs: 20 }));
    expect(r.ok).toBe(false);
    expect(srv.sessions.length).toBe(3);
    expect(r.latencyMs).toBeGreaterThanOrEqual(40);
  });

  test("a retry that succeeds makes the probe pass", async () => {
    let n = 0;
    const srv = await server({
      reply: (c) => (c === "greeting" ? (n++ === 0 ? "421 busy" : undefined) : undefined),
    });
    const r = await probeSmtp(spec(srv.port, { retry: 1 }));
    expect(r.ok).toBe(true);
    expect(srv.sessions.length).toBe(2);
  });

  test("bindto / bind_port are the connection's source", async () => {
    let seen: { addr?: string; port?: number } = {};
    const raw = await listenTcp((c) => {
      seen = { addr: c.remoteAddress ?? "", port: c.remotePort ?? 0 };
      c.write("220 raw\r\n");
      c.on("data", (d) => c.write(String(d).startsWith("HELO") ? "250 ok\r\n" : "221 bye\r\n"));
    });
    const bindPort = await closedTcpPort();
    const r = await probeSmtp(spec(raw.port, { bindAddress: "127.0.0.4", bindPort }));
    await raw.close();
    expect(r.ok).toBe(true);
    expect(seen).toEqual({ addr: "127.0.0.4", port: bindPort });
  });

  test("driven by the machine with retry 0 (retries are in the probe): down at the first failed round", async () => {
    let fail = false;
    const srv = await server({
      reply: (c) => (c === "greeting" && fail ? "554 down" : undefined),
    });
    const { reports } = await driveChecker(
      { kind: "tcp", delayLoopMs: 50, delayBeforeRetryMs: 5, retry: 0 },
      [false, true, true, false],
      async (f) => {
        fail = f;
        return (await probeSmtp(spec(srv.port, { retry: 1, delayBeforeRetryMs: 5 }))).ok;
      },
    );
    expect(reports).toEqual(["up", "down", "up"]);
    // 1 + 2 + 2 + 1 connections: each failed round spent its retry
    expect(srv.sessions.length).toBe(6);
  });
});
