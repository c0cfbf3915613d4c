import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../bin/vcpusim.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vcpusim-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });

// One CPU, a ring of three processes loaded 12 times: LRU and round-robin hit from 3 entries on.
const line = (i: number, prev: number, next: number) =>
  `  p-${prev} [000] d..2 1.${String(i).padStart(6, '0')}: sched_switch: prev_comm=p prev_pid=${prev} prev_prio=120 prev_state=S ==> next_comm=p next_pid=${next} next_prio=120`;
const ring = Array.from({ length: 12 }, (_, i) => line(i, 100 + ((i + 2) % 3), 100 + (i % 3))).join('\n') + '\n';
writeFileSync(join(dir, 'ring.txt'), ring);
writeFileSync(join(dir, 'ring.txt.gz'), gzipSync(ring));

describe('vcpusim trace analyze (built CLI)', () => {
  it('--json: switches, cr3 loads, address spaces and the hit rate of every size under each policy', () => {
    const r = cli('trace', 'analyze', 'ring.txt', '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ switches: 12, cpus: 1, cr3Loads: 12, addressSpaces: 3 });
    expect(Object.keys(doc.hitRate.lru)).toHaveLength(64);
    // 12 loads, the first 3 compulsory: 9/12 hit from 3 entries on; none with 1 or 2 (LRU, round-robin).
    expect([doc.hitRate.lru['2'], doc.hitRate.lru['3'], doc.hitRate.roundRobin['3'], doc.hitRate.opt['64']]).toEqual([0, 0.75, 0.75, 0.75]);
    // The optimum with 2 entries keeps the one loaded next: every other load after the first two hits.
    expect(doc.exitsAvoided.opt['2']).toBe(5);
    expect(doc.perCpu).toHaveLength(1);
  });

  it('gzip gives the same analysis (its own sha256); --plot writes the SVG and a PNG', () => {
    const a = JSON.parse(cli('trace', 'analyze', 'ring.txt', '--json').stdout);
    const r = cli('trace', 'analyze', 'ring.txt.gz', '--json', '--plot', 'plots');
    expect(r.status).toBe(0);
    const b = JSON.parse(r.stdout);
    expect(b.hitRate).toEqual(a.hitRate);
    expect(b.sha256).not.toBe(a.sha256);
    const svg = readFileSync(join(dir, 'plots', 'trace-hit-rate.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    // The legend's labels whole, and a PNG beside the SVG.
    expect(svg).toContain('round-robin (the patch)');
    expect(svg).toContain("Belady's optimum");
    expect([...readFileSync(join(dir, 'plots', 'trace-hit-rate.png')).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('a bad line: exit 2, one line naming the file and the line', () => {
    writeFileSync(join(dir, 'bad.txt'), ring + 'p-1 [000] 1.5: sched_switch: nonsense\n');
    const r = cli('trace', 'analyze', 'bad.txt');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: bad\.txt: line 13: expected a sched_switch with/);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('run --workload trace replays it; reproduce trace-cache-sweep --trace takes the file; a trace in another workload is an error', () => {
    const r = cli('run', '--workload', 'trace', '--trace', 'ring.txt', '--mode', 'kvm-paravirt', '--cache-size', '2', '--json');
    expect(r.status).toBe(0);
    const run = JSON.parse(r.stdout);
    // 12 switches, 12 cr3 loads (the first from the idle task), as the analysis counts them.
    expect(run.guest.addressSpaceSwitches).toBe(12);
    expect(run.config.traceSha256).toMatch(/^[0-9a-f]{64}$/);
    const sweep = cli('reproduce', 'trace-cache-sweep', '--trace', 'ring.txt', '--json', '--results', 'store');
    expect(sweep.status).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ points: 14, merged: 6, total: 8, ran: 8, failed: [] });
    const bad = cli('run', '--workload', 'ctxswitch', '--trace', 'ring.txt');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('error: --trace: "ring.txt" has no effect on ctxswitch; it applies to trace\n');
  });
});
