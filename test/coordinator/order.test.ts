import { describe, expect, it } from 'vitest';
import { expectedSeconds, longestFirst } from '../../coordinator/execution/order.js';
import { runOnLanes } from '../../coordinator/execution/runner.js';
import { resolveConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';

const ctx2 = resolveConfig({ mode: 'native', workload: 'ctxswitch', tasks: 2 });
const hb1 = resolveConfig({ mode: 'native', workload: 'hackbench', groups: 1 });
const hb5 = resolveConfig({ mode: 'native', workload: 'hackbench', groups: 5 });
const hb5ept = resolveConfig({ mode: 'kvm-ept', workload: 'hackbench', groups: 5, arch: 'x86-64', profile: 'skylake-sp-2017' });

describe('longest first', () => {
  it('orders by the expected work: more groups, more loops and a slower mode come first; ties keep the list order', () => {
    expect(expectedSeconds(hb5)).toBeCloseTo(5 * expectedSeconds(hb1));
    expect(longestFirst([ctx2, hb1, hb5, hb5ept])).toEqual([3, 2, 1, 0]);
    expect(longestFirst([hb1, ctx2, hb1])).toEqual([0, 2, 1]);
  });

  it('the lanes take the runs in that order, and the outcomes still come back in the list order', async () => {
    const started: number[] = [];
    const configs = [ctx2, hb1, hb5];
    const outs = await runOnLanes(
      configs,
      (c) => {
        started.push(configs.indexOf(c));
        return Promise.resolve({ result: {} as RunResult, hostSeconds: 0 });
      },
      1,
      {},
      false,
      longestFirst(configs),
    );
    expect(started).toEqual([2, 1, 0]);
    expect(outs.map((o) => o.index)).toEqual([0, 1, 2]);
  });
});
