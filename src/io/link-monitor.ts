/**
 * Link and address events for track_interface and VIP tracking (keepalived's netlink monitor
 * socket, vrrp_netlink.c): a Worker blocks on an rtnetlink socket and posts decoded events, so
 * the event loop never blocks and never polls on a timer.
 */
import { closeFd, eventfdOpen, eventfdSignal, libnl } from "../../native/libnl.ts";
import { AgentError, type ErrorCode } from "../errors.ts";
import type { LinkEvent } from "./link-events.ts";
import type { MonitorCommand, MonitorMessage } from "./link-monitor-worker.ts";

export type { LinkEvent, OperState } from "./link-events.ts";

/** A Worker that has not said "ready" by then is not coming (missing build entrypoint). */
const START_TIMEOUT_MS = 5000;
/** It leaves poll() at once on the eventfd; this only bounds a wedged Worker. */
const STOP_TIMEOUT_MS = 2000;

/**
 * From source the Worker file is beside this one. In the compiled binary every module's
 * import.meta.url is the executable (/$bunfs/root/agent) and entrypoints are stored relative
 * to their common directory, src/ — so the Worker is at ./io/link-monitor-worker.* there.
 */
function workerUrl(): URL {
  return import.meta.url.includes("/$bunfs/")
    ? new URL("./io/link-monitor-worker.ts", import.meta.url)
    : new URL("./link-monitor-worker.ts", import.meta.url);
}

export interface LinkMonitorOptions {
  /** The Worker failed after starting (socket error); the monitor has stopped. */
  readonly onError?: (e: AgentError) => void;
}

export interface LinkMonitor {
  /** Stops the Worker and closes its socket; events it has not read yet are dropped. */
  stop(): Promise<void>;
}

/**
 * Starts monitoring; resolves once the socket has joined its groups, so no change made after
 * the promise resolves is missed. `onEvent` runs on the main thread, once per event, in kernel
 * order; an { kind: "overrun" } event means some were lost and the state must be re-read.
 */
export async function startLinkMonitor(
  onEvent: (e: LinkEvent) => void,
  opts: LinkMonitorOptions = {},
): Promise<LinkMonitor> {
  libnl(); // E_NO_LIBNL here, with the package names, rather than from inside the Worker
  const wakeFd = eventfdOpen();
  const worker = new Worker(workerUrl());
  let onStopped: (() => void) | undefined;
  let running = true;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new AgentError(
            "E_INTERFACE",
            `the link-monitor Worker did not start within ${START_TIMEOUT_MS} ms ` +
              "(is src/io/link-monitor-worker.ts an entrypoint of the build?)",
          ),
        ),
      START_TIMEOUT_MS,
    );
    worker.onmessage = (ev: MessageEvent<MonitorMessage>) => {
      const m = ev.data;
      if (m.type === "ready") {
        clearTimeout(timer);
        resolve();
      } else if (m.type === "events") {
        for (const e of m.events) onEvent(e);
      } else if (m.type === "error") {
        clearTimeout(timer);
        const err = new AgentError(m.code as ErrorCode, m.message, "rtnetlink");
        reject(err); // no-op once started
        running = false;
        opts.onError?.(err);
      } else {
        onStopped?.();
      }
    };
    worker.onerror = (ev) => {
      clearTimeout(timer);
      reject(new AgentError("E_INTERFACE", `link-monitor Worker failed: ${ev.message}`));
    };
  });
  const kill = () => {
    worker.terminate();
    closeFd(wakeFd);
  };
  worker.postMessage({ op: "start", wakeFd } satisfies MonitorCommand);
  try {
    await ready;
  } catch (e) {
    kill();
    throw e;
  }
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        if (running) {
          const stopped = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
            onStopped = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          eventfdSignal(wakeFd);
          await stopped;
        }
        kill();
      })();
      return stopping;
    },
  };
}
