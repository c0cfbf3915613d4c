// Made from the build by esbuild after tsc (docs/speed.md):
// - the worker threads' entry as one file (dist/worker/entry.bundle.js): a thread loads one
//   module instead of 135, which took about 100 ms of every thread's start. piscina stays
//   outside: the marker of a moved reply is its worker's own (worker/moved.ts);
// - zod as one CommonJS file (dist/vendor/zod.cjs), which shared/lazy-lib.ts loads instead
//   of the package's 95 files when it is there, with its English messages only.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['dist/worker/entry.js'],
  outfile: 'dist/worker/entry.bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['piscina'],
  logLevel: 'warning',
});

/**
 * zod's locales/index.cjs requires all of its ~50 locales when it loads (43% of the
 * bundle's lines); every message zod gives here is English, which zod's schemas take from
 * locales/en.cjs directly. `z.locales` keeps English alone.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /[\\/]locales[\\/]index\.cjs$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: args.path, namespace: 'zod-locales', pluginData: args.resolveDir } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'Object.defineProperty(exports, "__esModule", { value: true });\nexports.en = require("./en.cjs").default;\n',
      resolveDir: `${args.pluginData}/../locales`,
      loader: 'js',
    }));
  },
};

await build({
  absWorkingDir: root,
  stdin: { contents: "module.exports = require('zod');", resolveDir: root, sourcefile: 'zod-entry.cjs', loader: 'js' },
  outfile: 'dist/vendor/zod.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  plugins: [englishOnly],
  logLevel: 'warning',
});
