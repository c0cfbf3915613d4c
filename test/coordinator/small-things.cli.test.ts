import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandList, expandRangeItems, parseRange } from '../../shared/ranges.js';
import { expand } from '../../coordinator/experiments/expand.js';
import { validateExperiment } from '../../coordinator/experiments/load.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const cli = (args: string[], cwd?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd });
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

describe('ranges in value lists', () => {
  it('a..b, a..b:x2 and a..b:+k give the values up to the end, inclusive when hit', () => {
    expect(parseRange('1..64:x2')).toEqual({ values: [1, 2, 4, 8, 16, 32, 64] });
    expect(parseRange('1..100:x2')).toEqual({ values: [1, 2, 4, 8, 16, 32, 64] });
    expect(parseRange('1..5')).toEqual({ values: [1, 2, 3, 4, 5] });
    expect(parseRange('0..20:+8')).toEqual({ values: [0, 8, 16] });
    expect(parseRange('3..3:x2')).toEqual({ values: [3] });
    expect(expandList('1,4..6,100', Number)).toEqual([1, 4, 5, 6, 100]);
    expect(expandRangeItems([1, '2..8:x2', 'a'])).toEqual({ values: [1, 2, 4, 8, 'a'] });
  });

  it('refuses a reversed range, a factor below 2, a step of 0 and a geometric range from 0', () => {
    for (const bad of ['64..1', '1..64:x1', '1..64:+0', '0..64:x2', '1..', '1..64:y2', '1.5..3']) expect(parseRange(bad)).toHaveProperty('error');
    expect(parseRange('1..1000000')).toHaveProperty('error');
  });

  it('an experiment grid expands ranges in a list and as the whole list', () => {
    const exp = validateExperiment({ name: 'r', description: '', base: { mode: 'kvm-paravirt', loops: 10 }, grid: { cacheSize: '1..8:x2', tasks: [2, '10..30:+10'] } }, 'r.yaml');
    expect(exp.grid).toEqual({ cacheSize: [1, 2, 4, 8], tasks: [2, 10, 20, 30] });
    expect(expand(exp).configs).toHaveLength(16);
  });

  it('a bad range in an experiment file names the place in the file', () => {
    expect(() => validateExperiment({ name: 'r', description: '', grid: { cacheSize: [1, '8..1'] } }, 'r.yaml')).toThrow(/^r\.yaml: grid\.cacheSize\[1\]: "8\.\.1" starts at 8, past its end 1; expected an integer range/);
  });

  it('the CLI takes ranges in list options; a bad one is one line, exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcpusim-range-'));
    const r = cli(['sweep', '--mode', 'kvm-paravirt', '--cache-size', '1..64:x2', '--loops', '10', '--dry-run', '--json'], dir);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).plan.runs.map((x: { config: { cacheSize: number } }) => x.config.cacheSize)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    const bad = cli(['sweep', '--cache-size', '1..64:x1'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('error: --cache-size: "1..64:x1" has a factor 1, which does not grow; expected an integer range a..b, a..b:+step or a..b:xfactor (a <= b; step >= 1; factor >= 2 with a >= 1)\n');
    const param = cli(['sweep', '--param', 'hz=100..1000'], dir);
    expect(param.status).toBe(2);
    expect(param.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('--version', () => {
  it('prints the package version and the model version, exit 0', () => {
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`vcpusim ${pkg.version} (vcpusim-model-8)\n`);
    }
  });
});

describe('--dry-run', () => {
  it('sweep --dry-run prints the plan and runs nothing: the store is not made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcpusim-dry-'));
    const r = cli(['sweep', '--mode', 'kvm-paravirt', '--cache-size', '1,4', '--tasks', '2,3', '--loops', '10', '--dry-run'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('4 configs: 0 already stored, 4 to run');
    expect(r.stdout).toContain('run     tasks=3 cacheSize=4');
    expect(r.stdout).toContain('estimate: unknown');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('counts what is stored, leaves the store byte for byte as it was, and estimates from the stored host times', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcpusim-dry-'));
    expect(cli(['sweep', '--mode', 'kvm-paravirt', '--cache-size', '1,4', '--loops', '10'], dir).status).toBe(0);
    const store = join(dir, 'results', 'sweep');
    const before = readdirSync(store).sort().map((f) => [f, readFileSync(join(store, f), 'utf8')]);
    const r = cli(['sweep', '--mode', 'kvm-paravirt', '--cache-size', '1,4,16', '--loops', '10', '--dry-run', '--json'], dir);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout).plan;
    expect([plan.total, plan.stored, plan.toRun]).toEqual([3, 2, 1]);
    expect(plan.runs.map((x: { status: string }) => x.status)).toEqual(['stored', 'stored', 'run']);
    expect(plan.estimateSeconds).toBeCloseTo(plan.meanRunSeconds, 10);
    const after = readdirSync(store).sort().map((f) => [f, readFileSync(join(store, f), 'utf8')]);
    expect(after).toEqual(before);
  });

  it('reproduce --dry-run plans the published table without a store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcpusim-dry-'));
    const r = cli(['reproduce', '--dry-run', '--json'], dir);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout).plan;
    expect(plan.experiment).toBe('published-table');
    expect(plan.toRun).toBe(plan.total);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});
