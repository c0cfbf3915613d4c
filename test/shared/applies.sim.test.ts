/**
 * The config table's `appliesTo` against the simulation: a field a config ignores changes
 * none of its statistics (only the config it echoes, and the cr3 cache size the result
 * reports as a setting); and what the scope says in messages and in normalisation.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_FIELDS,
  ConfigError,
  FIELD_SPECS,
  FieldIgnored,
  MODES,
  WORKLOADS,
  appliesWhere,
  checkGivenApply,
  fieldApplies,
  ignoredBecause,
  resolveConfig,
  withoutIgnored,
  type SimConfig,
} from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';

// A two-CPU trace: a ring of two processes on each CPU.
const traceFile = join(mkdtempSync(join(tmpdir(), 'vcpusim-applies-')), 'two.txt');
const sw = (cpu: number, t: number, prev: number, next: number) =>
  `  p-${prev} [00${cpu}] d..2 1.00000${t}: sched_switch: prev_comm=p prev_pid=${prev} prev_prio=120 prev_state=S ==> next_comm=p next_pid=${next} next_prio=120`;
writeFileSync(traceFile, [sw(0, 0, 0, 10), sw(1, 1, 0, 20), sw(0, 2, 10, 11), sw(1, 3, 20, 21), sw(0, 4, 11, 10), sw(1, 5, 21, 20)].join('\n') + '\n');

/** Small runs of each workload. */
const SMALL: Record<string, Partial<SimConfig>> = {
  ctxswitch: { workload: 'ctxswitch', tasks: 3, loops: 20 },
  pipe: { workload: 'pipe', loops: 20 },
  hackbench: { workload: 'hackbench', groups: 1, loops: 2 },
  idle: { workload: 'idle', loops: 2 },
  pgdreuse: { workload: 'pgdreuse', loops: 2 },
  iomix: { workload: 'iomix', loops: 5, io: 1 },
  trace: { workload: 'trace', trace: traceFile },
  syscall: { workload: 'syscall', loops: 20 },
  pagefault: { workload: 'pagefault', loops: 20 },
  fork: { workload: 'fork', loops: 3 },
};

/** A value other than the default, valid wherever the field is. */
const OTHER: Partial<Record<keyof SimConfig, unknown>> = {
  tasks: 5,
  groups: 2,
  thread: true,
  pipe: true,
  cacheSize: 1,
  mmuPages: 1024,
  quantum: 7,
  pinnedRootFix: 'hypercall',
  exitFlush: false,
  io: 3,
  sndbuf: 4096,
  trace: 'elsewhere.txt',
  traceSha256: 'a'.repeat(64),
  traceCpus: '1',
  timeScale: 3,
  kpti: true,
  pcid: true,
  vpid: true,
  prevRoots: 11,
  pwc: 0,
  size: 64,
  mitigations: false,
  lapicTimer: true,
};

/** The config, or null where the mode, the guest and the profile do not go together (config.ts checkHardware). */
function tryResolve(partial: Partial<SimConfig>): SimConfig | null {
  try {
    return resolveConfig(partial);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

/** The statistics without what only echoes the config. */
function figures(cfg: SimConfig): string {
  const r = simulate(cfg) as unknown as Record<string, unknown>;
  return JSON.stringify(r, (k, v: unknown) => (k === 'config' || k === 'size' ? undefined : v));
}

const scoped = CONFIG_FIELDS.filter((f) => FIELD_SPECS[f].appliesTo);

describe('appliesTo', () => {
  it('every field with a scope has a value to try here', () => {
    expect(scoped.filter((f) => !(f in OTHER))).toEqual([]);
  });

  for (const field of scoped) {
    it(`${field}: configs outside "${appliesWhere(field)}" run the same whatever its value`, () => {
      let tried = 0;
      for (const w of WORKLOADS) {
        for (const mode of MODES) {
          for (const extra of [{}, { pipe: true }] as Partial<SimConfig>[]) {
            if (extra.pipe && w !== 'hackbench') continue;
            const base = tryResolve({ ...SMALL[w], ...extra, mode });
            if (base === null || fieldApplies(field, base)) continue;
            // The scopes that hang on the workload only need one mode of each kind, and the reverse.
            if (FIELD_SPECS[field].appliesTo!.workloads && !['native', 'kvm-paravirt'].includes(mode)) continue;
            if (FIELD_SPECS[field].appliesTo!.modes && !['ctxswitch', 'hackbench', 'pgdreuse'].includes(w)) continue;
            const other = resolveConfig({ ...SMALL[w], ...extra, mode, [field]: OTHER[field] });
            expect(figures(other), `${field}=${String(OTHER[field])} ${w} ${mode}`).toBe(figures(base));
            tried++;
          }
        }
      }
      expect(tried).toBeGreaterThan(0);
    });
  }

  it('says why a config ignores a field and where it applies', () => {
    const hb = resolveConfig({ workload: 'hackbench', groups: 1 });
    expect(ignoredBecause('tasks', hb)).toBe('on hackbench (its tasks come from --groups)');
    expect(ignoredBecause('cacheSize', resolveConfig({ mode: 'kvm-trunk' }))).toBe('in kvm-trunk');
    expect(ignoredBecause('quantum', resolveConfig({}))).toBe('with one vCPU');
    expect(ignoredBecause('sndbuf', resolveConfig({ workload: 'hackbench', pipe: true }))).toBe('with --pipe');
    expect(ignoredBecause('sndbuf', hb)).toBeUndefined();
    expect(appliesWhere('sndbuf')).toBe('to hackbench with unix sockets');
    expect(appliesWhere('mmuPages')).toBe('in kvm-upstream, kvm-trunk, kvm-paravirt, kvm-shadow, kvm-shadow-pv');
    expect(appliesWhere('loops')).toBe('to every config');
  });

  it('checkGivenApply refuses a given field the config ignores, as a ConfigError with its parts', () => {
    const hb = resolveConfig({ workload: 'hackbench', groups: 1, tasks: 40 });
    let err: unknown;
    try {
      checkGivenApply(hb, ['mode', 'workload', 'groups', 'tasks']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FieldIgnored);
    expect(err).toMatchObject({ field: 'tasks', value: 40, allowed: 'it applies to ctxswitch' });
    expect((err as FieldIgnored).detail).toBe('40 has no effect on hackbench (its tasks come from --groups); it applies to ctxswitch');
    expect(() => checkGivenApply(hb, ['groups', 'loops', 'sndbuf'])).not.toThrow();
  });

  it('withoutIgnored sets every ignored field to its unset value, and keeps derived ones', () => {
    const cfg = resolveConfig({ mode: 'native', workload: 'pipe', thread: true, cacheSize: 16, sndbuf: 4096, exitFlush: false, quantum: 50, kpti: true, prevRoots: 7 });
    const { config, reset } = withoutIgnored(cfg);
    expect(config).toEqual(resolveConfig({ mode: 'native', workload: 'pipe' }));
    expect(reset.sort()).toEqual(['cacheSize', 'exitFlush', 'kpti', 'prevRoots', 'quantum', 'sndbuf', 'thread']);
    const hb = resolveConfig({ workload: 'hackbench', groups: 3, pipe: true, sndbuf: 4096 });
    expect(withoutIgnored(hb).config).toMatchObject({ tasks: 120, groups: 3, pipe: true, sndbuf: 110592 });
    expect(withoutIgnored(resolveConfig({})).reset).toEqual([]);
  });
});
