/**
 * The built CLI as a child process of a test: its output collected as it comes, its end
 * awaitable, and a poll for a condition with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));

export type Child = ChildProcess & { out: () => string; err: () => string; done: Promise<{ code: number | null; signal: string | null }> };

/** Start `vcpusim args` in `cwd` (node options `nodeArgs` first, `env` added to this process's). `track` receives the child, for killing it after the tests. */
export function startCli(cwd: string, args: string[], opts: { env?: Record<string, string>; nodeArgs?: string[]; track?: ChildProcess[] } = {}): Child {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  opts.track?.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  return Object.assign(child, { out: () => out, err: () => err, done });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond` holds, polling every `every` ms; throw after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, every = 20): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(every);
  }
}
