/**
 * The exit detail of small runs: figures derived by hand from the guest's port accesses
 * and the named costs, the HLT span against the halted time, the per-vCPU tables summing
 * to the VM's, the report views and CSV heads, and a record without the detail refused
 * (the options' mistakes are in commands.cli.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { counterTable, csvHead, csvRows, exitTable, formatExitView } from '../../coordinator/reports/exits.js';
import { configKey, recordProblem } from '../../coordinator/store/record.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { costValues, PROFILES } from '../../shared/costs.js';
import { simulate, simulateSplit } from '../../worker/vm.js';


const run = (o: Partial<SimConfig>) => {
  const cfg = resolveConfig(o);
  return { cfg, r: simulate(cfg), c: costValues(PROFILES[cfg.profile]!) };
};

describe('the exit detail of an idle guest reading the PIT clocksource (kvm-trunk)', () => {
  const { r, c } = run({ mode: 'kvm-trunk', workload: 'idle', loops: 20, clocksource: 'pit' });
  const d = r.exitDetail;
  const ns = (cycles: number) => (cycles / c.clockHz) * 1e9;
  const ioExit = ns(c.vmexitRoundTrip + c.kvmExitPath + c.ioInstructionHandler + c.userspaceExit);
  const ticks = r.guest.timerTicks;

  it('has one 0x80:POUT per slow_down_io: three a tick (pit_read: outb_p, inb_p, inb_p), each one IO exit', () => {
    const port = (p: number, dir: string) => d.ioport.find((e) => e.port === p && e.dir === dir);
    expect(ticks).toBeGreaterThan(0);
    expect(port(0x80, 'POUT')!.count).toBe(3 * ticks);
    expect(port(0x80, 'POUT')!.count).toBe(r.guest.ioDelayWrites);
    expect(port(0x43, 'POUT')!.count).toBe(ticks); // the latch command
    expect(port(0x40, 'PIN')!.count).toBe(2 * ticks); // the count's two bytes
    const p80 = port(0x80, 'POUT')!;
    expect(p80.minNs).toBe(ioExit);
    expect(p80.maxNs).toBe(ioExit);
    expect(p80.meanNs).toBeCloseTo(ioExit, 9);
    expect(p80.stddevNs).toBe(0);
  });

  it('splits IO_INSTRUCTION exactly over the ports', () => {
    const io = d.vmexit.IO_INSTRUCTION!;
    expect(d.ioport.reduce((s, p) => s + p.count, 0)).toBe(io.count);
    expect(io.count).toBe(r.exits.byReason.IO_INSTRUCTION!.count);
    expect(d.ioport.reduce((s, p) => s + p.totalNs, 0)).toBeCloseTo(io.totalNs, 6);
  });

  it('times HLT from exit to entry, the halted interval included, with the handler beside it', () => {
    const hlt = d.hltToEntry!;
    const handler = d.vmexit.HLT!;
    expect(hlt.count).toBe(r.exits.byReason.HLT!.count);
    expect(handler.minNs).toBe(ns(c.vmexitRoundTrip + c.kvmExitPath + c.hltHandler + c.userspaceExit));
    expect(handler.stddevNs).toBe(0);
    // Each span holds its exit's cost, the halted time and the wake-up: more than the two together.
    expect(hlt.totalNs).toBeGreaterThan(r.perVcpu[0]!.haltedNs + handler.totalNs);
    expect(hlt.totalNs).toBeLessThan(r.guestTimeNs);
    const t = exitTable(r, { event: 'vmexit', vcpu: null, key: 'time' });
    expect(t.rows[0]!.name).toBe('HLT'); // the longest mean
    expect(t.rows[0]!.handler!.meanNs).toBe(handler.meanNs);
    expect(formatExitView(r, { event: 'vmexit', vcpu: null, key: 'sample' })).toMatch(/^\s+HLT\s+\d+ .*\( \+-\s+\d+\.\d\d% \)$/m);
  });

  it('counts kvm_stat counters under their debugfs names, with rates per second of guest time', () => {
    const t = counterTable(r, null);
    const get = (n: string) => t.counters.find((x) => x.name === n)!;
    expect(get('exits').total).toBe(r.exits.total);
    expect(get('io_exits').total).toBe(r.exits.byReason.IO_INSTRUCTION!.count);
    expect(get('halt_exits').total).toBe(r.exits.byReason.HLT!.count);
    expect(get('pf_fixed').total).toBe(r.mmu.shadowFaults);
    expect(get('mmu_shadow_zapped').total).toBe(r.mmu.pagesZapped);
    expect(get('exits').perSecond).toBeCloseTo(r.exits.total / (r.guestTimeNs / 1e9), 9);
  });
});

describe('the exit detail of a VM of several vCPUs', () => {
  const cfg = resolveConfig({ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2 });
  const whole = simulate(cfg);

  it('is the same whatever replicas ran the vCPUs', () => {
    const split = simulateSplit(cfg, [[1], [0]]);
    expect(JSON.stringify(split.exitDetail)).toBe(JSON.stringify(whole.exitDetail));
  });

  it('has per-vCPU tables whose counts and totals add up to the VM table', () => {
    const d = whole.exitDetail;
    for (const [name, t] of Object.entries(d.vmexit)) {
      const parts = d.perVcpu.map((v) => v.vmexit[name as keyof typeof d.vmexit]);
      expect(parts.reduce((s, p) => s + (p?.count ?? 0), 0)).toBe(t.count);
      expect(Math.min(...parts.filter((p) => p).map((p) => p!.minNs))).toBe(t.minNs);
      expect(Math.max(...parts.filter((p) => p).map((p) => p!.maxNs))).toBe(t.maxNs);
    }
    expect(formatExitView(whole, { event: 'vmexit', vcpu: 1, key: 'sample' })).toContain('Analyze events for all VMs, VCPU 1:');
  });
});

describe('exit report formats', () => {
  const { r } = run({ mode: 'kvm-trunk', workload: 'ctxswitch', loops: 50 });

  it('CSV heads and one row per exit reason, port or counter', () => {
    expect(csvHead({ event: 'vmexit', vcpu: null, key: 'sample' })).toBe(
      'run,vcpu,event,name,samples,samples_pct,time_pct,min_ns,max_ns,mean_ns,stddev_ns,rel_stderr_pct,total_ns,handler_min_ns,handler_max_ns,handler_mean_ns',
    );
    expect(csvHead({ event: 'kvm_stat', vcpu: null, key: 'sample' })).toBe('run,vcpu,counter,total,per_second');
    const rows = csvRows(r, { event: 'vmexit', vcpu: null, key: 'sample' }, 'k');
    expect(rows).toHaveLength(Object.keys(r.exitDetail.vmexit).length);
    expect(rows[0]!.split(',')).toHaveLength(16);
    expect(csvRows(r, { event: 'ioport', vcpu: 0, key: 'sample' }, 'k')).toHaveLength(r.exitDetail.ioport.length);
  });

  it('a record without the detail is no record: the store names what it lacks', () => {
    const { exitDetail: _gone, ...old } = r;
    const key = configKey(r.config);
    expect(recordProblem({ key, modelVersion: MODEL_VERSION, config: r.config, result: r }, r.config, key)).toBeUndefined();
    expect(recordProblem({ key, modelVersion: MODEL_VERSION, config: r.config, result: old }, r.config, key)).toMatch(/^is not a complete record \(result\.exitDetail: /);
  });
});
