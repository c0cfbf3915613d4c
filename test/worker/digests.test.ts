/**
 * Every statistic of small scenarios across the modes, workloads and SMP, pinned as a
 * digest of the run's JSON: a change that is meant to move no figure (a restructuring, a
 * speed-up) must leave them all as they are. A change of the model's figures bumps
 * MODEL_VERSION (coordinator/store.ts) and records the new digests here.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MODEL_VERSION } from '../../coordinator/store.js';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';

const PINNED_FOR_MODEL_VERSION = 'vcpusim-model-2';

const CASES: [Partial<SimConfig>, string][] = [
  [{ mode: 'native', workload: 'ctxswitch', loops: 300 }, '317e29d9eeea8729'],
  [{ mode: 'qemu', workload: 'ctxswitch', loops: 300 }, '80b9ef2b44f36d5a'],
  [{ mode: 'kvm-upstream', workload: 'ctxswitch', loops: 300 }, '4750f469d523751b'],
  [{ mode: 'kvm-trunk', workload: 'hackbench', loops: 5 }, '038376666cc93ffd'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', loops: 5, pipe: true }, 'f08aeb679038fe35'],
  [{ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: 5, pinnedRootFix: 'none' }, 'efe709c88a4c80d2'],
  [{ mode: 'kvm-trunk', workload: 'iomix', loops: 50, io: 2 }, '32823577d723e1f1'],
  [{ mode: 'kvm-paravirt', workload: 'idle', loops: 20, hz: 250 }, '08ef3c0cd96274ca'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 5, vcpus: 4, thread: true }, 'f3390f2dc9de42f7'],
  [{ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2, check: true }, 'fcc787829f80fa3a'],
];

const digest = (cfg: Partial<SimConfig>): string =>
  createHash('sha256').update(JSON.stringify(simulate(resolveConfig(cfg)))).digest('hex').slice(0, 16);

describe('pinned statistics of small scenarios', () => {
  it(`are pinned for model version ${PINNED_FOR_MODEL_VERSION} (a new version records new digests)`, () => {
    expect(MODEL_VERSION).toBe(PINNED_FOR_MODEL_VERSION);
  });
  for (const [cfg, expected] of CASES) {
    it(`${Object.entries(cfg).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`, () => {
      expect(digest(cfg)).toBe(expected);
    });
  }
});
