import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Tests in three tiers by what they cost, named by their file's suffix:
 * - unit (`*.test.ts`): no VM built, no process started; `npm run test:unit`;
 * - sim (`*.sim.test.ts`): whole-VM runs, in this process or on worker threads;
 * - cli (`*.cli.test.ts`): the command line as processes, Redis, Chromium.
 * The tiers that start worker threads or the CLI run the build in dist/; their set-up
 * makes it again first if any source is newer (test/support/fresh-build.ts).
 */
const SIM = 'test/**/*.sim.test.ts';
const CLI = 'test/**/*.cli.test.ts';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60000,
    // list's cache (coordinator/experiments/list-cache.ts) of the CLI the tests run, away from the user's.
    env: { VCPUSIM_CACHE_DIR: join(tmpdir(), 'vcpusim-test-cache') },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [SIM, CLI] } },
      { extends: true, test: { name: 'sim', include: [SIM], globalSetup: ['./test/support/fresh-build.ts'] } },
      { extends: true, test: { name: 'cli', include: [CLI], globalSetup: ['./test/support/fresh-build.ts'] } },
    ],
  },
});
