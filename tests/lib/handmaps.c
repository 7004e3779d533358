// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tests/lib/handmaps.c - see handmaps.h. */
#include <bpf/bpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bascule.h"
#include "handmaps.h"

static int mkmap(enum bpf_map_type type, size_t ksz, size_t vsz, uint32_t n, uint32_t flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);

	return bpf_map_create(type, NULL, (uint32_t)ksz, (uint32_t)vsz, n, &o);
}

void maps_make(struct bsc_maps *m)
{
	bsc_maps_init(m);
	m->config = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct bsc_config), 1, 0);
	if (m->config < 0)
		skip(); /* not root: no maps */
	m->uplinks = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct bsc_uplink), BSC_MAX_UPLINKS, 0);
	m->policy = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct bsc_policy), BSC_MAX_POLICIES, 0);
	m->flows = mkmap(BPF_MAP_TYPE_HASH, sizeof(struct bsc_flow_key), sizeof(struct bsc_flow),
			 65536, 0);
	m->rev = mkmap(BPF_MAP_TYPE_HASH, sizeof(struct bsc_rev_key), sizeof(struct bsc_rev),
		       65536 + 65536 / 16, 0);
	m->uplink_stats = mkmap(BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct bsc_uplink_stats),
				BSC_MAX_UPLINKS, 0);
	m->flow_gen = mkmap(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_MMAPABLE);
	assert_true(m->uplinks >= 0 && m->policy >= 0 && m->flows >= 0 && m->rev >= 0 &&
		    m->uplink_stats >= 0 && m->flow_gen >= 0);
}
