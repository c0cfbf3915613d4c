/**
 * list's entries kept between runs (coordinator/experiments/list-cache.ts): a file unchanged since it
 * was validated is not validated again; a change to its bytes, its path as shown, or a
 * cache that cannot be read or written, and it is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedListEntries, listCacheDir, type ListEntry } from '../../coordinator/experiments/list-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'vcpusim-list-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let cacheDir: string;
const saved = process.env.VCPUSIM_CACHE_DIR;
beforeEach(() => {
  cacheDir = mkdtempSync(join(dir, 'cache-'));
  process.env.VCPUSIM_CACHE_DIR = cacheDir;
});
afterEach(() => {
  if (saved === undefined) delete process.env.VCPUSIM_CACHE_DIR;
  else process.env.VCPUSIM_CACHE_DIR = saved;
});

const a = join(dir, 'a.yaml');
const b = join(dir, 'b.yaml');
writeFileSync(a, 'name: a\n');
writeFileSync(b, 'name: b\n');
const files = [
  { name: 'a', file: a },
  { name: 'b', file: b },
];

/** The entries, and which files `compute` was asked for (each one's runs: the length of its text). */
function listing(shown = (f: string) => f): { entries: ListEntry[]; computed: string[] } {
  const computed: string[] = [];
  const entries = cachedListEntries(files, shown, (name, file) => {
    computed.push(name);
    return name === 'b' ? { name, error: `${file}: broken` } : { name, description: 'd', runs: 7 };
  });
  return { entries, computed };
}

describe('list cache', () => {
  it('lives where VCPUSIM_CACHE_DIR says', () => {
    expect(listCacheDir()).toBe(cacheDir);
  });

  it('validates each file once; the second listing takes every entry, errors included, from the cache', () => {
    const first = listing();
    expect(first.computed).toEqual(['a', 'b']);
    expect(first.entries).toEqual([{ name: 'a', description: 'd', runs: 7 }, { name: 'b', error: `${b}: broken` }]);
    const second = listing();
    expect(second.computed).toEqual([]);
    expect(second.entries).toEqual(first.entries);
  });

  it('validates again a file whose bytes changed, and one shown under another path', () => {
    listing();
    writeFileSync(b, 'name: b\ndescription: x\n');
    expect(listing().computed).toEqual(['b']);
    expect(listing().computed).toEqual([]);
    expect(listing((f) => `./${f}`).computed).toEqual(['a', 'b']);
  });

  it('a cache file that is not one is ignored and replaced; a cache that cannot be written leaves the listing as it is', () => {
    writeFileSync(join(cacheDir, 'list.json'), '{"format": "vcpusim-list-cache-1", "entries": [1, 2]}');
    expect(listing().computed).toEqual(['a', 'b']);
    expect(listing().computed).toEqual([]);
    const blocked = join(cacheDir, 'not-a-dir');
    writeFileSync(blocked, '');
    process.env.VCPUSIM_CACHE_DIR = blocked;
    expect(listing().computed).toEqual(['a', 'b']);
    expect(listing().entries).toEqual([{ name: 'a', description: 'd', runs: 7 }, { name: 'b', error: `${b}: broken` }]);
  });

  it('a file that cannot be read is validated every time (its error is not kept)', () => {
    const gone = [{ name: 'gone', file: join(dir, 'gone.yaml') }];
    const ask = () => {
      let n = 0;
      cachedListEntries(gone, (f) => f, (name) => (n++, { name, error: 'does not exist' }));
      return n;
    };
    expect(ask()).toBe(1);
    expect(ask()).toBe(1);
  });
});
