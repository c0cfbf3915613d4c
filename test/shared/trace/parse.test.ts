import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cr3Loads } from '../../../shared/trace/address-spaces.js';
import { EV_EXEC, EV_FORK, EV_SWITCH, EV_WAKEUP, parseTrace, SW_PREV_RUNNABLE, type TraceParseError, traceText } from '../../../shared/trace/parse.js';

const sw = (prev: [string, number], next: [string, number], state = 'S'): string =>
  `sched_switch: prev_comm=${prev[0]} prev_pid=${prev[1]} prev_prio=120 prev_state=${state} ==> next_comm=${next[0]} next_pid=${next[1]} next_prio=120`;

// ftrace `trace`: header with #P, 4 flag characters, a LOST line, an unused event.
const FTRACE = [
  '# tracer: nop',
  '# entries-in-buffer/entries-written: 9/9   #P:2',
  '#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION',
  `          <idle>-0       [000] d..2   100.000001: ${sw(['swapper/0', 0], ['a', 10], 'R')}`,
  `               a-10      [000] d..2   100.000002: ${sw(['a', 10], ['b', 11])}`,
  `               b-11      [000] d..2   100.000003: ${sw(['b', 11], ['kworker/0:1', 5])}`,
  `     kworker/0:1-5       [000] d..2   100.000004: ${sw(['kworker/0:1', 5], ['a', 10])}`,
  `               a-10      [000] d..2   100.000005: ${sw(['a', 10], ['c', 12], 'R')}`,
  `               c-12      [000] d..2   100.000006: ${sw(['c', 12], ['b', 11])}`,
  'CPU:1 [LOST 3 EVENTS]',
  `          <idle>-0       [001] d..2   100.000007: ${sw(['swapper/1', 0], ['a', 10], 'R')}`,
  '               b-11      [000] d..2   100.000008: sched_wakeup: comm=a pid=10 prio=120 target_cpu=001',
  '               b-11      [000] d..2   100.000009: irq_handler_entry: irq=1 name=i8042',
].join('\n');

describe('trace parsers', () => {
  it('ftrace: events, CPUs from #P, lost events, skipped events counted, prev_state R as preempted', () => {
    const t = parseTrace(FTRACE, 'f');
    expect(t.format).toBe('ftrace');
    expect(t.cpus).toBe(2);
    expect(t.lostEvents).toBe(3);
    expect(t.skipped).toEqual({ irq_handler_entry: 1 });
    expect(Array.from(t.events.kind)).toEqual([0, 0, 0, 0, 0, 0, 0, EV_WAKEUP]);
    expect(Array.from(t.events.b.slice(0, 7))).toEqual([10, 11, 5, 10, 12, 11, 10]);
    expect(t.events.flags[4]).toBe(SW_PREV_RUNNABLE);
    expect(t.events.flags[1]).toBe(0);
    expect(t.comms.get(5)).toBe('kworker/0:1');
  });

  it('ftrace with the TGID column and 5 flag characters: threads of one group share an mm', () => {
    const text = [
      `          <idle>-0     (-------) [000] d..2.   1.000001: ${sw(['swapper/0', 0], ['t1', 21], 'R')}`,
      `              t1-21    (     20) [000] d..2.   1.000002: ${sw(['t1', 21], ['t2', 22])}`,
      `              t2-22    (     20) [000] d..2.   1.000003: ${sw(['t2', 22], ['x', 30])}`,
    ].join('\n');
    const t = parseTrace(text, 'f');
    expect(t.tgids.get(21)).toBe(20);
    expect(t.tgids.get(22)).toBe(20);
    const a = cr3Loads(t);
    expect(Array.from(a.perCpu[0]!.loads)).toEqual([0, 1]);
    expect(a.switches).toBe(3);
  });

  it('trace-cmd report: version and cpus headers, the plugin form and the raw form with a numeric prev_state', () => {
    const plugin = parseTrace(['version = 6', 'CPU 1 is empty', 'cpus=2', '          <idle>-0     [000]   100.000001: sched_switch:         swapper/0:0 [120] R ==> a:10 [120]', '               a-10    [000]   100.000002: sched_switch:         a:10 [120] S ==> b:11 [120]'].join('\n'), 't');
    expect(plugin.format).toBe('trace-cmd');
    expect(plugin.cpus).toBe(2);
    expect(Array.from(plugin.events.a)).toEqual([0, 10]);
    expect(Array.from(plugin.events.flags)).toEqual([SW_PREV_RUNNABLE, 0]);
    const raw = parseTrace(['version = 6', 'cpus=1', '               a-10    [000]   100.000002: sched_switch: prev_comm=a prev_pid=10 prev_prio=120 prev_state=0 next_comm=b next_pid=11 next_prio=120'].join('\n'), 't');
    expect(Array.from(raw.events.b)).toEqual([11]);
    expect(raw.events.flags[0]).toBe(SW_PREV_RUNNABLE);
  });

  it('perf sched script: fork and exec; PID/TID gives the thread group', () => {
    const text = [
      `         swapper     0 [001] 92146.532390: sched:${sw(['swapper/1', 0], ['bash', 200], 'R')}`,
      '            bash   200 [001] 92146.532400: sched:sched_process_fork: comm=bash pid=200 child_comm=bash child_pid=201',
      '            bash   200 [001] 92146.532410: sched:sched_switch: bash:200 [120] S ==> bash:201 [120]',
      '            bash   201 [001] 92146.532420: sched:sched_process_exec: filename=/bin/ls pid=201 old_pid=201',
      '            java  300/301 [000] 92146.532430: sched:sched_switch: prev_comm=java prev_pid=301 prev_prio=120 prev_state=S ==> next_comm=bash next_pid=200 next_prio=120',
    ].join('\n');
    const t = parseTrace(text, 'p');
    expect(t.format).toBe('perf');
    expect(Array.from(t.events.kind)).toEqual([EV_SWITCH, EV_FORK, EV_SWITCH, EV_EXEC, EV_SWITCH]);
    expect(t.tgids.get(301)).toBe(300);
    expect(t.cpus).toBe(2);
  });

  it('perf sched script: the unknown-thread prefix `:-1 -1` takes its pids from the switch\'s fields', () => {
    const text = [
      `         swapper     0 [001]  5029.569000: sched:${sw(['swapper/1', 0], ['node', 24958], 'R')}`,
      `             :-1    -1 [001]  5029.569059:       sched:${sw(['node', 24958], ['node', 24997], 'R+')}`,
      `            node 24997 [001]  5029.569100: sched:${sw(['node', 24997], ['bash', 300])}`,
    ].join('\n');
    const t = parseTrace(text, 'p');
    expect(Array.from(t.events.a)).toEqual([0, 24958, 24997]);
    expect(Array.from(t.events.b)).toEqual([24958, 24997, 300]);
    // A comm is learnt from a line's own task only where the pid is known.
    expect(t.comms.has(-1)).toBe(false);
    expect(cr3Loads(t).perCpu[1]!.loads.length).toBe(3);
  });

  it('gzip input is unpacked', () => {
    expect(traceText(gzipSync(Buffer.from(FTRACE)))).toBe(FTRACE);
  });

  it('a malformed line is an error naming the file, the line and what was expected', () => {
    const bad = (text: string): TraceParseError => {
      try {
        parseTrace(text, 'bad.txt');
      } catch (e) {
        return e as TraceParseError;
      }
      throw new Error('parsed');
    };
    const e1 = bad(`${FTRACE}\nnot an event`);
    expect(e1.message).toBe('bad.txt: line 14: expected an event line TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS (ftrace), a # comment or a LOST line; got "not an event"');
    const e2 = bad('          a-10 [000] d..2 1.0: sched_switch: prev_comm=a prev_pid=x');
    expect(e2.line).toBe(1);
    expect(e2.expected).toMatch(/^a sched_switch with prev_comm=/);
    expect(bad('          a-10 [000] d..2 1.0: sched_process_fork: comm=a').expected).toMatch(/sched_process_fork with comm= pid= child_comm= child_pid=/);
    expect(bad('# tracer: nop\n').expected).toMatch(/no sched_switch event/);
  });
});

describe('address spaces and cr3 loads', () => {
  it('kernel threads and the idle task borrow the previous mm; a switch back to the active mm loads nothing', () => {
    const a = cr3Loads(parseTrace(FTRACE, 'f'));
    // CPU 0: a, b, (kworker: lazy), a, c, b -> 5 loads over 3 spaces; CPU 1: a.
    expect(a.perCpu.map((c) => [c.switches, c.loads.length, c.addressSpaces])).toEqual([[6, 5, 3], [1, 1, 1]]);
    expect(a.cr3Loads).toBe(6);
    expect(a.addressSpaces).toBe(3);
    expect(a.kernelThreads).toBe(1);
  });

  it('exec gives a new mm; a child of kthreadd is a kernel thread; --kthreads adds names', () => {
    const text = [
      `          <idle>-0   [000] d..2   1.000001: ${sw(['swapper/0', 0], ['sh', 40], 'R')}`,
      '              sh-40   [000] d..2   1.000002: sched_process_exec: filename=/bin/ls pid=40 old_pid=40',
      `              sh-40   [000] d..2   1.000003: ${sw(['ls', 40], ['helper', 50])}`,
      '        kthreadd-2    [000] d..2   1.000004: sched_process_fork: comm=kthreadd pid=2 child_comm=kthreadd child_pid=60',
      `          helper-50   [000] d..2   1.000005: ${sw(['helper', 50], ['mythread', 60])}`,
      `        mythread-60   [000] d..2   1.000006: ${sw(['mythread', 60], ['ls', 40])}`,
      `              ls-40   [000] d..2   1.000007: ${sw(['ls', 40], ['daemon', 70])}`,
    ].join('\n');
    const t = parseTrace(text, 'f');
    // sh's mm (0) is left at the exec, which loads the new one (1) at once; ls and helper alternate; mythread is a kernel thread.
    expect(Array.from(cr3Loads(t).perCpu[0]!.loads)).toEqual([0, 1, 2, 1, 3]);
    expect(Array.from(cr3Loads(t, { kthreads: /^daemon$/ }).perCpu[0]!.loads)).toEqual([0, 1, 2, 1]);
  });

  it('without parentage a kernel thread is known by the name the kernel gives it (usb-storage, scsi_eh_0), not a look-alike', () => {
    // trace-cmd report of a board: no fork events, no TGID column.
    const text = [
      'cpus=1',
      `          <idle>-0     [000]   1.000001: ${sw(['swapper', 0], ['sh', 40], 'R')}`,
      `              sh-40    [000]   1.000002: ${sw(['sh', 40], ['usb-storage', 33])}`,
      `     usb-storage-33    [000]   1.000003: ${sw(['usb-storage', 33], ['sh', 40])}`,
      `              sh-40    [000]   1.000004: ${sw(['sh', 40], ['scsi_eh_0', 31])}`,
      `       scsi_eh_0-31    [000]   1.000005: ${sw(['scsi_eh_0', 31], ['usb-storaged', 90])}`,
      `    usb-storaged-90    [000]   1.000006: ${sw(['usb-storaged', 90], ['sh', 40])}`,
    ].join('\n');
    const a = cr3Loads(parseTrace(text, 'r'));
    // sh, (usb-storage: lazy) sh: nothing, (scsi_eh_0) usb-storaged (a user program), sh.
    expect(Array.from(a.perCpu[0]!.loads)).toEqual([0, 1, 0]);
    expect(a.kernelThreads).toBe(2);
  });
});
