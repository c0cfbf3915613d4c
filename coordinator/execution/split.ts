/**
 * One VM's vCPUs spread over worker threads. Each thread of the pool runs one replica
 * of the VM for the whole run, with the vCPUs placed on it; the replicas swap records
 * through shared memory at every quantum (worker/protocol.ts). Their statistics combine
 * into the run's result, which is the same whatever the placement and the number of
 * threads.
 *
 * A replica that throws or whose thread dies stops the others (they are released from
 * the barrier and give up); the whole run is then retried from the start, up to
 * `retries` times. A live run (live.ts) is the same with control calls on the side.
 */
import type { SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';
import { abortSplit, configErrorOf, encodeTask, mergeParts, splitChannel, type PartReply } from '../../worker/protocol.js';
import type { PlacementKind } from './limits.js';
import type { SimPool } from './pool.js';

/** vCPU ids per thread. Threads beyond the vCPU count get none and are not used. */
export function placeVcpus(vcpus: number, threads: number, kind: PlacementKind = 'blocks'): number[][] {
  const n = Math.min(vcpus, threads);
  const out: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < vcpus; v++) out[kind === 'blocks' ? Math.floor((v * n) / vcpus) : v % n]!.push(v);
  return out;
}

export interface SplitRun {
  result: RunResult;
  /** Wall-clock seconds of the run (the slowest replica, set-up excluded), and of the set-up. */
  hostSeconds: number;
  setupSeconds: number;
  quanta: number;
  attempts: number;
}

/** The run made of its replicas' replies. */
export function splitRunOf(cfg: SimConfig, replies: readonly PartReply[], attempts: number): SplitRun {
  return {
    result: mergeParts(cfg, replies),
    hostSeconds: Math.max(...replies.map((r) => r.hostSeconds)),
    setupSeconds: Math.max(...replies.map((r) => r.setupSeconds)),
    quanta: replies[0]!.quanta,
    attempts,
  };
}

export function checkPlacement(pool: SimPool, placement: readonly (readonly number[])[]): void {
  if (placement.length > pool.threads) {
    throw new RangeError(`a VM placed on ${placement.length} threads needs a pool of at least that many (it has ${pool.threads})`);
  }
}

export async function runVmSplit(pool: SimPool, cfg: SimConfig, placement: readonly (readonly number[])[], retries = 2): Promise<SplitRun> {
  checkPlacement(pool, placement);
  let lastErr: unknown;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    const channel = splitChannel(placement.length);
    const runs = placement.map((local, index) =>
      pool.runPart({ ...encodeTask(cfg), local: [...local], index, count: placement.length, ...channel }).catch((err: unknown) => {
        abortSplit(channel.ctl); // release the others from the barrier
        throw err;
      }),
    );
    const settled = await Promise.allSettled(runs);
    // A config error (the guest or the shadow pool too small) is the same on every try.
    for (const s of settled) {
      const configError = s.status === 'fulfilled' ? configErrorOf(s.value) : undefined;
      if (configError) throw configError;
    }
    // A replica that failed rejects; the others give up because of it and say so.
    const failures = settled.filter((s) => s.status === 'rejected').map((s) => s.reason as unknown);
    const aborted = settled.some((s) => s.status === 'fulfilled' && 'aborted' in s.value);
    if (failures.length > 0 || aborted) {
      lastErr = failures[0] ?? new Error('a part of the VM gave up without another failing');
      continue;
    }
    return splitRunOf(
      cfg,
      settled.map((s) => (s as PromiseFulfilledResult<PartReply>).value),
      attempt,
    );
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
