/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane/move.h - moving flows off an uplink (failback, a class's new
 * choice) and waking up TCP connections stranded on one.
 */
#ifndef BSC_MOVE_H
#define BSC_MOVE_H

#include <stdint.h>
#include "dataplane/balance.h"
#include "dataplane/flows.h"

/* Flows to move off an uplink: those of `uplink` (a map index), of class
 * `cls` (-1: of every class), UDP and ICMP ones, and with `tcp` live TCP
 * ones too (their address cannot move: they are reset).  With `bal`, only
 * the flows whose slot in that balance table (persist_source as the
 * class's) now names another uplink.  bsc_flows_move fills in how many of
 * each it marked. */
struct bsc_move {
	uint32_t uplink;
	int cls;
	int tcp;
	const struct bsc_balance *bal;
	int persist_source;
	int datagrams, tcp_marked; /* out */
};
/* Mark the flows of each of the n moves, in one walk: a datagram flow's
 * next packet from the LAN rebinds it to its class's uplink now, keeping
 * its port where it can, as at a failover (no new flow, so no host's
 * budget is spent); a TCP flow's next segment from the LAN is answered
 * with a RST (tx_rst_moved: kick them, bsc_flows_kick_tcp, to have it at
 * once).  Returns how many flows were marked, or -errno. */
int bsc_flows_move(const struct bsc_maps *m, struct bsc_move *mv, int n);
/* The UDP and ICMP flows of `uplink`, of every class. */
int bsc_flows_unbind_datagrams(const struct bsc_maps *m, uint32_t uplink);

/* For every live TCP flow on `uplink` that the uplink no longer keeps (it
 * failed, or a move marked the flow), send the LAN host an out-of-window ACK
 * from the remote end.  The host answers with an ACK; that ACK meets the data
 * plane, finds its uplink failed and is answered with a RST carrying exactly
 * the sequence number the host expects.  So a connection that is only
 * receiving (a download) is reset at once instead of hanging.  Returns the
 * number of flows kicked. */
int bsc_flows_kick_tcp(const struct bsc_maps *m, uint32_t uplink);
/* The same in slices, as bsc_flows_gc_step: walk up to `max` flows from
 * where *w stands (zero: at the start) and kick those of `uplink`, at most
 * BSC_SLICE_ACTS of them; w->done tells that the walk reached the end.
 * Returns the flows kicked in this slice, or -errno (-ENODEV: no LAN). */
int bsc_flows_kick_tcp_step(const struct bsc_maps *m, uint32_t uplink, struct bsc_walk *w,
			    uint32_t max);
/* Build the kick frame (exposed for the unit tests). */
size_t bsc_kick_frame(uint8_t *buf, const struct bsc_config *cfg,
		      const struct bsc_flow_key *k, const struct bsc_flow *f, uint32_t seq);

#endif
