/** `a` copied into an Int32Array twice its length (a stack or list about to outgrow it). */
export function doubled(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(16, a.length * 2));
  b.set(a);
  return b;
}
