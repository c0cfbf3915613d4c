/**
 * What crosses between the coordinator and a worker thread (entry.ts, live.ts): the
 * tasks, their replies, and the split-run protocol of one VM spread over threads — the
 * shared memory its replicas swap records through (smp/sab-exchange.ts), how a failing
 * replica releases the others, and how the replicas' statistics make the run's result.
 * It loads no part of the simulation, so the coordinator's thread stays light.
 */
import type { MessagePort } from 'node:worker_threads';
import { decodePartial, encodeConfig } from '../shared/codec.js';
import { ConfigError } from '../shared/errors.js';
import type { SimConfig } from '../shared/config.js';
import { costValues, PROFILES, type Costs } from '../shared/costs.js';
import type { KvmCounters } from '../shared/kvm-stat.js';
import { mergePartials } from '../shared/partial.js';
import type { RunResult } from '../shared/stats.js';
import { abortExchange, controlWords } from './smp/sab-exchange.js';

/** A whole run on one thread: a msgpackr-encoded SimConfig (entry.ts's default task). */
export interface SimTask {
  config: Uint8Array;
  /** Costs replacing the profile's (calibration's candidates). */
  overrides?: Partial<Costs>;
}

/** The reply: the encoded result and the host seconds the simulation took on its thread. */
export interface SimReply {
  result: Uint8Array;
  hostSeconds: number;
}

/** One replica of a split VM (entry.ts's `runPart`). */
export interface PartTask {
  config: Uint8Array;
  /** vCPU ids this replica runs. */
  local: number[];
  index: number;
  count: number;
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  capacity: number;
}

/** A PartTask that answers control calls (live.ts's `runLive`). */
export interface LiveTask extends PartTask {
  /** The replica's end of its control channel (transferred). */
  control: MessagePort;
  /** Int32[1]: raised by the caller after each message it posts. */
  flag: SharedArrayBuffer;
}

export interface PartReply {
  partial: Uint8Array;
  /** Host seconds of the run (set-up excluded) and of the set-up. */
  hostSeconds: number;
  setupSeconds: number;
  quanta: number;
}

/** A run or replica that stopped on a config error (not a fault: retrying would fail the same way). */
export interface PartConfigError {
  configError: { field: string; value: unknown; allowed: string; detail: string };
}

/** A replica that gave up because another one failed (the exchange was aborted). */
export interface PartAborted {
  aborted: true;
}

/** A live replica stopped at a quantum's boundary by `cancel()`. */
export interface PartCancelled {
  cancelled: true;
  quanta: number;
}

export type AnyPartReply = PartReply | PartConfigError | PartAborted | PartCancelled;

export interface LiveProgress {
  /** Quanta run (a one-vCPU VM: slices). */
  quanta: number;
  /** Simulated ns since boot of the furthest local vCPU; never goes back. */
  guestNs: number;
  /** Simulated ns since the statistics began (0 before the workload's measured part). */
  measuredNs: number;
  /** Tasks exited on this replica's vCPUs, and tasks in the VM. */
  exited: number;
  tasks: number;
  done: boolean;
}

export interface LiveCounters {
  /** The kvm_stat counters of this replica's vCPUs (shared/kvm-stat.ts). */
  counters: KvmCounters;
  measuredNs: number;
}

/** The calls a live replica answers. */
export interface ReplicaControl {
  progress(): LiveProgress;
  counters(): LiveCounters;
  /** Stop at the next quantum's boundary (the other replicas stop too: the exchange is aborted). */
  cancel(): void;
  /** The run is over and read: return. */
  release(): void;
}

/** A config as a task carries it (msgpackr bytes, transferred to the thread). */
export const encodeTask = (cfg: SimConfig): { config: Uint8Array<ArrayBuffer> } => ({ config: encodeConfig(cfg) });

/** Float64 words each replica may write per quantum (two banks each). */
const CAPACITY = 1 << 19;

/** The shared memory of one split run of `count` replicas: the barrier's control words and the record banks. */
export function splitChannel(count: number): Pick<PartTask, 'ctl' | 'data' | 'capacity'> {
  return { ctl: new SharedArrayBuffer(4 * controlWords(count)), data: new SharedArrayBuffer(8 * CAPACITY * 2 * count), capacity: CAPACITY };
}

/** Release every replica from the barrier: they give up (a replica failed, or the run is cancelled). */
export const abortSplit = (ctl: SharedArrayBuffer): void => abortExchange(ctl);

/** The config error a reply carries, as the error it was in the worker; undefined if none. */
export function configErrorOf(reply: object): ConfigError | undefined {
  if (!('configError' in reply)) return undefined;
  const e = (reply as PartConfigError).configError;
  return new ConfigError(e.field, e.value, e.allowed, e.detail);
}

/** The run's result from its replicas' replies (their statistics summed in vCPU order: the same for any split). */
export function mergeParts(cfg: SimConfig, replies: readonly PartReply[]): RunResult {
  return mergePartials(cfg, costValues(PROFILES[cfg.profile]!).clockHz, replies.map((r) => decodePartial(r.partial)));
}
