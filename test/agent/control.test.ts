/**
 * The control socket's transport (src/agent/control.ts, docs/control.md): framing, errors,
 * bounds, and the socket file's life cycle — against fake handlers, in a temp directory.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Socket } from "bun";
import {
  type ControlHandlers,
  type ControlServer,
  type ControlServerOptions,
  startControlServer,
} from "../../src/agent/control.ts";
import { AgentError } from "../../src/errors.ts";

const tmp = mkdtempSync(`${tmpdir()}/agent-control-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const sockPath = () => `${tmp}/s${++seq}.sock`;

const quiet = { debug() {}, info() {}, warn() {} };

/** Reject if `p` has not settled within `ms`: every wait in this file is bounded. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A promise with its resolver outside: "the handler was called" and the like. */
function signal<T = void>(): { promise: Promise<T>; fire: (v: T) => void } {
  let fire!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    fire = r;
  });
  return { promise, fire };
}

/** A raw client: writes bytes, reads lines, notices the close. */
class LineClient {
  private buf = "";
  private lines: string[] = [];
  private waiting: ((l: string | null) => void) | null = null;
  closed = false;
  readonly whenClosed = signal();
  private sock!: Socket<undefined>;

  static async open(path: string, opts: { read?: boolean } = {}): Promise<LineClient> {
    const c = new LineClient();
    c.sock = await Bun.connect({
      unix: path,
      socket: {
        data: (_s, d) => c.onData(d.toString("utf8")),
        close: () => c.onClose(),
      },
    });
    if (opts.read === false) c.sock.pause();
    return c;
  }

  private onData(text: string): void {
    this.buf += text;
    let nl = this.buf.indexOf("\n");
    while (nl >= 0) {
      this.lines.push(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf("\n");
    }
    this.wake();
  }

  private onClose(): void {
    this.closed = true;
    this.whenClosed.fire();
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    if (!w) return;
    const l = this.lines.shift();
    if (l !== undefined) {
      this.waiting = null;
      w(l);
    } else if (this.closed) {
      this.waiting = null;
      w(null);
    }
  }

  send(data: string | Uint8Array): void {
    this.sock.write(data);
  }

  /** The next answer, parsed; null when the server closed without one. */
  // biome-ignore lint/suspicious/noExplicitAny: answers are inspected field by field
  next(ms = 3000): Promise<any> {
    const p = new Promise<string | null>((resolve) => {
      this.waiting = resolve;
      this.wake();
    });
    return within(p, ms, "an answer line").then((l) => (l === null ? null : JSON.parse(l)));
  }

  /** Send one request line and read one answer. */
  // biome-ignore lint/suspicious/noExplicitAny: see next()
  ask(req: object, ms = 3000): Promise<any> {
    this.send(`${JSON.stringify(req)}\n`);
    return this.next(ms);
  }

  end(): void {
    this.sock.end();
  }
}

const clients: LineClient[] = [];
const servers: ControlServer[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end();
  for (const s of servers.splice(0)) await s.stop();
});

async function connect(path: string, opts: { read?: boolean } = {}): Promise<LineClient> {
  const c = await within(LineClient.open(path, opts), 2000, "connect");
  clients.push(c);
  return c;
}

interface Calls {
  status: number;
  failover: (string | undefined)[];
  maintenance: boolean[];
}

function fakeHandlers(over: Partial<ControlHandlers> = {}): { h: ControlHandlers; calls: Calls } {
  const calls: Calls = { status: 0, failover: [], maintenance: [] };
  const h: ControlHandlers = {
    status: () => ({ n: ++calls.status }),
    reload: async () => ({ ok: true }),
    failover: async (instance) => {
      calls.failover.push(instance);
      return { handedOver: instance ? [instance] : ["VI_1", "VI_2"] };
    },
    maintenance: async (on) => {
      calls.maintenance.push(on);
      return { maintenance: on };
    },
    ...over,
  };
  return { h, calls };
}

async function serve(
  over: Partial<ControlHandlers> = {},
  opts: ControlServerOptions = {},
  path = sockPath(),
): Promise<{ path: string; calls: Calls; server: ControlServer }> {
  const { h, calls } = fakeHandlers(over);
  const server = await startControlServer(path, h, quiet, opts);
  servers.push(server);
  return { path, calls, server };
}

describe("framing", () => {
  test("one request, one answer with the same id", async () => {
    const { path } = await serve();
    const c = await connect(path);
    expect(await c.ask({ id: 7, cmd: "status" })).toEqual({ id: 7, ok: true, result: { n: 1 } });
  });

  test("several requests on one connection are answered in order", async () => {
    const { path } = await serve();
    const c = await connect(path);
    for (let i = 1; i <= 5; i++)
      expect(await c.ask({ id: i, cmd: "status" })).toEqual({ id: i, ok: true, result: { n: i } });
  });

  test("pipelined requests in one write, a request split byte by byte, CRLF, blank lines", async () => {
    const { path } = await serve();
    const c = await connect(path);
    c.send('{"id":"a","cmd":"status"}\n\n{"id":"b","cmd":"status"}\r\n');
    expect((await c.next()).id).toBe("a");
    expect((await c.next()).id).toBe("b");
    for (const ch of '{"id":3,"cmd":"status"}\n') c.send(ch);
    expect(await c.next()).toEqual({ id: 3, ok: true, result: { n: 3 } });
  });

  test("commands reach their handlers with their arguments", async () => {
    const { path, calls } = await serve();
    const c = await connect(path);
    expect(await c.ask({ id: 1, cmd: "failover", instance: "VI_1" })).toEqual({
      id: 1,
      ok: true,
      result: { handedOver: ["VI_1"] },
    });
    expect((await c.ask({ id: 2, cmd: "failover" })).ok).toBe(true);
    expect(await c.ask({ id: 3, cmd: "maintenance", on: true })).toEqual({
      id: 3,
      ok: true,
      result: { maintenance: true },
    });
    expect(await c.ask({ id: 4, cmd: "reload" })).toEqual({
      id: 4,
      ok: true,
      result: { reloaded: true },
    });
    expect(calls.failover).toEqual(["VI_1", undefined]);
    expect(calls.maintenance).toEqual([true]);
  });

  test("a handler returning nothing answers result null (the key is never dropped)", async () => {
    const { path } = await serve({ maintenance: async () => undefined });
    const c = await connect(path);
    expect(await c.ask({ id: 1, cmd: "maintenance", on: false })).toEqual({
      id: 1,
      ok: true,
      result: null,
    });
  });
});

describe("errors", () => {
  test("an unknown command is E_UNKNOWN_CMD with the id echoed", async () => {
    const { path } = await serve();
    const c = await connect(path);
    const r = await c.ask({ id: 9, cmd: "reboot" });
    expect(r).toMatchObject({ id: 9, ok: false, error: { code: "E_UNKNOWN_CMD" } });
    expect(r.error.message).toContain("status, reload, failover, maintenance");
  });

  const bad: [string, string][] = [
    ["hello", "E_PARSE"],
    ['{"id":1,"cmd":"status"', "E_PARSE"],
    ["[1,2]", "E_BAD_REQUEST"],
    ["42", "E_BAD_REQUEST"],
    ['{"id":{},"cmd":"status"}', "E_BAD_REQUEST"],
    ['{"id":1}', "E_BAD_REQUEST"],
    ['{"id":1,"cmd":7}', "E_BAD_REQUEST"],
    ['{"id":1,"cmd":"status","verbose":true}', "E_BAD_REQUEST"],
    ['{"id":1,"cmd":"failover","instanse":"VI_1"}', "E_BAD_REQUEST"],
    ['{"id":1,"cmd":"failover","instance":5}', "E_BAD_REQUEST"],
    ['{"id":1,"cmd":"maintenance"}', "E_BAD_REQUEST"],
    ['{"id":1,"cmd":"maintenance","on":"yes"}', "E_BAD_REQUEST"],
    [`{"id":"${"x".repeat(300)}","cmd":"status"}`, "E_BAD_REQUEST"],
  ];
  test("garbage gets an error line and the connection keeps working", async () => {
    const { path, calls } = await serve();
    const c = await connect(path);
    for (const [line, code] of bad) {
      c.send(`${line}\n`);
      const a = await c.next();
      expect({ line, code: a.error?.code }).toEqual({ line, code });
      expect(a.ok).toBe(false);
    }
    expect(calls.failover).toEqual([]);
    expect(calls.maintenance).toEqual([]);
    expect((await c.ask({ id: "still", cmd: "status" })).ok).toBe(true);
  });

  test("binary noise and invalid UTF-8 get error lines, never a crash", async () => {
    const { path } = await serve();
    const c = await connect(path);
    c.send(new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x7b, 0xc3, 0x28, 0x0a]));
    expect((await c.next()).error.code).toBe("E_PARSE");
    c.send(new Uint8Array([0x00, 0x0a]));
    expect((await c.next()).ok).toBe(false);
    expect((await c.ask({ id: 1, cmd: "status" })).ok).toBe(true);
  });

  test("a handler's typed error keeps its code; anything else is E_INTERNAL", async () => {
    const { path } = await serve({
      failover: async (i) => {
        throw new AgentError("E_INTERFACE", `no instance ${i}`);
      },
      maintenance: async () => {
        throw new Error("boom");
      },
      status: () => ({ big: 10n }), // JSON cannot carry a BigInt
    });
    const c = await connect(path);
    expect(await c.ask({ id: 1, cmd: "failover", instance: "VI_9" })).toEqual({
      id: 1,
      ok: false,
      error: { code: "E_INTERFACE", message: "no instance VI_9" },
    });
    expect(await c.ask({ id: 2, cmd: "maintenance", on: true })).toMatchObject({
      id: 2,
      ok: false,
      error: { code: "E_INTERNAL", message: "maintenance failed: boom" },
    });
    expect(await c.ask({ id: 3, cmd: "status" })).toMatchObject({
      id: 3,
      error: { code: "E_INTERNAL" },
    });
  });

  test("a refused reload is E_RELOAD_REJECTED with the diagnostics", async () => {
    const diagnostics = [
      { file: "/etc/x.conf", line: 3, col: 5, severity: "error", code: "bad-vrid", message: "m" },
    ];
    const { path } = await serve({ reload: async () => ({ ok: false, diagnostics }) });
    const c = await connect(path);
    expect(await c.ask({ id: 1, cmd: "reload" })).toMatchObject({
      id: 1,
      ok: false,
      error: { code: "E_RELOAD_REJECTED", diagnostics },
    });
  });
});

describe("bounds", () => {
  test("an over-long line gets E_LINE_TOO_LONG and the connection closes", async () => {
    const { path } = await serve();
    const c = await connect(path);
    c.send("x".repeat(70 * 1024));
    expect(await c.next()).toMatchObject({
      id: null,
      ok: false,
      error: { code: "E_LINE_TOO_LONG" },
    });
    await within(c.whenClosed.promise, 2000, "the close");
    const d = await connect(path);
    expect((await d.ask({ id: 1, cmd: "status" })).ok).toBe(true);
  });

  test("the limit is exact: maxLineBytes passes, one more byte does not", async () => {
    const { path } = await serve({}, { maxLineBytes: 1024 });
    const pad = (n: number) => {
      const base = '{"id":1,"cmd":"status"}';
      return `${base.slice(0, -1)}${" ".repeat(n - base.length)}}`;
    };
    const c = await connect(path);
    expect(Buffer.byteLength(pad(1024))).toBe(1024);
    expect(JSON.parse(pad(1025))).toEqual({ id: 1, cmd: "status" }); // valid, only too long
    c.send(`${pad(1024)}\n`);
    expect((await c.next()).ok).toBe(true);
    c.send(`${pad(1025)}\n`);
    expect((await c.next()).error.code).toBe("E_LINE_TOO_LONG");
    await within(c.whenClosed.promise, 2000, "the close");
  });

  test("concurrent clients each get their own answers", async () => {
    const { path, calls } = await serve();
    const many = await Promise.all(Array.from({ length: 40 }, () => connect(path)));
    const answers = await Promise.all(
      many.map(async (c, k) => {
        const ids: unknown[] = [];
        for (let i = 0; i < 3; i++) ids.push((await c.ask({ id: `${k}-${i}`, cmd: "status" })).id);
        return ids;
      }),
    );
    answers.forEach((ids, k) => {
      expect(ids).toEqual([`${k}-0`, `${k}-1`, `${k}-2`]);
    });
    expect(calls.status).toBe(120);
  });

  test("a hung handler blocks neither other clients nor, past its bound, its own", async () => {
    const called = signal();
    const { path } = await serve(
      {
        failover: () => {
          called.fire();
          return new Promise(() => {}); // never settles
        },
      },
      { handlerTimeoutMs: 1500 },
    );
    const a = await connect(path);
    a.send('{"id":1,"cmd":"failover"}\n{"id":2,"cmd":"status"}\n');
    await within(called.promise, 2000, "the failover handler");
    const b = await connect(path);
    // Bounded below the handler's 1500 ms: answered while the failover still hangs.
    expect((await b.ask({ id: 1, cmd: "status" }, 1000)).ok).toBe(true);
    expect(await a.next(3000)).toMatchObject({ id: 1, ok: false, error: { code: "E_TIMEOUT" } });
    expect(await a.next(3000)).toMatchObject({ id: 2, ok: true });
  });

  test("a client that never reads stalls only itself", async () => {
    const big = { blob: "x".repeat(1024 * 1024) }; // larger than the socket buffer
    const first = signal();
    let calls = 0;
    const { path } = await serve({
      status: () => {
        calls++;
        first.fire();
        return big;
      },
      failover: async () => "quick",
    });
    const slow = await connect(path, { read: false });
    slow.send('{"id":1,"cmd":"status"}\n'.repeat(200));
    await within(first.promise, 2000, "the slow client's first request");
    const fast = await connect(path);
    expect(await fast.ask({ id: 1, cmd: "failover" }, 2000)).toEqual({
      id: 1,
      ok: true,
      result: "quick",
    });
    // Without back-pressure all 200 would have been answered into memory by now.
    expect(calls).toBeLessThanOrEqual(2);
  });

  test("connections past maxConnections get E_BUSY", async () => {
    const { path } = await serve({}, { maxConnections: 2 });
    const a = await connect(path);
    const b = await connect(path);
    expect((await a.ask({ id: 1, cmd: "status" })).ok).toBe(true);
    expect((await b.ask({ id: 1, cmd: "status" })).ok).toBe(true);
    const c = await connect(path);
    expect((await c.next()).error.code).toBe("E_BUSY");
    await within(c.whenClosed.promise, 2000, "the refused connection's close");
    b.end();
    // The server learns of b's close a moment after b does: retry until a slot is free.
    const deadline = performance.now() + 2000;
    let r = { ok: false };
    while (!r.ok && performance.now() < deadline) {
      const d = await connect(path);
      r = await d.ask({ id: 1, cmd: "status" });
    }
    expect(r.ok).toBe(true);
  });
});

describe("the socket file", () => {
  test("the directories are created 0755, the socket is 0600 and root's, removed at stop", async () => {
    const path = `${tmp}/run${++seq}/edge-agent/agent.sock`;
    // A strict umask must not leave the directories unreadable nor the socket open.
    const old = process.umask(0o077);
    const { server } = await serve({}, {}, path).finally(() => process.umask(old));
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(statSync(`${tmp}/run${seq}/edge-agent`).mode & 0o777).toBe(0o755);
    expect(statSync(`${tmp}/run${seq}`).mode & 0o777).toBe(0o755);
    await server.stop();
    expect(existsSync(path)).toBe(false);
  });

  test("a stale socket (its agent was killed) is replaced", async () => {
    const path = sockPath();
    const child = Bun.spawn(
      [
        process.execPath,
        "-e",
        `Bun.listen({ unix: ${JSON.stringify(path)}, socket: { data() {} } }); console.log("ready");`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const reader = child.stdout.getReader();
    const first = await within(reader.read(), 5000, "the child's ready line");
    expect(new TextDecoder().decode(first.value)).toContain("ready");
    child.kill("SIGKILL");
    await within(child.exited, 5000, "the child's exit");
    expect(statSync(path).isSocket()).toBe(true); // left behind, nobody answers
    await serve({}, {}, path);
    const c = await connect(path);
    expect((await c.ask({ id: 1, cmd: "status" })).ok).toBe(true);
  });

  test("a live agent's socket is refused, and the live agent keeps it", async () => {
    const { path } = await serve();
    const second = startControlServer(path, fakeHandlers().h, quiet);
    await expect(second).rejects.toThrow(/another agent is already answering/);
    await expect(second).rejects.toMatchObject({ code: "E_SOCKET", subject: path });
    const c = await connect(path);
    expect((await c.ask({ id: 1, cmd: "status" })).ok).toBe(true);
  });

  test("a path that is not a socket is left alone", async () => {
    const path = sockPath();
    writeFileSync(path, "precious");
    await expect(startControlServer(path, fakeHandlers().h, quiet)).rejects.toThrow(/not a socket/);
    expect(readFileSync(path, "utf8")).toBe("precious");
  });
});
