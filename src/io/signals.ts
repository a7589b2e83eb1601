/** Real-time signal dispositions (native/signals.ts), for the agent's shell. */
export { catchByAlarm, ignoreSignal, sigrtmin } from "../../native/signals.ts";
