/**
 * --help and list load only what they print: the simulator (worker/), the thread pool
 * (piscina), the plots (vega, vega-lite, resvg), the queue (bullmq, ioredis) and the codec
 * (msgpackr) load inside the commands that use them (`await import` in coordinator/cli.ts).
 * A module-resolve hook (node:module register) records every URL the process resolves.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = `export async function resolve(s, c, n) { const r = await n(s, c); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }`;
const REGISTER = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));`;

function loaded(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER), BIN, ...args], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('RESOLVED file:'))
    .map((l) => fileURLToPath(l.slice('RESOLVED '.length)).slice(ROOT.length));
}

const HEAVY = [/^node_modules\/(cli-progress|piscina|vega|vega-lite|@resvg|bullmq|ioredis|msgpackr|comlink)\//, /^dist\/worker\//, /^dist\/coordinator\/(runner|pool|vm-split|live|plot|execute|calibrate)\.js$/];

describe('lazy loading', () => {
  for (const args of [['--help'], ['list'], ['run', '--help']]) {
    it(`${args.join(' ')} loads none of the simulator, pool, plots or queue`, () => {
      const urls = loaded(args);
      // The hook saw the CLI itself: an empty list would pass vacuously.
      expect(urls).toContain('dist/coordinator/cli.js');
      expect(urls.filter((u) => HEAVY.some((re) => re.test(u)))).toEqual([]);
    });
  }

  it('a run does load the simulator and the pool (the hook sees them)', () => {
    const urls = loaded(['run', '--mode', 'native', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '200', '--json']);
    expect(urls).toContain('dist/coordinator/pool.js');
    expect(urls.some((u) => u.startsWith('node_modules/piscina/'))).toBe(true);
  });
});
