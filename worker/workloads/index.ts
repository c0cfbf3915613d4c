import type { Workload } from '../../shared/modes.js';
import { buildCtxswitch } from './ctxswitch.js';
import { buildHackbench } from './hackbench.js';
import { buildIdle } from './idle.js';
import { buildPipe } from './pipe.js';
import { buildPgdReuse } from './pgdreuse.js';
import { buildIoMix } from './iomix.js';
import { buildTrace } from './trace.js';
import { buildSyscall } from './syscall.js';
import { buildPagefault } from './pagefault.js';
import { buildFork } from './fork.js';
import type { WorkloadBuilder } from './workload.js';

export const WORKLOAD_BUILDERS: Readonly<Record<Workload, WorkloadBuilder>> = {
  ctxswitch: buildCtxswitch,
  pipe: buildPipe,
  hackbench: buildHackbench,
  idle: buildIdle,
  pgdreuse: buildPgdReuse,
  iomix: buildIoMix,
  trace: buildTrace,
  syscall: buildSyscall,
  pagefault: buildPagefault,
  fork: buildFork,
};
