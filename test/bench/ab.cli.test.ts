import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ab = (...args: string[]) => spawnSync(process.execPath, ['dist/bench/ab.js', ...args], { cwd: root, encoding: 'utf8' });

describe('bench/ab: two builds alternately in one process', () => {
  it('times this tree against itself: two medians and the ratio of the rounds', () => {
    const p = ab(root, JSON.stringify({ mode: 'native', workload: 'ctxswitch', tasks: 2, loops: 200 }), '2');
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    const m = /^other ([0-9.]+) ns\/event, this ([0-9.]+) ns\/event \(medians of 2\); this\/other by round: median ([0-9.]+), from ([0-9.]+) to ([0-9.]+)\n$/.exec(p.stdout);
    expect(m, p.stdout).not.toBeNull();
    const [other, self, med, lo, hi] = m!.slice(1).map(Number) as [number, number, number, number, number];
    expect(other).toBeGreaterThan(0);
    expect(self).toBeGreaterThan(0);
    expect(lo).toBeLessThanOrEqual(med);
    expect(med).toBeLessThanOrEqual(hi);
  });

  it.each([
    [['/nonexistent-tree', '{}'], /^ab: \/nonexistent-tree: no built tree there/],
    [[root, '{x'], /^ab: config: not JSON: \{x$/],
    [[root, '{"mode":"nope"}'], /^ab: config refused by .*: mode: "nope" is not allowed/],
    [[root, '{}', '0'], /^ab: rounds: 0 is not a whole number from 1 to 1000$/],
    [[], /^ab: usage: /],
  ])('refuses %j with one line and exit 2', (args, line) => {
    const p = ab(...args);
    expect(p.status).toBe(2);
    expect(p.stdout).toBe('');
    expect(p.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(p.stderr.trimEnd()).toMatch(line);
  });
});
