/**
 * Where things are in the guest: which kernel text pages each kernel path runs from,
 * and the user address-space layout of a workload process. The pages a path touches
 * decide its TLB misses natively and its shadow faults under kvm-upstream, so they are
 * part of the model: a path touches the pages its functions live on in a 2.6.20 i386
 * kernel image (roughly: entry.S, fs/read_write.c, fs/pipe.c, net/unix/af_unix.c,
 * net/core/skbuff.c + sock.c, mm/slab.c, kernel/sched.c, arch/i386/kernel/process.c,
 * irq.c + i8259.c + time.c, kernel/exit.c + mm/mmap.c).
 *
 * Kernel virtual pages are KERNEL_VPN_BASE + frame (the lowmem direct map, global).
 */
import { SIZEOF_SK_BUFF, skbDataAlign } from '../../shared/guest-build.js';

/** PAGE_OFFSET 0xC0000000: the kernel half starts at PDE index 768, VPN 0xC0000. */
export const KERNEL_PDE_FIRST = 768;
export const KERNEL_VPN_BASE = 0xc0000;

/** The kernel image is loaded at 1 MiB (frame 256); frames below RESERVED_FRAMES are never allocated. */
export const KERNEL_IMAGE_FRAME = 256;
export const RESERVED_FRAMES = 2048; // 8 MiB: BIOS area, kernel image, boot-time allocations

const k = (offset: number): number => KERNEL_VPN_BASE + KERNEL_IMAGE_FRAME + offset;

/** Kernel text pages. */
export const KTEXT = {
  entry: k(0), // entry.S: sysenter/int 0x80, common_interrupt, ret_from_*
  readWrite: k(1), // sys_read, sys_write, fget_light, vfs_*
  pipeA: k(2), // pipe_write, pipe_read
  pipeB: k(3), // pipe_wait, anon_pipe_buf_*, copy helpers
  unixA: k(4), // unix_stream_sendmsg, unix_stream_recvmsg
  unixB: k(5), // unix_write_space, sock_def_readable, unix_state_*
  skb: k(6), // alloc_skb, kfree_skb, skb_copy_datagram_iovec
  sock: k(7), // sock_alloc_send_skb, sock_wfree, sk_wait_data
  slab: k(8), // kmem_cache_alloc/free, __kmalloc
  schedA: k(9), // schedule, try_to_wake_up, scheduler_tick
  schedB: k(10), // enqueue/dequeue, recalc_task_prio, effective_prio
  switchTo: k(11), // context_switch, switch_mm, __switch_to
  irq: k(12), // do_IRQ, handle_level_irq, irq_exit
  i8259: k(13), // mask_and_ack_8259A, enable_8259A_irq
  time: k(14), // timer_interrupt, do_timer, update_process_times, pit_read
  exitA: k(15), // do_exit, exit_notify, release_task, sys_wait4
  exitB: k(16), // exit_mmap, unmap_vmas, free_pgtables, pgd_free
  idle: k(17), // cpu_idle, default_idle
  block: k(18), // generic_make_request, elevator, ide_do_request, ide_dma_intr, end_request
  fault: k(19), // do_page_fault, handle_mm_fault, do_anonymous_page; munmap's unmap_region
} as const;

/** Kernel data pages shared by all: jiffies/xtime, the i8259A lock and cached mask. */
export const KDATA_GLOBAL = k(40);

/** A process's user address space (2.6.20 i386 layout, no randomisation). */
export const USER = {
  /** The benchmark's text: its loop (0x08048000). Same frames in every process. */
  text: 0x08048,
  /** The benchmark's data/bss: its message buffer. */
  data: 0x0804a,
  /** libc text of the read/write/poll wrappers (mapped at 0xb7e00000). Same frames in every process. */
  libc: 0xb7e00,
  /** Top page of the main thread's stack (below 0xc0000000). */
  stack: 0xbffff,
  /** Thread stacks, 8 pages apart below the libraries (pthread stacks of a thread-mode workload). */
  threadStackBase: 0xb0000,
  /** Anonymous mappings a workload makes and touches (mmap without a hint, below the stack's gap): lat_ctx -s arrays, pagefault's region. */
  anon: 0x40000,
} as const;

/**
 * skb->truesize of a unix stream write of up to L1_CACHE_BYTES (hackbench's 100-byte
 * messages, its 1-byte ready and go bytes): SKB_DATA_ALIGN(len) + sizeof(struct sk_buff),
 * as __alloc_skb charges it (net/core/skbuff.c), 128 + 176 = 304 bytes.
 */
export const UNIX_SKB_TRUESIZE = skbDataAlign(100) + SIZEOF_SK_BUFF;

/** skbuff_head_cache objects per slab page (176 bytes, cache-line aligned to 192). */
export const SKB_HEADS_PER_PAGE = 21;
/** The 128 + skb_shared_info data area comes from kmalloc-512: 8 per page. */
export const SKB_DATA_PER_PAGE = 8;

/** Objects in each vCPU's range of the skb slab: whole head and data pages (21 x 8 x 1561, about 2^18). */
export const SKB_SLAB_OBJECTS = SKB_HEADS_PER_PAGE * SKB_DATA_PER_PAGE * 1561;
