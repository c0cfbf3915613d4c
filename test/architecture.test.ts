/**
 * The shape of the source tree: no import cycles (type-only imports included), no file
 * under worker/ over 500 lines nor under coordinator/ over 400, the layers of worker/
 * importing only downwards (machine/ knows nothing above it, hypervisor/ knows the
 * machine, guest/ knows the machine and the hypervisor's interface: the Platform seam and
 * the paravirt ABI), nothing in worker/ importing the coordinator, the coordinator using
 * the simulator only through worker/'s top-level api.ts, protocol.ts and model.ts, and the
 * coordinator's rooms importing only the rooms below them.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tsFiles } from './support/ts-files.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['coordinator', 'worker', 'shared', 'bench'];

/** Every project file a source file imports (static, dynamic and type-only), as paths relative to the root. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    out.push(relative(ROOT, resolve(dirname(file), ref.fileName.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const files = SOURCE_DIRS.flatMap((d) => tsFiles(join(ROOT, d))).map((f) => relative(ROOT, f));
const graph = new Map(files.map((f) => [f, importsOf(join(ROOT, f))]));

/** The strongly connected components of more than one file (Tarjan), and files that import themselves. */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return out;
}

/** Which layer of worker/ a file belongs to. */
function layerOf(f: string): string | null {
  const m = /^worker\/(machine|hypervisor|guest|smp|workloads)\//.exec(f);
  return m ? m[1]! : f.startsWith('worker/') ? 'worker' : null;
}

/** What each layer may import from the others (its own files always). */
const ALLOWED: Record<string, readonly string[]> = {
  machine: [],
  hypervisor: ['machine', 'smp'],
  guest: ['machine', 'smp', 'hypervisor/platform.ts', 'hypervisor/kvm-para.ts'],
  smp: [],
  workloads: ['guest', 'machine'],
  worker: ['machine', 'hypervisor', 'guest', 'smp', 'workloads'],
};

/** The coordinator's rooms. */
const ROOM = /^coordinator\/(cli|commands|experiments|execution|store|reports|calibration|queue|trace)\//;

/** What each room may import (its own files always): cli/ and commands/ on top, then the rooms that do the work, store/ and reports/ at the bottom. */
const ROOM_ALLOWED: Record<string, readonly string[]> = {
  cli: ['commands', 'experiments', 'execution', 'store', 'reports', 'queue'],
  commands: ['cli', 'experiments', 'execution', 'store', 'reports', 'calibration', 'queue', 'trace'],
  calibration: ['experiments', 'execution', 'store'],
  queue: ['execution', 'store'],
  execution: ['store'],
  experiments: ['store', 'reports'],
  trace: ['store'],
  reports: ['experiments', 'store'],
  store: ['experiments'],
};

/** The worker files the coordinator may import. */
const WORKER_API = ['worker/api.ts', 'worker/protocol.ts', 'worker/model.ts'];

describe('source tree', () => {
  it('has no import cycle, type-only imports included', () => {
    expect(cycles()).toEqual([]);
  });

  it('has no file under worker/ over 500 lines', () => {
    const long = files
      .filter((f) => f.startsWith('worker/'))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > 500);
    expect(long).toEqual([]);
  });

  it('keeps the layers of worker/ importing downwards only, and worker/ off the coordinator', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = layerOf(f);
      if (from === null) continue;
      for (const d of deps) {
        if (d.startsWith('coordinator/')) bad.push(`${f} -> ${d}`);
        const to = layerOf(d);
        if (to === null || to === from) continue;
        const rel = d.slice('worker/'.length);
        if (!ALLOWED[from]!.some((a) => a === to || a === rel)) bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no file under coordinator/ over 400 lines, and no file at its top level', () => {
    const coord = files.filter((f) => f.startsWith('coordinator/'));
    const long = coord.map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 })).filter((x) => x.lines > 400);
    expect(long).toEqual([]);
    expect(coord.filter((f) => !ROOM.test(f))).toEqual([]);
  });

  it('lets the coordinator reach the simulator only through worker/api.ts, protocol.ts and model.ts', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      if (!f.startsWith('coordinator/')) continue;
      for (const d of deps) if (d.startsWith('worker/') && !WORKER_API.includes(d)) bad.push(`${f} -> ${d}`);
    }
    expect(bad).toEqual([]);
  });

  it("keeps the coordinator's rooms importing only the rooms below them", () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = ROOM.exec(f)?.[1];
      if (from === undefined) continue;
      for (const d of deps) {
        const to = ROOM.exec(d)?.[1];
        if (to !== undefined && to !== from && !ROOM_ALLOWED[from]!.includes(to)) bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('finds the imports it checks (the graph is not empty, and a cycle would be seen)', () => {
    expect(graph.get('worker/vm.ts')?.length ?? 0).toBeGreaterThan(3);
    expect(files.length).toBeGreaterThan(40);
  });
});
