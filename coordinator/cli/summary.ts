/** The readable summary of one run (`vcpusim run` without --json). */
import type { RunResult } from '../../shared/stats.js';
import { grouped } from '../../shared/grouped.js';
import { MODE_TRAITS } from '../../shared/modes.js';

const fmt = grouped;

/** How a multi-vCPU run was simulated (threads, quanta), for the summary line. */
export interface SplitInfo {
  workers: number;
  quanta: number;
}

export function formatSummary(r: RunResult, hostSeconds: number, split?: SplitInfo): string {
  const c = r.config;
  const lines: string[] = [];
  const what =
    c.workload === 'hackbench'
      ? `hackbench ${c.groups} (${c.tasks} tasks, ${c.thread ? 'threads' : 'processes'}, ${c.pipe ? 'pipes' : 'sockets'})`
      : c.workload === 'ctxswitch'
        ? `ctxswitch (${c.tasks} ${c.thread ? 'threads' : 'processes'}${c.size > 0 ? `, ${c.size} KiB each` : ''})`
        : ['syscall', 'pagefault', 'fork'].includes(c.workload)
          ? c.workload
          : `${c.workload} (${c.tasks} tasks)`;
  const guest = c.arch === 'x86-64' ? `  x86-64 guest${c.kpti ? ', PTI' : ''}${c.pcid ? ', PCID' : ''}` : '';
  lines.push(`${c.mode}  ${what}  loops ${c.loops}  vcpus ${c.vcpus}${c.vcpus > 1 ? ` (quantum ${c.quantum} us)` : ''}  seed ${c.seed}  profile ${c.profile}${guest}`);
  lines.push(`  ${r.metric.name}: ${fmt(r.metric.value, r.metric.unit === 's' ? 4 : 3)} ${r.metric.unit}`);
  const how = split ? ` on ${split.workers} worker thread${split.workers > 1 ? 's' : ''}, ${fmt(split.quanta)} quanta` : '';
  lines.push(`  guest time ${fmt(r.guestTimeNs / 1e6, 3)} ms, host CPU ${fmt(r.hostCpuUtilisation * 100, 1)} %, simulated in ${fmt(hostSeconds, 3)} s${how}`);
  const g = r.guest;
  lines.push(`  guest: ${fmt(g.contextSwitches)} context switches (${fmt(g.addressSpaceSwitches)} address-space), ${fmt(g.syscalls)} syscalls, ${fmt(g.messages)} messages, ${fmt(g.timerTicks)} ticks`);
  lines.push(`  exits: ${fmt(r.exits.total)}`);
  for (const [name, e] of Object.entries(r.exits.byReason)) {
    lines.push(`    ${name.padEnd(20)} ${fmt(e.count).padStart(12)}  ${fmt(e.ns / 1e6, 3).padStart(12)} ms`);
  }
  const cc = r.cr3Cache;
  const traits = MODE_TRAITS[c.mode];
  if (traits.paravirt) {
    const rate = cc.lookups ? (cc.hits / cc.lookups) * 100 : 0;
    lines.push(`  cr3 cache (${cc.size}): ${fmt(cc.lookups)} lookups, ${fmt(cc.hits)} hits (${fmt(rate, 1)} %), ${fmt(cc.fills)} fills, ${fmt(cc.evictions)} evictions`);
  }
  const m = r.mmu;
  if (traits.shadow !== 'none') {
    lines.push(`  shadow MMU: ${fmt(m.shadowFaults)} faults, ${fmt(m.pagesCreated)} pages created, ${fmt(m.pagesZapped)} zapped, ${fmt(m.pagesEvicted)} evicted, ${fmt(m.ptWritesEmulated)} pt writes emulated`);
  }
  if (m.checks > 0) {
    lines.push(`  translation checker: ${fmt(m.checks)} checks, ${m.staleTranslations === 0 ? 'no stale translation' : `up to ${fmt(m.staleTranslations)} stale translations in one check`}`);
  }
  const rt = r.roots;
  if (rt) {
    lines.push(
      `  roots (current + ${rt.size} previous): ${fmt(rt.fastSwitches)} fast switches, ${fmt(rt.misses)} misses, ${fmt(rt.frees)} freed, ${fmt(rt.built)} built; ${fmt(rt.syncs)} syncs (${fmt(rt.pagesSynced)} pages), ${fmt(rt.unsyncs)} unsync, ${fmt(rt.tlbFlushes)} TLB flushes${traits.pvm ? `, ${fmt(rt.directSwitches)} direct switches` : ''}`,
    );
  }
  const a = r.asid;
  if (a) lines.push(`  guest cr3 writes: ${fmt(a.cr3Writes)} (${fmt(a.noFlush)} no-flush), ${fmt(a.newAsids)} ASIDs taken anew, ${fmt(a.ptiSwitches)} PTI switches`);
  lines.push(`  TLB: ${fmt(r.tlb.misses)} misses, ${fmt(r.tlb.flushesFull)} full flushes, ${fmt(r.tlb.flushesNonGlobal)} non-global`);
  const w = r.walk;
  if (w) lines.push(`  walks: ${fmt(w.walks)} (${fmt(w.walks ? w.refs / w.walks : 0, 2)} references each), ${fmt(w.stlbHits)} STLB hits`);
  // The i8259A is the 2007 guest's interrupt controller; an x86-64 guest of today takes its ticks from the local APIC.
  if (c.arch === 'i386') lines.push(`  PIC: ${fmt(r.pic.portReads)} port reads, ${fmt(r.pic.portWrites)} port writes, ${fmt(r.pic.irqsDelivered)} IRQs delivered; ${fmt(g.ioDelayWrites)} io-delay writes`);
  if (r.perVcpu.length > 1) {
    lines.push('  per vCPU:   busy %   switches  migrated-in      exits  shadow faults  cr3 hits');
    for (const v of r.perVcpu) {
      const busy = v.guestTimeNs > 0 ? (1 - v.haltedNs / v.guestTimeNs) * 100 : 0;
      lines.push(
        `    vcpu ${String(v.vcpu).padEnd(3)} ${fmt(busy, 1).padStart(7)} ${fmt(v.guest.contextSwitches).padStart(10)} ${fmt(v.guest.migrations).padStart(12)} ${fmt(v.exits.total).padStart(10)} ${fmt(v.mmu.shadowFaults).padStart(14)} ${fmt(v.cr3Cache.hits).padStart(9)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
