/**
 * VMX basic exit reasons, numbered and named as in Linux's vmx.h
 * (EXIT_REASON_*; Intel SDM vol. 3, appendix "VMX basic exit reasons").
 * Only the reasons a guest of this model can cause are listed: those of a 2007 KVM guest,
 * and EPT_VIOLATION and PREEMPTION_TIMER of KVM today (arch/x86/include/uapi/asm/vmx.h).
 */
export const EXIT_REASON = {
  EXCEPTION_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  PENDING_INTERRUPT: 7,
  TASK_SWITCH: 9,
  CPUID: 10,
  HLT: 12,
  INVLPG: 14,
  RDPMC: 15,
  RDTSC: 16,
  VMCALL: 18,
  CR_ACCESS: 28,
  DR_ACCESS: 29,
  IO_INSTRUCTION: 30,
  MSR_READ: 31,
  MSR_WRITE: 32,
  EPT_VIOLATION: 48,
  PREEMPTION_TIMER: 52,
} as const;

export type ExitReasonName = keyof typeof EXIT_REASON;

/** Size of per-reason counter arrays (indexed by the reason number). */
export const EXIT_REASON_SLOTS = 53;

export const EXIT_REASON_NAMES: readonly ExitReasonName[] = Object.keys(EXIT_REASON) as ExitReasonName[];
