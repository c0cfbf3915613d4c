/**
 * --help and list load only what they print: the simulator (worker/), the thread pool
 * (piscina), the plots (vega, vega-lite, resvg), the queue (bullmq, ioredis) and the codec
 * (msgpackr) load inside the commands that use them (`await import` in coordinator/commands/);
 * zod and yaml load when something is first validated or parsed (shared/lazy-lib.ts), so
 * --help and --version load neither.
 * A module-resolve hook (node:module register) records every URL the process resolves;
 * zod and yaml are `require`d (which that hook does not see), so the files in require's
 * cache are listed as the process exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = `export async function resolve(s, c, n) { const r = await n(s, c); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }`;
const REGISTER = `import { createRequire, register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
const cache = createRequire(process.cwd() + '/').cache;
process.on('exit', () => { for (const f of Object.keys(cache)) process.stderr.write('REQUIRED ' + f + '\\n'); });`;

/** The project files the process resolves (ES modules) and the files `require` loaded (CommonJS), relative to the root. */
function probe(args: string[], env: NodeJS.ProcessEnv = process.env): { urls: string[]; files: string[]; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER), BIN, ...args], { encoding: 'utf8', env });
  expect(r.status).toBe(0);
  const lines = r.stderr.split('\n');
  return {
    stdout: r.stdout,
    urls: lines.filter((l) => l.startsWith('RESOLVED file:')).map((l) => fileURLToPath(l.slice('RESOLVED '.length)).slice(ROOT.length)),
    files: lines.filter((l) => l.startsWith('REQUIRED ' + ROOT)).map((l) => l.slice('REQUIRED '.length + ROOT.length)),
  };
}

const loaded = (args: string[]): string[] => probe(args).urls;

const VALIDATION = /^(node_modules\/(zod|yaml)\/|dist\/vendor\/zod\.cjs$)/;
/** zod: the build's one file (scripts/bundle.js), or the package's. */
const ZOD = /^(node_modules\/zod\/|dist\/vendor\/zod\.cjs$)/;

// The simulator is dist/worker/ but for model.js (the model version --version prints).
const HEAVY = [
  /^node_modules\/(cli-progress|piscina|vega|vega-lite|@resvg|bullmq|ioredis|msgpackr|comlink)\//,
  /^dist\/worker\/(?!model\.js$)/,
  /^dist\/coordinator\/(execution\/(runner|local|pool|split|live|execute)|reports\/(plots|html|compare|tidy)|calibration\/.*)\.js$/,
];

describe('lazy loading', () => {
  for (const args of [['--help'], ['list'], ['run', '--help']]) {
    it(`${args.join(' ')} loads none of the simulator, pool, plots or queue`, () => {
      const urls = loaded(args);
      // The hook saw the CLI itself: an empty list would pass vacuously.
      expect(urls).toContain('dist/coordinator/cli/main.js');
      expect(urls.filter((u) => HEAVY.some((re) => re.test(u)))).toEqual([]);
    });
  }

  for (const args of [['--help'], ['--version'], ['run', '--help'], ['sweep', '--help']]) {
    it(`${args.join(' ')} loads neither zod nor yaml`, () => {
      const { files } = probe(args);
      // commander is required too: an empty list would pass vacuously.
      expect(files.some((f) => f.startsWith('node_modules/commander/'))).toBe(true);
      expect(files.filter((f) => VALIDATION.test(f))).toEqual([]);
    });
  }

  for (const args of [['list'], ['list', '--json']]) {
    it(`${args.join(' ')}, its files validated before and unchanged (list-cache.ts), loads neither zod nor yaml and prints the same`, () => {
      const cache = mkdtempSync(join(tmpdir(), 'vcpusim-lazy-cache-'));
      try {
        const env = { ...process.env, VCPUSIM_CACHE_DIR: cache };
        const cold = probe(args, env);
        expect(cold.files.some((f) => ZOD.test(f)) && cold.files.some((f) => f.startsWith('node_modules/yaml/'))).toBe(true);
        const warm = probe(args, env);
        expect(warm.files.some((f) => f.startsWith('node_modules/commander/'))).toBe(true);
        expect(warm.files.filter((f) => VALIDATION.test(f))).toEqual([]);
        expect(warm.stdout).toBe(cold.stdout);
        expect(warm.stdout).toMatch(args.includes('--json') ? /"name": "trace-cache-sweep",\n\s*"description": "[^"]+",\n\s*"runs": 8\n/ : /trace-cache-sweep +8 runs/);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });
  }

  it('a run does load the simulator and the pool (the hook sees them), and zod to validate its config', () => {
    const { urls, files } = probe(['run', '--mode', 'native', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '200', '--json']);
    expect(urls).toContain('dist/coordinator/execution/pool.js');
    expect(urls.some((u) => u.startsWith('node_modules/piscina/'))).toBe(true);
    // The build's one-file zod, not the package's 95 files.
    expect(files).toContain('dist/vendor/zod.cjs');
    expect(files.some((f) => f.startsWith('node_modules/zod/'))).toBe(false);
    expect(files.some((f) => f.startsWith('node_modules/yaml/'))).toBe(false);
  });

  it("a plain run starts its thread's pool before the command line loads; with --workers, after (cli/early.ts)", () => {
    const plain = probe(['run', '--mode', 'native', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '200', '--json']).urls;
    expect(plain.indexOf('dist/coordinator/execution/pool.js')).toBeGreaterThan(-1);
    expect(plain.indexOf('dist/coordinator/execution/pool.js')).toBeLessThan(plain.indexOf('dist/coordinator/cli/main.js'));
    const two = probe(['run', '--mode', 'native', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '200', '--vcpus', '2', '--workers', '2', '--json']).urls;
    expect(two.indexOf('dist/coordinator/cli/main.js')).toBeGreaterThan(-1);
    expect(two.indexOf('dist/coordinator/execution/pool.js')).toBeGreaterThan(two.indexOf('dist/coordinator/cli/main.js'));
  });

  it("a run decodes with msgpackr's plain build: neither its stream classes nor the native extractor's loaders", () => {
    const { urls, files } = probe(['run', '--mode', 'native', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '200', '--json']);
    expect(urls).toContain('node_modules/msgpackr/index.js');
    expect(urls.filter((u) => /^node_modules\/msgpackr\/(node-index|stream)\.js$/.test(u))).toEqual([]);
    expect(files.filter((f) => /^node_modules\/(msgpackr-extract|node-gyp-build|detect-libc)/.test(f))).toEqual([]);
  });
});
