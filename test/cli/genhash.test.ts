import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { agentCmd, missing } from "../helpers/env.ts";

const BODY = "genhash body\n".repeat(50);
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

describe("agent genhash", () => {
  let server: ReturnType<typeof Bun.serve>;
  let base = "";
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname === "/page"
          ? new Response(BODY)
          : new Response("nope", { status: 404 }),
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop(true));

  // run() is synchronous and would block this process's server: use an async spawn.
  async function agent(args: string[]) {
    const p = Bun.spawn(agentCmd(["genhash", ...args]), { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    return { out, err, code };
  }

  test("prints the MD5 of the body", async () => {
    const r = await agent(["--url", `${base}/page`]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${md5(BODY)}\n`);
  });
  test("--verbose dumps the sections and ends with the time", async () => {
    const r = await agent(["--url", `${base}/page`, "--verbose"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`HTML hash final resulting ]-----------------------\n${md5(BODY)}\n`);
    expect(r.out).toMatch(/\nGlobal response time for \[\/page\] = \d+ usecs\n$/);
  });
  test("a refused connection exits 1 with a reason; a bad URL is a usage error", async () => {
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = s.port;
    s.stop(true);
    const r = await agent(["--url", `http://127.0.0.1:${port}/`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("ECONNREFUSED");
    const u = await agent(["--url", "ftp://x/"]);
    expect(u.code).toBe(2);
  });

  const noGenhash = missing({ commands: ["genhash"] });
  test.skipIf(noGenhash !== undefined)(
    `same digest as keepalived's genhash${noGenhash ? ` (skipped: ${noGenhash})` : ""}`,
    async () => {
      const theirs = Bun.spawn(
        ["genhash", "-s", "127.0.0.1", "-p", String(server.port), "-u", "/page"],
        {
          stdout: "pipe",
        },
      );
      const [want] = await Promise.all([new Response(theirs.stdout).text(), theirs.exited]);
      const r = await agent(["--url", `${base}/page`]);
      expect(want.trim()).toMatch(/^[0-9a-f]{32}$/);
      expect(r.out).toBe(want);
    },
  );
});
