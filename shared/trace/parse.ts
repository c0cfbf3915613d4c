/**
 * Parsers of the Linux scheduler traces a researcher has: ftrace's `trace` / `trace_pipe`
 * text (kernel/trace/trace_output.c: `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS`, with
 * or without the `(TGID)` column of the record-tgid option, 4 or 5 flag characters, the
 * `#P:` CPU count in the header, `CPU:N [LOST M EVENTS]` lines), `trace-cmd report`
 * (`version = N` and `cpus=N` headers, `CPU N is empty`; sched_switch in its plugin form
 * `prev:pid [prio] S ==> next:pid [prio]` or raw `-R` fields with a numeric prev_state and
 * no `==>`), and `perf sched script` (`COMM PID[/TID] [CPU] TIMESTAMP: sched:EVENT: FIELDS`).
 *
 * Events used: sched_switch (required), and where present sched_process_fork,
 * sched_process_exec, sched_process_exit, sched_migrate_task, sched_wakeup /
 * sched_wakeup_new / sched_waking (their field layouts as include/trace/events/sched.h
 * prints them). Other events are skipped and counted. A line that is none of these is an
 * error naming the file, the line and what was expected.
 */
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors.js';

export type TraceFormat = 'ftrace' | 'trace-cmd' | 'perf';

/** Event kinds, in `kind` of TraceEvents. */
export const EV_SWITCH = 0;
export const EV_FORK = 1;
export const EV_EXEC = 2;
export const EV_EXIT = 3;
export const EV_MIGRATE = 4;
export const EV_WAKEUP = 5;

/** `flags` of a switch: the previous task was still runnable (preempted, prev_state R). */
export const SW_PREV_RUNNABLE = 1;

/**
 * The events of a trace in file order, one struct of arrays:
 * - switch: cpu, a = prev pid, b = next pid, flags;
 * - fork: a = parent pid, b = child pid; exec: a = pid; exit: a = pid;
 * - migrate: a = pid, b = destination cpu; wakeup: a = pid, b = target cpu.
 */
export interface TraceEvents {
  readonly length: number;
  readonly kind: Uint8Array;
  readonly cpu: Int32Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly flags: Uint8Array;
  /** Seconds, as printed. */
  readonly time: Float64Array;
}

export interface ParsedTrace {
  readonly format: TraceFormat;
  /** CPUs: the header's count (`#P:`, `cpus=`) or one more than the highest CPU seen. */
  readonly cpus: number;
  readonly events: TraceEvents;
  /** A task's comm as last seen (pid -> comm). */
  readonly comms: ReadonlyMap<number, string>;
  /** A task's thread group where the trace shows it (TGID column, perf's PID/TID). */
  readonly tgids: ReadonlyMap<number, number>;
  /** Lines of events this parser does not use, by event name. */
  readonly skipped: Readonly<Record<string, number>>;
  /** Events the tracer reported lost (LOST lines). */
  readonly lostEvents: number;
  /** Lines read. */
  readonly lines: number;
}

/** A line that is not what a trace of its format holds. */
export class TraceParseError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly expected: string,
    readonly text: string,
  ) {
    const got = text ? `; got ${JSON.stringify(text.length > 120 ? text.slice(0, 120) + '…' : text)}` : '';
    super('EUSAGE', { file, detail: `line ${line}: expected ${expected}${got}` });
  }
}

// TASK-PID (TGID) [CPU] FLAGS TIMESTAMP: EVENT: FIELDS. The comm may hold '-' and spaces.
const FTRACE_LINE = /^\s*(.+?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([^\s[\]]{4,5})\s+)?(\d+\.\d+):\s+([\w:]+):\s?(.*)$/;
// COMM PID[/TID] [CPU] TIMESTAMP: sched:EVENT: FIELDS (perf script's default fields). A
// sample perf could not tie to a thread it knows is printed as `:-1 -1` (its unknown-thread
// comm and pid, tools/perf/util/thread.c): the event's own fields still name the tasks.
const PERF_LINE = /^\s*(.+?)\s+(-1|\d+)(?:\/(-1|\d+))?\s+\[(\d+)\]\s+(\d+\.\d+):\s+(?:\d+\s+)?([\w:]+):\s?(.*)$/;
const LOST = /^\s*CPU:?\s*(\d+)\s*\[LOST (\d+) EVENTS\]\s*$/;

const SWITCH_KV = /^\s*prev_comm=(.*?) prev_pid=(-?\d+) prev_prio=(-?\d+) prev_state=(\S+)(?: ==>)? next_comm=(.*?) next_pid=(-?\d+) next_prio=(-?\d+)\s*$/;
const SWITCH_PLUGIN = /^\s*(.*?):(-?\d+) \[(-?\d+)\] (\S+) ==> (.*?):(-?\d+) \[(-?\d+)\]\s*$/;
const FORK = /^\s*comm=(.*?) pid=(\d+) child_comm=(.*?) child_pid=(\d+)/;
const EXEC = /^\s*filename=(.*?) pid=(\d+) old_pid=(\d+)/;
const EXIT = /^\s*comm=(.*?) pid=(\d+) prio=(-?\d+)/;
const MIGRATE = /^\s*comm=(.*?) pid=(\d+) prio=(-?\d+) orig_cpu=(\d+) dest_cpu=(\d+)/;
const WAKEUP = /^\s*comm=(.*?) pid=(\d+) prio=(-?\d+)(?: success=\d+)? target_cpu=(\d+)/;

const EXPECT_SWITCH = 'a sched_switch with prev_comm= prev_pid= prev_prio= prev_state= [==>] next_comm= next_pid= next_prio=, or prev:pid [prio] state ==> next:pid [prio]';
const EXPECT_LINE: Record<TraceFormat, string> = {
  ftrace: 'an event line TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS (ftrace), a # comment or a LOST line',
  'trace-cmd': 'an event line TASK-PID [CPU] TIMESTAMP: EVENT: FIELDS (trace-cmd report), a header or a LOST line',
  perf: 'an event line COMM PID [CPU] TIMESTAMP: sched:EVENT: FIELDS (perf sched script)',
};

/** Is prev_state that of a task still runnable? 'R' / 'R+' (ftrace), 0 (raw). */
const runnable = (state: string): boolean => state === 'R' || state === 'R+' || state === '0';

class Builder {
  length = 0;
  kind = new Uint8Array(1024);
  cpu = new Int32Array(1024);
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  flags = new Uint8Array(1024);
  time = new Float64Array(1024);

  push(kind: number, cpu: number, a: number, b: number, flags: number, time: number): void {
    if (this.length === this.kind.length) this.grow();
    const i = this.length++;
    this.kind[i] = kind;
    this.cpu[i] = cpu;
    this.a[i] = a;
    this.b[i] = b;
    this.flags[i] = flags;
    this.time[i] = time;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const g = <T extends Uint8Array | Int32Array | Float64Array>(x: T, make: (n: number) => T): T => {
      const y = make(n);
      y.set(x);
      return y;
    };
    this.kind = g(this.kind, (k) => new Uint8Array(k));
    this.cpu = g(this.cpu, (k) => new Int32Array(k));
    this.a = g(this.a, (k) => new Int32Array(k));
    this.b = g(this.b, (k) => new Int32Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.time = g(this.time, (k) => new Float64Array(k));
  }

  done(): TraceEvents {
    const n = this.length;
    return { length: n, kind: this.kind.slice(0, n), cpu: this.cpu.slice(0, n), a: this.a.slice(0, n), b: this.b.slice(0, n), flags: this.flags.slice(0, n), time: this.time.slice(0, n) };
  }
}

/** The text of a trace file's bytes: gunzipped when they start with gzip's magic. */
export function traceText(bytes: Uint8Array, maxOutputLength = 512 * 1024 * 1024): string {
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes, { maxOutputLength }) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
}

/** The format, from the first lines that tell: a trace-cmd header, an ftrace header or line, a perf line. */
function detectFormat(text: string): TraceFormat {
  let start = 0;
  for (let n = 0; n < 200 && start < text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (/^\s*version = \d+/.test(line) || /^\s*cpus=\d+/.test(line) || /^CPU \d+ is empty/.test(line)) return 'trace-cmd';
    if (/^# tracer:/.test(line)) return 'ftrace';
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (PERF_LINE.test(line) && /\ssched:\w+:/.test(line)) return 'perf';
    if (FTRACE_LINE.test(line)) return 'ftrace';
  }
  return 'ftrace';
}

/**
 * Parse a trace's text. `file` names it in errors. Throws TraceParseError at the first line
 * that is not an event, a comment, a header or a LOST line of the detected format, or an
 * event this parser uses whose fields are not as the kernel prints them.
 */
/** CPUs a trace may name: Linux's NR_CPUS at most (CONFIG_MAXSMP, x86: 8192). Checked before anything per CPU is allocated. */
export const MAX_TRACE_CPUS = 8192;
/** The highest pid a trace may name: PID_MAX_LIMIT of 64-bit Linux (4 x 1024 x 1024, include/linux/threads.h). */
export const MAX_TRACE_PID = 4 * 1024 * 1024;

export function parseTrace(text: string, file: string): ParsedTrace {
  const format = detectFormat(text);
  const ev = new Builder();
  const comms = new Map<number, string>();
  const tgids = new Map<number, number>();
  const skipped: Record<string, number> = Object.create(null) as Record<string, number>;
  let headerCpus = 0;
  let maxCpu = -1;
  let lost = 0;
  let lineNo = 0;
  let start = 0;
  const fail = (expected: string, line: string): never => {
    throw new TraceParseError(file, lineNo, expected, line);
  };
  /** A pid of an event's fields, within Linux's limit (the events hold pids in 32-bit arrays). */
  const pidOf = (digits: string, line: string): number => {
    const n = Number(digits);
    return n > MAX_TRACE_PID ? fail(`a pid of at most ${MAX_TRACE_PID} (Linux's PID_MAX_LIMIT)`, line) : n;
  };
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const p = /#P:(\d+)/.exec(line);
      if (p) headerCpus = Number(p[1]);
      if (headerCpus > MAX_TRACE_CPUS) fail(`a CPU count of at most ${MAX_TRACE_CPUS} (Linux's NR_CPUS at most)`, line);
      continue;
    }
    const l = LOST.exec(line);
    if (l) {
      lost += Number(l[2]);
      continue;
    }
    if (format === 'trace-cmd') {
      const v = /^\s*version = \d+\s*$/.exec(line);
      if (v) continue;
      const c = /^\s*cpus=(\d+)\s*$/.exec(line);
      if (c) {
        headerCpus = Number(c[1]);
        if (headerCpus > MAX_TRACE_CPUS) fail(`a CPU count of at most ${MAX_TRACE_CPUS} (Linux's NR_CPUS at most)`, line);
        continue;
      }
      if (/^\s*CPU \d+ is empty\s*$/.test(line) || /^\s*CPU\d* data recorded at offset=/.test(line) || /^\s*\d+ bytes in size/.test(line)) continue;
    }
    let cur: number;
    let tgid: number | undefined;
    let cpu: number;
    let time: number;
    let event: string;
    let fields: string;
    let comm: string;
    if (format === 'perf') {
      const m = PERF_LINE.exec(line) ?? fail(EXPECT_LINE.perf, line);
      comm = m[1]!;
      // perf script prints PID/TID when asked for both: the first is the thread group.
      cur = Number(m[3] ?? m[2]);
      if (m[3] !== undefined) tgid = Number(m[2]);
      cpu = Number(m[4]);
      time = Number(m[5]);
      event = m[6]!;
      fields = m[7]!;
    } else {
      const m = FTRACE_LINE.exec(line) ?? fail(EXPECT_LINE[format], line);
      comm = m[1]!;
      cur = Number(m[2]);
      if (m[3] !== undefined && /^\d+$/.test(m[3])) tgid = Number(m[3]);
      cpu = Number(m[4]);
      time = Number(m[6]);
      event = m[7]!;
      fields = m[8]!;
    }
    if (cpu >= MAX_TRACE_CPUS) fail(`a CPU number below ${MAX_TRACE_CPUS} (Linux's NR_CPUS at most)`, line);
    if (cur > MAX_TRACE_PID) fail(`a pid of at most ${MAX_TRACE_PID} (Linux's PID_MAX_LIMIT)`, line);
    if (cpu > maxCpu) maxCpu = cpu;
    // (perf's unknown thread, pid -1, tells nothing of the task that ran.)
    if (tgid !== undefined && tgid > 0 && cur > 0) tgids.set(cur, tgid);
    if (cur > 0 && comm !== '<idle>' && comm !== '<...>') comms.set(cur, comm);
    const name = event.startsWith('sched:') ? event.slice(6) : event;
    switch (name) {
      case 'sched_switch': {
        const s = SWITCH_KV.exec(fields) ?? SWITCH_PLUGIN.exec(fields) ?? fail(EXPECT_SWITCH, line);
        const prev = pidOf(s[2]!, line);
        const next = pidOf(s[6]!, line);
        if (prev !== 0) comms.set(prev, s[1]!);
        if (next !== 0) comms.set(next, s[5]!);
        ev.push(EV_SWITCH, cpu, prev, next, runnable(s[4]!) ? SW_PREV_RUNNABLE : 0, time);
        break;
      }
      case 'sched_process_fork': {
        const f = FORK.exec(fields) ?? fail('a sched_process_fork with comm= pid= child_comm= child_pid=', line);
        comms.set(pidOf(f[4]!, line), f[3]!);
        ev.push(EV_FORK, cpu, pidOf(f[2]!, line), pidOf(f[4]!, line), 0, time);
        break;
      }
      case 'sched_process_exec': {
        const x = EXEC.exec(fields) ?? fail('a sched_process_exec with filename= pid= old_pid=', line);
        ev.push(EV_EXEC, cpu, pidOf(x[2]!, line), pidOf(x[3]!, line), 0, time);
        break;
      }
      case 'sched_process_exit': {
        const x = EXIT.exec(fields) ?? fail('a sched_process_exit with comm= pid= prio=', line);
        ev.push(EV_EXIT, cpu, pidOf(x[2]!, line), 0, 0, time);
        break;
      }
      case 'sched_migrate_task': {
        const x = MIGRATE.exec(fields) ?? fail('a sched_migrate_task with comm= pid= prio= orig_cpu= dest_cpu=', line);
        if (Number(x[5]) >= MAX_TRACE_CPUS) fail(`a CPU number below ${MAX_TRACE_CPUS} (Linux's NR_CPUS at most)`, line);
        ev.push(EV_MIGRATE, cpu, pidOf(x[2]!, line), Number(x[5]), 0, time);
        break;
      }
      case 'sched_wakeup':
      case 'sched_wakeup_new':
      case 'sched_waking': {
        const x = WAKEUP.exec(fields) ?? fail(`a ${name} with comm= pid= prio= [success=] target_cpu=`, line);
        if (Number(x[4]) >= MAX_TRACE_CPUS) fail(`a CPU number below ${MAX_TRACE_CPUS} (Linux's NR_CPUS at most)`, line);
        ev.push(EV_WAKEUP, cpu, pidOf(x[2]!, line), Number(x[4]), 0, time);
        break;
      }
      default:
        skipped[name] = (skipped[name] ?? 0) + 1;
    }
  }
  const events = ev.done();
  let switches = 0;
  for (let i = 0; i < events.length; i++) if (events.kind[i] === EV_SWITCH) switches++;
  if (switches === 0) throw new TraceParseError(file, lineNo, 'no sched_switch event: record the trace with sched_switch enabled (trace-cmd record -e sched_switch, perf sched record)', '');
  return { format, cpus: Math.max(headerCpus, maxCpu + 1), events, comms, tgids, skipped, lostEvents: lost, lines: lineNo };
}
