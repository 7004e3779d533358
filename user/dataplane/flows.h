/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane/flows.h - the controller's side of the flow table: expiry,
 * counting, listing, and the walk they share with move.h.
 */
#ifndef BSC_FLOWS_H
#define BSC_FLOWS_H

#include <stdint.h>
#include <stdio.h>
#include "config/config.h"
#include "dataplane/maps.h"

struct bsc_timeouts {
	uint32_t tcp_established, tcp_transitory, tcp_closed, udp, icmp; /* s */
};

void bsc_timeouts_from_cfg(struct bsc_timeouts *t, const struct bsc_cfg *cfg);
/* Seconds a flow in this state may stay idle.  Pure: unit-tested. */
uint32_t bsc_flow_timeout(const struct bsc_timeouts *t, uint8_t proto, uint8_t tcp);
/* Bump the generation of the bindings (bascule.h, struct bsc_flow_cache)
 * after deleting or changing any: the data plane's cached copies of them
 * stop serving at once.  The sweep does it itself. */
void bsc_flows_invalidate(const struct bsc_maps *m);
/* How long a flow whose last packet fell in tick `last` (bascule.h) has been
 * idle at now_ns: counted from the end of that tick, so never too long. */
uint64_t bsc_flow_idle_ns(uint32_t last, uint64_t now_ns);
/* Delete every flow idle past its timeout (and its reverse entry); returns
 * how many went. now_ns is CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns. */
int bsc_flows_gc(const struct bsc_maps *m, const struct bsc_timeouts *t, uint64_t now_ns);
/* Where a walk of the flow table stands (all zero: at its start). */
struct bsc_walk {
	uint32_t token;         /* batch position in the hash table */
	int started, done;
	/* an expiry pass: the flows it left in place so far, in all and per
	 * uplink; once done, the table as the pass saw it (what the metrics
	 * show, so that a scrape never walks the table) */
	long kept, kept_per[BSC_MAX_UPLINKS];
};
/* One slice of an expiry pass: walk up to `max` flows from where *w stands
 * and delete those idle past their timeout; w->done tells that the pass
 * reached the end (the next call starts a new one).  The daemon sweeps in
 * slices so that its event loop (probes) is never held for a whole table.
 * Returns how many flows went. */
int bsc_flows_gc_step(const struct bsc_maps *m, const struct bsc_timeouts *t, uint64_t now_ns,
		      struct bsc_walk *w, uint32_t max);
/* Flows walked per slice of the daemon's expiry pass, and of its TCP kick
 * (two batches, a few ms): between slices its event loop serves probes and
 * the control socket.  Slices of 65536 held it 20-40 ms at a million flows
 * (hardening.sh's 1M-flow check). */
#define BSC_GC_SLICE 8192
/* A slice also ends before it would act on more flows than this (delete,
 * kick): each costs a system call or two of its own. */
#define BSC_SLICE_ACTS 1024
/* Walk the flow table; cb returns nonzero to collect a flow's key (keys
 * into *collected, malloc'd, when it is not NULL).  _part: up to `max` flows
 * (0: all) from where *w stands (zero at the start; w->done once at the
 * end), and with max_collected a batch is begun only while what it holds
 * could all be collected without passing that.  0 or -errno. */
typedef int (*bsc_flow_cb)(const struct bsc_flow_key *k, const struct bsc_flow *f, void *arg);
int bsc_flows_walk_part(const struct bsc_maps *m, bsc_flow_cb cb, void *arg,
			struct bsc_flow_key **collected, size_t *ncollected,
			struct bsc_walk *w, uint32_t max, size_t max_collected);
int bsc_flows_walk(const struct bsc_maps *m, bsc_flow_cb cb, void *arg,
		   struct bsc_flow_key **collected, size_t *ncollected);
/* Count flows, in total and per uplink (per_uplink may be NULL). */
long bsc_flows_count(const struct bsc_maps *m, long per_uplink[BSC_MAX_UPLINKS]);
void bsc_flows_print(const struct bsc_maps *m, FILE *out, int limit);

#endif
