import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import {
  defaultUdpPayload,
  parseHexPattern,
  probeUdp,
  udpReplyMismatch,
} from "../../src/io/check-udp.ts";
import { driveChecker, whileTicking } from "../helpers/checker-drive.ts";
import { closedUdpPort } from "../helpers/loopback.ts";

interface Server {
  sock: Socket;
  port: number;
  seen: { data: Uint8Array; from: RemoteInfo }[];
}

/** A UDP server on loopback, port 0; `answer` maps a request to a reply (undefined: silent). */
async function serve(
  answer: (req: Uint8Array) => Uint8Array | undefined,
  family: "udp4" | "udp6" = "udp4",
): Promise<Server> {
  const sock = createSocket(family);
  const seen: Server["seen"] = [];
  sock.on("message", (msg, from) => {
    const data = new Uint8Array(msg);
    seen.push({ data, from });
    const out = answer(data);
    if (out !== undefined) sock.send(out, from.port, from.address);
  });
  await new Promise<void>((r) => sock.bind(0, family === "udp4" ? "127.0.0.1" : "::1", r));
  return { sock, port: sock.address().port, seen };
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("UDP_CHECK pure parts", () => {
  test("the default payload is keepalived's 32-byte filler", () => {
    const p = defaultUdpPayload();
    expect(p.length).toBe(32);
    expect(new TextDecoder().decode(p)).toBe("keepalived check - keepalived ch");
  });

  test("hex patterns: pairs, lone nibbles, spaces, X wildcards (parser.c read_hex_str)", () => {
    expect(parseHexPattern("0a0b")).toEqual({ data: bytes(0x0a, 0x0b), mask: bytes(0, 0) });
    expect(parseHexPattern("abc")).toEqual({ data: bytes(0xab, 0x0c), mask: bytes(0, 0) });
    expect(parseHexPattern("a bc")).toEqual({ data: bytes(0x0a, 0xbc), mask: bytes(0, 0) });
    expect(parseHexPattern("1X x2")).toEqual({ data: bytes(0x10, 0x02), mask: bytes(0x0f, 0xf0) });
    expect(parseHexPattern("1X", false)).toBeUndefined();
    expect(parseHexPattern("zz")).toBeUndefined();
    expect(parseHexPattern("  ")).toBeUndefined();
  });

  test("reply check: length bounds, prefix compare, wildcard nibbles", () => {
    const p = parseHexPattern("aXbb");
    if (!p) throw new Error("pattern");
    expect(udpReplyMismatch(bytes(0xa7, 0xbb), p, 0, 255)).toBeUndefined();
    expect(udpReplyMismatch(bytes(0xb7, 0xbb), p, 0, 255)).toContain("byte 0");
    expect(udpReplyMismatch(bytes(0xa0, 0xbc), p, 0, 255)).toContain("byte 1");
    // shorter than the pattern: only its own bytes are compared
    expect(udpReplyMismatch(bytes(0xa1), p, 0, 255)).toBeUndefined();
    expect(udpReplyMismatch(bytes(0xa1), p, 2, 255)).toContain("length 1");
    expect(udpReplyMismatch(bytes(0xa1, 0xbb, 0, 0), p, 0, 3)).toContain("length 4");
  });
});

describe("UDP_CHECK probe", () => {
  let echo: Server;
  let silent: Server;
  beforeAll(async () => {
    echo = await serve((req) => req);
    silent = await serve(() => undefined);
  });
  afterAll(() => {
    echo.sock.close();
    silent.sock.close();
  });

  test("up: a reply arrives; the default payload is what the server saw", async () => {
    const before = echo.seen.length;
    const r = await probeUdp({ host: "127.0.0.1", port: echo.port, connectTimeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true });
    expect(r.latencyMs).toBeLessThan(2000);
    expect(echo.seen.length).toBe(before + 1);
    expect(echo.seen.at(-1)?.data).toEqual(defaultUdpPayload());
  });

  test("payload and a matching require_reply pattern", async () => {
    const r = await probeUdp({
      host: "127.0.0.1",
      port: echo.port,
      connectTimeoutMs: 2000,
      payloadHex: "c0ffee",
      requireReply: "c0fXee",
    });
    expect(r).toMatchObject({ ok: true });
    expect(echo.seen.at(-1)?.data).toEqual(bytes(0xc0, 0xff, 0xee));
  });

  test("wrong reply: pattern mismatch and reply too long fail", async () => {
    const base = { host: "127.0.0.1", port: echo.port, connectTimeoutMs: 2000 } as const;
    const bad = await probeUdp({ ...base, payloadHex: "c0ffee", requireReply: "c0ffef" });
    expect(bad.ok).toBe(false);
    expect(bad.reason).toContain("mismatch");
    const long = await probeUdp({
      ...base,
      payloadHex: "c0ffee",
      requireReply: "c0",
      maxReplyLength: 2,
    });
    expect(long.ok).toBe(false);
    expect(long.reason).toContain("length 3");
    // require_reply without a pattern: any reply passes, lengths are not checked
    const any = await probeUdp({
      ...base,
      payloadHex: "c0ffee",
      requireReply: true,
      maxReplyLength: 1,
    });
    expect(any.ok).toBe(true);
  });

  test("refused: ICMP port unreachable fails the probe", async () => {
    const port = await closedUdpPort();
    const r = await probeUdp({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("ECONNREFUSED");
    expect(r.latencyMs).toBeLessThan(1000);
  });

  test("silence: success without require_reply, failure with it; the loop keeps running", async () => {
    const base = { host: "127.0.0.1", port: silent.port, connectTimeoutMs: 300 } as const;
    const { result, ticks } = await whileTicking(async () => ({
      quiet: await probeUdp(base),
      strict: await probeUdp({ ...base, requireReply: true }),
    }));
    const { quiet, strict } = result;
    expect(quiet.ok).toBe(true);
    expect(quiet.latencyMs).toBeGreaterThanOrEqual(290);
    expect(strict.ok).toBe(false);
    expect(strict.reason).toContain("no reply within 300 ms");
    expect(strict.latencyMs).toBeLessThan(1000);
    expect(ticks).toBeGreaterThanOrEqual(30);
  });

  test("bindto / bind_port are the source of the datagram", async () => {
    const bindPort = await closedUdpPort();
    const r = await probeUdp({
      host: "127.0.0.1",
      port: echo.port,
      connectTimeoutMs: 2000,
      bindAddress: "127.0.0.2",
      bindPort,
    });
    expect(r.ok).toBe(true);
    expect(echo.seen.at(-1)?.from.address).toBe("127.0.0.2");
    expect(echo.seen.at(-1)?.from.port).toBe(bindPort);
  });

  test("IPv6: ::1 echo passes, a closed port is refused", async () => {
    const e6 = await serve((req) => req, "udp6");
    try {
      expect((await probeUdp({ host: "::1", port: e6.port, connectTimeoutMs: 2000 })).ok).toBe(
        true,
      );
    } finally {
      await new Promise<void>((r) => e6.sock.close(r));
    }
    const r = await probeUdp({ host: "::1", port: e6.port, connectTimeoutMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("ECONNREFUSED");
  });

  test("driven by the machine: retry 1 after an up takes two failures to go down", async () => {
    const dead = await closedUdpPort();
    const probe = { host: "127.0.0.1", connectTimeoutMs: 1000, requireReply: true } as const;
    const { state, reports } = await driveChecker(
      { kind: "tcp", delayLoopMs: 50, delayBeforeRetryMs: 5, retry: 1 },
      [echo.port, dead, dead],
      async (port) => (await probeUdp({ ...probe, port })).ok,
      {
        afterStep: (port, st) => {
          if (port === dead && st.isUp) expect(st.retryIt).toBe(1);
        },
      },
    );
    expect(state.attempts).toBe(3);
    expect(reports).toEqual(["up", "down"]);
  });
});
