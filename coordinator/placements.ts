/** How vCPUs are dealt to threads: `blocks` (0..k-1 on the first, ...) or `round-robin` (vCPU i on thread i mod n). Its own file so that --help can list them without loading vm-split.ts. */
export const PLACEMENTS = ['blocks', 'round-robin'] as const;
export type PlacementKind = (typeof PLACEMENTS)[number];
