/**
 * Global set-up of the test tiers that start worker threads or the CLI (sim, cli): those
 * run the build in dist/, never the sources (piscina's threads do not compile TypeScript).
 * So that a test can never run a stale simulator, every source file is checked against its
 * build, and the build is made again when one is missing or older than its source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsFiles } from './ts-files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = ['coordinator', 'worker', 'shared', 'bench'];

/** The sources whose build is missing or older than they are. */
export function staleSources(root = ROOT): string[] {
  const out: string[] = [];
  for (const dir of BUILT) {
    for (const src of tsFiles(join(root, dir))) {
      if (src.endsWith('.d.ts')) continue;
      const built = join(root, 'dist', relative(root, src).replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(src).mtimeMs) out.push(relative(root, src));
    }
  }
  return out;
}

export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  process.stderr.write(`building dist/: ${stale.length} source file${stale.length > 1 ? 's are' : ' is'} newer than the build (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''})\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}
