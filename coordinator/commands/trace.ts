/**
 * `vcpusim trace analyze FILE`: the cr3 loads of a recorded scheduler trace and the hit
 * rate of a per-CPU cr3 cache of every size under LRU, round-robin and the optimum
 * (trace/analyze.ts), as a table or JSON, with a plot if asked.
 */
import { join } from 'node:path';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { UsageError } from '../../shared/errors.js';
import { ok, type Outcome } from '../cli/outcome.js';
import { FileProblem, PLOT_ALLOWED, checkDirPath, checkPath, displayPath, ensureDir, probeWritable } from '../store/files.js';

const TRACE_PLOT = 'trace-hit-rate.svg';
const TRACE_PNG = 'trace-hit-rate.png';

export interface TraceAnalyzeOptions {
  json: boolean;
  plot?: string;
  kthreads?: RegExp;
  cpus?: number[];
}

export async function traceAnalyzeCommand(file: string, o: TraceAnalyzeOptions): Promise<Outcome> {
  const plotDir = o.plot;
  if (plotDir) {
    checkPath('--plot', PLOT_ALLOWED, () => {
      checkDirPath(plotDir, TRACE_PLOT);
      checkDirPath(plotDir, TRACE_PNG);
      ensureDir(plotDir);
      probeWritable(plotDir, TRACE_PLOT);
      probeWritable(plotDir, TRACE_PNG);
    });
  }
  const { loadTrace } = await import('../trace/load.js');
  const { analyzeTrace, formatTraceReport, traceHitRatePlot } = await import('../trace/analyze.js');
  const shown = displayPath(file);
  let loaded;
  try {
    loaded = loadTrace(file, shown);
  } catch (err) {
    if (err instanceof FileProblem) throw new UsageError({ option: 'trace analyze', file: shown, value: file, allowed: 'a trace file', detail: `${err.reason}; expected a trace file (text or gzip)` }, 'EPATH');
    throw err;
  }
  for (const c of o.cpus ?? []) {
    if (c >= loaded.trace.cpus) throw new UsageError({ option: '--cpus', value: c, allowed: `CPUs 0 to ${loaded.trace.cpus - 1} (the trace has ${loaded.trace.cpus})` });
  }
  const report = analyzeTrace(loaded.trace, { file: shown, sha256: loaded.sha256 }, { kthreads: o.kthreads, cpus: o.cpus });
  if (plotDir) {
    const { renderPng, renderSvg } = await import('../reports/plots.js');
    const { writeFileAtomic } = await import('../store/files.js');
    const svg = await renderSvg(traceHitRatePlot(report));
    for (const [name, bytes] of [
      [TRACE_PLOT, svg + '\n'],
      [TRACE_PNG, await renderPng(svg)],
    ] as const) {
      const out = join(plotDir, name);
      writeFileAtomic(out, bytes);
      process.stderr.write(`wrote ${displayPath(out)}\n`);
    }
  }
  return ok(o.json ? JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...report }, null, 2) + '\n' : formatTraceReport(report) + '\n');
}
