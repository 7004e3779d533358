// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/decide.c - the decision: from what the controller knows of each
 * uplink (facts, health, the operator's word) to what the maps must say.
 * Pure functions; the one chooser of the active uplink is health/'s
 * bsc_choose_active, used here and nowhere else in the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/state.h"
#include "dataplane/flows.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"


int daemon_healthy(enum bsc_health h)
{
	return h == BSC_H_UP || h == BSC_H_DEGRADED;
}

/* Bring the maps in line with what the daemon knows, choose the active
 * uplink, and act on what changed. */
/* What the selection knows of an uplink, with the operator's word. */
void daemon_candidate_of(const struct uplink_rt *u, uint32_t admin, struct bsc_candidate *c)
{
	enum bsc_health h = u->hs.health;

	/* Whatever the probes say, an uplink cannot carry flows without an
	 * address to translate to or a gateway MAC to send to. */
	if (!u->addr || daemon_mac_unknown(u->gw_mac))
		h = BSC_H_DOWN;
	c->present = u->ifindex != 0;
	c->health = h;
	c->admin = admin;
	c->priority = u->cfg->priority;
	c->healthy_since_ns = u->healthy_since;
}

uint32_t daemon_backup_for(struct daemon *d, uint32_t dead)
{
	struct bsc_candidate cand[BSC_MAX_UPLINKS] = { 0 };
	struct bsc_policy pol = { .preferred = BSC_NO_UPLINK };
	uint32_t zero = 0;
	struct bsc_uplink e;
	int i;

	for (i = 0; i < d->n; i++)
		if (!bsc_uplink_read(&d->dp.maps, d->up[i].idx, &e))
			daemon_candidate_of(&d->up[i], e.admin, &cand[i]);
	if (dead < (uint32_t)d->n)
		cand[dead].health = BSC_H_DOWN;
	bsc_policy_read(&d->dp.maps, zero, &pol);
	return bsc_choose_active(cand, d->n, dead, pol.preferred, bsc_now_ns(),
				 (uint64_t)d->cfg->failback_hold_ms * 1000000ull);
}

int daemon_usable(uint32_t state)
{
	return state == BSC_UPLINK_UP || state == BSC_UPLINK_DRAINED;
}
