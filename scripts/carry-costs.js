#!/usr/bin/env node
/**
 * The profiles of today carry the guest's kernel-path costs (and QEMU's, and the 2007
 * MMU's) from the fitted Core 2 profile: no measurement of those paths on the newer cores
 * exists. After a new fit (`vcpusim calibrate`), this copies the fitted values into every
 * cost of profiles/*.json whose note says it is carried from core2-2007-fitted, keeping the
 * notes. test/docs/profiles.test.ts checks that none lags.
 *
 *   node scripts/carry-costs.js     (after npm run build)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { PROFILES } = await import(pathToFileURL(join(ROOT, 'dist', 'shared', 'costs.js')).href);
const fitted = PROFILES['core2-2007-fitted'];
for (const f of readdirSync(join(ROOT, 'profiles')).filter((n) => n.endsWith('.json'))) {
  const path = join(ROOT, 'profiles', f);
  const file = JSON.parse(readFileSync(path, 'utf8'));
  let changed = 0;
  for (const [name, c] of Object.entries(file.costs)) {
    if (!c.note.startsWith('carried from core2-2007-fitted')) continue;
    const v = fitted.costs[name].value;
    if (c.value !== v) {
      c.value = v;
      changed++;
    }
  }
  if (changed > 0) {
    writeFileSync(path, JSON.stringify(file, null, 2) + '\n');
    process.stderr.write(`${f}: ${changed} carried costs updated\n`);
  }
}
