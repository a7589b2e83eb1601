/**
 * The demo story on a real lab: one `agent run` process per namespace, their log lines
 * shown live, MASTER transitions watched from those lines. Processes are stopped by PID.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Subprocess } from "bun";
import { AgentError } from "../errors.ts";
import { Lab } from "./lab.ts";
import { type DemoCluster, demoConfig, NODES, type Printer, VIP } from "./story.ts";

/** How to run this same agent: the compiled binary itself, or bun with src/main.ts. */
export function agentCommand(): string[] {
  const compiled = import.meta.url.includes("$bunfs");
  return compiled
    ? [process.execPath]
    : [process.execPath, new URL("../main.ts", import.meta.url).pathname];
}

type Waiter = { name: string; resolve: (t: number) => void };

export class RealCluster implements DemoCluster {
  readonly kind = "namespaces" as const;
  private readonly lab: Lab;
  private readonly dir: string;
  private readonly procs = new Map<string, Subprocess<"ignore", "ignore", "pipe">>();
  private waiters: Waiter[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly out: Printer) {
    this.lab = new Lab(`ea-demo-${process.pid}`, NODES.length).up();
    this.dir = mkdtempSync(`${tmpdir()}/edge-agent-demo-`);
    for (const n of NODES) writeFileSync(`${this.dir}/${n.name}.conf`, demoConfig(n.priority));
  }

  nowMs(): number {
    return performance.now();
  }

  async start(name: string): Promise<void> {
    const host = this.lab.hosts.find((h) => h.name === name);
    if (!host) return;
    const proc = Bun.spawn(
      [
        "ip",
        "netns",
        "exec",
        host.ns,
        ...agentCommand(),
        "run",
        "--config",
        `${this.dir}/${name}.conf`,
        // Each node its own control socket (the default path is one per host).
        "--control",
        `${this.dir}/${name}.sock`,
      ],
      {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    this.procs.set(name, proc);
    this.follow(name, proc.stderr);
  }

  /** `agent status` of a node, as an operator would run it. */
  async status(name: string, json = false): Promise<string> {
    const args = ["status", ...(json ? ["--json"] : []), "--control", `${this.dir}/${name}.sock`];
    const r = Bun.spawnSync([...agentCommand(), ...args], { stdout: "pipe", stderr: "pipe" });
    return `$ agent ${args.join(" ")}\n${r.stdout.toString()}${r.stderr.toString()}`.trimEnd();
  }

  private async follow(name: string, stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += decoder.decode(chunk, { stream: true });
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        const now = performance.now();
        this.out.say(
          `   [${name} +${((now - this.t0) / 1000).toFixed(3)}s] ${line.replace(/^\[\w+\]\s*\S\s*/, "")}`,
        );
        if (line.includes("Entering MASTER STATE")) this.fire(name, now);
      }
    }
  }

  private fire(name: string, t: number): void {
    const mine = this.waiters.filter((w) => w.name === name);
    this.waiters = this.waiters.filter((w) => w.name !== name);
    for (const w of mine) w.resolve(t);
  }

  crash(name: string): void {
    this.procs.get(name)?.kill("SIGKILL");
    this.procs.delete(name);
  }

  async stop(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p) return;
    p.kill("SIGTERM");
    await p.exited;
    this.procs.delete(name);
  }

  waitMaster(name: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new AgentError("E_INTERFACE", `${name} did not become MASTER within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const done = (t: number) => {
        clearTimeout(timer);
        resolve(t);
      };
      this.waiters.push({ name, resolve: done });
    });
  }

  holders(): string[] {
    return this.lab.holders(VIP);
  }

  async close(): Promise<void> {
    for (const [, p] of this.procs) p.kill("SIGTERM");
    await Promise.race([
      Promise.all([...this.procs.values()].map((p) => p.exited)),
      Bun.sleep(3000),
    ]);
    for (const [, p] of this.procs) if (p.exitCode === null) p.kill("SIGKILL");
    this.procs.clear();
    this.lab.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
