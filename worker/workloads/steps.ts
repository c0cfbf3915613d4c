/**
 * A workload's user code, written as the program it models: named steps, each one system
 * call of the benchmark's loop (and the user work around it), and named time marks.
 *
 * A step returns the name of the step the task runs next, AGAIN when its system call
 * blocked (the task sleeps; when it runs again the same step retries the call, as the
 * kernel restarts it), or 'exit': the next time the task runs it calls exit(). The first
 * step is where a task starts. The names are turned into numbers once, when the program is
 * made: a task's position is its `pc`, and running a step is one indexed call.
 */
import type { GuestCpu } from '../guest/cpu.js';
import type { Kernel, Program } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';

/** The step's system call blocked: run the same step again when the task next runs. */
export const AGAIN = 0 as const;

/** One step of a program: the next step's name, AGAIN, or 'exit'. */
export type Step<S extends string> = (cpu: GuestCpu, t: Task) => NoInfer<S> | 'exit' | typeof AGAIN;

/** A program of named steps (the first one starts); 'exit', the last step of every program, calls exit(). */
export function program<S extends string>(k: Kernel, steps: Record<S, Step<S>>): Program {
  const names = Object.keys(steps) as S[];
  const fns: Step<S>[] = names.map((n) => steps[n]);
  const index: Record<string, number> = {};
  names.forEach((n, i) => (index[n] = i));
  index.exit = fns.length;
  fns.push((cpu, t) => {
    k.exit(cpu, t);
    return AGAIN;
  });
  return (cpu, t) => {
    const next = fns[t.pc]!(cpu, t);
    if (next !== AGAIN) t.pc = index[next]!;
  };
}

/** The most time marks a workload may have (Kernel.marks). */
export const MAX_MARKS = 8;

/** A workload's time marks by name: each name's slot in the kernel's marks (Kernel.markFirst, markLast). */
export function marks<M extends string>(...names: M[]): Readonly<Record<M, number>> {
  if (names.length > MAX_MARKS) throw new Error(`a workload has at most ${MAX_MARKS} time marks`);
  return Object.fromEntries(names.map((n, i) => [n, i])) as Record<M, number>;
}
