// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tests/lib/bpfload.c - see bpfload.h. */
#include <stdio.h>

#include <bpf/libbpf.h>

#include "bpfload.h"

struct bascule_bpf *t_bpf_load(struct bsc_maps *m, uint32_t flows, uint32_t rev)
{
	struct bascule_bpf *skel = bascule_bpf__open();
	struct bpf_map *map;

	if (!skel) {
		fprintf(stderr, "cannot open the BPF object\n");
		return NULL;
	}
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_map__set_max_entries(skel->maps.flows, flows);
	bpf_map__set_max_entries(skel->maps.rev, rev);
	if (bascule_bpf__load(skel)) {
		fprintf(stderr, "cannot load the BPF object\n");
		bascule_bpf__destroy(skel);
		return NULL;
	}
#define X(n) m->n = bpf_map__fd(skel->maps.n);
	BSC_MAP_NAMES(X)
#undef X
	return skel;
}
