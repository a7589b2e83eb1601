/**
 * A small scripted SMTP server for tests, on 127.0.0.1 and a kernel-chosen port. It records
 * every byte each client sends, answers each command from a table that a test may override
 * per command (a reply text, silence, or closing the connection), and collects the DATA
 * payload up to its terminator.
 */
import { createServer, type Server, type Socket } from "node:net";

export type SmtpCommand =
  | "greeting"
  | "HELO"
  | "EHLO"
  | "MAIL"
  | "RCPT"
  | "DATA"
  | "message"
  | "QUIT"
  | "other";

/** A reply: text sent with CRLF added per line, `null` for silence, "close" to hang up. */
export type Reply = string | null | "close";

const DEFAULTS: Record<SmtpCommand, string> = {
  greeting: "220 test.example ESMTP ready",
  HELO: "250 test.example",
  EHLO: "250 test.example",
  MAIL: "250 2.1.0 Ok",
  RCPT: "250 2.1.5 Ok",
  DATA: "354 End data with <CR><LF>.<CR><LF>",
  message: "250 2.0.0 Ok: queued",
  QUIT: "221 2.0.0 Bye",
  other: "502 5.5.2 Error: command not recognized",
};

export interface SmtpSession {
  /** Everything the client sent, in order (latin1, so bytes map 1:1 to chars). */
  received: string;
  /** Everything this server sent. */
  sent: string;
  /** Command lines as received, without CRLF; the DATA payload is not among them. */
  commands: string[];
  /** The DATA payload including the final ".\r\n", if one arrived. */
  data?: string;
  /** Resolves when the connection has closed. */
  closed: Promise<void>;
}

export interface SmtpServer {
  readonly port: number;
  readonly sessions: SmtpSession[];
  /** Resolves with the n-th session (0-based) once that connection has closed. */
  session(n: number, timeoutMs?: number): Promise<SmtpSession>;
  /** Resolves with the n-th session (0-based) as soon as it is connected. */
  accepted(n: number, timeoutMs?: number): Promise<SmtpSession>;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Override the reply to a command; `arg` is the rest of the line (or the DATA payload). */
  reply?: (cmd: SmtpCommand, arg: string, session: SmtpSession) => Reply | undefined;
}

function verb(line: string): [SmtpCommand, string] {
  const m = /^([A-Za-z]+)(?: (.*))?$/.exec(line);
  const word = (m?.[1] ?? "").toUpperCase();
  const known = ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"] as const;
  const cmd = (known as readonly string[]).includes(word) ? (word as SmtpCommand) : "other";
  return [cmd, m?.[2] ?? ""];
}

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<SmtpServer> {
  const sessions: SmtpSession[] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<Socket>();

  const handle = (sock: Socket): void => {
    sockets.add(sock);
    let onClosed: () => void = () => {};
    const s: SmtpSession = {
      received: "",
      sent: "",
      commands: [],
      closed: new Promise((r) => {
        onClosed = r;
      }),
    };
    sessions.push(s);
    for (const w of waiters.splice(0)) w();
    let buf = "";
    let inData = false;

    /** Sends the reply to `cmd`; returns it, null for silence, "close" when hung up. */
    const answer = (cmd: SmtpCommand, arg: string): Reply => {
      const r = opts.reply?.(cmd, arg, s);
      const text = r === undefined ? DEFAULTS[cmd] : r;
      if (text === "close") {
        sock.destroy();
        return text;
      }
      if (text === null) return null;
      const out = text
        .split("\n")
        .map((l) => `${l}\r\n`)
        .join("");
      s.sent += out;
      sock.write(out);
      return text;
    };

    sock.setEncoding("latin1");
    sock.on("data", (chunk: string) => {
      s.received += chunk;
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          const atStart = buf.startsWith(".\r\n");
          if (end < 0 && !atStart) return;
          const cut = atStart ? 3 : end + 5;
          s.data = buf.slice(0, cut);
          buf = buf.slice(cut);
          inData = false;
          if (answer("message", s.data) === "close") return;
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        s.commands.push(line);
        const [cmd, arg] = verb(line);
        const r = answer(cmd, arg);
        if (r === "close") return;
        if (cmd === "DATA" && r !== null && /(^|\n)354[^\n]*$/.test(r)) inData = true;
        if (cmd === "QUIT") {
          sock.end();
          return;
        }
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      sockets.delete(sock);
      onClosed();
    });
    answer("greeting", "");
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  const accepted = async (n: number, timeoutMs = 5000): Promise<SmtpSession> => {
    const deadline = Date.now() + timeoutMs;
    while (sessions.length <= n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SMTP session #${n} within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        waiters.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
    return sessions[n] as SmtpSession;
  };

  const session = async (n: number, timeoutMs = 5000): Promise<SmtpSession> => {
    const deadline = Date.now() + timeoutMs;
    const s = await accepted(n, timeoutMs);
    const left = Math.max(1, deadline - Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      s.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`SMTP session #${n} still open`)), left);
      }),
    ]).finally(() => clearTimeout(timer));
    return s;
  };

  return {
    port,
    sessions,
    session,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
