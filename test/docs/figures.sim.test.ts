/**
 * The figures the docs quote are the current model's: every generated block was made by this
 * model version with these cost profiles (scripts/doc-figures.js stamps each), the cheap
 * blocks come out the same when made again, and docs/cli.md is what the program prints.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface DocFigures {
  STAMP: string;
  DOCS: string[];
  BLOCKS: Record<string, { cheap: boolean; make: () => Promise<string> }>;
  blocksOf(text: string): { id: string; stamp: string; body: string }[];
  cliDoc(): Promise<string>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const script: string = join(ROOT, 'scripts', 'doc-figures.js');
const figures = (await import(script)) as DocFigures;

describe('the figures of the docs', () => {
  const docs = figures.DOCS.map((file) => ({ file, blocks: figures.blocksOf(readFileSync(join(ROOT, file), 'utf8')) }));

  it('has blocks, each with a generator, each made by this model version and these profiles (npm run docs makes them again)', () => {
    const all = docs.flatMap((d) => d.blocks.map((b) => ({ ...b, file: d.file })));
    expect(all.length).toBeGreaterThan(10);
    for (const b of all) {
      expect(Object.keys(figures.BLOCKS), `${b.file}: ${b.id}`).toContain(b.id);
      expect(b.stamp, `${b.file}: ${b.id}`).toBe(figures.STAMP);
      expect(b.body.trim(), `${b.file}: ${b.id}`).not.toBe('');
    }
  });

  it('makes the cheap blocks again exactly as the docs hold them', async () => {
    for (const { file, blocks } of docs) {
      for (const b of blocks) {
        if (!figures.BLOCKS[b.id]!.cheap) continue;
        expect((await figures.BLOCKS[b.id]!.make()).trimEnd(), `${file}: ${b.id}`).toBe(b.body.trimEnd());
      }
    }
  });

  it('docs/cli.md is the program\'s own help', async () => {
    expect(readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8')).toBe(await figures.cliDoc());
  });
});
