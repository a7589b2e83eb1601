import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { type DnsMessage, decodeDnsMessage } from "../../src/core/check/dns.ts";
import { probeDns } from "../../src/io/check-dns.ts";
import { driveChecker, expectTimeoutKeepsLoop } from "../helpers/checker-drive.ts";
import { closedUdpPort } from "../helpers/loopback.ts";

/** How the responder answers one query: the datagrams to send back, in order. */
type Behaviour = (query: Uint8Array, msg: DnsMessage) => Uint8Array[];

/** Copy the query back as a response: QR set, RCODE `rcode`, ID possibly changed. */
function respond(query: Uint8Array, rcode = 0, id?: number): Uint8Array {
  const out = query.slice();
  const v = new DataView(out.buffer);
  v.setUint16(2, 0x8180 | rcode);
  if (id !== undefined) v.setUint16(0, id);
  return out;
}

interface Responder {
  sock: Socket;
  port: number;
  queries: { msg: DnsMessage; from: RemoteInfo }[];
  behave: Behaviour;
}

/** A tiny DNS responder on 127.0.0.1, port 0, whose behaviour a test sets. */
async function responder(): Promise<Responder> {
  const sock = createSocket("udp4");
  const r: Responder = { sock, port: 0, queries: [], behave: (q) => [respond(q)] };
  sock.on("message", (buf, from) => {
    const q = new Uint8Array(buf);
    const d = decodeDnsMessage(q);
    if (!d.ok) return;
    r.queries.push({ msg: d.message, from });
    for (const out of r.behave(q, d.message)) sock.send(out, from.port, from.address);
  });
  await new Promise<void>((ok) => sock.bind(0, "127.0.0.1", ok));
  r.port = sock.address().port;
  return r;
}

describe("DNS_CHECK probe", () => {
  let srv: Responder;
  beforeAll(async () => {
    srv = await responder();
  });
  afterAll(() => srv.sock.close());
  const spec = (over: Partial<Parameters<typeof probeDns>[0]> = {}) => ({
    host: "127.0.0.1",
    port: srv.port,
    connectTimeoutMs: 2000,
    type: "SOA" as const,
    name: ".",
    ...over,
  });

  test("up: the server answers; the query is keepalived's (RD, one question, IN)", async () => {
    srv.behave = (q) => [respond(q)];
    const r = await probeDns(spec({ type: "A", name: "example.com" }));
    expect(r).toMatchObject({ ok: true });
    const q = srv.queries.at(-1)?.msg;
    expect(q?.header).toMatchObject({ qr: false, qdcount: 1, ancount: 0, flags: 0x0100 });
    expect(q?.questions).toEqual([{ name: "example.com", type: 1, class: 1 }]);
  });

  test("wrong rcode: NXDOMAIN fails with the code in the reason", async () => {
    srv.behave = (q) => [respond(q, 3)];
    const r = await probeDns(spec());
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("rcode = 3");
  });

  test("a stranger's ID and a non-response are ignored; the real answer still counts", async () => {
    srv.behave = (q) => {
      const id = new DataView(q.buffer).getUint16(0);
      const notResponse = q.slice();
      return [respond(q, 2, id ^ 1), notResponse, respond(q)];
    };
    const r = await probeDns(spec());
    expect(r).toMatchObject({ ok: true });
  });

  test("only wrong answers: a timeout, and the event loop keeps running", async () => {
    srv.behave = (q) => [respond(q, 0, new DataView(q.buffer).getUint16(0) ^ 0xffff)];
    await expectTimeoutKeepsLoop(() => probeDns(spec({ connectTimeoutMs: 300 })), "read timeout");
  });

  test("refused: nothing on the port (ICMP port unreachable)", async () => {
    const port = await closedUdpPort();
    const r = await probeDns(spec({ port }));
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("ECONNREFUSED");
  });

  test("bindto is the source; the query ID is the one given", async () => {
    srv.behave = (q) => [respond(q)];
    const r = await probeDns(spec({ bindAddress: "127.0.0.3", queryId: 0x4242 }));
    expect(r.ok).toBe(true);
    expect(srv.queries.at(-1)?.from.address).toBe("127.0.0.3");
    expect(srv.queries.at(-1)?.msg.header.id).toBe(0x4242);
  });

  test("driven by the machine: DNS retry 3 needs four failures once up", async () => {
    const plan = [0, 2, 2, 2, 2];
    const { state, reports } = await driveChecker(
      { kind: "tcp", delayLoopMs: 50, delayBeforeRetryMs: 50, retry: 3 },
      plan,
      async (rcode) => {
        srv.behave = (q) => [respond(q, rcode)];
        const r = await probeDns(spec());
        expect(r.ok).toBe(rcode === 0);
        return r.ok;
      },
    );
    expect(state.attempts).toBe(plan.length);
    expect(reports).toEqual(["up", "down"]);
  });
});
