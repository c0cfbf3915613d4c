/**
 * One VM's vCPUs spread over worker threads. Each thread of the pool runs one replica
 * of the VM for the whole run, with the vCPUs placed on it; the replicas swap messages
 * through shared memory at every quantum (worker/smp/sab-exchange.ts). Their statistics
 * combine into the run's result, which is the same whatever the placement and the
 * number of threads.
 *
 * A replica that throws or whose thread dies stops the others (they are released from
 * the barrier and give up); the whole run is then retried from the start, up to
 * `retries` times.
 */
import { encodeConfig, decodePartial } from '../shared/codec.js';
import { mergePartials, type VmPartial } from '../shared/partial.js';
import { costValues, PROFILES } from '../shared/costs.js';
import { ConfigError, type SimConfig } from '../shared/config.js';
import type { PartReply } from '../worker/entry.js';
import type { RunResult } from '../shared/stats.js';
import { abortExchange, controlWords } from '../worker/smp/sab-exchange.js';
import type { SimPool } from './pool.js';

import type { PlacementKind } from './placements.js';
export { PLACEMENTS, type PlacementKind } from './placements.js';

/** vCPU ids per thread. Threads beyond the vCPU count get none and are not used. */
export function placeVcpus(vcpus: number, threads: number, kind: PlacementKind = 'blocks'): number[][] {
  const n = Math.min(vcpus, threads);
  const out: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < vcpus; v++) out[kind === 'blocks' ? Math.floor((v * n) / vcpus) : v % n]!.push(v);
  return out;
}

/** Float64 words each replica may write per quantum (two banks each). */
const CAPACITY = 1 << 19;

export interface SplitRun {
  result: RunResult;
  /** Wall-clock seconds of the run (the slowest replica, set-up excluded), and of the set-up. */
  hostSeconds: number;
  setupSeconds: number;
  quanta: number;
  attempts: number;
}

export async function runVmSplit(pool: SimPool, cfg: SimConfig, placement: readonly (readonly number[])[], retries = 2): Promise<SplitRun> {
  if (placement.length > pool.threads) {
    throw new RangeError(`a VM placed on ${placement.length} threads needs a pool of at least that many (it has ${pool.threads})`);
  }
  let lastErr: unknown;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    const ctl = new SharedArrayBuffer(4 * controlWords(placement.length));
    const data = new SharedArrayBuffer(8 * CAPACITY * 2 * placement.length);
    const runs = placement.map((local, index) =>
      pool
        .runPart({ config: encodeConfig(cfg), local: [...local], index, count: placement.length, ctl, data, capacity: CAPACITY })
        .catch((err: unknown) => {
          abortExchange(ctl); // release the others from the barrier
          throw err;
        }),
    );
    const settled = await Promise.allSettled(runs);
    // A config error (the guest or the shadow pool too small) is the same on every try.
    for (const s of settled) {
      if (s.status === 'fulfilled' && 'configError' in s.value) {
        const e = s.value.configError;
        throw new ConfigError(e.field, e.value, e.allowed);
      }
    }
    // A replica that failed rejects; the others give up because of it and say so.
    const failures = settled.filter((s) => s.status === 'rejected').map((s) => s.reason as unknown);
    const aborted = settled.some((s) => s.status === 'fulfilled' && 'aborted' in s.value);
    if (failures.length > 0 || aborted) {
      lastErr = failures[0] ?? new Error('a part of the VM gave up without another failing');
      continue;
    }
    const replies = settled.map((s) => (s as PromiseFulfilledResult<PartReply>).value);
    const parts: VmPartial[] = replies.map((r) => decodePartial(r.partial));
    const clockHz = costValues(PROFILES[cfg.profile]!).clockHz;
    return {
      result: mergePartials(cfg, clockHz, parts),
      hostSeconds: Math.max(...replies.map((r) => r.hostSeconds)),
      setupSeconds: Math.max(...replies.map((r) => r.setupSeconds)),
      quanta: replies[0]!.quanta,
      attempts: attempt,
    };
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
