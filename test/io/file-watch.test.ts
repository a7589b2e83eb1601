/**
 * FileWatcher (src/io/file-watch.ts) on real files in a temp dir: the first value, writes,
 * atomic rename, deletion and re-creation, garbage and out-of-range numbers, bursts,
 * init_file, symlinks, and the paths keepalived refuses.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAgentError } from "../../src/errors.ts";
import { FileWatcher, readTrackFile } from "../../src/io/file-watch.ts";

const BOUND_MS = 3000;
let root = "";
let n = 0;
let watcher: FileWatcher | undefined;

/** Every onValue call, in order. */
class Values {
  readonly calls: [number | undefined, string | undefined][] = [];
  readonly on = (v: number | undefined, why?: string) => {
    this.calls.push([v, why]);
  };
  get last(): [number | undefined, string | undefined] | undefined {
    return this.calls.at(-1);
  }
  async reach(v: number | undefined, what: string, whyPart?: string): Promise<void> {
    const end = performance.now() + BOUND_MS;
    const ok = () =>
      this.last !== undefined &&
      this.last[0] === v &&
      (whyPart === undefined || (this.last[1] ?? "").includes(whyPart));
    while (!ok()) {
      if (performance.now() > end)
        throw new Error(`${what}: want ${v}, calls ${JSON.stringify(this.calls)}`);
      await Bun.sleep(5);
    }
  }
}

function fresh(): { dir: string; file: string; values: Values; w: FileWatcher } {
  const dir = join(root, `t${n++}`);
  mkdirSync(dir);
  watcher = new FileWatcher(undefined, { settleMs: 20 });
  return { dir, file: join(dir, "prio"), values: new Values(), w: watcher };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ea-fw-"));
});
afterEach(() => {
  watcher?.stop();
  watcher = undefined;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("FileWatcher", () => {
  test("the first value arrives inside watch()", () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "  42\n");
    w.watch(file, values.on);
    expect(values.calls).toEqual([[42, undefined]]);
  });

  test("a missing file reads 0 and is picked up once created", async () => {
    const { file, values, w } = fresh();
    w.watch(file, values.on);
    expect(values.calls).toEqual([[0, "file missing"]]);
    writeFileSync(file, "7\n");
    await values.reach(7, "created");
  });

  test("writes in place, atomic rename, delete, re-create", async () => {
    const { dir, file, values, w } = fresh();
    writeFileSync(file, "1\n");
    w.watch(file, values.on);
    writeFileSync(file, "2\n");
    await values.reach(2, "written in place");
    writeFileSync(join(dir, "prio.tmp"), "3\n");
    renameSync(join(dir, "prio.tmp"), file);
    await values.reach(3, "renamed over");
    unlinkSync(file);
    await values.reach(0, "deleted", "missing");
    writeFileSync(file, "-4");
    await values.reach(-4, "re-created");
    renameSync(file, join(dir, "elsewhere"));
    await values.reach(0, "moved away", "missing");
  });

  test("other files in the directory do not matter", async () => {
    const { dir, file, values, w } = fresh();
    writeFileSync(file, "5");
    w.watch(file, values.on);
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `other${i}`), "9");
    writeFileSync(file, "6");
    await values.reach(6, "our file");
    expect(values.calls).toEqual([
      [5, undefined],
      [6, undefined],
    ]);
  });

  test("garbage reads 0; an out-of-range number is refused and the value kept", async () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "12");
    w.watch(file, values.on);
    writeFileSync(file, "not a number\n");
    await values.reach(0, "garbage");
    writeFileSync(file, "0x20 trailing");
    await values.reach(32, "hex");
    writeFileSync(file, "99999999999");
    await values.reach(undefined, "refused", "99999999999");
    writeFileSync(file, "99999999999\n");
    writeFileSync(file, "33");
    await values.reach(33, "valid again");
    expect(values.calls.filter(([v]) => v === undefined)).toHaveLength(1); // not repeated
  });

  test("an out-of-range number at start counts as 0, as keepalived starts at 0", () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "-99999999999");
    w.watch(file, values.on);
    expect(values.calls).toHaveLength(1);
    expect(values.calls[0]?.[0]).toBe(0);
    expect(values.calls[0]?.[1]).toContain("invalid number");
  });

  test("a burst of writes is read once, and the last value wins", async () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "0");
    w.watch(file, values.on);
    for (let i = 1; i <= 50; i++) writeFileSync(file, `${i}\n`);
    await values.reach(50, "after the burst");
    expect(values.calls.length).toBeLessThanOrEqual(4);
  });

  test("writes spread over less than the settle time are read once", async () => {
    const { file, values } = fresh();
    const w = new FileWatcher(undefined, { settleMs: 400 });
    try {
      writeFileSync(file, "0");
      w.watch(file, values.on);
      for (let i = 1; i <= 5; i++) {
        writeFileSync(file, `${i}\n`);
        await Bun.sleep(5); // spacing the writes, not waiting for anything
      }
      await values.reach(5, "after the writes");
      expect(values.calls.map(([v]) => v)).toEqual([0, 5]);
    } finally {
      w.stop();
    }
  });

  test("an unchanged value is not reported again", async () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "8");
    w.watch(file, values.on);
    writeFileSync(file, "8\n");
    writeFileSync(file, "9");
    await values.reach(9, "changed");
    expect(values.calls.map(([v]) => v)).toEqual([8, 9]);
  });

  test("a symlink is resolved once: the target's directory is watched", async () => {
    const { dir, file, values, w } = fresh();
    mkdirSync(join(dir, "real"));
    const target = join(dir, "real", "value");
    writeFileSync(target, "11");
    symlinkSync(target, file);
    w.watch(file, values.on);
    expect(values.last).toEqual([11, undefined]);
    writeFileSync(join(dir, "real", "value.new"), "12");
    renameSync(join(dir, "real", "value.new"), target);
    await values.reach(12, "target replaced");
  });

  test("several files, two in one directory, each with its own callback", async () => {
    const { dir, w } = fresh();
    const a = new Values();
    const b = new Values();
    writeFileSync(join(dir, "a"), "1");
    writeFileSync(join(dir, "b"), "2");
    w.watch(join(dir, "a"), a.on);
    w.watch(join(dir, "b"), b.on);
    writeFileSync(join(dir, "b"), "20");
    await b.reach(20, "b changed");
    expect(a.calls).toEqual([[1, undefined]]);
  });

  test("nothing is reported after stop()", async () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "1");
    w.watch(file, values.on);
    writeFileSync(file, "2"); // an event is pending when we stop
    w.stop();
    await Bun.sleep(100); // nothing to wait for: proving an absence
    expect(values.calls).toEqual([[1, undefined]]);
    expect(() => w.watch(file, values.on)).toThrow();
  });
});

describe("init_file", () => {
  test("creates a missing file with VALUE and a newline", () => {
    const { file, values, w } = fresh();
    w.watch(file, values.on, { init: { value: -25, overwrite: false } });
    expect(readFileSync(file, "utf8")).toBe("-25\n");
    expect(values.calls).toEqual([[-25, undefined]]);
    expect(statSync(file).mode & 0o777).toBe(0o666 & ~process.umask());
  });

  test("leaves an existing file alone without overwrite", () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "3\n");
    w.watch(file, values.on, { init: { value: 9, overwrite: false } });
    expect(readFileSync(file, "utf8")).toBe("3\n");
    expect(values.last).toEqual([3, undefined]);
  });

  test("replaces an existing file with overwrite", () => {
    const { file, values, w } = fresh();
    writeFileSync(file, "3\n");
    w.watch(file, values.on, { init: { value: 9, overwrite: true } });
    expect(readFileSync(file, "utf8")).toBe("9\n");
    expect(values.last).toEqual([9, undefined]);
  });

  test("refuses to overwrite something that is not a regular file", () => {
    const { file, values, w } = fresh();
    mkdirSync(file);
    let err: unknown;
    try {
      w.watch(file, values.on, { init: { value: 1, overwrite: true } });
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err) && err.code).toBe("E_CONFIG_INVALID");
    expect(values.calls).toEqual([]);
  });
});

describe("paths keepalived refuses", () => {
  const refused = (path: string): string => {
    try {
      new FileWatcher().watch(path, () => {});
    } catch (e) {
      if (isAgentError(e) && e.code === "E_CONFIG_INVALID") return e.message;
      throw e;
    }
    return "accepted";
  };
  test("a directory that does not exist", () => {
    expect(refused(join(root, "no-such-dir", "prio"))).toContain("directory does not exist");
  });
  test("files on proc and sysfs, which inotify does not see change", () => {
    expect(refused("/proc/sys/net/ipv4/ip_forward")).toContain("proc");
    expect(refused("/sys/kernel/mm/transparent_hugepage/enabled")).toContain("sysfs");
  });
});

describe("readTrackFile", () => {
  test("a directory in place of the file reads 0", () => {
    const { file } = fresh();
    mkdirSync(file);
    expect(readTrackFile(file)).toEqual({ value: 0, why: "cannot read: EISDIR" });
  });
  test("only the first 127 bytes are read", () => {
    const { file } = fresh();
    writeFileSync(file, `${" ".repeat(127)}5`);
    expect(readTrackFile(file).value).toBe(0);
  });
});
