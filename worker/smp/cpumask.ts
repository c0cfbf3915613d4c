/**
 * A set of vCPUs as a bitmap: cpumask_t (include/linux/cpumask.h, a bitmap of NR_CPUS
 * bits), here 32 vCPUs to an Int32Array word, as many words as the VM needs (256 vCPUs:
 * 8 words). Members are visited in ascending vCPU order (for_each_cpu_mask).
 */

/** Words of a mask over `vcpus` vCPUs. */
export const cpumaskWords = (vcpus: number): number => (vcpus + 31) >>> 5;

/** An empty mask over `vcpus` vCPUs. */
export const cpumaskNew = (vcpus: number): Int32Array => new Int32Array(cpumaskWords(vcpus));

/** cpu_set / cpu_clear. */
export function cpumaskAssign(mask: Int32Array, cpu: number, member: boolean): void {
  const w = cpu >>> 5;
  const bit = 1 << (cpu & 31);
  mask[w] = member ? mask[w]! | bit : mask[w]! & ~bit;
}

/** cpu_isset. */
export const cpumaskTest = (mask: Int32Array, cpu: number): boolean => ((mask[cpu >>> 5]! >>> (cpu & 31)) & 1) === 1;

/** The lowest member of `bits` (one word of a mask, not 0) as a vCPU id, the word being word `w`. */
export const lowestCpu = (w: number, bits: number): number => (w << 5) + 31 - Math.clz32(bits & -bits);
