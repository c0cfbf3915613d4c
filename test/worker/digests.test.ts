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

const PINNED_FOR_MODEL_VERSION = 'vcpusim-model-3';

const CASES: [Partial<SimConfig>, string][] = [
  [{ mode: 'native', workload: 'ctxswitch', loops: 300 }, '86b0e56270cadc59'],
  [{ mode: 'qemu', workload: 'ctxswitch', loops: 300 }, '6b8266c2c4545502'],
  [{ mode: 'kvm-upstream', workload: 'ctxswitch', loops: 300 }, '6766b03f906f5d04'],
  [{ mode: 'kvm-trunk', workload: 'hackbench', loops: 5 }, 'ae7ef9f11a483427'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', loops: 5, pipe: true }, '2fa10d1f49dd8e12'],
  [{ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: 5, pinnedRootFix: 'none' }, '384fdda0977e39b8'],
  [{ mode: 'kvm-trunk', workload: 'iomix', loops: 50, io: 2 }, 'c752cefb776d80a6'],
  [{ mode: 'kvm-paravirt', workload: 'idle', loops: 20, hz: 250 }, 'acaad2d7b12ed5b6'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 5, vcpus: 4, thread: true }, '8756cae2796579c0'],
  [{ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2, check: true }, '3fb7bc25b5b40e05'],
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
