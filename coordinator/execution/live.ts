/**
 * A run whose replicas answer control calls while they run (worker/live.ts): the
 * coordinator samples their progress and counters every `intervalMs` through comlink
 * and may cancel. Each replica has its own MessageChannel (not piscina's port) and a
 * flag in shared memory raised after every message posted to it, which the replica
 * looks at between quanta. When every replica has finished, the last sample reads the
 * final counters, then the replicas are released and their statistics combined as in
 * split.ts. A live run is not retried: a failed replica fails it.
 */
import { MessageChannel } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { SimConfig } from '../../shared/config.js';
import { sumCounters, type KvmCounters } from '../../shared/kvm-stat.js';
import { abortSplit, configErrorOf, encodeTask, splitChannel, type LiveProgress, type PartReply, type ReplicaControl } from '../../worker/protocol.js';
import type { SimPool } from './pool.js';
import { checkPlacement, splitRunOf, type SplitRun } from './split.js';

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
  checkPlacement(pool, placement);
  const channel = splitChannel(placement.length);
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
      .runLive({ ...encodeTask(cfg), local: [...local], index, count: placement.length, ...channel, control: channels[index]!.port2, flag: flags[index]! })
      .catch((err: unknown) => {
        abortSplit(channel.ctl);
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
        const configError = s.status === 'fulfilled' ? configErrorOf(s.value) : undefined;
        if (configError) throw configError;
      }
      const failed = results.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const replies = results.map((s) => (s as PromiseFulfilledResult<object>).value);
      if (replies.some((r) => !('partial' in r))) throw new Error('a part of the VM gave up without another failing');
      return splitRunOf(cfg, replies as PartReply[], 1);
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
