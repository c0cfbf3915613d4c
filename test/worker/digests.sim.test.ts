/**
 * Every statistic of small scenarios across the modes, workloads and SMP, pinned as a
 * digest of the run's JSON: a change that is meant to move no figure (a restructuring, a
 * speed-up) must leave them all as they are. A change of the model's figures bumps
 * MODEL_VERSION (worker/model.ts) and records the new digests here.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MODEL_VERSION } from '../../worker/model.js';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';

const PINNED_FOR_MODEL_VERSION = 'vcpusim-model-7';

const CASES: [Partial<SimConfig>, string][] = [
  [{ mode: 'native', workload: 'ctxswitch', loops: 300 }, '51edd95eb7e7b44f'],
  [{ mode: 'qemu', workload: 'ctxswitch', loops: 300 }, 'e4eaa92e8b21fbbe'],
  [{ mode: 'kvm-upstream', workload: 'ctxswitch', loops: 300 }, 'd91ffa1c8686fc14'],
  [{ mode: 'kvm-trunk', workload: 'hackbench', loops: 5 }, '908ab00952cf6a3e'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', loops: 5, pipe: true }, '254563fc8fb573e3'],
  [{ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: 5, pinnedRootFix: 'none' }, 'b532069564b9a0ba'],
  [{ mode: 'kvm-trunk', workload: 'iomix', loops: 50, io: 2 }, '1b800391ca4d0dfd'],
  [{ mode: 'kvm-paravirt', workload: 'idle', loops: 20, hz: 250 }, '9124e77d54869f1e'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 5, vcpus: 4, thread: true }, '5700d7d6d9c91658'],
  [{ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2, check: true }, '9524355bffc2df36'],
  // Forks that drain the forking vCPU's page list: refilled from the zone's reserve (model 5).
  [{ mode: 'kvm-paravirt', workload: 'hackbench', groups: 10, loops: 1, vcpus: 8, memoryMiB: 32 }, 'e8840170fd494b86'],
  // The modes of today, and the guest of today natively.
  [{ mode: 'kvm-shadow', profile: 'skylake-sp-2017', workload: 'ctxswitch', tasks: 3, kpti: true, loops: 100 }, '831cf57cc9a417b8'],
  [{ mode: 'kvm-shadow', profile: 'zen2-2019', workload: 'hackbench', loops: 2 }, 'de3276fc538c7f12'],
  [{ mode: 'kvm-shadow-pv', profile: 'skylake-sp-2017', workload: 'fork', kpti: true, loops: 20 }, '27667757bf948c97'],
  [{ mode: 'kvm-ept', profile: 'skylake-sp-2017', workload: 'pagefault', kpti: true, loops: 300 }, 'bf78e4377309f35f'],
  [{ mode: 'kvm-ept', profile: 'zen2-2019', arch: 'i386', workload: 'ctxswitch', loops: 100 }, '87c3e8f692af05f8'],
  [{ mode: 'native', profile: 'skylake-sp-2017', arch: 'x86-64', workload: 'syscall', kpti: true, pcid: false, loops: 500 }, 'a26120dabc0d2eb8'],
];

// The statistics the result had before the exit detail (a group of its own, shared/exit-detail.ts, pinned below).
// The config a result echoes is left out: it is the input, and a config field added for
// other modes (at its default here) changes no statistic of these.
const digest = (cfg: Partial<SimConfig>): string => {
  const { exitDetail: _detail, config: _config, ...rest } = simulate(resolveConfig(cfg));
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
};

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

// The exit detail (per reason, per port, HLT's span, per vCPU), pinned apart from the statistics above.
const DETAIL_CASES: [Partial<SimConfig>, string][] = [
  [{ mode: 'kvm-trunk', workload: 'iomix', loops: 50, io: 2 }, 'adab2bd1e10a6136'],
  [{ mode: 'kvm-paravirt', workload: 'idle', loops: 20, hz: 250 }, '374a337c3fc6804f'],
  [{ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2, check: true }, '130da6b79189fcf9'],
];

describe('pinned exit detail of small scenarios', () => {
  for (const [cfg, expected] of DETAIL_CASES) {
    it(`${Object.entries(cfg).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`, () => {
      const d = createHash('sha256').update(JSON.stringify(simulate(resolveConfig(cfg)).exitDetail)).digest('hex').slice(0, 16);
      expect(d).toBe(expected);
    });
  }
});
