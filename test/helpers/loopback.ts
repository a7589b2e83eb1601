/**
 * Loopback servers and closed ports for the checker probe tests: always 127.0.0.1 (or ::1) and
 * port 0, so tests never collide on a fixed port.
 */
import { createSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";

export interface TcpListener {
  readonly server: Server;
  readonly port: number;
  /** How many connections the server has accepted so far. */
  accepted(): number;
  /** Close the server and every connection it accepted; resolves when it is closed. */
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 port 0 that counts (and holds) the connections it accepts. */
export async function listenTcp(onConn?: (s: Socket) => void): Promise<TcpListener> {
  let n = 0;
  const held: Socket[] = [];
  const server = createServer((s) => {
    n++;
    held.push(s);
    s.on("error", () => {});
    onConn?.(s);
  });
  server.on("close", () => {
    for (const s of held) s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  const close = () =>
    new Promise<void>((r) => {
      for (const s of held) s.destroy();
      server.close(() => r());
    });
  return { server, port: addr.port, accepted: () => n, close };
}

/** A TCP port nothing listens on: bind one on 127.0.0.1, note it, close it. */
export async function closedTcpPort(): Promise<number> {
  const l = await listenTcp();
  await l.close();
  return l.port;
}

/** A UDP port nothing listens on (connects there get ICMP port unreachable). */
export async function closedUdpPort(family: "udp4" | "udp6" = "udp4"): Promise<number> {
  const s = createSocket(family);
  await new Promise<void>((r) => s.bind(0, family === "udp4" ? "127.0.0.1" : "::1", r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}
