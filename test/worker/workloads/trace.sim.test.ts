import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configKey } from '../../../coordinator/store/record.js';
import { resolveConfig, type SimConfig } from '../../../shared/config.js';
import { ConfigError } from '../../../shared/errors.js';
import { cr3Loads } from '../../../shared/trace/address-spaces.js';
import { loadTraceFile } from '../../../shared/trace/file.js';
import { simulate } from '../../../worker/vm.js';

const dir = mkdtempSync(join(tmpdir(), 'vcpusim-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sw = (cpu: number, t: number, prev: number, next: number) =>
  `  p-${prev} [00${cpu}] d..2 1.${String(t).padStart(6, '0')}: sched_switch: prev_comm=p prev_pid=${prev} prev_prio=120 prev_state=S ==> next_comm=p next_pid=${next} next_prio=120`;
// One CPU, three processes a b c a b c, 10 us each.
const RING = [100, 101, 102, 100, 101, 102].map((next, i, a) => sw(0, i * 10, a[(i + 5) % 6]!, next)).join('\n') + '\n';
const ring = join(dir, 'ring.txt');
writeFileSync(ring, RING);
const cfg = (c: Partial<SimConfig>) => resolveConfig({ workload: 'trace', trace: ring, ...c });

describe('trace replay', () => {
  it('replays the recorded order: a cr3 load per recorded switch, as trace analyze counts them; kvm-trunk exits on each and on the exits\' TLB flushes', () => {
    const r = simulate(cfg({ mode: 'kvm-trunk', mmuPages: 2048 }));
    // 6 switches, the first from the idle task to a.
    expect(r.guest.addressSpaceSwitches).toBe(6);
    // 6 switches' cr3 writes, and each of the 3 exits' tlb_finish_mmu flush: a cr3 read and a write (2 exits).
    expect(r.exits.byReason.CR_ACCESS!.count).toBe(6 + 3 * 2);
    // The recorded 60 us of user time, and the guest's own work around it.
    expect(r.metric.value).toBeGreaterThan(50e-6);
  });

  it('kvm-paravirt: lookups a b c a a b b c c (a task\'s exit reloads its cr3); 3 entries miss only the first three, 2 under round-robin hit only the reloads', () => {
    const three = simulate(cfg({ mode: 'kvm-paravirt', cacheSize: 3 })).cr3Cache;
    expect([three.lookups, three.hits, three.misses]).toEqual([9, 6, 3]);
    // Slots 0 1 0 1 0 1 take a b c a b c: each switch misses, each exit's reload of its own cr3 hits.
    const two = simulate(cfg({ mode: 'kvm-paravirt', cacheSize: 2 })).cr3Cache;
    expect([two.lookups, two.hits, two.misses]).toEqual([9, 3, 6]);
  });

  it('one vCPU per CPU of the trace, tasks pinned; --cpus chooses them', () => {
    const two = join(dir, 'two.txt');
    writeFileSync(two, [sw(0, 0, 0, 10), sw(1, 1, 0, 20), sw(0, 2, 10, 11), sw(1, 3, 20, 21), sw(0, 4, 11, 10), sw(1, 5, 21, 20)].join('\n') + '\n');
    const c = resolveConfig({ workload: 'trace', trace: two, mode: 'kvm-trunk' });
    expect(c.vcpus).toBe(2);
    const r = simulate(c);
    expect(r.guest.migrations).toBe(0);
    // Three switches on each CPU, the first from its idle task.
    expect(r.guest.addressSpaceSwitches).toBe(6);
    expect(resolveConfig({ workload: 'trace', trace: two, traceCpus: '1' }).vcpus).toBe(1);
    expect(simulate(resolveConfig({ workload: 'trace', trace: two, traceCpus: '1', mode: 'kvm-trunk' })).guest.addressSpaceSwitches).toBe(3);
    expect(() => resolveConfig({ workload: 'trace', trace: two, traceCpus: '2' })).toThrow(/traceCpus: "2" is not allowed; expected CPUs of the trace, 0 to 1/);
  });

  it('the trace file\'s sha256 is in the config: another file is another store key; a changed file is refused', () => {
    const a = cfg({});
    expect(a.traceSha256).toMatch(/^[0-9a-f]{64}$/);
    const other = join(dir, 'ring2.txt');
    writeFileSync(other, RING.replace('1.000050', '1.000090'));
    const b = resolveConfig({ workload: 'trace', trace: other });
    expect(configKey(b)).not.toBe(configKey(a));
    expect(() => resolveConfig({ workload: 'trace', trace: ring, traceSha256: b.traceSha256 })).toThrow(ConfigError);
    expect(() => resolveConfig({ workload: 'trace' })).toThrow(/trace: "" is not allowed; expected a path to a trace file/);
    expect(() => resolveConfig({ workload: 'trace', trace: join(dir, 'none.txt') })).toThrow(/does not exist/);
  });

  it('timeScale scales the recorded run time', () => {
    const one = simulate(cfg({ mode: 'native' })).metric.value;
    const ten = simulate(cfg({ mode: 'native', timeScale: 10 })).metric.value;
    // 60 us of recorded runs (the last run has no end: 50 us are timed) x 9 more.
    expect(ten - one).toBeCloseTo(9 * 50e-6, 6);
  });

  it('a long recorded run is interrupted at its rate: ticks = duration x HZ, within one', () => {
    // Two processes alternating every 50 ms for a second on one CPU.
    const lines: string[] = [];
    for (let i = 0; i < 21; i++) lines.push(`  p-${100 + ((i + 1) % 2)} [000] d..2 ${(1 + i * 0.05).toFixed(6)}: sched_switch: prev_comm=p prev_pid=${100 + ((i + 1) % 2)} prev_prio=120 prev_state=S ==> next_comm=p next_pid=${100 + (i % 2)} next_prio=120`);
    const long = join(dir, 'long.txt');
    writeFileSync(long, lines.join('\n') + '\n');
    for (const mode of ['native', 'kvm-trunk'] as const) {
      const r = simulate(resolveConfig({ workload: 'trace', trace: long, mode, hz: 1000 }));
      const due = (r.guestTimeNs / 1e9) * 1000;
      // The ticks due in the run (the first one a tick after the start), within one: under KVM the last may still be on its way from QEMU's alarm.
      expect(Math.abs(r.guest.timerTicks - Math.floor(due)), mode).toBeLessThanOrEqual(1);
      expect(r.metric.value).toBeGreaterThan(0.99);
    }
  });

  it('a real perf sched recording (perf 6.1, two CPUs): each vCPU loads cr3 as often as trace analyze counts on its CPU', () => {
    const file = fileURLToPath(new URL('../../fixtures/perf-sched-script.txt.gz', import.meta.url));
    const analysed = cr3Loads(loadTraceFile(file).trace);
    expect(analysed.perCpu.map((c) => c.loads.length)).toEqual([303, 391]);
    const r = simulate(resolveConfig({ workload: 'trace', trace: file, mode: 'kvm-paravirt' }));
    expect(r.perVcpu.map((v) => v.guest.addressSpaceSwitches)).toEqual([303, 391]);
  });
});
