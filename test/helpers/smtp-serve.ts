/**
 * The test SMTP server as a process, for tests that need it inside a network namespace
 * (`ip netns exec NS bun test/helpers/smtp-serve.ts`): it listens on that namespace's
 * 127.0.0.1, prints `port N`, then one JSON line per finished session (commands and the
 * message data), until it is stopped.
 */
import { startSmtpServer } from "./smtp-server.ts";

const server = await startSmtpServer();
console.log(`port ${server.port}`);
for (let n = 0; ; n++) {
  const s = await server.session(n, 24 * 3600 * 1000);
  console.log(JSON.stringify({ commands: s.commands, received: s.received }));
}
