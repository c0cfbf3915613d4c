/**
 * `node dist/bench/ab.js <other> '<config json>' [rounds]`: this build against another
 * built tree (`<other>`: a checkout with its own `npm run build`, e.g. a git worktree of
 * the commit before), alternately in one process: round k runs each build's config once,
 * in turns (other first in even rounds), after two warm-up runs of each. Prints each
 * build's median ns per event and the median of the rounds' ratios (this / other).
 *
 * Two builds are two module graphs, each with its own classes and compiled code; in one
 * process they share the core, its caches and the host's slow and fast minutes, which on
 * this kind of machine move a separate process's figures by ±10-50%. A change of a few
 * per cent shows here and not between processes.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configArg, failer, roundsArg } from './args.js';
import { median } from './median.js';

type TimeRun = (cfg: unknown) => { runS: number; allEvents: number };
interface Build {
  cfg: unknown;
  timeRun: TimeRun;
}

const fail: (line: string) => never = failer('ab');

async function load(root: string, json: unknown): Promise<Build> {
  const config = join(root, 'dist/shared/config.js');
  const time = join(root, 'dist/bench/time-run.js');
  if (!existsSync(config) || !existsSync(time)) fail(`${root}: no built tree there (dist/shared/config.js, dist/bench/time-run.js); run npm run build in it`);
  const { resolveConfig } = (await import(pathToFileURL(config).href)) as { resolveConfig: (x: unknown) => unknown };
  const { timeRun } = (await import(pathToFileURL(time).href)) as { timeRun: TimeRun };
  try {
    return { cfg: resolveConfig(json), timeRun };
  } catch (e) {
    return fail(`config refused by ${root}: ${(e as Error).message.split('\n')[0]}`);
  }
}

const nsPerEvent = (b: Build): number => {
  const r = b.timeRun(b.cfg);
  return (r.runS / r.allEvents) * 1e9;
};

const [other, text, roundsText = '10'] = process.argv.slice(2);
if (other === undefined || text === undefined) fail("usage: node dist/bench/ab.js <other built tree> '<config json>' [rounds]");
const json = configArg(text, fail);
const rounds = roundsArg(roundsText, fail);

/** This tree: dist/bench/ab.js is two levels below it. */
const here = fileURLToPath(new URL('../..', import.meta.url));
const A = await load(resolve(other), json);
const B = await load(here, json);
for (let i = 0; i < 2; i++) {
  nsPerEvent(A);
  nsPerEvent(B);
}
const as: number[] = [];
const bs: number[] = [];
const ratios: number[] = [];
for (let k = 0; k < rounds; k++) {
  let a: number;
  let b: number;
  if (k % 2 === 0) {
    a = nsPerEvent(A);
    b = nsPerEvent(B);
  } else {
    b = nsPerEvent(B);
    a = nsPerEvent(A);
  }
  as.push(a);
  bs.push(b);
  ratios.push(b / a);
}
console.log(
  `other ${median(as).toFixed(1)} ns/event, this ${median(bs).toFixed(1)} ns/event (medians of ${rounds}); this/other by round: median ${median(ratios).toFixed(3)}, from ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)}`,
);
