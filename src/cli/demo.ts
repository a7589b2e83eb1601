import { defineCommand } from "citty";
import { canBuildLab } from "../demo/lab.ts";
import { tell } from "../demo/story.ts";
import { EXIT, writeErr, writeOut } from "./common.ts";

export default defineCommand({
  meta: {
    name: "demo",
    description: "Live 3-node failover demo in network namespaces (simulated when not root)",
  },
  args: {
    simulate: { type: "boolean", description: "Play it in the simulator even as root" },
  },
  async run({ args }): Promise<number> {
    const out = { say: (t: string) => writeOut(`${t}\n`) };
    const why = args.simulate ? "--simulate was given" : canBuildLab();
    // The real lab is loaded only when used: the simulator needs no namespaces.
    const cluster = why
      ? new (await import("../demo/cluster-sim.ts")).SimCluster(out)
      : new (await import("../demo/cluster-real.ts")).RealCluster(out);
    if (why)
      out.say(
        `Cannot create network namespaces (${why}): playing the same story in the simulator, with the real agent loop and virtual time.`,
      );
    let onSignal = () => {};
    const interrupted = new Promise<"interrupted">((resolve) => {
      onSignal = () => resolve("interrupted");
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    });
    try {
      const how = await Promise.race([tell(cluster, out).then(() => "done" as const), interrupted]);
      if (how === "interrupted") out.say("Interrupted: stopping the agents and removing the lab.");
      return how === "done" ? EXIT.OK : EXIT.INVALID;
    } catch (e) {
      writeErr(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT.INVALID;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await cluster.close();
    }
  },
});
