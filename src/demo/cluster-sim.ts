/** The demo story in the simulator: the real agent loop on a simulated segment, virtual time. */
import { createConsola, type LogObject } from "consola";
import { Hooks } from "../agent/hooks.ts";
import { Agent } from "../agent/loop.ts";
import { planInstances } from "../agent/params.ts";
import { type SimHost, SimNet } from "../agent/sim-io.ts";
import { loadText } from "../config/load.ts";
import { AgentError } from "../errors.ts";
import { type DemoCluster, demoConfig, NODES, type Printer, VIP } from "./story.ts";

export class SimCluster implements DemoCluster {
  readonly kind = "simulator" as const;
  private readonly net = new SimNet();
  private readonly hosts = new Map<string, { host: SimHost; agent?: Agent; priority: number }>();

  constructor(private readonly out: Printer) {
    NODES.forEach((n, i) => {
      const host = this.net.host(n.name, [
        { name: "eth0", ipv4: `192.0.2.${11 + i}`, ipv6: `fe80::${i + 1}` },
      ]);
      this.hosts.set(n.name, { host, priority: n.priority });
    });
  }

  nowMs(): number {
    return this.net.now;
  }

  private logger(name: string) {
    return createConsola({
      level: 3,
      reporters: [
        {
          log: (o: LogObject) =>
            this.out.say(
              `   [${name} +${(this.net.now / 1000).toFixed(3)}s] ${o.args.map(String).join(" ")}`,
            ),
        },
      ],
    });
  }

  async start(name: string): Promise<void> {
    const h = this.hosts.get(name);
    if (!h) return;
    // A restarted node is a new process on the same host: it keeps the addresses on the host.
    h.host.alive = true;
    const loaded = loadText(demoConfig(h.priority), `/demo/${name}.conf`, "keepalived", {
      offline: true,
    });
    if (!loaded.model) throw new AgentError("E_CONFIG_INVALID", "demo config is invalid");
    h.agent = new Agent(planInstances(loaded.model, h.host), h.host, this.logger(name), {
      hooks: new Hooks(loaded.model, h.host),
    });
    await h.agent.start();
  }

  crash(name: string): void {
    this.hosts.get(name)?.host.crash();
  }

  async stop(name: string): Promise<void> {
    const h = this.hosts.get(name);
    await h?.agent?.stop();
    if (h) h.host.alive = false;
  }

  async waitMaster(name: string, timeoutMs: number): Promise<number> {
    const h = this.hosts.get(name);
    const end = this.net.now + timeoutMs;
    while (this.net.now < end) {
      this.net.run(this.net.now + 1);
      if (h?.host.alive && h.agent?.running.get("VI_DEMO")?.state.state === "MASTER")
        return this.net.now;
    }
    throw new AgentError("E_INTERFACE", `${name} did not become MASTER within ${timeoutMs} ms`);
  }

  holders(): string[] {
    return [...this.hosts].filter(([, h]) => h.host.held.has(`${VIP}/24`)).map(([n]) => n);
  }

  async close(): Promise<void> {
    for (const h of this.hosts.values()) if (h.host.alive) await h.agent?.stop();
  }
}
