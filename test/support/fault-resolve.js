/** Module resolve hook registered by fault-hooks.js: the coordinator gets fault-pool.js for dist/coordinator/execution/pool.js. */
const POOL = new URL('../../dist/coordinator/execution/pool.js', import.meta.url).href;
const FAULT_POOL = new URL('./fault-pool.js', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  // fault-pool.js itself imports the real one.
  if (resolved.url === POOL && context.parentURL !== FAULT_POOL) return { ...resolved, url: FAULT_POOL };
  return resolved;
}
