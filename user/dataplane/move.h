/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane/move.h - moving flows off an uplink (failback, a class's new
 * choice) and waking up TCP connections stranded on one.
 */
#ifndef BSC_MOVE_H
#define BSC_MOVE_H

#include <stdint.h>
#include "dataplane/flows.h"

/* Move the UDP and ICMP bindings on `uplink` (TCP ones stay: their
 * address cannot change): each is marked (nat_addr 0), and its next packet
 * from the LAN rebinds it to the active uplink, keeping its port where it
 * can, as at a failover: no new flow, so no host's budget is spent.
 * Returns how many were marked. */
int bsc_flows_unbind_datagrams(const struct bsc_maps *m, uint32_t uplink);

/* For every TCP flow on `uplink`, send the LAN host an out-of-window ACK
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
