/**
 * What the agent's parts see of the loop (design §2): a running instance, and the port the
 * effects and the trackers act through. The loop implements the port; the effects and the
 * tracking import only this file, so no part imports the loop back.
 */
import type { ConsolaInstance } from "consola";
import type { Event, InstanceState, NotifyState, VrrpState } from "../core/vrrp/types.ts";
import type { Hooks } from "./hooks.ts";
import type { AgentIo, InstanceIo } from "./io.ts";
import type { InstancePlan } from "./params.ts";

export interface Running {
  /** Replaced by a reload that keeps the instance (matched by instanceKey, not by name). */
  plan: InstancePlan;
  state: InstanceState;
  io: InstanceIo;
}

/** Who watches transitions and advert timing (metrics); never changes anything. */
export interface AgentObserver {
  transition(instance: string, from: VrrpState, to: VrrpState): void;
  advertLateness(lateMs: number): void;
}

export interface AgentPort {
  readonly running: ReadonlyMap<string, Running>;
  readonly io: AgentIo;
  readonly log: ConsolaInstance;
  readonly hooks: Hooks | undefined;
  readonly observer: AgentObserver | undefined;
  /** Feed one event to an instance (through its sync group), act, re-arm the timer. */
  dispatch(r: Running, e: Event, atMs?: number): void;
  rearm(): void;
  /** Start an instance trackers held in INIT. */
  release(r: Running): void;
  /** Hooks for an instance's new state. */
  notifyInstance(r: Running, state: NotifyState): void;
}
