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

const PINNED_FOR_MODEL_VERSION = 'vcpusim-model-8';

const CASES: [Partial<SimConfig>, string][] = [
  [{ mode: 'native', workload: 'ctxswitch', loops: 300 }, '8f597f923cf4bb59'],
  [{ mode: 'qemu', workload: 'ctxswitch', loops: 300 }, '65b70389edec68de'],
  [{ mode: 'kvm-upstream', workload: 'ctxswitch', loops: 300 }, '11b1e6a97d941a31'],
  [{ mode: 'kvm-trunk', workload: 'hackbench', loops: 5 }, 'bbce060770a9a5de'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', loops: 5, pipe: true }, '0cd1837e8be3e512'],
  [{ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: 5, pinnedRootFix: 'none' }, '2e55c5397d2ad13f'],
  [{ mode: 'kvm-trunk', workload: 'iomix', loops: 50, io: 2 }, 'cee5c2ea69dd7bc3'],
  [{ mode: 'kvm-paravirt', workload: 'idle', loops: 20, hz: 250 }, '26769ca9df5435b7'],
  [{ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 5, vcpus: 4, thread: true }, 'a2f3a5227b4b8e2c'],
  [{ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2, check: true }, 'c40b8daac671f231'],
  // Forks that drain the forking vCPU's page list: refilled from the zone's reserve (model 5).
  [{ mode: 'kvm-paravirt', workload: 'hackbench', groups: 10, loops: 1, vcpus: 8, memoryMiB: 32 }, '6a0768070b6c33d0'],
  // The modes of today, and the guest of today natively.
  [{ mode: 'kvm-shadow', profile: 'skylake-sp-2017', workload: 'ctxswitch', tasks: 3, kpti: true, loops: 100 }, '63a15e2cf7c16f1a'],
  [{ mode: 'kvm-shadow', profile: 'zen2-2019', workload: 'hackbench', loops: 2 }, '056ed70cd9235beb'],
  [{ mode: 'kvm-shadow-pv', profile: 'skylake-sp-2017', workload: 'fork', kpti: true, loops: 20 }, '014e1855a5bb0b3c'],
  [{ mode: 'kvm-ept', profile: 'skylake-sp-2017', workload: 'pagefault', kpti: true, loops: 300 }, '2f6125c2a35f650e'],
  [{ mode: 'kvm-ept', profile: 'zen2-2019', arch: 'i386', workload: 'ctxswitch', loops: 100 }, '7182bb70942642fe'],
  [{ mode: 'native', profile: 'skylake-sp-2017', arch: 'x86-64', workload: 'syscall', kpti: true, pcid: false, loops: 500 }, '429e07c2884639be'],
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
  [{ mode: 'kvm-trunk', workload: 'iomix', loops: 50, io: 2 }, '9bb95c46b484f640'],
  [{ mode: 'kvm-paravirt', workload: 'idle', loops: 20, hz: 250 }, 'f8e845f293b33078'],
  [{ mode: 'kvm-trunk', workload: 'pipe', loops: 200, vcpus: 2, check: true }, '936ad0ccde3a3366'],
];

describe('pinned exit detail of small scenarios', () => {
  for (const [cfg, expected] of DETAIL_CASES) {
    it(`${Object.entries(cfg).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`, () => {
      const d = createHash('sha256').update(JSON.stringify(simulate(resolveConfig(cfg)).exitDetail)).digest('hex').slice(0, 16);
      expect(d).toBe(expected);
    });
  }
});
