/** Real-time signal dispositions (native/signals.ts), for the agent's shell. */
export { ignoreSignal, sigrtmin } from "../../native/signals.ts";
