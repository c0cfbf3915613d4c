/**
 * Faults around the built CLI: Ctrl-C and SIGTERM while runs go on (one worker thread, and
 * a single `run`), kill -9 at many points of many sweeps, records that are not what their
 * file name says, store entries that are not files, a reader that goes away. What must
 * hold: the documented exit code and one line, nothing finished lost, nothing wrong
 * trusted, no temp file left, nothing outside the store touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config.js';
import { MODEL_VERSION, ResultStore, configKey, recordProblem } from '../../coordinator/store.js';
import { simulate } from '../../worker/vm.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'vcpusim-faults-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: work, timeout: 60000 });
const start = (args: string[]): ChildProcess & { out: () => string; err: () => string; done: Promise<{ code: number | null; signal: string | null }> } => {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  return Object.assign(child, { out: () => out, err: () => err, done });
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RECORD = /^[0-9a-f]{20}\.json$/;
const TEMP = /\.tmp-\d+-[0-9a-f]{12}$/;
const names = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const records = (dir: string) => names(dir).filter((f) => RECORD.test(f));
const seeds = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(',');

/** Every record in `dir` is whole and is what its name says; returns them by name. */
function checkRecords(dir: string): Map<string, { key: string; config: { seed: number }; result: unknown }> {
  const out = new Map<string, { key: string; config: { seed: number }; result: unknown }>();
  for (const f of records(dir)) {
    const rec = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    expect(`${rec.key}.json`).toBe(f);
    expect(recordProblem(rec, rec.config, rec.key)).toBeUndefined();
    out.set(f, rec);
  }
  return out;
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('interrupted: exit 130 (SIGINT) or 143 (SIGTERM) within a second or two, finished runs kept', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} with --workers 1 stops the sweep; the same command resumes it`, async () => {
      const results = join(work, `int-${signal}`);
      const dir = join(results, 's');
      const args = ['sweep', '--name', 's', '--results', results, '--workers', '1', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '1500', '--seed', seeds(24)];
      const child = start([...args, ...(signal === 'SIGTERM' ? ['--json'] : [])]);
      await waitFor(() => records(dir).length >= 2, 30000);
      const sent = Date.now();
      child.kill(signal);
      const { code: exit } = await child.done;
      expect(Date.now() - sent).toBeLessThan(2000);
      expect(exit).toBe(code);
      const lines = child.err().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: interrupted by ${signal}: (\\d+) finished runs? (is|are) stored in .*; run the same command again to resume$`));
      const kept = checkRecords(dir);
      expect(kept.size).toBe(Number(/(\d+) finished/.exec(lines[0]!)![1]));
      expect(kept.size).toBeLessThan(24);
      expect(names(dir).filter((f) => TEMP.test(f))).toEqual([]);
      if (signal === 'SIGTERM') {
        const doc = JSON.parse(child.out());
        expect(doc).toMatchObject({ schemaVersion: 2, error: { code: 'EINTR', value: 'SIGTERM', message: lines[0]!.slice(7) } });
      } else expect(child.out()).toBe('');
      // Resume: only the missing runs, the kept records untouched.
      const before = [...kept.keys()].map((f) => readFileSync(join(dir, f), 'utf8'));
      const again = cli([...args, '--workers', '2', '--json']);
      expect(again.status).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ total: 24, skipped: kept.size, ran: 24 - kept.size, failed: [] });
      expect([...kept.keys()].map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(before);
      expect(checkRecords(dir).size).toBe(24);
    });
  }

  it('SIGINT stops a long single run at once', async () => {
    const child = start(['run', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '50000000']);
    await sleep(1500);
    const sent = Date.now();
    child.kill('SIGINT');
    const { code } = await child.done;
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(code).toBe(130);
    expect(child.err().trim().split('\n')).toEqual(['error: interrupted by SIGINT: the run was stopped, nothing was written']);
    expect(child.out()).toBe('');
  });
});

describe('kill -9 at random points', () => {
  it('over many sweeps: no record lost or wrong, stale temp files removed, the end result equal to a clean sweep', async () => {
    const results = join(work, 'k9');
    const dir = join(results, 'k');
    const args = ['sweep', '--name', 'k', '--results', results, '--workers', '2', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '20', '--seed', seeds(40), '--json'];
    // A small deterministic generator: the points differ from one kill to the next but not between test runs.
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    let seen = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const child = start(args);
      await sleep(250 + rand() * 900);
      child.kill('SIGKILL');
      await child.done;
      // What is there is whole and right; nothing finished before is gone or changed.
      const now = checkRecords(dir);
      for (const [f, text] of seen) expect(readFileSync(join(dir, f), 'utf8')).toBe(text);
      seen = new Map([...now.keys()].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
      // Any other file is the manifest or a temp file of the killed process.
      for (const f of names(dir)) expect(RECORD.test(f) || f === 'experiment.json' || TEMP.test(f), f).toBe(true);
    }
    // A temp file a dead process left (whatever the kills hit) and one of a live process.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const deadTemp = `${'0'.repeat(20)}.json.tmp-${dead}-abcdefabcdef`;
    const liveTemp = `${'1'.repeat(20)}.json.tmp-${process.pid}-abcdefabcdef`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, deadTemp), '');
    writeFileSync(join(dir, liveTemp), '');
    const end = cli(args);
    expect(end.status).toBe(0);
    expect(JSON.parse(end.stdout)).toMatchObject({ total: 40, skipped: seen.size, failed: [] });
    expect(end.stderr).toMatch(/removed \d+ temp files? left by a process that is gone/);
    expect(names(dir).filter((f) => TEMP.test(f))).toEqual([liveTemp]);
    const final = checkRecords(dir);
    expect(final.size).toBe(40);
    // The same figures as a sweep never killed.
    const clean = cli(['sweep', '--name', 'clean', '--results', results, '--workers', '2', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '20', '--seed', seeds(40)]);
    expect(clean.status).toBe(0);
    const cleanRecs = checkRecords(join(results, 'clean'));
    expect([...final.keys()]).toEqual([...cleanRecs.keys()]);
    for (const [f, rec] of final) expect(JSON.stringify(rec.result)).toBe(JSON.stringify(cleanRecs.get(f)!.result));
  });
});

describe('what is under a record name is trusted only if it is that config\'s record', () => {
  const args = (results: string) => ['sweep', '--name', 'r', '--results', results, '--workers', '2', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '20', '--seed', seeds(8)];
  const cfg = (seed: number) => resolveConfig({ mode: 'kvm-trunk', tasks: 2, loops: 20, seed });
  const file = (seed: number) => `${configKey(cfg(seed))}.json`;

  it('a foreign record, an older model version, an incomplete one: reported naming the file, run again, replaced', () => {
    const results = join(work, 'foreign');
    const dir = join(results, 'r');
    expect(cli(args(results)).status).toBe(0);
    // Seed 2's file holds seed 1's record; seed 3's is of an older model; seed 4's lacks statistics; seed 5's key is not its name.
    copyFileSync(join(dir, file(1)), join(dir, file(2)));
    const old = JSON.parse(readFileSync(join(dir, file(3)), 'utf8'));
    writeFileSync(join(dir, file(3)), JSON.stringify({ ...old, modelVersion: 'vcpusim-model-1', key: configKey(cfg(3), 'vcpusim-model-1') }));
    const part = JSON.parse(readFileSync(join(dir, file(4)), 'utf8'));
    delete part.result.guest;
    writeFileSync(join(dir, file(4)), JSON.stringify(part));
    const wrongKey = JSON.parse(readFileSync(join(dir, file(5)), 'utf8'));
    writeFileSync(join(dir, file(5)), JSON.stringify({ ...wrongKey, key: 'not-a-key' }));

    const rep = cli(['report', 'r', '--results', results, '--json']);
    expect(rep.status).toBe(0);
    const lines = rep.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes(file(2)))).toEqual([expect.stringMatching(/holds the record of another config \(key [0-9a-f]{20}\); it is left out/)]);
    expect(lines.find((l) => l.includes(file(3)))).toMatch(/another model version \("vcpusim-model-1", not vcpusim-model-\d+\)/);
    expect(lines.find((l) => l.includes(file(4)))).toMatch(/is not a complete record \(result\.guest: expected object/);
    expect(lines.find((l) => l.includes(file(5)))).toMatch(/its key is not its file name/);
    expect(rep.stderr).toMatch(/r: 4 of 8 runs have no stored result/);
    const doc = JSON.parse(rep.stdout);
    expect(doc.report.runs.map((run: { config: { seed: number } }) => run.config.seed)).toEqual([1, 6, 7, 8]);

    const again = cli([...args(results), '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ran: 4, skipped: 4, failed: [] });
    expect(again.stderr.split('\n').filter((l) => l.includes('it is run again and replaced'))).toHaveLength(4);
    const recs = checkRecords(dir);
    expect(recs.size).toBe(8);
    for (const s of [2, 3, 4, 5]) expect(recs.get(file(s))!.config.seed).toBe(s);
    expect(JSON.parse(readFileSync(join(dir, file(3)), 'utf8')).modelVersion).toBe(MODEL_VERSION);
  });

  it('a FIFO, links, an empty directory: never opened or followed, reported, replaced; a directory that holds files: exit 2 before any run', () => {
    const results = join(work, 'nonregular');
    const dir = join(results, 'r');
    expect(cli(args(results)).status).toBe(0);
    const userFile = join(work, 'users-file.txt');
    writeFileSync(userFile, 'mine\n');
    rmSync(join(dir, file(1)));
    spawnSync('mkfifo', [join(dir, file(1))]);
    rmSync(join(dir, file(2)));
    symlinkSync('/dev/zero', join(dir, file(2)));
    rmSync(join(dir, file(3)));
    symlinkSync(userFile, join(dir, file(3)));
    rmSync(join(dir, file(4)));
    mkdirSync(join(dir, file(4)));

    const rep = cli(['report', 'r', '--results', results]);
    expect(rep.status).toBe(0);
    expect(rep.stderr).toMatch(new RegExp(`${file(1)}: is a FIFO, not a record; it is left out`));
    expect(rep.stderr).toMatch(new RegExp(`${file(2)}: is a symbolic link, not a record`));
    expect(rep.stderr).toMatch(new RegExp(`${file(4)}: is an empty directory, not a record`));

    const again = cli([...args(results), '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ran: 4, skipped: 4 });
    for (const s of [1, 2, 3, 4]) expect(lstatSync(join(dir, file(s))).isFile()).toBe(true);
    expect(checkRecords(dir).size).toBe(8);
    // The link was replaced, not written through.
    expect(readFileSync(userFile, 'utf8')).toBe('mine\n');

    // A directory with something in it is never touched: the sweep stops before its first run.
    rmSync(join(dir, file(5)));
    mkdirSync(join(dir, file(5)));
    writeFileSync(join(dir, file(5), 'keep'), 'x');
    rmSync(join(dir, file(6)));
    const blocked = cli(args(results));
    expect(blocked.status).toBe(2);
    expect(blocked.stderr.trim().split('\n')).toEqual([`error: --results: nonregular/r/${file(5)}: is a directory that is not empty, where a record should be; remove or rename it`]);
    expect(existsSync(join(dir, file(6)))).toBe(false);
    expect(readFileSync(join(dir, file(5), 'keep'), 'utf8')).toBe('x');
  });
});

describe('output to a reader that goes away', () => {
  it('| head -1 on a long --json output: exit 0, no stack trace', async () => {
    // 150 stored runs, made here from one simulation (each record valid for its own config).
    const results = join(work, 'epipe');
    const store = new ResultStore(results, 'e');
    const one = simulate(resolveConfig({ workload: 'idle', loops: 1 }));
    const grid = { seed: Array.from({ length: 150 }, (_, i) => i + 1) };
    store.writeManifest({ name: 'e', description: 'd', base: { workload: 'idle', loops: 1 }, grid });
    for (const seed of grid.seed) {
      const config = resolveConfig({ workload: 'idle', loops: 1, seed });
      store.put({ ...one, config }, 0, config);
    }
    for (const cmd of [['report', 'e', '--results', results, '--json'], ['report', 'e', '--results', results, '--exits']]) {
      const child = spawn(process.execPath, [BIN, ...cmd], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // Read the first chunk, then close the pipe: the rest of the writes meet EPIPE.
      await new Promise<void>((res) => child.stdout.once('data', () => res()));
      child.stdout.destroy();
      const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
      expect(code).toBe(0);
      expect(err).not.toMatch(/EPIPE|Error|at /);
    }
  });
});
