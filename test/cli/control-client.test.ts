/**
 * The CLI's control client (src/cli/control-client.ts): what it returns and, above all, how
 * it fails — every way of "nobody answers" is E_NO_AGENT, a garbled answer E_PROTOCOL.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Socket, UnixSocketListener } from "bun";
import { startControlServer } from "../../src/agent/control.ts";
import { ControlClientError, request } from "../../src/cli/control-client.ts";

const tmp = mkdtempSync(`${tmpdir()}/agent-client-`);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const sockPath = () => `${tmp}/c${++seq}.sock`;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const listeners: UnixSocketListener<undefined>[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop(true);
});

/** A raw server that answers each connection's first data with `reply` (or never). */
function rawServer(reply: ((s: Socket<undefined>) => void) | null): string {
  const path = sockPath();
  listeners.push(
    Bun.listen({
      unix: path,
      socket: {
        data(s) {
          reply?.(s);
        },
      },
    }),
  );
  return path;
}

async function failure(p: Promise<unknown>): Promise<ControlClientError> {
  const e = await within(
    p.then(
      () => new Error("resolved"),
      (x: unknown) => x,
    ),
    5000,
    "the request to fail",
  );
  expect(e).toBeInstanceOf(ControlClientError);
  return e as ControlClientError;
}

describe("request", () => {
  test("returns the agent's answer, error answers included", async () => {
    const path = sockPath();
    const server = await startControlServer(
      path,
      {
        status: () => ({ up: true }),
        reload: async () => ({ ok: false, diagnostics: ["bad"] }),
        failover: async (i) => ({ i: i ?? null }),
        maintenance: async (on) => on,
      },
      { debug() {}, info() {}, warn() {} },
    );
    try {
      expect(await request(path, "status", {}, 2000)).toEqual({
        id: 1,
        ok: true,
        result: { up: true },
      });
      expect(await request(path, "failover", { instance: "VI_1" }, 2000)).toMatchObject({
        result: { i: "VI_1" },
      });
      expect(await request(path, "maintenance", { on: false }, 2000)).toMatchObject({
        result: false,
      });
      expect(await request(path, "reload", {}, 2000)).toMatchObject({
        ok: false,
        error: { code: "E_RELOAD_REJECTED", diagnostics: ["bad"] },
      });
    } finally {
      await server.stop();
    }
  });

  test("no socket file: E_NO_AGENT naming the path", async () => {
    const path = `${tmp}/missing.sock`;
    const e = await failure(request(path, "status", {}, 2000));
    expect(e.code).toBe("E_NO_AGENT");
    expect(e.subject).toBe(path);
    expect(e.message).toStartWith(`no agent answers on ${path}: no such socket`);
  });

  test("a stale socket (its agent was killed): E_NO_AGENT, connection refused", async () => {
    const path = sockPath();
    const child = Bun.spawn(
      [
        process.execPath,
        "-e",
        `Bun.listen({ unix: ${JSON.stringify(path)}, socket: { data() {} } }); console.log("ready");`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const first = await within(child.stdout.getReader().read(), 5000, "the child's ready line");
    expect(new TextDecoder().decode(first.value)).toContain("ready");
    child.kill("SIGKILL");
    await within(child.exited, 5000, "the child's exit");
    expect(statSync(path).isSocket()).toBe(true);
    const e = await failure(request(path, "status", {}, 2000));
    expect(e.code).toBe("E_NO_AGENT");
    expect(e.message).toContain("connection refused");
  });

  test("a peer that accepts but never answers: E_NO_AGENT after the timeout", async () => {
    const path = rawServer(null);
    const t0 = performance.now();
    const e = await failure(request(path, "status", {}, 200));
    expect(e.code).toBe("E_NO_AGENT");
    expect(e.message).toContain("no answer within 200 ms");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });

  const garbled: [string, string][] = [
    ["not json\n", "not JSON"],
    ["[1]\n", "not a JSON object"],
    ['{"id":1}\n', "well-formed"],
    ['{"id":1,"ok":false,"error":{"code":5}}\n', "well-formed"],
    ['{"id":2,"ok":true,"result":1}\n', "answer for id 2"],
  ];
  for (const [answer, why] of garbled)
    test(`a garbled answer ${JSON.stringify(answer.trim())}: E_PROTOCOL`, async () => {
      const path = rawServer((s) => s.write(answer));
      const e = await failure(request(path, "status", {}, 2000));
      expect(e.code).toBe("E_PROTOCOL");
      expect(e.message).toContain(why);
    });

  test("a peer that closes without answering: E_PROTOCOL", async () => {
    const path = rawServer((s) => s.end());
    const e = await failure(request(path, "status", {}, 2000));
    expect(e.code).toBe("E_PROTOCOL");
    expect(e.message).toContain("closed the connection without answering");
  });
});
