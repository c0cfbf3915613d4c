/**
 * Faults around the built CLI: Ctrl-C and SIGTERM while runs go on (one worker thread, and
 * a single `run`), kill -9 at many points of many sweeps. What must hold: the documented
 * exit code and one line, within a second or two; nothing finished lost or changed; no
 * temp file left behind. (Faults in the store itself: store-faults.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config.js';
import { configKey } from '../../coordinator/store/record.js';
import { BIN, sleep, startCli, waitFor, type Child } from '../support/child.js';
import { FAULT_HOOKS } from '../support/faults.js';
import { simulate } from '../../worker/vm.js';
import { RECORD, checkRecords, names, records, seeds } from '../support/records.js';

const work = mkdtempSync(join(tmpdir(), 'vcpusim-faults-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: work, timeout: 60000 });
const start = (args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Child => startCli(work, args, { env, nodeArgs });
const TEMP = /\.tmp-\d+-[0-9a-f]{12}$/;

describe('interrupted: exit 130 (SIGINT) or 143 (SIGTERM) within a second or two, finished runs kept', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} with --workers 1 stops the sweep; the same command resumes it`, async () => {
      const results = join(work, `int-${signal}`);
      const dir = join(results, 's');
      const args = ['sweep', '--name', 's', '--results', results, '--workers', '1', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '1500', '--memory', '16', '--seed', seeds(24)];
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
    // The CLI with the test preload, which says when the run's pool is given its task (the signal handlers are then in place).
    const ready = join(work, 'pool-ready');
    const child = start(['run', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '50000000'], { VCPUSIM_POOL_READY: ready }, ['--import', FAULT_HOOKS.href]);
    await waitFor(() => existsSync(ready), 30000);
    await sleep(200);
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
    const args = ['sweep', '--name', 'k', '--results', results, '--workers', '2', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '20', '--memory', '16', '--seed', seeds(40), '--json'];
    // A small deterministic generator: the points differ from one kill to the next but not between test runs.
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    let seen = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const child = start(args);
      await sleep(150 + rand() * 800);
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
    // The same figures as runs never killed.
    for (let seed = 1; seed <= 40; seed++) {
      const config = resolveConfig({ mode: 'kvm-trunk', tasks: 2, loops: 20, memoryMiB: 16, seed });
      expect(JSON.stringify(final.get(`${configKey(config)}.json`)!.result)).toBe(JSON.stringify(simulate(config)));
    }
  });
});
