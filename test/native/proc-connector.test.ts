/**
 * native/proc-connector.ts: struct offsets against the kernel headers (through gcc when
 * installed), decoding of hand-built datagrams, and the live socket (root): events for a
 * process we start, and ECONNREFUSED inside a network namespace the test creates.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CN_MSG,
  COMM_EVENT,
  decodeProcEvents,
  EXIT_EVENT,
  encodeMcastOp,
  FORK_EVENT,
  NLMSGHDR,
  PROC_EVENT,
  PROC_EVENT_HDR,
  PROC_EVENT_SIZE,
  ProcConnector,
  type ProcEvent,
  SOCKADDR_NL,
} from "../../native/proc-connector.ts";
import { missing, REPO, run } from "../helpers/env.ts";
import { Netns } from "../helpers/netns.ts";

const FACTS: Record<string, [number, string]> = {
  "sizeof sockaddr_nl": [SOCKADDR_NL.size, "sizeof(struct sockaddr_nl)"],
  "sockaddr_nl.groups": [SOCKADDR_NL.groups, "offsetof(struct sockaddr_nl, nl_groups)"],
  "sizeof nlmsghdr": [NLMSGHDR.size, "sizeof(struct nlmsghdr)"],
  "sizeof cn_msg": [CN_MSG.size, "sizeof(struct cn_msg)"],
  "cn_msg.ack": [CN_MSG.ack, "offsetof(struct cn_msg, ack)"],
  "cn_msg.len": [CN_MSG.len, "offsetof(struct cn_msg, len)"],
  "sizeof proc_event": [PROC_EVENT_SIZE, "sizeof(struct proc_event)"],
  "proc_event.data": [PROC_EVENT_HDR.size, "offsetof(struct proc_event, event_data)"],
  "fork.child_tgid": [FORK_EVENT.childTgid, "offsetof(struct fork_proc_event, child_tgid)"],
  "comm.comm": [COMM_EVENT.comm, "offsetof(struct comm_proc_event, comm)"],
  "exit.exit_signal": [EXIT_EVENT.exitSignal, "offsetof(struct exit_proc_event, exit_signal)"],
  PROC_EVENT_EXIT: [PROC_EVENT.EXIT, "PROC_EVENT_EXIT"],
  PROC_EVENT_COMM: [PROC_EVENT.COMM, "PROC_EVENT_COMM"],
};

describe("layout", () => {
  const why = missing({ commands: ["gcc"], paths: ["/usr/include/linux/cn_proc.h"] });
  const dir = mkdtempSync(join(tmpdir(), "ea-cn-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  test.skipIf(why !== undefined)(
    `offsets equal the C headers${why ? ` (skipped: ${why})` : ""}`,
    () => {
      const lines = Object.values(FACTS).map(
        ([, expr]) => `  printf("%lu\\n", (unsigned long)(${expr}));`,
      );
      const src = `#include <stdio.h>\n#include <stddef.h>\n#include <sys/socket.h>\n#include <linux/netlink.h>\n#include <linux/connector.h>\n#include <linux/cn_proc.h>\nint main(void) {\n${lines.join("\n")}\n  return 0;\n}\n`;
      writeFileSync(join(dir, "l.c"), src);
      const cc = run(["gcc", "-o", join(dir, "l"), join(dir, "l.c")]);
      expect(cc.stderr).toBe("");
      const got = run([join(dir, "l")])
        .stdout.trim()
        .split("\n")
        .map(Number);
      expect(Object.fromEntries(Object.keys(FACTS).map((k, i) => [k, got[i]]))).toEqual(
        Object.fromEntries(Object.entries(FACTS).map(([k, [v]]) => [k, v])),
      );
    },
  );
});

/** One datagram as the kernel builds it: nlmsghdr, cn_msg, proc_event. */
function datagram(what: number, fill: (v: DataView, data: number) => void, idx = 1): Uint8Array {
  const b = new Uint8Array(NLMSGHDR.size + CN_MSG.size + PROC_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.length, true);
  v.setUint16(NLMSGHDR.type, 3, true);
  v.setUint32(NLMSGHDR.size + CN_MSG.idx, idx, true);
  v.setUint32(NLMSGHDR.size + CN_MSG.val, 1, true);
  v.setUint32(NLMSGHDR.size + CN_MSG.ack, 8, true);
  v.setUint16(NLMSGHDR.size + CN_MSG.len, PROC_EVENT_SIZE, true);
  const ev = NLMSGHDR.size + CN_MSG.size;
  v.setUint32(ev, what, true);
  fill(v, ev + PROC_EVENT_HDR.size);
  return b;
}

describe("decodeProcEvents", () => {
  test("fork, exec, comm, exit and ack", () => {
    const ints =
      (...xs: number[]) =>
      (v: DataView, d: number) =>
        xs.forEach((x, i) => {
          v.setInt32(d + 4 * i, x, true);
        });
    const comm = datagram(PROC_EVENT.COMM, (v, d) => {
      ints(7, 7)(v, d);
      new Uint8Array(v.buffer).set(new TextEncoder().encode("Web Content"), d + 8);
    });
    const all = [
      datagram(PROC_EVENT.FORK, ints(10, 10, 11, 11)),
      datagram(PROC_EVENT.EXEC, ints(11, 11)),
      comm,
      datagram(PROC_EVENT.EXIT, ints(12, 11, 0, 17)),
      datagram(PROC_EVENT.NONE, ints(1)),
      datagram(PROC_EVENT.UID, ints(1, 1, 0, 0)),
    ].flatMap((d) => decodeProcEvents(d, d.length));
    expect(all).toEqual([
      { kind: "fork", parentPid: 10, parentTgid: 10, childPid: 11, childTgid: 11 },
      { kind: "exec", pid: 11, tgid: 11 },
      { kind: "comm", pid: 7, tgid: 7, comm: "Web Content" },
      { kind: "exit", pid: 12, tgid: 11, exitCode: 0, exitSignal: 17 },
      { kind: "ack", seq: 0, ack: 8, err: 1 },
      { kind: "other", what: PROC_EVENT.UID },
    ] satisfies ProcEvent[]);
  });
  test("a full 16-byte comm has no NUL", () => {
    const d = datagram(PROC_EVENT.COMM, (v, off) => {
      new Uint8Array(v.buffer).set(new TextEncoder().encode("abcdefghijklmnop"), off + 8);
    });
    expect(decodeProcEvents(d, d.length)).toEqual([
      { kind: "comm", pid: 0, tgid: 0, comm: "abcdefghijklmnop" },
    ]);
  });
  test("foreign, error, truncated and short datagrams give nothing", () => {
    const fork = datagram(PROC_EVENT.FORK, () => {});
    const foreign = datagram(PROC_EVENT.FORK, () => {}, 2);
    const error = datagram(PROC_EVENT.FORK, () => {});
    new DataView(error.buffer).setUint16(NLMSGHDR.type, 2, true);
    expect(decodeProcEvents(foreign, foreign.length)).toEqual([]);
    expect(decodeProcEvents(error, error.length)).toEqual([]);
    expect(decodeProcEvents(fork, fork.length - 1)).toEqual([]);
    expect(decodeProcEvents(fork, 20)).toEqual([]);
    const short = datagram(PROC_EVENT.EXIT, () => {});
    new DataView(short.buffer).setUint16(NLMSGHDR.size + CN_MSG.len, PROC_EVENT_HDR.size + 8, true);
    expect(decodeProcEvents(short, short.length)).toEqual([]);
  });
  test("the listen request", () => {
    const b = encodeMcastOp(1, 5, 77);
    expect(Buffer.from(b).toString("hex")).toBe(
      "28000000030000000000000000000000010000000100000005000000" +
        "4d000000" +
        "0400" +
        "0000" +
        "01000000",
    );
  });
});

describe("live connector", () => {
  const why = missing({ root: true, commands: ["ip"] });
  test.skipIf(why !== undefined)(
    `sees fork, exec and exit of a process we start${why ? ` (skipped: ${why})` : ""}`,
    async () => {
      const pc = ProcConnector.open();
      try {
        const child = Bun.spawn(["/bin/true"]);
        await child.exited;
        const seen: ProcEvent[] = [];
        const end = performance.now() + 5000;
        while (!seen.some((e) => e.kind === "exit" && e.tgid === child.pid)) {
          if (performance.now() > end) throw new Error("no exit event within 5 s");
          seen.push(...pc.drain().events);
          await Bun.sleep(5);
        }
        const kinds = seen
          .filter((e) => ("childTgid" in e ? e.childTgid : "tgid" in e ? e.tgid : 0) === child.pid)
          .map((e) => e.kind);
        expect(kinds).toEqual(["fork", "exec", "exit"]);
        expect(pc.rcvbuf()).toBeGreaterThan(0);
      } finally {
        pc.close();
      }
    },
  );

  test.skipIf(why !== undefined)(
    `is refused (ECONNREFUSED) inside a network namespace${why ? ` (skipped: ${why})` : ""}`,
    () => {
      const ns = new Netns("cn").create();
      try {
        const script = `import { ProcConnector } from "${REPO}/native/proc-connector.ts";
try { ProcConnector.open(); console.log("opened"); }
catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.cause?.errno, message: e.message })); }`;
        const r = run(ns.exec([process.execPath, "-e", script]));
        const out = JSON.parse(r.stdout.trim()) as { code: string; errno: string; message: string };
        expect(out.code).toBe("E_SOCKET");
        expect(out.errno).toBe("ECONNREFUSED");
        expect(out.message).toContain("not in the initial network namespace");
      } finally {
        ns.remove();
      }
    },
  );
});
