import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60000,
    // list's cache (coordinator/list-cache.ts) of the CLI the tests run, away from the user's.
    env: { VCPUSIM_CACHE_DIR: join(tmpdir(), 'vcpusim-test-cache') },
  },
});
