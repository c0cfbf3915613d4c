import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRunner } from '../../coordinator/execution/local.js';

/** The runs of these tests in the test's own thread. */
const inThread = () => new LocalRunner({ inThread: true });
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { executeConfigs } from '../../coordinator/execution/execute.js';
import { expandExperiment } from '../../coordinator/experiments/expand.js';
import { type Experiment } from '../../coordinator/experiments/schema.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { ResultStore } from '../../coordinator/store/store.js';
import { configKey } from '../../coordinator/store/record.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'vcpusim-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const records = (dir: string) => readdirSync(dir).filter((f) => /^[0-9a-f]{20}\.json$/.test(f)).sort();

/** A small grid: 2 cache sizes x 3 task counts, few loops. */
const small: Experiment = {
  name: 'small',
  description: 'test grid',
  base: { mode: 'kvm-paravirt', workload: 'ctxswitch', loops: 30, hz: 100 },
  grid: { cacheSize: [1, 4], tasks: [2, 4, 8] },
};

describe('config key', () => {
  it('is a sha256 prefix of the config and model version, independent of key order', () => {
    const a = resolveConfig({ mode: 'kvm-trunk', tasks: 4 });
    const b = Object.fromEntries(Object.entries(a).reverse()) as unknown as SimConfig;
    expect(configKey(a)).toMatch(/^[0-9a-f]{20}$/);
    expect(configKey(b)).toBe(configKey(a));
    expect(configKey({ ...a, tasks: 5 })).not.toBe(configKey(a));
    expect(configKey(a, MODEL_VERSION + '-next')).not.toBe(configKey(a));
  });
});

describe('result store and resume', () => {
  it('stores each finished run atomically under its key, leaving no temp files', async () => {
    const root = tempDir();
    const store = new ResultStore(root, 'small');
    const configs = expandExperiment(small);
    const s = await executeConfigs(configs, { store, runner: inThread });
    expect(s).toMatchObject({ total: 6, ran: 6, skipped: 0, failed: [] });
    expect(readdirSync(store.dir).sort()).toEqual(configs.map((c) => `${configKey(c)}.json`).sort());
    const rec = JSON.parse(readFileSync(store.pathOf(configs[0]!), 'utf8'));
    expect(rec.modelVersion).toBe(MODEL_VERSION);
    expect(rec.config).toEqual(configs[0]);
    expect(rec.result.config).toEqual(configs[0]);
    expect(rec.result.cr3Cache.lookups).toBeGreaterThan(0);
  });

  it('an interrupted sweep resumes without re-running finished points', async () => {
    const root = tempDir();
    const store = new ResultStore(root, 'small');
    const configs = expandExperiment(small);

    // First attempt: interrupted after two runs have finished (and been stored).
    let finished = 0;
    await expect(
      executeConfigs(configs, {
        store,
        runner: inThread,
        onConfig: (status) => {
          if (status === 'ran' && ++finished === 2) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    const before = records(store.dir);
    expect(before).toHaveLength(2);
    const kept = before.map((f) => readFileSync(join(store.dir, f), 'utf8'));

    // Second attempt: only the four missing points run.
    const ran: SimConfig[] = [];
    const s = await executeConfigs(configs, { store, runner: inThread, onConfig: (status, cfg) => void (status === 'ran' && ran.push(cfg)) });
    expect(s).toMatchObject({ total: 6, ran: 4, skipped: 2, failed: [] });
    expect(ran.map((c) => configKey(c)).sort()).toEqual(configs.map((c) => configKey(c)).filter((k) => !before.includes(`${k}.json`)).sort());
    expect(records(store.dir)).toHaveLength(6);
    // The records of the first attempt were not rewritten.
    expect(before.map((f) => readFileSync(join(store.dir, f), 'utf8'))).toEqual(kept);
    // Every config has its record, with figures equal to a run from scratch.
    const fresh = await executeConfigs(configs, { store: new ResultStore(root, 'again'), runner: inThread });
    for (let i = 0; i < configs.length; i++) {
      expect(s.records[i]!.result.metric.value).toBe(fresh.records[i]!.result.metric.value);
      expect(s.records[i]!.result.cr3Cache).toEqual(fresh.records[i]!.result.cr3Cache);
    }

    // A third attempt runs nothing; --fresh runs everything again.
    expect(await executeConfigs(configs, { store, runner: inThread })).toMatchObject({ ran: 0, skipped: 6 });
    expect(await executeConfigs(configs, { store, runner: inThread, fresh: true })).toMatchObject({ ran: 6, skipped: 0 });
  });

  it('ignores unreadable or foreign records (they are run again)', async () => {
    const root = tempDir();
    const store = new ResultStore(root, 'small');
    const configs = expandExperiment(small).slice(0, 2);
    await executeConfigs(configs, { store, runner: inThread });
    // A torn write cannot happen (rename is atomic), but a hand-edited file can.
    const p = store.pathOf(configs[0]!);
    const rec = JSON.parse(readFileSync(p, 'utf8'));
    rec.config.tasks = 99;
    (await import('node:fs')).writeFileSync(p, JSON.stringify(rec));
    expect(store.get(configs[0]!)).toBeUndefined();
    expect(await executeConfigs(configs, { store, runner: inThread })).toMatchObject({ ran: 1, skipped: 1 });
  });
});
