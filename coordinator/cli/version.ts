/** The version of vcpusim: the `version` of its package.json (source and build both live below the root). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const v = (JSON.parse(readFileSync(p, 'utf8')) as { version?: unknown }).version;
      return typeof v === 'string' ? v : 'unknown';
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
