import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const replay = (...args: string[]) => spawnSync(process.execPath, ['dist/bench/tlb-replay.js', ...args], { cwd: root, encoding: 'utf8' });
const num = (s: string): number => Number(s.replace(/,/g, ''));

describe('bench/tlb-replay: a run\'s TLB operations, replayed alone', () => {
  it.each([
    [{ mode: 'native', workload: 'ctxswitch', tasks: 2, loops: 200 }, "a vCPU's TLB"],
    [{ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 200 }, "a vCPU's TLB and the boot vCPU's"],
    [{ mode: 'native', workload: 'hackbench', groups: 1, loops: 5, vcpus: 2 }, "2 vCPUs' TLBs"],
  ] as const)('%j: every lookup replays as in the run; the whole run holds at least the measured part\'s fills and flushes', (cfg, tlbs) => {
    const p = replay(JSON.stringify(cfg), '1');
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    const lines = p.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const m = /^([0-9,]+) lookups, ([0-9,]+) fills, ([0-9,]+) flushes, ([0-9,]+) invlpg on (.+) from the VM's build on; replayed on fresh TLBs, every lookup as in the run$/.exec(lines[0]!);
    expect(m, lines[0]).not.toBeNull();
    const [lookups, fills, flushes] = m!.slice(1, 4).map(num) as [number, number, number];
    expect(m![5]).toBe(tlbs);
    // The measured part is a tail of the recorded run: its misses were filled (no second
    // level in these modes), and every flush it counts was recorded.
    const r = simulate(resolveConfig(cfg));
    expect(fills).toBeGreaterThanOrEqual(r.tlb.misses);
    expect(flushes).toBeGreaterThanOrEqual(r.tlb.flushesNonGlobal + r.tlb.flushesFull);
    expect(lookups).toBeGreaterThan(fills);
    expect(lines[1]).toMatch(/^run \(build and run\) [0-9.]+ ms, [0-9,]+ events; the TLB's operations replayed alone [0-9.]+ ms \(\d+% of the run, [0-9.]+ ns an operation\); medians of 1$/);
    // Without the guest's memory accesses the guest's timing changes, and with it what the
    // measured part holds; the run's own counts are printed beside.
    const bare = /^without the guest's memory accesses \(touch a no-op\) [0-9.]+ ms: ([0-9,]+) system calls and ([0-9,]+) context switches measured, against ([0-9,]+) and ([0-9,]+) in the run$/.exec(lines[2]!);
    expect(bare, lines[2]).not.toBeNull();
    expect(num(bare![1]!)).toBeGreaterThan(0);
    expect(num(bare![2]!)).toBeGreaterThan(0);
    expect(num(bare![3]!)).toBe(r.guest.syscalls);
    expect(num(bare![4]!)).toBe(r.guest.contextSwitches);
    expect(lines[3]).toMatch(/^floor loop [0-9.]+ M events\/s: 0\.15 of it is \d+ ns an event, [0-9.]+ ms for this run's events$/);
  });

  it.each([
    [['{x'], /^tlb-replay: config: not JSON: \{x$/],
    [['{"mode":"nope"}'], /^tlb-replay: config refused: mode: "nope" is not allowed/],
    [['{}', '0'], /^tlb-replay: rounds: 0 is not a whole number from 1 to 1000$/],
    [['{"memoryMiB":16,"workload":"hackbench","groups":250}'], /^tlb-replay: the run of this config failed: memoryMiB: guest memory of 16 MiB is too small/],
    [[], /^tlb-replay: usage: /],
  ])('refuses %j with one line and exit 2', (args, line) => {
    const p = replay(...args);
    expect(p.status).toBe(2);
    expect(p.stdout).toBe('');
    expect(p.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(p.stderr.trimEnd()).toMatch(line);
  });
});
