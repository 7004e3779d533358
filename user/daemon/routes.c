// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/routes.c - the kernel's routing that manage_routes keeps: a table
 * and a rule per uplink (the probes leave by their uplink), the box's own
 * default route following the active uplink, and all of it put back on a
 * clean stop.
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


void daemon_routes_for_uplink(struct daemon *d, struct uplink_rt *u)
{
	const struct bsc_cfg *cfg = d->cfg;
	uint32_t table = cfg->route_table_base + u->idx, prio = RULE_PRIO_BASE + u->idx;
	int ret;

	if (!cfg->manage_routes)
		return;
	/* Probes leave from the uplink's address; this rule sends them to the
	 * uplink's own table, whatever the main table says. */
	if (u->ifindex && u->gateway &&
	    (u->route_ifindex != u->ifindex || u->route_gw != u->gateway)) {
		ret = nl_route_default(table, u->gateway, u->ifindex, 0);
		if (ret) {
			bsc_log(LOG_WARNING, "uplink %s: default route in table %u: %s",
				u->cfg->name, table, strerror(-ret));
		} else {
			u->route_ifindex = u->ifindex;
			u->route_gw = u->gateway;
		}
	}
	if (u->rule_addr != u->addr) {
		if (u->rule_addr)
			nl_rule_from(u->rule_addr, table, prio, 0);
		u->rule_addr = 0;
		if (u->addr) {
			ret = nl_rule_from(u->addr, table, prio, 1);
			if (ret)
				bsc_log(LOG_WARNING, "uplink %s: rule from its address: %s",
					u->cfg->name, strerror(-ret));
			else
				u->rule_addr = u->addr;
		}
	}
}

void daemon_routes_remove(struct daemon *d)
{
	int i;

	if (!d->cfg->manage_routes)
		return;
	/* The box's own default route goes back to what it was before us. */
	if (d->route_changed) {
		if (d->saved_route)
			nl_route_default(RT_MAIN, d->saved_gw, d->saved_oif, d->cfg->route_metric);
		else
			nl_route_default_del(RT_MAIN, d->cfg->route_metric);
	}
	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];

		if (u->rule_addr)
			nl_rule_from(u->rule_addr, d->cfg->route_table_base + u->idx,
				     RULE_PRIO_BASE + u->idx, 0);
		if (u->route_ifindex)
			nl_route_default_del(d->cfg->route_table_base + u->idx, 0);
	}
}

/* The box's own traffic (its DNS, a VPN endpoint on it) follows the active
 * uplink through the main table's default route. */
void daemon_default_route_follow(struct daemon *d)
{
	struct uplink_rt *u;
	int ret;

	if (!d->cfg->manage_routes || d->active >= (uint32_t)d->n)
		return;
	u = &d->up[d->active];
	if (!u->ifindex || !u->gateway)
		return;
	ret = nl_route_default(RT_MAIN, u->gateway, u->ifindex, d->cfg->route_metric);
	if (!ret)
		d->route_changed = 1;
	if (ret)
		bsc_log(LOG_WARNING, "default route via %s: %s", u->cfg->name, strerror(-ret));
}
