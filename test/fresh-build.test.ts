/** The guard of the tiers that run dist/ (test/support/fresh-build.ts): a source newer than its build, or without one, is found. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleSources } from './support/fresh-build.js';

describe('fresh build guard', () => {
  const root = mkdtempSync(join(tmpdir(), 'vcpusim-fresh-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['coordinator', 'worker', 'shared', 'bench', 'dist/coordinator', 'dist/worker', 'dist/shared', 'dist/bench']) mkdirSync(join(root, d), { recursive: true });
  const put = (path: string, seconds: number) => {
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), seconds, seconds);
  };

  it('names a source whose build is older or missing, and none when the build is newer', () => {
    put('worker/vm.ts', 1000);
    put('dist/worker/vm.js', 2000);
    put('shared/a.ts', 3000);
    put('dist/shared/a.js', 2000);
    put('coordinator/b.ts', 1000);
    put('coordinator/types.d.ts', 5000);
    expect(staleSources(root).sort()).toEqual(['coordinator/b.ts', 'shared/a.ts']);
    put('dist/shared/a.js', 4000);
    put('dist/coordinator/b.js', 4000);
    expect(staleSources(root)).toEqual([]);
  });
});
