/**
 * The worker pool behind runAll: same results on any number of threads, runs survive
 * dying threads, every outcome reported once. Runs against the build (`pretest`): the
 * threads load dist/worker/entry.js (test/support/fault-entry.js, which wraps it, where
 * faults are injected).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimPool } from '../../coordinator/execution/pool.js';
import { LocalRunner } from '../../coordinator/execution/local.js';
import type { RunAllOptions, RunOutcome } from '../../coordinator/execution/runner.js';
import { decodeConfig, decodeResult, encodeConfig, encodeResult } from '../../shared/codec.js';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';
import { FAULT_ENTRY } from '../support/faults.js';

const ctx = (o: Partial<SimConfig> = {}): SimConfig => resolveConfig({ workload: 'ctxswitch', tasks: 2, loops: 200, ...o });
const hb = (o: Partial<SimConfig> = {}): SimConfig => resolveConfig({ workload: 'hackbench', groups: 1, loops: 5, ...o });

/** A small mixed list: modes, workloads, seeds, one and two vCPUs. */
const MIXED: SimConfig[] = [
  ctx({ mode: 'kvm-paravirt', seed: 1 }),
  ctx({ mode: 'kvm-upstream', seed: 2 }),
  ctx({ mode: 'native', vcpus: 2, seed: 3 }),
  hb({ mode: 'kvm-trunk', seed: 4 }),
  hb({ mode: 'kvm-paravirt', vcpus: 2, seed: 5 }),
  ctx({ mode: 'qemu', tasks: 4, seed: 6 }),
  hb({ mode: 'qemu', vcpus: 2, seed: 7 }),
  ctx({ mode: 'kvm-paravirt', vcpus: 2, cacheSize: 1, seed: 8 }),
];

/** Every config on a runner of its own: `workers` threads (this thread for 1, or none given), closed after. */
async function runAll(configs: readonly SimConfig[], opts: RunAllOptions & { workers?: number } = {}): Promise<RunOutcome[]> {
  const runner = new LocalRunner(opts.workers !== undefined && opts.workers > 1 ? { threads: opts.workers } : { inThread: true });
  try {
    return await runner.runAll(configs, opts);
  } finally {
    await runner.close();
  }
}

const results = (os: RunOutcome[]): string => JSON.stringify(os.map((o) => o.result ?? o.error));

describe('codec', () => {
  it('round-trips a config and a result to the same JSON, in buffers of their own', () => {
    const cfg = hb({ vcpus: 2 });
    const r = simulate(cfg);
    const a = encodeConfig(cfg);
    const b = encodeResult(r);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.byteLength);
    // A later encode must not overwrite an earlier buffer (msgpackr reuses its own).
    expect(JSON.stringify(decodeConfig(a))).toBe(JSON.stringify(cfg));
    expect(JSON.stringify(decodeResult(b))).toBe(JSON.stringify(r));
  });
});

describe('determinism across worker counts', () => {
  it('gives byte-identical results with 1, 2 and 4 workers', async () => {
    const one = await runAll(MIXED, { workers: 1 });
    const two = await runAll(MIXED, { workers: 2 });
    const four = await runAll(MIXED, { workers: 4 });
    expect(one.every((o) => o.result && o.attempts === 1)).toBe(true);
    expect(one.map((o) => o.index)).toEqual(MIXED.map((_, i) => i));
    expect(results(two)).toBe(results(one));
    expect(results(four)).toBe(results(one));
    expect(four.map((o) => o.config)).toEqual(MIXED);
  });
});

describe('onOutcome', () => {
  for (const workers of [1, 2]) {
    it(`is called once per config, before runAll resolves (${workers} worker${workers > 1 ? 's' : ''})`, async () => {
      const seen: number[] = [];
      const outs = await runAll(MIXED, {
        workers,
        onOutcome: async (o) => {
          await new Promise((r) => setTimeout(r, 1));
          seen.push(o.index);
        },
      });
      expect(seen.length).toBe(MIXED.length);
      expect([...seen].sort((a, b) => a - b)).toEqual(MIXED.map((_, i) => i));
      expect(outs.length).toBe(MIXED.length);
    });
  }

  it('a throwing onOutcome stops new runs, still reports finished ones, then rejects', async () => {
    const seen: number[] = [];
    const p = runAll(MIXED, {
      workers: 2,
      onOutcome: (o) => {
        seen.push(o.index);
        if (seen.length === 1) throw new Error('store failed');
      },
    });
    await expect(p).rejects.toThrow('store failed');
    // The first report failed; the other lane's run in flight was still reported.
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThan(MIXED.length);
  });
});

describe('faults in worker threads', () => {
  let markerDir: string;
  beforeEach(() => {
    markerDir = mkdtempSync(join(tmpdir(), 'vcpusim-fault-'));
    process.env.VCPUSIM_FAULT_MARKER_DIR = markerDir;
  });
  afterEach(() => {
    delete process.env.VCPUSIM_FAULT;
    delete process.env.VCPUSIM_FAULT_MARKER_DIR;
    rmSync(markerDir, { recursive: true, force: true });
  });

  const configs = [1, 2, 3, 4, 5, 6].map((seed) => ctx({ seed }));

  /** runAll on a pool of `workers` threads whose entry injects the faults VCPUSIM_FAULT names (set before the threads start). */
  async function runAllWithFaults(cfgs: SimConfig[], opts: RunAllOptions & { workers: number }): Promise<RunOutcome[]> {
    const runner = new LocalRunner({ threads: opts.workers, entry: FAULT_ENTRY });
    try {
      return await runner.runAll(cfgs, opts);
    } finally {
      await runner.close();
    }
  }

  it('a thread that dies once does not lose the sweep: the run succeeds on retry', async () => {
    process.env.VCPUSIM_FAULT = 'crash-once-on-seed:3';
    const reported: RunOutcome[] = [];
    const outs = await runAllWithFaults(configs, { workers: 2, onOutcome: (o) => void reported.push(o) });
    expect(outs.map((o) => o.attempts)).toEqual([1, 1, 2, 1, 1, 1]);
    expect(outs.every((o) => o.result && !o.error)).toBe(true);
    expect(reported.length).toBe(configs.length);
    const clean = await runAll(configs, { workers: 1 });
    expect(results(outs)).toBe(results(clean));
  });

  it('a run that always kills its thread is reported failed after the retries; the others finish', async () => {
    process.env.VCPUSIM_FAULT = 'crash-on-seed:2,uncaught-on-seed:5';
    const reported: RunOutcome[] = [];
    const outs = await runAllWithFaults(configs, { workers: 2, retries: 2, onOutcome: (o) => void reported.push(o) });
    expect(reported.length).toBe(configs.length);
    for (const o of outs) {
      if (o.config.seed === 2 || o.config.seed === 5) {
        expect(o.result).toBeUndefined();
        expect(o.attempts).toBe(3);
      } else {
        expect(o.error).toBeUndefined();
        expect(o.attempts).toBe(1);
        expect(o.result).toBeDefined();
      }
    }
    expect(outs[1]!.error).toMatch(/worker exited with code: 70 \(3 attempts\)/);
    expect(outs[4]!.error).toMatch(/injected uncaught exception on seed 5/);
  });

  it('a run that throws is retried and then reported with the message', async () => {
    process.env.VCPUSIM_FAULT = 'throw-on-seed:4';
    const outs = await runAllWithFaults(configs, { workers: 2, retries: 1 });
    expect(outs[3]).toMatchObject({ attempts: 2, error: 'injected exception on seed 4 (2 attempts)' });
    expect(outs.filter((o) => o.result).length).toBe(5);
  });
});

describe('SimPool', () => {
  const pool = new SimPool({ threads: 2 });
  afterAll(() => pool.destroy());

  it('runs configs concurrently and returns decoded results with host time', async () => {
    const [a, b] = await Promise.all([pool.run(MIXED[0]!), pool.run(MIXED[4]!)]);
    expect(JSON.stringify(a.result)).toBe(JSON.stringify(simulate(MIXED[0]!)));
    expect(JSON.stringify(b.result)).toBe(JSON.stringify(simulate(MIXED[4]!)));
    expect(a.hostSeconds).toBeGreaterThan(0);
  });

  it('a local runner keeps its threads across runAll calls until it is closed', async () => {
    const runner = new LocalRunner({ threads: 2 });
    const first = await runner.runAll(MIXED);
    const second = await runner.runAll(MIXED);
    const inThread = await runAll(MIXED, { workers: 1 });
    expect(results(first)).toBe(results(inThread));
    expect(results(second)).toBe(results(inThread));
    await expect(runner.runOne(MIXED[0]!)).resolves.toBeDefined();
    await runner.close();
    expect(() => runner.runOne(MIXED[0]!)).toThrow(/after close/);
  });

  it('rejects bad thread counts naming the option', () => {
    expect(() => new SimPool({ threads: 0 })).toThrow(RangeError);
    expect(() => new SimPool({ threads: 0 })).toThrow(/threads/);
  });

  it('runAll rejects bad options naming them', async () => {
    expect(() => new LocalRunner({ threads: -1 })).toThrow(/threads/);
    await expect(runAll(MIXED, { retries: 1.5 })).rejects.toThrow(/retries/);
  });
});
