import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('vcpusim run (built CLI)', () => {
  it('--json prints one JSON document with the statistics', () => {
    const r = cli('run', '--mode', 'kvm-paravirt', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '50', '--hz', '100', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.schemaVersion).toBe(2);
    expect(out.config).toMatchObject({ mode: 'kvm-paravirt', workload: 'ctxswitch', tasks: 2, loops: 50, cacheSize: 4, mmuPages: 256 });
    expect(out.metric.unit).toBe('us/switch');
    // Measured after lat_ctx's warm-up: every switch's cr3 is in the cache, none exits.
    expect(out.cr3Cache).toMatchObject({ size: 4, misses: 0, fills: 0, evictions: 0 });
    expect(out.cr3Cache.hits).toBe(out.guest.contextSwitches);
    expect(out.cr3Cache.lookups).toBe(out.cr3Cache.hits);
    expect(Object.keys(out)).toEqual(
      expect.arrayContaining(['guestTimeNs', 'exits', 'mmu', 'tlb', 'pic', 'guest', 'perVcpu']),
    );
    expect(out.exits.byReason.CR_ACCESS).toBeUndefined();
  });

  const bad: [string[], RegExp][] = [
    [['--mode', 'kvm-foo'], /--mode.*kvm-foo.*native, qemu, kvm-upstream, kvm-trunk, kvm-paravirt/],
    [['--cache-size', '0'], /--cache-size: 0 is not allowed; expected an integer from 1 to 1024/],
    [['--cache-size', '-3'], /--cache-size: -3 is not allowed/],
    [['--tasks', '2.5'], /--tasks.*"2\.5" is not allowed; expected an integer/],
    [['--hz', '99'], /--hz: 99 is not allowed; expected one of 100, 250, 300, 1000/],
    [['--workload', 'dbench'], /--workload.*dbench.*ctxswitch, pipe, hackbench/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(' ')} with one line and exit code 2`, () => {
      const r = cli('run', ...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }
});

describe('vcpusim run: sizes the workload does not fit in', () => {
  it('too little guest memory names --memory, exit 2', () => {
    const r = cli('run', '--workload', 'hackbench', '--groups', '100', '--memory', '16');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: --memory: guest memory of 16 MiB is too small: the workload's tasks did not fit \(.*\); try --memory 128 \(at most 4096\)$/m);
    // Not given: the message says it is the default.
    const d = cli('run', '--workload', 'hackbench', '--groups', '400', '--loops', '1');
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/^error: --memory: guest memory of 256 MiB \(the default\) is too small: .*; try --memory 512 \(at most 4096\)$/m);
  });

  it('a shadow pool that the cr3 cache pins whole names --mmu-pages, exit 2', () => {
    const r = cli('run', '--mode', 'kvm-paravirt', '--tasks', '40', '--cache-size', '64', '--mmu-pages', '16', '--loops', '10');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: --mmu-pages: 16 is not allowed; expected a shadow page pool larger than/);
  });
});

describe('exit report options', () => {
  it('bad values are one line and exit 2', () => {
    for (const args of [
      ['--exits', '--event', 'mmio'],
      ['--exits', '--key', 'count'],
      ['--exits', '--vcpu', '1'],
      ['--exits', '--vcpu', 'x'],
      ['--event', 'ioport'],
    ]) {
      const p = cli('run', '--mode', 'kvm-trunk', '--workload', 'ctxswitch', '--loops', '10', ...args);
      expect(p.status, args.join(' ')).toBe(2);
      expect(p.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(p.stderr).toMatch(/--(event|key|vcpu)/);
    }
  });
});
