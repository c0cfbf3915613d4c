/**
 * The built CLI (`npm test` builds first): reproduce, sweep interrupted and resumed,
 * reports, and the one-line errors with exit code 2 that leave the store alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_HOOKS } from '../support/faults.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'vcpusim-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) =>
  spawnSync(process.execPath, [...nodeArgs, BIN, ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, ...env } });

/** The CLI with its worker threads injecting the faults `fault` names (see test/support/fault-entry.js). */
const cliWithFaults = (args: string[], fault: string) => cli(args, { VCPUSIM_FAULT: fault }, ['--import', FAULT_HOOKS.href]);

const records = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f]{20}\.json$/.test(f)).sort() : []);
const snapshot = (dir: string) => records(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
const MODES = ['native', 'qemu', 'kvm-upstream', 'kvm-trunk', 'kvm-paravirt'];

describe('vcpusim reproduce (the published table)', () => {
  const results = join(work, 'results');

  it('runs both rows in all five modes over seeds 1-3 and prints the mean and its interval beside published', () => {
    const r = cli(['reproduce', '--results', results, '--workers', '2']);
    expect(r.stderr).toMatch(/published-table: 30 configs, 30 run, 0 already stored, 0 failed/);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.includes('native'))!;
    expect(header.trim().split(/\s+/)).toEqual(MODES);
    // The printed figures are the stored ones.
    const stored = records(join(results, 'published-table')).map((f) => JSON.parse(readFileSync(join(results, 'published-table', f), 'utf8')));
    expect(stored).toHaveLength(30);
    const rowStart = [lines.findIndex((l) => l.startsWith('2-task context switch')), lines.findIndex((l) => l.startsWith('hackbench 1'))];
    expect(rowStart.every((i) => i >= 0)).toBe(true);
    ['ctxswitch', 'hackbench'].forEach((workload, row) => {
      const cells = (label: string) => lines.slice(rowStart[row], rowStart[row]! + 5).find((l) => l.trim().startsWith(label))!.trim().split(/\s+/).slice(label.split(' ').length);
      const simulated = cells('simulated (mean)').map(Number);
      expect(cells('95% interval, n').filter((c) => c === 'n=3')).toHaveLength(5);
      const published = cells('published').map(Number);
      expect(published).toEqual(row === 0 ? [1.11, 61.18, 53.01, 6.36, 1.6] : [0.25, 7.8, 2.8, 0.55, 0.36]);
      MODES.forEach((mode, i) => {
        const recs = stored.filter((s) => s.config.mode === mode && s.config.workload === workload);
        expect(recs.map((x) => x.config.seed).sort()).toEqual([1, 2, 3]);
        const mean = recs.reduce((a, x) => a + x.result.metric.value, 0) / 3;
        expect(mean).toBeGreaterThan(0);
        expect(simulated[i]).toBeCloseTo(mean, 1);
        const err = Number(cells('error')[i]!.replace('%', ''));
        expect(err).toBeCloseTo(((mean - published[i]!) / published[i]!) * 100, 0);
      });
    });
  });

  it('a second reproduce runs nothing; --json gives one document; report renders the stored table', () => {
    const r = cli(['reproduce', '--results', results, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 2, experiment: 'published-table', total: 30, ran: 0, skipped: 30, failed: [] });
    expect(doc.report.rows.map((row: { cells: unknown[] }) => row.cells.length)).toEqual([5, 5]);
    const md = cli(['report', '--results', results, '--format', 'md']);
    expect(md.status).toBe(0);
    expect(md.stdout).toMatch(/^\| workload \| unit \| native \| qemu \| kvm-upstream \| kvm-trunk \| kvm-paravirt \|/);
    const exits = cli(['report', '--results', results, '--exits', '--where', 'mode=kvm-trunk', '--where', 'workload=ctxswitch']);
    expect(exits.status).toBe(0);
    expect(exits.stdout).toMatch(/VM-EXIT\s+Samples\s+Samples%\s+Time%\s+Min Time\s+Max Time\s+Avg time/);
    expect(exits.stdout).toMatch(/CR_ACCESS\s+\d+\s+[\d.]+%/);
    const csv = cli(['report', '--results', results, '--exits', '--event', 'ioport', '--format', 'csv', '--where', 'mode=kvm-trunk', '--where', 'workload=ctxswitch']);
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('run,vcpu,event,name,samples,samples_pct,time_pct,min_ns,max_ns,mean_ns,stddev_ns,rel_stderr_pct,total_ns,handler_min_ns,handler_max_ns,handler_mean_ns');
    expect(csv.stdout).toMatch(/^[0-9a-f]{20},all,ioport,0x21:POUT,\d+,/m);
  });
});

describe('vcpusim sweep', () => {
  it('killed part-way, then started again, runs only the missing points', async () => {
    const results = join(work, 'kill');
    const dir = join(results, 'killme');
    const args = ['sweep', '--name', 'killme', '--results', results, '--workers', '1', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '2000', '--seed', '1,2,3,4,5,6,7,8,9,10,11,12'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    while (records(dir).length < 2 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    const done = records(dir);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(12);
    // No temp files are left as records; every record present is complete JSON.
    for (const f of done) expect(JSON.parse(readFileSync(join(dir, f), 'utf8')).result.metric.value).toBeGreaterThan(0);
    const kept = snapshot(dir);

    const r = cli([...args, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ total: 12, skipped: done.length, ran: 12 - done.length, failed: [] });
    expect(records(dir)).toHaveLength(12);
    expect(snapshot(dir).filter(([f]) => done.includes(f!))).toEqual(kept);
    expect(doc.report.runs.map((run: { config: { seed: number } }) => run.config.seed)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('a failed run is reported (exit 1) and not stored, so the next run retries it', () => {
    const results = join(work, 'fail');
    const args = ['sweep', '--name', 'f', '--results', results, '--workers', '2', '--retries', '0', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '20', '--seed', '1,2,3'];
    const r = cliWithFaults([...args, '--json'], 'throw-on-seed:2');
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ran).toBe(2);
    expect(doc.failed).toHaveLength(1);
    expect(doc.failed[0].config.seed).toBe(2);
    expect(r.stderr).toMatch(/run failed: seed=2/);
    expect(records(join(results, 'f'))).toHaveLength(2);
    // The built CLI alone injects nothing: the variable without the test preload changes nothing.
    const again = cli([...args, '--json'], { VCPUSIM_FAULT: 'throw-on-seed:2' });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ran: 1, skipped: 2, failed: [] });
  });

  it('a grid over several parameters: cartesian product, stored, reported and plotted', () => {
    const results = join(work, 'grid');
    const plots = join(work, 'grid-plots');
    const r = cli(['sweep', '--results', results, '--mode', 'kvm-paravirt', '--cache-size', '1,4', '--tasks', '2,6', '--loops', '30', '--plot', plots, '--format', 'csv']);
    expect(r.status).toBe(0);
    const csv = r.stdout.trim().split('\n');
    expect(csv[0]).toMatch(/^tasks,cacheSize,metric,unit,hit_rate_pct/);
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['2,1', '2,4', '6,1', '6,4']);
    expect(records(join(results, 'sweep'))).toHaveLength(4);
    const svg = readFileSync(join(plots, 'hit-rate-vs-cacheSize.svg'), 'utf8');
    expect(svg).toContain('>cr3 cache size (entries)<');
    expect(svg).toContain('>cr3 cache hit rate (%)<');
    expect(svg).toContain('>tasks<');
    const rep = cli(['report', 'sweep', '--results', results, '--json']);
    expect(rep.status).toBe(0);
    expect(JSON.parse(rep.stdout).report.runs).toHaveLength(4);
  });
});

describe('usage and config errors: one line, exit code 2, store untouched', () => {
  const results = join(work, 'errors');
  const storeDir = join(results, 'x');
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(join(work, 'bad.yaml'), 'name: x\ndescription: d\nbase: { mode: kvm-paravirt }\nruns:\n  - { tasks: 2 }\n  - { tasks: 4 }\n  - { cacheSize: 0 }\n');
  writeFileSync(join(work, 'malformed.yaml'), 'name: x\ndescription: [\n');
  writeFileSync(join(work, 'unknown.json'), JSON.stringify({ name: 'x', description: 'd', runs: [{ tasks: 2, speed: 3 }] }));

  const cases: [string, string[], RegExp][] = [
    ['out-of-range value in an experiment file', ['reproduce', 'bad.yaml'], /^error: bad\.yaml: runs\[2\]\.cacheSize: 0 is not allowed; expected an integer from 1 to 1024$/],
    ['malformed experiment file', ['reproduce', 'malformed.yaml'], /^error: malformed\.yaml: not valid YAML/],
    ['unknown parameter in an experiment file', ['reproduce', 'unknown.json'], /^error: unknown\.json: runs\[0\]\.speed: unknown parameter; expected one of mode, workload/],
    ['unknown experiment', ['reproduce', 'nope'], /^error: nope: no such experiment; expected one of .*published-table/],
    ['out-of-range sweep value', ['sweep', '--name', 'x', '--cache-size', '1,0'], /^error: --cache-size: 0 is not allowed; expected an integer from 1 to 1024$/],
    ['unknown mode in a sweep', ['sweep', '--name', 'x', '--mode', 'kvm-trunk,kvm-foo'], /^error: --mode: "kvm-foo" is not allowed; expected one of native, qemu/],
    ['unknown sweep option', ['sweep', '--name', 'x', '--cache', '4'], /^error: unknown option '--cache'/],
    ['unknown --param field', ['sweep', '--name', 'x', '--param', 'speed=1,2'], /"speed" is not a parameter; expected one of mode, workload/],
    ['non-integer in a list', ['sweep', '--name', 'x', '--tasks', '2,x'], /"x" is not allowed; expected a comma list of integers/],
    ['unknown format', ['report', '--format', 'pdf'], /^error: --format: "pdf" is not allowed; expected one of table, json, csv, md$/],
    ['bad value of a switch-less field', ['sweep', '--name', 'x', '--pinned-root-fix', 'none,later'], /^error: --pinned-root-fix: "later" is not allowed; expected one of none, unpin-on-write, hypercall$/],
    ['bad --param value', ['sweep', '--name', 'x', '--param', 'exitFlush=maybe'], /^error: --no-exit-flush: "maybe" is not allowed; expected true or false$/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      writeFileSync(join(storeDir, 'aaaaaaaaaaaaaaaaaaaa.json'), '{"sentinel": true}\n');
      const before = readdirSync(results, { recursive: true }).sort();
      const r = cli([...args, '--results', results]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(readdirSync(results, { recursive: true }).sort()).toEqual(before);
      expect(readFileSync(join(storeDir, 'aaaaaaaaaaaaaaaaaaaa.json'), 'utf8')).toBe('{"sentinel": true}\n');
    });
  }
});

describe('vcpusim run --exits', () => {
  it('prints the exit report after the summary, its samples adding up to the exits', () => {
    const r = cli(['run', '--mode', 'kvm-trunk', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '50', '--hz', '100', '--exits']);
    expect(r.status).toBe(0);
    const total = Number(/exits: ([\d,]+)/.exec(r.stdout)![1]!.replace(/,/g, ''));
    expect(Number(/Total Samples:(\d+)/.exec(r.stdout)![1])).toBe(total);
    const rows = [...r.stdout.matchAll(/^\s+([A-Z_]+)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)us\s+([\d.]+)us\s+([\d.]+)us \( \+-\s+[\d.]+% \)$/gm)];
    expect(rows.map((m) => m[1])).toContain('CR_ACCESS');
    expect(rows.reduce((s, m) => s + Number(m[2]), 0)).toBe(total);
    expect(rows.reduce((s, m) => s + Number(m[3]), 0)).toBeCloseTo(100, 0);
  });
});

describe('vcpusim list and help', () => {
  it('lists experiments, modes, workloads and profiles', () => {
    const r = cli(['list', '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(2);
    expect(doc.experiments.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['published-table', 'cr3-cache-sweep', 'shadow-pool-sweep', 'smp-scale']));
    expect(doc.modes).toEqual([...MODES, 'kvm-ept', 'kvm-shadow', 'kvm-shadow-pv']);
    expect(doc.workloads).toEqual(expect.arrayContaining(['ctxswitch', 'pipe', 'hackbench']));
    expect(doc.profiles.length).toBeGreaterThan(0);
  });

  for (const cmd of ['sweep', 'reproduce', 'report', 'list', 'run']) {
    it(`${cmd} --help shows examples and exits 0`, () => {
      const r = cli([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n {2}vcpusim /);
    });
  }
});
