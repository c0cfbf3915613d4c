/**
 * Every example the README and the commands' --help give (docs/cli.md is the help, checked
 * by figures.sim.test.ts) runs as written, in order, in a scratch directory that holds what
 * the examples name: `sched.txt` (a real perf sched recording, test/fixtures), an
 * experiment file `experiments/my.yaml`, the stores the report and compare examples read
 * (made by the examples before them, or, for the two named sweeps and `results-old`, by
 * set-up steps). Each exits 0. Two kinds cannot run to their end here: a worker serves until
 * it is stopped (it starts against the test's Redis in place of the example's host and
 * stops on SIGTERM, exit 143), and a calibration fits for many minutes (it must still be
 * fitting after a few seconds: its options and spec were accepted; calibrate.sim.test.ts
 * runs a short fit).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, type TestRedis } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'vcpusim.js');
const dir = mkdtempSync(join(tmpdir(), 'vcpusim-examples-'));
let redis: TestRedis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => {
  redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The examples of a text: `vcpusim …` lines of its shell blocks or its help's Examples sections, without their comments. */
function examplesOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /(?:^|&& )((?:npx )?vcpusim(?: .*)?)$/.exec(line);
    if (!m || line.startsWith('Usage:') || line.startsWith('`')) continue;
    // Help gives a description after two or more spaces; the README a shell comment.
    out.push(m[1]!.split(/\s{2,}|\s#/)[0]!.trim());
  }
  return out;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const readmeShell = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
const helpExamples = [...readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8').matchAll(/^Examples:\n([\s\S]*?)\n```/gm)].map((m) => m[1]!).join('\n');
const EXAMPLES = [...new Set([...examplesOf(readmeShell), ...examplesOf(helpExamples)])];

const run = (args: string[], timeout = 180000) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout });
const argsOf = (example: string): string[] => example.replace(/^npx /, '').split(/\s+/).slice(1);

/** Set-up the examples need that no example before them makes. */
function setUp(): void {
  const trace = readFileSync(join(ROOT, 'test', 'fixtures', 'perf-sched-script.txt.gz'));
  writeFileSync(join(dir, 'sched.txt.gz'), trace);
  writeFileSync(join(dir, 'sched.txt'), gunzipSync(trace));
  mkdirSync(join(dir, 'experiments'));
  writeFileSync(
    join(dir, 'experiments', 'my.yaml'),
    'name: my\ndescription: two cache sizes of a 4-task ring\nbase: { mode: kvm-paravirt, workload: ctxswitch, tasks: 4, mmuPages: 2048 }\ngrid:\n  cacheSize: [1, 4]\n',
  );
  const named: [string, string][] = [
    ['sweep-trunk', 'kvm-trunk'],
    ['sweep-paravirt', 'kvm-paravirt'],
  ];
  for (const [name, mode] of named) {
    expect(run(['sweep', '--name', name, '--mode', mode, '--tasks', '2,4', '--loops', '100']).status).toBe(0);
  }
}

describe('the examples of the README and of --help', () => {
  it('are found: the README tour, and every command with examples', () => {
    expect(EXAMPLES.length).toBeGreaterThan(35);
    for (const cmd of ['run', 'sweep', 'reproduce', 'report', 'list', 'compare', 'calibrate', 'trace analyze', 'worker', 'queue status']) {
      expect(EXAMPLES.some((e) => e.replace(/^npx /, '').startsWith(`vcpusim ${cmd}`)), cmd).toBe(true);
    }
  });

  it('each runs as written and exits 0 (a worker starts and stops, a calibration starts fitting)', async () => {
    setUp();
    // The stores the later examples read: the examples that make them first.
    const first = (e: string) => (/^(npx )?vcpusim reproduce( |$)/.test(e) ? 0 : /^(npx )?vcpusim (report|compare)/.test(e) ? 2 : 1);
    const ordered = [...EXAMPLES].sort((a, b) => first(a) - first(b));
    const failures: string[] = [];
    for (const example of ordered) {
      const args = argsOf(example);
      if (args[0] === 'worker' || (args[0] === 'queue' && args[1] === 'status')) {
        const real = args.map((a) => (a.startsWith('redis://') ? redis.url : a));
        if (args[0] === 'queue') {
          const r = run(real);
          if (r.status !== 0) failures.push(`${example}: exit ${r.status}: ${r.stderr}`);
          continue;
        }
        const w = spawn(process.execPath, [BIN, ...real], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        w.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const done = new Promise<number | null>((res) => w.on('close', (code) => res(code)));
        const until = Date.now() + 20000;
        while (!/taking jobs/.test(err) && w.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        w.kill('SIGTERM');
        const code = await done;
        if (code !== 143) failures.push(`${example}: exit ${code}: ${err}`);
        continue;
      }
      if (args[0] === 'calibrate') {
        const c = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        await new Promise((r) => setTimeout(r, 4000));
        if (c.exitCode !== null) failures.push(`${example}: ended at once, exit ${c.exitCode}: ${err}`);
        c.kill('SIGKILL');
        continue;
      }
      const r = run(args);
      if (r.status !== 0) failures.push(`${example}: exit ${r.status}: ${r.stderr.slice(0, 400)}`);
      if (example.includes('cr3-cache-sweep --plot plots')) cpSync(join(dir, 'results', 'cr3-cache-sweep'), join(dir, 'results-old', 'cr3-cache-sweep'), { recursive: true });
    }
    expect(failures).toEqual([]);
  }, 600000);

  it('npx vcpusim works in the clone after npm ci, as the README says', () => {
    const r = spawnSync('npx', ['--offline', 'vcpusim', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vcpusim \d+\.\d+\.\d+ \(vcpusim-model-\d+\)\n$/);
  });
});
