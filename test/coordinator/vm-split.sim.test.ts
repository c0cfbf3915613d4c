/**
 * One VM's vCPUs on several worker threads: the same statistics with 1, 2 or 4 threads
 * and any placement; a replica whose thread dies stops the others and the run is
 * retried. Runs against the build (`pretest`): the threads load dist/worker/entry.js
 * (test/support/fault-entry.js, which wraps it, where faults are injected).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimPool } from '../../coordinator/execution/pool.js';
import { placeVcpus, runVmSplit } from '../../coordinator/execution/split.js';
import { ConfigError, resolveConfig, type SimConfig } from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';
import { FAULT_ENTRY } from '../support/faults.js';

const smpHackbench = (o: Partial<SimConfig> = {}): SimConfig =>
  resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 10, vcpus: 4, sndbuf: 2048, ...o });

describe('placeVcpus', () => {
  it('deals vCPUs in blocks or in turn, never to more threads than vCPUs', () => {
    expect(placeVcpus(8, 2)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(placeVcpus(5, 2, 'round-robin')).toEqual([[0, 2, 4], [1, 3]]);
    expect(placeVcpus(3, 4)).toEqual([[0], [1], [2]]);
  });
});

describe('a VM split between worker threads', () => {
  let pool: SimPool;
  beforeAll(() => {
    pool = new SimPool({ threads: 4 });
  });
  afterAll(async () => {
    await pool.destroy();
  });

  it('gives byte-identical statistics with 1, 2 and 4 threads, in blocks or in turn', async () => {
    const cfg = smpHackbench();
    const whole = JSON.stringify(simulate(cfg));
    for (const [threads, kind] of [[1, 'blocks'], [2, 'blocks'], [2, 'round-robin'], [4, 'blocks']] as const) {
      const r = await runVmSplit(pool, cfg, placeVcpus(cfg.vcpus, threads, kind));
      expect(JSON.stringify(r.result)).toBe(whole);
      expect(r.attempts).toBe(1);
      expect(r.quanta).toBeGreaterThan(0);
    }
  });

  it('the same for threads sharing one address space over pipes under kvm-trunk', async () => {
    const cfg = smpHackbench({ mode: 'kvm-trunk', thread: true, pipe: true });
    const r = await runVmSplit(pool, cfg, [[3, 0], [1], [2]]);
    expect(JSON.stringify(r.result)).toBe(JSON.stringify(simulate(cfg)));
  });

  it('a guest too small for the run is a config error naming the option, not a fault to retry', async () => {
    const cfg = smpHackbench({ groups: 4, loops: 100, sndbuf: 65535, quantum: 100000, memoryMiB: 32 });
    const err = await runVmSplit(pool, cfg, placeVcpus(4, 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('memoryMiB');
    expect((err as Error).message).toMatch(/^memoryMiB: guest memory of 32 MiB is too small: the run ran out \(.*\); try --memory 128 \(at most 4096\), or a shorter --quantum than 100000 us/);
    // The pool is still whole: the next run goes through.
    const ok = await runVmSplit(pool, smpHackbench(), placeVcpus(4, 2));
    expect(ok.attempts).toBe(1);
  });

  it('refuses a placement on more threads than the pool has', async () => {
    const small = new SimPool({ threads: 1 });
    try {
      await expect(runVmSplit(small, smpHackbench(), placeVcpus(4, 2))).rejects.toThrow(/needs a pool of at least that many/);
    } finally {
      await small.destroy();
    }
  });
});

describe('a replica whose thread dies', () => {
  let markerDir: string;
  beforeEach(() => {
    markerDir = mkdtempSync(join(tmpdir(), 'vcpusim-split-fault-'));
    process.env.VCPUSIM_FAULT_MARKER_DIR = markerDir;
  });
  afterEach(() => {
    delete process.env.VCPUSIM_FAULT;
    delete process.env.VCPUSIM_FAULT_MARKER_DIR;
    rmSync(markerDir, { recursive: true, force: true });
  });

  it('stops the others; the run is retried and gives the same statistics', async () => {
    process.env.VCPUSIM_FAULT = 'crash-once-on-seed:11';
    const cfg = smpHackbench({ seed: 11 });
    const pool = new SimPool({ threads: 2, onError: () => {}, entry: FAULT_ENTRY });
    try {
      const r = await runVmSplit(pool, cfg, placeVcpus(4, 2));
      expect(r.attempts).toBe(2);
      expect(JSON.stringify(r.result)).toBe(JSON.stringify(simulate(cfg)));
    } finally {
      await pool.destroy();
    }
  });

  it('fails with the reason once the retries are used up', async () => {
    process.env.VCPUSIM_FAULT = 'throw-on-seed:12';
    const pool = new SimPool({ threads: 2, onError: () => {}, entry: FAULT_ENTRY });
    try {
      await expect(runVmSplit(pool, smpHackbench({ seed: 12 }), placeVcpus(4, 2), 1)).rejects.toThrow(/injected exception on seed 12/);
    } finally {
      await pool.destroy();
    }
  });
});
