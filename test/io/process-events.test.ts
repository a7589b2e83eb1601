/**
 * What the process-watch Worker passes on (src/io/process-events.ts): the fast Packer,
 * which reads straight from datagrams, against pack() over decoded records, on hand-built
 * datagrams covering keepalived's filters (new process vs new thread, leader vs thread).
 */
import { describe, expect, test } from "bun:test";
import {
  CN_MSG,
  decodeProcEvents,
  NLMSGHDR,
  PROC_EVENT,
  PROC_EVENT_HDR,
  PROC_EVENT_SIZE,
} from "../../native/proc-connector.ts";
import { EV_COMM, EV_EXEC, EV_EXIT, EV_FORK, Packer, pack } from "../../src/io/process-events.ts";

function datagram(what: number, ints: number[]): Uint8Array {
  const b = new Uint8Array(NLMSGHDR.size + CN_MSG.size + PROC_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(NLMSGHDR.len, b.length, true);
  v.setUint16(NLMSGHDR.type, 3, true);
  v.setUint32(NLMSGHDR.size + CN_MSG.idx, 1, true);
  v.setUint32(NLMSGHDR.size + CN_MSG.val, 1, true);
  v.setUint16(NLMSGHDR.size + CN_MSG.len, PROC_EVENT_SIZE, true);
  const ev = NLMSGHDR.size + CN_MSG.size;
  v.setUint32(ev + PROC_EVENT_HDR.what, what, true);
  ints.forEach((x, i) => {
    v.setInt32(ev + PROC_EVENT_HDR.size + 4 * i, x, true);
  });
  return b;
}

// biome-ignore format: a table
const STREAM: [string, Uint8Array, number[] | undefined][] = [
  ["fork of a process", datagram(PROC_EVENT.FORK, [100, 100, 200, 200]), [EV_FORK, 200, 100]],
  ["fork from a thread makes a process of its tgid's parent", datagram(PROC_EVENT.FORK, [101, 100, 201, 201]), [EV_FORK, 201, 100]],
  ["a new thread", datagram(PROC_EVENT.FORK, [100, 100, 202, 100]), undefined],
  ["exec", datagram(PROC_EVENT.EXEC, [200, 200]), [EV_EXEC, 200, 0]],
  ["exec reported for a thread", datagram(PROC_EVENT.EXEC, [203, 200]), undefined],
  ["comm of the process", datagram(PROC_EVENT.COMM, [200, 200, 0x61]), [EV_COMM, 200, 0]],
  ["comm of a thread", datagram(PROC_EVENT.COMM, [204, 200, 0x61]), undefined],
  ["exit of a thread", datagram(PROC_EVENT.EXIT, [204, 200, 0, 0]), undefined],
  ["exit of the process", datagram(PROC_EVENT.EXIT, [200, 200, 0, 17]), [EV_EXIT, 200, 0]],
  ["uid change", datagram(PROC_EVENT.UID, [200, 200, 0, 0]), undefined],
  ["ack", datagram(PROC_EVENT.NONE, [0]), undefined],
];

describe("process events for track_process", () => {
  test.each(STREAM)("%s", (_what, d, want) => {
    const packer = new Packer();
    packer.onDatagram(new DataView(d.buffer), d.length);
    expect([...packer.take()]).toEqual(want ?? []);
    expect([...pack(decodeProcEvents(d, d.length))]).toEqual(want ?? []);
  });

  test("a stream packs in order, and take() starts afresh", () => {
    const packer = new Packer();
    for (const [, d] of STREAM) packer.onDatagram(new DataView(d.buffer), d.length);
    const want = STREAM.flatMap(([, , w]) => w ?? []);
    expect([...packer.take()]).toEqual(want);
    expect([...packer.take()]).toEqual([]);
  });

  test("more events than the initial buffer", () => {
    const packer = new Packer();
    const d = datagram(PROC_EVENT.EXEC, [7, 7]);
    for (let i = 0; i < 1000; i++) packer.onDatagram(new DataView(d.buffer), d.length);
    const out = packer.take();
    expect(out.length).toBe(3000);
    expect(out[2997]).toBe(EV_EXEC);
    expect(out[2998]).toBe(7);
  });
});
