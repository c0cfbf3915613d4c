/**
 * Facts of the modelled guest kernel's build that config defaults depend on, so that the
 * defaults and the guest (worker/guest/) take them from one place: Linux 2.6.20 for i386
 * with a distribution's configuration of the time (Fedora's kernel-2.6.20-i686.config:
 * M686 + X86_GENERIC, netfilter, conntrack, bridge netfilter, net sched, secmark, NET_DMA).
 */

/**
 * sizeof(struct sk_buff) on i386 with that configuration (include/linux/skbuff.h,
 * v2.6.20: 152 bytes without the optional fields; nfct, nfct_reasm, nf_bridge, tc_index
 * and tc_verd, dma_cookie and secmark add 24).
 */
export const SIZEOF_SK_BUFF = 176;

/** L1_CACHE_BYTES (CONFIG_X86_L1_CACHE_SHIFT 7 for X86_GENERIC, arch/i386/Kconfig.cpu), which SKB_DATA_ALIGN rounds to. */
export const L1_CACHE_BYTES = 128;

/** SKB_DATA_ALIGN(len) (include/linux/skbuff.h). */
export function skbDataAlign(len: number): number {
  return Math.ceil(len / L1_CACHE_BYTES) * L1_CACHE_BYTES;
}

/**
 * sysctl_wmem_default = SK_WMEM_MAX = (sizeof(struct sk_buff) + 256) * 256
 * (net/core/sock.c: _SK_MEM_OVERHEAD x _SK_MEM_PACKETS), the sk_sndbuf every socket gets
 * in sock_init_data on a machine with more than 16 MB (sk_init): 110,592 bytes here.
 */
export const SK_WMEM_MAX = (SIZEOF_SK_BUFF + 256) * 256;

/** SOCK_MIN_SNDBUF (include/net/sock.h): no SO_SNDBUF gives a socket less. */
export const SOCK_MIN_SNDBUF = 2048;
