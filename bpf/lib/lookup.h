/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lookup.h: the megaflow cache, as in the OVS kernel datapath (datapath/flow_table.c).
 *
 * What it is. A megaflow is a (mask, masked key) pair with actions. The masks map holds up to
 * BVS_MAX_MASKS masks in slots; the flows map is a hash keyed by struct bvs_flow_id =
 * {mask slot, key & mask}. A packet's key is matched by walking the slots in order, masking the
 * key with each slot's mask and looking up {slot, masked key}; the first match wins. Megaflows
 * that userspace installs never overlap for a packet (OVS's invariant: xlate un-wildcards every
 * bit it looked at), so "first" only matters for speed, not for the answer.
 *
 * The per-CPU mask cache remembers, per skb hash bucket, the slot that matched last time, and
 * that slot is tried first. A stale entry is harmless: it only costs one extra probe, because a
 * hit through any slot is a real match of {slot, key & mask}.
 *
 * Invariants (userspace owns them; the datapath only reads):
 *  - Slot allocation and refcounts are userspace's. A slot is live iff BVS_MASK_F_USED is set.
 *    The walk skips dead slots, so holes are fine; config.n_mask_slots bounds the walk and is
 *    at most BVS_MAX_MASKS (larger values are clamped).
 *  - A mask is never changed in place while a flow uses it. To free a slot, userspace first
 *    deletes its flows, then clears flags; to reuse it, it writes the new mask (with USED) before
 *    inserting flows under it. A lookup racing a change sees either the old or the new mask;
 *    both give correct answers since flows are keyed by slot and masked key.
 *  - The flow key stored in flows is already masked (key & mask): userspace masks it.
 *  - Every struct is a multiple of 8 bytes, so masking runs 8 bytes at a time (11 words).
 *
 * Stats: dp_stats.mask_hit counts masks probed (hit or not, so mask_hit / packets is OVS's
 * "masks hit/pkt"), dp_stats.mask_cache_hit counts lookups answered from the cache.
 */
#ifndef BVS_LIB_LOOKUP_H
#define BVS_LIB_LOOKUP_H

#include "common.h"
#include "stats.h"

#define BVS_KEY_WORDS (sizeof(struct bvs_flow_key) / 8)

_Static_assert(sizeof(struct bvs_flow_key) % 8 == 0, "flow key must be 8-byte multiple");
_Static_assert(sizeof(struct bvs_flow_id) == 8 + sizeof(struct bvs_flow_key), "flow id layout");

/* Probes one slot: id->key = key & mask, then flows[id]. NULL when the slot is dead or misses.
 * key and id must be 8-byte aligned stack objects (the verifier checks stack alignment). */
static __always_inline struct bvs_flow *bvs_probe(__u32 slot, const struct bvs_flow_key *key,
						  struct bvs_flow_id *id, __u64 *probes)
{
	const struct bvs_mask *mask;
	const __u64 *k = (const __u64 *)key;
	const __u64 *m;
	__u64 *d = (__u64 *)&id->key;

	mask = bpf_map_lookup_elem(&masks, &slot);
	if (!mask || !(mask->flags & BVS_MASK_F_USED))
		return NULL;
	m = (const __u64 *)&mask->key;
#pragma unroll
	for (int i = 0; i < (int)BVS_KEY_WORDS; i++)
		d[i] = k[i] & m[i];
	id->mask_id = slot;
	id->pad = 0;
	*probes += 1;
	return bpf_map_lookup_elem(&flows, id);
}

static __always_inline void bvs_count_lookup(__u64 probes, int cache_hit)
{
	struct bvs_dp_stats *dps = bvs_dp_stats();

	if (dps) {
		dps->mask_hit += probes;
		dps->mask_cache_hit += cache_hit;
	}
}

/*
 * Finds the megaflow for key, or NULL. hash is the skb hash (0 = do not use the cache).
 *
 * Verifier note: no map value pointer (cache entry, stats) is held across the slot loop, and
 * each one is looked up again where it is used. Otherwise every combination of "pointer NULL or
 * not" entered the 64-iteration walk as its own state. Per-CPU array lookups are inlined by the
 * verifier, so the repeat lookups cost a few instructions.
 */
static __always_inline struct bvs_flow *bvs_lookup(const struct bvs_flow_key *key, __u32 hash)
{
	struct bvs_flow_id id __attribute__((aligned(8)));
	struct bvs_mask_cache_entry *ce;
	const struct bvs_config *cfg;
	struct bvs_flow *flow = NULL;
	__u32 zero = 0, n, slot, idx = hash & (BVS_MASK_CACHE_SIZE - 1);
	__u64 probes = 0;

	if (hash) {
		__u32 cached = BVS_MAX_MASKS;

		ce = bpf_map_lookup_elem(&mask_cache, &idx);
		if (ce && ce->skb_hash == hash)
			cached = ce->mask_id;
		if (cached < BVS_MAX_MASKS) {
			flow = bvs_probe(cached, key, &id, &probes);
			if (flow) {
				bvs_count_lookup(probes, 1);
				return flow;
			}
		}
	}

	cfg = bpf_map_lookup_elem(&config, &zero);
	n = cfg ? cfg->n_mask_slots : 0;
	if (n > BVS_MAX_MASKS)
		n = BVS_MAX_MASKS;

	for (slot = 0; slot < BVS_MAX_MASKS; slot++) {
		if (slot >= n)
			break;
		flow = bvs_probe(slot, key, &id, &probes);
		if (flow)
			break;
	}
	bvs_count_lookup(probes, 0);
	if (flow && hash) {
		ce = bpf_map_lookup_elem(&mask_cache, &idx);
		if (ce) {
			ce->skb_hash = hash;
			ce->mask_id = slot;
		}
	}
	return flow;
}

#endif /* BVS_LIB_LOOKUP_H */
