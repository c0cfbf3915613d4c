import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { moved, transferableSymbol, valueSymbol } from '../../worker/moved.js';

/** piscina's own test of a reply, from the module instance its worker (dist/worker.js) uses. */
const require = createRequire(import.meta.url);
const { isMovable } = createRequire(require.resolve('piscina'))('./common.js') as { isMovable: (v: unknown) => boolean };

describe('moved', () => {
  it("is a reply piscina's worker transfers: its value and buffers under piscina's symbols, marked movable", () => {
    const bytes = new Uint8Array(16);
    const value = { result: bytes, hostSeconds: 0.5 };
    const m = moved(value, [bytes.buffer]);
    expect(isMovable(m)).toBe(true);
    expect(m[valueSymbol]).toBe(value);
    expect(m[transferableSymbol]).toEqual([bytes.buffer]);
    // The same shape unmarked is not: the mark is what moved() adds.
    expect(isMovable({ [transferableSymbol]: [bytes.buffer], [valueSymbol]: value })).toBe(false);
  });
});
