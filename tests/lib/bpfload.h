/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tests/lib/bpfload.h - the BPF object as the tests load it: nothing
 * pinned (each test binary owns its maps), the flow tables sized for the
 * test, the maps' descriptors in a struct bsc_maps.
 */
#ifndef BSC_TEST_BPFLOAD_H
#define BSC_TEST_BPFLOAD_H

#include <stdint.h>

#include "bascule.skel.h"
#include "dataplane/maps.h"

/* Open and load, FLOWS and REV entries in `flows` and `rev`; fills M.
 * NULL (and a line on stderr) on failure; bascule_bpf__destroy() frees. */
struct bascule_bpf *t_bpf_load(struct bsc_maps *m, uint32_t flows, uint32_t rev);

#endif
