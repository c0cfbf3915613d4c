/**
 * What the MMUs of `native` and `qemu` share: they walk the guest's own page tables (the
 * hardware's walk, or QEMU's softmmu), so there are no shadow tables to protect, audit or
 * keep coherent, no cr3 cache and no para_state.
 */
export abstract class UnvirtualisedMmu {
  loadCachedCr3(): void {
    throw new Error('no cr3 cache without the paravirt patch');
  }

  /** A mov from cr3 costs a few cycles natively (and QEMU translates it inline): not charged. */
  readCr3(): void {}

  /** No shadow paging: nothing is write-protected, nothing can be stale. */
  isWriteProtected(): boolean {
    return false;
  }

  pgdFree(): void {}

  staleTranslations(): number {
    return 0;
  }

  registerParaState(): void {
    throw new Error('no para_state without the paravirt patch');
  }

  attachSmp(): void {}

  /** The CPU raises #PF in the guest: nothing outside the guest's own handler. */
  guestFault(): void {}
}
