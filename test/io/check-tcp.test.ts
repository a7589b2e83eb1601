import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { probeTcp } from "../../src/io/check-tcp.ts";
import { driveChecker, expectTimeoutKeepsLoop } from "../helpers/checker-drive.ts";
import { missing } from "../helpers/env.ts";
import { closedTcpPort, listenTcp, type TcpListener } from "../helpers/loopback.ts";

const noPython = missing({ commands: ["python3"] });

describe("TCP_CHECK probe", () => {
  let up: TcpListener;
  beforeAll(async () => {
    up = await listenTcp();
  });
  afterAll(() => up.close());

  test("up: a listening port connects", async () => {
    const before = up.accepted();
    const r = await probeTcp({ host: "127.0.0.1", port: up.port, connectTimeoutMs: 2000 });
    expect(r.ok).toBe(true);
    expect(r.reason).toBeUndefined();
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.latencyMs).toBeLessThan(2000);
    // the server really saw the connection
    for (let i = 0; i < 100 && up.accepted() === before; i++) await Bun.sleep(5);
    expect(up.accepted()).toBe(before + 1);
  });

  test("down: connection refused is a failure with a reason", async () => {
    const port = await closedTcpPort();
    const r = await probeTcp({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("ECONNREFUSED");
  });

  test("bindto / bind_port: the source address and port are used", async () => {
    let seen: { addr?: string; port?: number } = {};
    const srv = await listenTcp((s) => {
      seen = { addr: s.remoteAddress ?? "", port: s.remotePort ?? 0 };
    });
    const bindPort = await closedTcpPort();
    const r = await probeTcp({
      host: "127.0.0.1",
      port: srv.port,
      bindAddress: "127.0.0.2",
      bindPort,
      connectTimeoutMs: 2000,
    });
    for (let i = 0; i < 100 && seen.addr === undefined; i++) await Bun.sleep(5);
    srv.server.close();
    expect(r.ok).toBe(true);
    expect(seen.addr).toBe("127.0.0.2");
    expect(seen.port).toBe(bindPort);
  });

  test.skipIf(noPython !== undefined)(
    `timeout: honoured, and the event loop keeps running meanwhile${noPython ? ` (skipped: ${noPython})` : ""}`,
    async () => {
      // A listener that never accepts, with its accept queue filled: the kernel drops further
      // SYNs, so a connect neither succeeds nor fails until our timeout.
      const py = Bun.spawn(
        [
          "python3",
          "-c",
          "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()",
        ],
        { stdin: "pipe", stdout: "pipe" },
      );
      try {
        const line = await new Response(py.stdout).body?.getReader().read();
        const port = Number(new TextDecoder().decode(line?.value).trim());
        expect(port).toBeGreaterThan(0);
        // fill the queue: connects that complete are kept open
        const fillers: Socket[] = [];
        for (let i = 0; i < 8; i++) {
          const r = await probeTcpKeep(port, 200, fillers);
          if (!r) break;
        }
        try {
          await expectTimeoutKeepsLoop(
            () => probeTcp({ host: "127.0.0.1", port, connectTimeoutMs: 300 }),
            "timeout",
          );
        } finally {
          for (const f of fillers) f.destroy();
        }
      } finally {
        py.kill();
        await py.exited;
      }
    },
  );
});

/** Connect and keep the socket (true), or give up after `timeoutMs` (false). */
function probeTcpKeep(port: number, timeoutMs: number, keep: Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(t);
      keep.push(s);
      resolve(true);
    });
    s.once("error", () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

describe("TCP_CHECK probe driven by the machine", () => {
  test("retry 2: after an up, a dead server is probed 3 times before the verdict goes down", async () => {
    const live = await listenTcp();
    const dead = await closedTcpPort();
    const { state, reports } = await driveChecker(
      { kind: "tcp", delayLoopMs: 50, delayBeforeRetryMs: 5, retry: 2 },
      [live.port, dead, dead, dead],
      async (port) => (await probeTcp({ host: "127.0.0.1", port, connectTimeoutMs: 1000 })).ok,
    );
    await live.close();
    expect(state.attempts).toBe(4);
    expect(reports).toEqual(["up", "down"]);
    expect(state.isUp).toBe(false);
  });
});
