/**
 * zod and yaml, loaded on first use. Neither is needed to print `--help`, `--version` or
 * to start most commands, and together they cost more than half of such a start (zod's
 * classic API loads 95 files, its locales among them). Both ship CommonJS builds, so
 * `require` loads them synchronously and validation stays synchronous.
 *
 * Every value of either package comes from here (the rest of the source imports their
 * types only, test/shared/lazy-lib.test.ts checks it): one zod instance builds every schema,
 * and z.toJSONSchema (coordinator/store/json-schemas.ts) reads the schemas it built.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as YamlLib from 'yaml';
import type * as ZodLib from 'zod';

const require = createRequire(import.meta.url);

let zodLib: typeof ZodLib | undefined;
let yamlLib: typeof YamlLib | undefined;

/**
 * The build's one-file zod (scripts/bundle.js), next to the build's shared/ (and the worker
 * bundle's worker/): it loads in about half the time of the package's 95 files. From
 * source (tests) it is not there, and the package is loaded.
 */
const VENDORED_ZOD = fileURLToPath(new URL('../vendor/zod.cjs', import.meta.url));

/** The zod namespace (`z`), loaded on the first call. */
export function zod(): typeof ZodLib.z {
  zodLib ??= (existsSync(VENDORED_ZOD) ? require(VENDORED_ZOD) : require('zod')) as typeof ZodLib;
  return zodLib.z;
}

/** The yaml package, loaded on the first call. */
export function yaml(): typeof YamlLib {
  yamlLib ??= require('yaml') as typeof YamlLib;
  return yamlLib;
}

/** A value built on the first call and kept: a schema made of zod's (see zod()). */
export function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
