/**
 * The map calls the flow and mask tables make, as an interface: in production it is the addon
 * itself (its map functions, one syscall each); a unit test hands in in-memory maps instead
 * (tests/datapath/masks.test.ts), so the tables' ordering invariants are tested without a
 * kernel. Only map I/O goes through here; pins, links and program attachment stay kernel-only.
 */
import type { Addon } from './addon.ts';

export type MapIO = Pick<Addon, 'mapLookup' | 'mapUpdate' | 'mapDelete' | 'mapGetNextKey' | 'mapLookupBatch' | 'mapInfo'>;

/** bpf_map_update_elem flags (uapi/linux/bpf.h). */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
