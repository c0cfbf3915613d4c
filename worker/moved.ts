/**
 * A reply whose buffers piscina transfers back to the pool instead of copying them:
 * Piscina.move() (piscina/dist/index.js) marks an object holding [transferableSymbol]
 * and [valueSymbol] (Symbol.for('Piscina.transferable'), Symbol.for('Piscina.valueOf'))
 * with a symbol private to piscina's common.js, which the thread's piscina worker
 * (dist/worker.js, `isMovable`) checks before posting the reply.
 *
 * That worker has loaded common.js already; its markMovable is taken from there, which
 * spares every thread the load of piscina's pool side (index.js and what it requires,
 * ~16 ms of each thread's start) that `import { move } from 'piscina'` cost. Where
 * piscina's files are laid out otherwise, its move() is loaded and used.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Symbol.for('Piscina.transferable'): the buffers to transfer. */
export const transferableSymbol: unique symbol = Symbol.for('Piscina.transferable') as never;
/** Symbol.for('Piscina.valueOf'): the value posted. */
export const valueSymbol: unique symbol = Symbol.for('Piscina.valueOf') as never;

/** A reply piscina posts as its value, transferring its buffers. */
export interface Moved<T> {
  [transferableSymbol]: ArrayBufferLike[];
  [valueSymbol]: T;
}

function findMarkMovable(): (value: object) => void {
  try {
    const common = createRequire(require.resolve('piscina'))('./common.js') as { markMovable?: unknown };
    if (typeof common.markMovable === 'function') return common.markMovable as (value: object) => void;
  } catch {
    // piscina laid out otherwise: its move() below.
  }
  const { move } = require('piscina') as { move: (value: object) => unknown };
  return (value) => void move(value);
}

let markMovable: ((value: object) => void) | undefined;

/** `value` to post, with `buffers` transferred (detached here) rather than copied. */
export function moved<T>(value: T, buffers: ArrayBufferLike[]): Moved<T> {
  const m: Moved<T> = { [transferableSymbol]: buffers, [valueSymbol]: value };
  (markMovable ??= findMarkMovable())(m);
  return m;
}
