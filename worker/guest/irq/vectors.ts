/**
 * The guest's interrupt vectors (include/asm-i386/mach-default/irq_vectors.h): ISA IRQs
 * from FIRST_EXTERNAL_VECTOR on (init_8259A programs the master at 0x20 and the slave at
 * 0x28), the local APIC timer, and the reschedule IPI.
 */
export const FIRST_EXTERNAL_VECTOR = 0x20;
export const LOCAL_TIMER_VECTOR = 0xef;
export const RESCHEDULE_VECTOR = 0xfc;

/** The vector ISA line `irq` arrives on through the i8259A pair. */
export function isaVector(irq: number): number {
  return FIRST_EXTERNAL_VECTOR + irq;
}
