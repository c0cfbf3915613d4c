import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, MODES_2007 } from '../../shared/config.js';
import { ExperimentError, MAX_POINTS, isValidName } from '../../coordinator/experiments/schema.js';
import { countPoints, expand, expandExperiment } from '../../coordinator/experiments/expand.js';
import { listExperimentFile, listExperimentFiles, loadExperiment, loadExperimentFile } from '../../coordinator/experiments/load.js';

const dir = mkdtempSync(join(tmpdir(), 'vcpusim-exp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The one-line message loading a file gives (or '' if it loads). */
function errorOf(path: string): string {
  try {
    loadExperimentFile(path);
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(ExperimentError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
}

describe('shipped experiments', () => {
  it('all validate and expand to their grids', () => {
    const names = listExperimentFiles().map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['published-table', 'cr3-cache-sweep', 'shadow-pool-sweep', 'smp-scale']));
    const count = (n: string) => expandExperiment(loadExperiment(n)).length;
    expect(count('published-table')).toBe(10 * 3);
    expect(count('cr3-cache-sweep')).toBe(7 * 8);
    expect(count('shadow-pool-sweep')).toBe(2 * 2 * 5 * 3);
    expect(count('smp-scale')).toBe(3 * 3);
  });

  it('published-table: both rows, five modes, the published figures', () => {
    const exp = loadExperiment('published-table');
    const cfgs = expandExperiment(exp);
    expect(new Set(cfgs.map((c) => c.mode))).toEqual(new Set(MODES_2007));
    expect(cfgs.filter((c) => c.workload === 'ctxswitch').every((c) => c.tasks === 2)).toBe(true);
    expect(cfgs.filter((c) => c.workload === 'hackbench').every((c) => c.groups === 1 && c.tasks === 40)).toBe(true);
    expect(exp.published!.rows.map((r) => r.values)).toEqual([
      { native: 1.11, qemu: 61.18, 'kvm-upstream': 53.01, 'kvm-trunk': 6.36, 'kvm-paravirt': 1.6 },
      { native: 0.25, qemu: 7.8, 'kvm-upstream': 2.8, 'kvm-trunk': 0.55, 'kvm-paravirt': 0.36 },
    ]);
  });

  it('cr3-cache-sweep keeps tasks x loops bounded', () => {
    for (const c of expandExperiment(loadExperiment('cr3-cache-sweep'))) {
      expect(c.loops).toBe(Math.max(20, Math.floor(20000 / c.tasks)));
    }
  });
});

describe('experiment file errors: one line naming the file, the field and what is allowed', () => {
  const head = 'name: x\ndescription: d\nbase: { mode: kvm-paravirt, workload: ctxswitch }\n';
  const cases: [string, string, RegExp][] = [
    ['runs-range.yaml', head + 'runs:\n  - { tasks: 2 }\n  - { tasks: 4 }\n  - { cacheSize: 0 }\n', /runs-range\.yaml: runs\[2\]\.cacheSize: 0 is not allowed; expected an integer from 1 to 1024$/],
    ['grid-range.yaml', head + 'grid:\n  cacheSize: [1, 2, 2000]\n', /grid-range\.yaml: grid\.cacheSize\[2\]: 2000 is not allowed; expected an integer from 1 to 1024$/],
    ['unknown-param.yaml', head + 'runs:\n  - { tasks: 2, cachesize: 4 }\n', /unknown-param\.yaml: runs\[0\]\.cachesize: unknown parameter; expected one of mode, workload, tasks/],
    ['unknown-axis.yaml', head + 'grid:\n  cache: [1, 2]\n', /unknown-axis\.yaml: grid\.cache: unknown parameter; expected one of mode, workload/],
    ['unknown-top.yaml', head + 'runs: [{}]\nrepeat: 3\n', /unknown-top\.yaml: repeat: unknown parameter; expected one of name, description, base, runs, grid, seeds, published, plots$/],
    ['bad-mode.yaml', 'name: x\ndescription: d\nbase: { mode: kvm-foo }\nruns: [{}]\n', /bad-mode\.yaml: base\.mode: "kvm-foo" is not allowed; expected one of native, qemu, kvm-upstream, kvm-trunk, kvm-paravirt, kvm-ept, kvm-shadow, kvm-shadow-pv$/],
    ['bad-hz.json', JSON.stringify({ name: 'x', description: 'd', runs: [{ hz: 99 }] }), /bad-hz\.json: runs\[0\]\.hz: 99 is not allowed; expected one of 100, 250, 300, 1000$/],
    ['neither.yaml', head, /neither\.yaml: runs: missing; give either runs .* or grid/],
    ['both.yaml', head + 'runs: [{}]\ngrid: { tasks: [2] }\n', /both\.yaml: grid: not allowed together with runs/],
    ['no-name.yaml', 'description: d\nruns: [{}]\n', /no-name\.yaml: name: missing; expected string$/],
    ['malformed.yaml', 'name: x\ndescription: [unclosed\n', /malformed\.yaml: not valid YAML: /],
    ['malformed.json', '{"name": "x",', /malformed\.json: not valid JSON: /],
    ['bad-plot.yaml', head + 'runs: [{}]\nplots: [{ x: cacheSize, y: speed }]\n', /bad-plot\.yaml: plots\[0\]\.y: "speed" is not allowed; expected one of metric, hitRate, exitsPerSwitch/],
    ['bad-published.yaml', head + 'runs: [{}]\npublished: { source: s, rows: [{ label: l, match: { tasks: 2 }, unit: s, values: { kvm: 1 } }] }\n', /bad-published\.yaml: published\.rows\[0\]\.values\.kvm: unknown parameter; expected one of native, qemu, kvm-upstream, kvm-trunk, kvm-paravirt, kvm-ept, kvm-shadow, kvm-shadow-pv$/],
  ];
  for (const [file, text, message] of cases) {
    it(file, () => {
      expect(errorOf(write(file, text))).toMatch(message);
    });
  }

  it('a valid grid of objects expands as a cartesian product', () => {
    const p = write('ok.yaml', head + 'grid:\n  cacheSize: [1, 4]\n  tasks:\n    - { tasks: 2, loops: 100 }\n    - { tasks: 8, loops: 25 }\n');
    expect(errorOf(p)).toBe('');
    const cfgs = expandExperiment(loadExperimentFile(p));
    expect(cfgs.map((c) => [c.cacheSize, c.tasks, c.loops])).toEqual([
      [1, 2, 100],
      [1, 8, 25],
      [4, 2, 100],
      [4, 8, 25],
    ]);
  });

  it('a config that does not resolve keeps its ConfigError as the cause: the config field and the value as data', () => {
    let err: unknown;
    try {
      expandExperiment({ name: 'x', description: 'd', base: { workload: 'idle' }, grid: { vcpus: [1, 2] } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExperimentError);
    const e = err as ExperimentError;
    expect(e.field).toBe('grid.vcpus[1]');
    expect(e.detail).toBe('2 is not allowed; expected 1 for idle (it runs on one vCPU); more vCPUs run ctxswitch, pipe, hackbench, trace');
    expect(e.message).toBe(`x: grid.vcpus[1]: ${e.detail}`);
    expect(e.cause).toBeInstanceOf(ConfigError);
    expect(e.cause).toMatchObject({ field: 'vcpus', value: 2, detail: e.detail });
    expect((e.cause as ConfigError).message).toBe(`vcpus: ${e.detail}`);
  });

  it('an unknown experiment name lists the known ones', () => {
    expect(() => loadExperiment('nope')).toThrow(/nope: no such experiment; expected one of .*published-table/);
  });
});

describe('points a field does not apply to', () => {
  it('global-tlb: native varies extraFlush and keeps the exit flush, so its 14 points are 14 runs (each over seeds 1-3)', () => {
    const e = expand({ ...loadExperiment('global-tlb'), seeds: undefined });
    expect(e).toMatchObject({ points: 14, merged: 0 });
    expect(expand(loadExperiment('global-tlb')).configs).toHaveLength(14 * 3);
    expect(e.configs.filter((c) => c.mode === 'native').map((c) => [c.extraFlush, c.exitFlush])).toEqual([
      ['none', true], ['global', true], ['both', true], ['none', true], ['global', true], ['both', true],
    ]);
  });

  it('published-table: both trunk rows at 2048 shadow pages, kvm-upstream at the 256 of the time, sndbuf at 2.6.20\'s default', () => {
    const cfgs = expandExperiment(loadExperiment('published-table')).filter((c) => c.seed === 1);
    expect(cfgs.filter((c) => c.workload === 'hackbench').map((c) => [c.mode, c.mmuPages])).toEqual([
      ['native', 256], ['qemu', 256], ['kvm-upstream', 256], ['kvm-trunk', 2048], ['kvm-paravirt', 2048],
    ]);
    expect(cfgs.filter((c) => c.workload === 'hackbench').every((c) => c.sndbuf === 110592)).toBe(true);
  });

  it('a field that applies to some points is reset at the others; one that applies to none is an error naming where it was set', () => {
    const some = expand({ name: 'x', description: 'd', base: { cacheSize: 16 }, grid: { mode: ['kvm-trunk', 'kvm-paravirt'], seed: [1, 1] } });
    expect(some).toMatchObject({ points: 4, merged: 2 });
    expect(some.configs.map((c) => [c.mode, c.cacheSize])).toEqual([
      ['kvm-trunk', 4],
      ['kvm-paravirt', 16],
    ]);
    expect(() => expand({ name: 'x', description: 'd', base: { mode: 'native' }, grid: { cacheSize: [1, 2] } })).toThrow(
      'x: grid.cacheSize[0]: 1 has no effect in native; it applies in kvm-paravirt',
    );
  });

  it('points are counted before anything is expanded', () => {
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    const huge = { name: 'x', description: 'd', base: {}, grid: { seed: ten, loops: ten, tasks: ten, cacheSize: ten, groups: ten, hz: [100, 250, 300, 1000] } };
    expect(countPoints(huge)).toBe(400_000);
    expect(() => expand(huge)).toThrow(`x: grid: 400000 points (the product of its lists' lengths) are too many; expected at most ${MAX_POINTS}`);
  });

  it('names: not . or .., not hidden, not an option (-rf), no separators, at most 64 characters', () => {
    for (const ok of ['published-table', 'a.b', 'x_1', '_', 'a-', 'n'.repeat(64)]) expect(isValidName(ok), ok).toBe(true);
    for (const bad of ['', '.', '..', '.x', 'a/b', '../x', 'a\\b', 'n'.repeat(65), 'a b', 'é', '-', '-rf', '--help']) expect(isValidName(bad), bad).toBe(false);
  });
});

describe('list: the runs of an experiment, its trace file unread', () => {
  const text = (trace: string, cpus = '') =>
    `name: t\ndescription: d\nbase: { workload: trace, trace: ${trace}${cpus ? `, traceCpus: "${cpus}"` : ''} }\ngrid:\n  mode: [kvm-trunk, kvm-paravirt]\n  cacheSize: [1, 4, 16]\n`;

  it('counts the runs without the file (kvm-trunk ignores the cache size: 1 + 3); loading it reads the file and names it', () => {
    const p = write('no-trace.yaml', text('missing.txt'));
    const { exp, runs } = listExperimentFile(p);
    expect(runs).toBe(4);
    expect(exp.description).toBe('d');
    expect(errorOf(p)).toBe(`${p}: base.trace: ${JSON.stringify(join(dir, 'missing.txt'))} is not allowed; expected a readable trace file (does not exist)`);
  });

  it('counts the shipped trace sweep as expand does with the file read', () => {
    const file = listExperimentFiles().find((e) => e.name === 'trace-cache-sweep')!.file;
    expect(listExperimentFile(file).runs).toBe(expand(loadExperimentFile(file)).configs.length);
    expect(listExperimentFile(file).runs).toBe(1 + 7);
  });

  it('still refuses what needs no file: a trace workload without a trace', () => {
    const p = write('empty-trace.yaml', text('""'));
    expect(() => listExperimentFile(p)).toThrow(/base\.trace: "" is not allowed; expected a path to a trace file/);
  });
});
