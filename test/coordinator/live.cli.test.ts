/**
 * Live control of a run (coordinator/execution/live.ts, worker/live.ts): replicas answer
 * progress and counter calls between quanta without changing the statistics; the last
 * counters read are the final ones; cancel stops the run early (the CLI exits 130 and
 * prints no statistics). And the barrier with more replicas than cores, or beside a busy
 * process: the run finishes with the same statistics. Runs against the build.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimPool } from '../../coordinator/execution/pool.js';
import { RunCancelled, runVmLive, type LiveSample } from '../../coordinator/execution/live.js';
import { formatKvmStat } from '../../coordinator/cli/live-view.js';
import { placeVcpus, runVmSplit } from '../../coordinator/execution/split.js';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { KVM_STAT, kvmCountersOfResult } from '../../shared/kvm-stat.js';
import { simulate } from '../../worker/vm.js';

const BIN = new URL('../../bin/vcpusim.js', import.meta.url).pathname;
const smp = (o: Partial<SimConfig> = {}): SimConfig => resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 30, vcpus: 4, sndbuf: 2048, ...o });

describe('a live run', () => {
  let pool: SimPool;
  beforeAll(() => {
    pool = new SimPool({ threads: 4 });
  });
  afterAll(async () => {
    await pool.destroy();
  });

  it('answers progress and counters between quanta: progress never goes back, the last counters are the final statistics, which are the same as without --live', async () => {
    const cfg = smp();
    const samples: LiveSample[] = [];
    const run = await runVmLive(pool, cfg, placeVcpus(cfg.vcpus, 2), (s) => samples.push(s), 10).done;
    expect(JSON.stringify(run.result)).toBe(JSON.stringify(simulate(cfg)));
    expect(samples.length).toBeGreaterThan(1);
    for (let i = 1; i < samples.length; i++) {
      for (let r = 0; r < 2; r++) {
        expect(samples[i]!.progress[r]!.quanta).toBeGreaterThanOrEqual(samples[i - 1]!.progress[r]!.quanta);
        expect(samples[i]!.progress[r]!.guestNs).toBeGreaterThanOrEqual(samples[i - 1]!.progress[r]!.guestNs);
      }
    }
    const last = samples.at(-1)!;
    expect(last.final).toBe(true);
    expect(samples.filter((s) => s.final)).toHaveLength(1);
    expect(last.progress.map((p) => p.quanta)).toEqual([run.quanta, run.quanta]);
    expect(last.counters).toEqual(kvmCountersOfResult(run.result));
    expect(last.counters.exits).toBe(run.result.exits.total);
    expect(last.counters.pf_fixed).toBe(run.result.mmu.shadowFaults);
    // The view shows every counter with its final total.
    const view = formatKvmStat(last, samples.at(-2));
    for (const e of KVM_STAT) expect(view).toMatch(new RegExp(`^ ${e.name} +${last.counters[e.name]!.toLocaleString('en-US')} `, 'm'));
  });

  it('runs a VM of one vCPU in slices with the same statistics', async () => {
    const cfg = resolveConfig({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 20000 });
    const samples: LiveSample[] = [];
    const run = await runVmLive(pool, cfg, [[0]], (s) => samples.push(s), 10).done;
    expect(JSON.stringify(run.result)).toBe(JSON.stringify(simulate(cfg)));
    expect(samples.at(-1)!.counters).toEqual(kvmCountersOfResult(run.result));
  });

  it('cancel stops every replica early, at a quantum boundary', async () => {
    const cfg = smp({ loops: 200 });
    const full = await runVmSplit(pool, cfg, placeVcpus(cfg.vcpus, 2));
    let at = 0;
    const live = runVmLive(
      pool,
      cfg,
      placeVcpus(cfg.vcpus, 2),
      (s) => {
        if (at === 0 && !s.final && s.progress[0]!.quanta > 0) {
          at = s.progress[0]!.quanta;
          live.cancel();
        }
      },
      20,
    );
    await expect(live.done).rejects.toBeInstanceOf(RunCancelled);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(full.quanta);
    // The pool is usable afterwards.
    const again = await runVmSplit(pool, smp(), placeVcpus(4, 2));
    expect(JSON.stringify(again.result)).toBe(JSON.stringify(simulate(smp())));
  });

  it('`run --live`: a Ctrl-C cancels the run, exit 130, no statistics printed', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--mode', 'kvm-paravirt', '--workload', 'hackbench', '--groups', '2', '--loops', '2000', '--vcpus', '4', '--workers', '2', '--live', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!sent && /^live: .*quanta [1-9]/m.test(err)) sent = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    // With --json the error is the document on stdout: no statistics.
    const doc = JSON.parse(out) as { error: { code: string; message: string }; metric?: unknown };
    expect(doc.error.code).toBe('EINTR');
    expect(doc.error.message).toMatch(/cancelled at a quantum boundary/);
    expect(doc.metric).toBeUndefined();
  });
});

describe('the barrier under contention', () => {
  it('more replicas than cores: they finish with the same statistics', async () => {
    const threads = Math.min(8, 2 * availableParallelism());
    const cfg = smp({ vcpus: threads, loops: 10 });
    const pool = new SimPool({ threads });
    try {
      const r = await runVmSplit(pool, cfg, placeVcpus(cfg.vcpus, threads));
      expect(r.attempts).toBe(1);
      expect(JSON.stringify(r.result)).toBe(JSON.stringify(simulate(cfg)));
    } finally {
      await pool.destroy();
    }
  });

  it('two replicas beside a busy-loop process: they finish with the same statistics', async () => {
    const cfg = smp({ loops: 10 });
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    const pool = new SimPool({ threads: 2 });
    try {
      const r = await runVmSplit(pool, cfg, placeVcpus(cfg.vcpus, 2));
      expect(JSON.stringify(r.result)).toBe(JSON.stringify(simulate(cfg)));
    } finally {
      busy.kill();
      await pool.destroy();
    }
  });
});
