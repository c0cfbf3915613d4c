/**
 * The progress line of `run` on a terminal (coordinator/cli/run-progress.ts): redrawn in place
 * over the live control path, cleared at the end, and the statistics are those of the plain
 * path (simulate). Runs against the build.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRunner } from '../../coordinator/execution/local.js';
import { CLEAR_LINE, runWithProgressLine } from '../../coordinator/cli/run-progress.js';
import { placeVcpus } from '../../coordinator/execution/split.js';
import { resolveConfig } from '../../shared/config.js';
import { simulate } from '../../worker/vm.js';

describe('run progress line', () => {
  let runner: LocalRunner;
  beforeAll(() => {
    runner = new LocalRunner({ threads: 2 });
  });
  afterAll(async () => {
    await runner.close();
  });

  it('redraws one line, clears it at the end, and leaves the statistics unchanged (1 thread)', async () => {
    const cfg = resolveConfig({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 20000 });
    const writes: string[] = [];
    const run = await runWithProgressLine(runner, cfg, [[0]], { write: (s: string) => writes.push(s) }, 5);
    expect(JSON.stringify(run.result)).toBe(JSON.stringify(simulate(cfg)));
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.at(-1)).toBe(CLEAR_LINE);
    const lines = writes.slice(0, -1);
    for (const w of lines) expect(w.startsWith(CLEAR_LINE)).toBe(true);
    for (const w of lines) expect(w.slice(CLEAR_LINE.length)).toMatch(/^run: guest \d+\.\d\d ms simulated, tasks exited \d+\/\d+, quanta [\d,]+, elapsed \d+ s$/);
    // Simulated time never goes back between redraws.
    const guest = lines.map((w) => Number(/guest ([\d.]+) ms/.exec(w)![1]));
    expect(guest).toEqual([...guest].sort((a, b) => a - b));
  });

  it('over two threads the statistics are those of the split run', async () => {
    const cfg = resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 30, vcpus: 4, sndbuf: 2048 });
    const writes: string[] = [];
    const run = await runWithProgressLine(runner, cfg, placeVcpus(4, 2), { write: (s: string) => writes.push(s) }, 5);
    const plain = await runner.runVm(cfg, { placement: placeVcpus(4, 2) });
    expect(JSON.stringify(run.result)).toBe(JSON.stringify(plain.result));
  });
});
