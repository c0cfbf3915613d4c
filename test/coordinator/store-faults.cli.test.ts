/**
 * The store in states a user, a crash or another program may leave it in: records that
 * are not what their file name says (another config's, an older model's, incomplete),
 * entries that are not files (FIFOs, links, directories), and a reader of the output that
 * goes away. Nothing wrong is trusted, nothing blocks, nothing outside the store is
 * touched, and each is said once, naming the file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { ResultStore } from '../../coordinator/store/store.js';
import { configKey } from '../../coordinator/store/record.js';
import { simulate } from '../../worker/vm.js';
import { checkRecords, seeds } from '../support/records.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'vcpusim-store-faults-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: work, timeout: 60000 });

describe('what is under a record name is trusted only if it is that config\'s record', () => {
  const args = (results: string) => ['sweep', '--name', 'r', '--results', results, '--workers', '2', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '20', '--memory', '16', '--seed', seeds(8)];
  const cfg = (seed: number) => resolveConfig({ mode: 'kvm-trunk', tasks: 2, loops: 20, memoryMiB: 16, seed });
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
