/**
 * The Redis server the queue tests use: VCPUSIM_TEST_REDIS (.ci/run starts one), or else
 * a redis-server from PATH started here on a free port and shut down after the file's
 * tests. Each test uses a queue name of its own, so tests and files do not collide.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface TestRedis {
  url: string;
  stop(): void;
}

export async function testRedis(): Promise<TestRedis> {
  const given = process.env.VCPUSIM_TEST_REDIS;
  if (given) return { url: given, stop() {} };
  const port = await freePort();
  const r = spawnSync('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'yes'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-server did not start (set VCPUSIM_TEST_REDIS or install redis-server): ${r.stderr || r.error?.message}`);
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => void spawn('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' }) };
}

/** A queue name no other test uses. */
export const uniqueQueue = (label: string): string => `test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;

export interface PrivateRedis extends TestRedis {
  /** Stop the server without saving and start it again on the same port: every key is gone. */
  restart(): Promise<void>;
}

/** A redis-server of this file's own (never VCPUSIM_TEST_REDIS), for tests that stop or restart it. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'yes'];
  const up = async (): Promise<void> => {
    const r = spawnSync('redis-server', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`redis-server did not start: ${r.stderr || r.error?.message}`);
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('redis-server did not answer');
  };
  const down = (): void => void spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  await up();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: down,
    async restart() {
      down();
      await up();
    },
  };
}
