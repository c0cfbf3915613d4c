/**
 * PVM's host PCIDs for guest roots (the RFC's patch 37, <20240226143630.33643-38-jiangshanlai@gmail.com>):
 * "Since the host doesn't use all PCIDs, PVM can utilize the host PCID to reduce guest
 * TLB flushing." Each pCPU binds NUM_HOST_PCID_FOR_GUEST host PCIDs, from
 * HOST_PCID_TAG_FOR_GUEST up, to (vCPU, root) pairs, round robin; a root switch loads the
 * root with its PCID and keeps the TLB, a new binding flushes the PCID it takes.
 */
const NUM_HOST_PCID_FOR_GUEST = 32;
const HOST_PCID_TAG_FOR_GUEST = 32;

/** One pCPU's host PCIDs bound to roots (the PVM RFC's patch 37). */
export class HostPcids {
  private readonly root = new Int32Array(NUM_HOST_PCID_FOR_GUEST).fill(-1);
  private next = 0;

  /** The tag of root `sp`: its binding, or a new one evicting round robin, returned as ~tag (its entries must be flushed). */
  bind(sp: number): number {
    for (let i = 0; i < NUM_HOST_PCID_FOR_GUEST; i++) if (this.root[i] === sp) return HOST_PCID_TAG_FOR_GUEST + i;
    const i = this.next;
    this.next = (i + 1) % NUM_HOST_PCID_FOR_GUEST;
    this.root[i] = sp;
    return ~(HOST_PCID_TAG_FOR_GUEST + i);
  }
}


