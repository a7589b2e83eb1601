/** The agent's clock: CLOCK_MONOTONIC in ms, the same one the receive Worker stamps packets with. */
export { monotonicMs } from "../../native/libc.ts";
