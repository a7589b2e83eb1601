/**
 * Network namespaces that a test creates and removes itself. Names carry the test's PID
 * so parallel runs never collide; nothing here touches the root namespace's interfaces.
 */
import { run } from "./env.ts";

export class Netns {
  private static seq = 0;
  readonly name: string;

  constructor(tag: string) {
    this.name = `ea-${tag}-${process.pid}-${Netns.seq++}`;
  }

  ip(...args: string[]): void {
    const r = run(["ip", "-n", this.name, ...args]);
    if (r.code !== 0) throw new Error(`ip -n ${this.name} ${args.join(" ")}: ${r.stderr.trim()}`);
  }

  create(): this {
    const r = run(["ip", "netns", "add", this.name]);
    if (r.code !== 0) throw new Error(`ip netns add ${this.name}: ${r.stderr.trim()}`);
    this.ip("link", "set", "lo", "up");
    return this;
  }

  /**
   * An interface called `name` inside the namespace (one end of a veth pair: this kernel
   * may lack the dummy driver).
   */
  addInterface(name: string): this {
    this.ip("link", "add", name, "type", "veth", "peer", "name", `${name}p`);
    this.ip("link", "set", name, "up");
    return this;
  }

  exec(cmd: string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...cmd];
  }

  remove(): void {
    run(["ip", "netns", "del", this.name]);
  }
}
