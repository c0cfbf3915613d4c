/**
 * A run whose replicas answer control calls while they run (worker/live.ts): the
 * coordinator samples their progress and counters every `intervalMs` through comlink
 * and may cancel. Each replica has its own MessageChannel (not piscina's port) and a
 * flag in shared memory raised after every message posted to it, which the replica
 * looks at between quanta. When every replica has finished, the last sample reads the
 * final counters, then the replicas are released and their statistics combined as in
 * vm-split.ts. A live run is not retried: a failed replica fails it.
 */
import { MessageChannel } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { decodePartial, encodeConfig } from '../shared/codec.js';
import { ConfigError, type SimConfig } from '../shared/config.js';
import { costValues, PROFILES } from '../shared/costs.js';
import { sumCounters, type KvmCounters } from '../shared/kvm-stat.js';
import { mergePartials, type VmPartial } from '../shared/partial.js';
import type { PartReply } from '../worker/entry.js';
import type { LiveProgress, ReplicaControl } from '../worker/live.js';
import { abortExchange, controlWords } from '../worker/smp/sab-exchange.js';
import type { SimPool } from './pool.js';
import type { SplitRun } from './vm-split.js';

/** Float64 words each replica may write per quantum (as vm-split.ts). */
const CAPACITY = 1 << 19;

/** The run was cancelled: every replica stopped at a quantum's boundary, nothing was kept. */
export class RunCancelled extends Error {
  constructor() {
    super('the run was cancelled');
    this.name = 'RunCancelled';
  }
}

export interface LiveSample {
  /** Wall seconds since the replicas were started. */
  wallSeconds: number;
  /** Each replica's progress. */
  progress: LiveProgress[];
  /** The kvm_stat counters, summed over replicas. */
  counters: KvmCounters;
  /** Simulated ns since the statistics began (the furthest replica). */
  measuredNs: number;
  /** The run is over: these are the final counters. */
  final: boolean;
}

export interface LiveRun {
  readonly done: Promise<SplitRun>;
  /** Stop every replica at its next quantum's boundary; `done` then rejects with RunCancelled. */
  cancel(): void;
}

export function runVmLive(pool: SimPool, cfg: SimConfig, placement: readonly (readonly number[])[], onSample: (s: LiveSample) => void, intervalMs = 1000): LiveRun {
  if (placement.length > pool.threads) {
    throw new RangeError(`a VM placed on ${placement.length} threads needs a pool of at least that many (it has ${pool.threads})`);
  }
  const ctl = new SharedArrayBuffer(4 * controlWords(placement.length));
  const data = new SharedArrayBuffer(8 * CAPACITY * 2 * placement.length);
  const t0 = performance.now();
  let cancelled = false;
  const channels = placement.map(() => new MessageChannel());
  const flags = placement.map(() => new SharedArrayBuffer(4));
  const remotes: Remote<ReplicaControl>[] = channels.map((ch, i) => {
    const ep = nodeEndpoint(ch.port1);
    const flag = new Int32Array(flags[i]!);
    const post = ep.postMessage.bind(ep);
    // Post, then raise the flag the replica looks at between quanta.
    ep.postMessage = (message: unknown, transfer?: Transferable[]) => {
      post(message, transfer);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    };
    return wrap<ReplicaControl>(ep);
  });
  const runs = placement.map((local, index) =>
    pool
      .runLive({ config: encodeConfig(cfg), local: [...local], index, count: placement.length, ctl, data, capacity: CAPACITY, control: channels[index]!.port2, flag: flags[index]! })
      .catch((err: unknown) => {
        abortExchange(ctl);
        throw err;
      }),
  );
  const settled = Promise.allSettled(runs);
  const over = settled.then(() => null);
  /** The calls' answers, or null if the replicas stopped first. */
  const ask = async <T>(calls: Promise<T>[]): Promise<T[] | null> => Promise.race([Promise.all(calls), over]);

  const sample = async (): Promise<boolean> => {
    const progress = await ask(remotes.map((r) => r.progress()));
    if (progress === null) return true;
    const counters = await ask(remotes.map((r) => r.counters()));
    if (counters === null) return true;
    const final = progress.every((p) => p.done);
    onSample({
      wallSeconds: (performance.now() - t0) / 1000,
      progress,
      counters: sumCounters(counters.map((c) => c.counters)),
      measuredNs: Math.max(...counters.map((c) => c.measuredNs)),
      final,
    });
    return final;
  };

  const done = (async (): Promise<SplitRun> => {
    try {
      for (;;) {
        const stop = await Promise.race([new Promise<boolean>((r) => setTimeout(() => r(false), intervalMs)), over.then(() => true)]);
        if (stop || cancelled) break;
        if (await sample()) {
          for (const r of remotes) void r.release();
          break;
        }
      }
      const results = await settled;
      if (cancelled) throw new RunCancelled();
      for (const s of results) {
        if (s.status === 'fulfilled' && 'configError' in s.value) {
          const e = s.value.configError;
          throw new ConfigError(e.field, e.value, e.allowed);
        }
      }
      const failed = results.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const replies = results.map((s) => (s as PromiseFulfilledResult<PartReply>).value);
      if (replies.some((r) => !('partial' in r))) throw new Error('a part of the VM gave up without another failing');
      const parts: VmPartial[] = replies.map((r) => decodePartial(r.partial));
      return {
        result: mergePartials(cfg, costValues(PROFILES[cfg.profile]!).clockHz, parts),
        hostSeconds: Math.max(...replies.map((r) => r.hostSeconds)),
        setupSeconds: Math.max(...replies.map((r) => r.setupSeconds)),
        quanta: replies[0]!.quanta,
        attempts: 1,
      };
    } finally {
      for (const ch of channels) ch.port1.close();
    }
  })();
  return {
    done,
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      for (const r of remotes) void r.cancel();
    },
  };
}
