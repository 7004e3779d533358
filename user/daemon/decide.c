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

/* The plan: each uplink's entry as the maps must have it (its state from
 * its health and the operator's word, the kernel's facts), which entries
 * change, and policy 0's active uplink by the one chooser.  cur[i] is
 * uplink i's entry as read (have bit i clear: unreadable, left alone). */
void daemon_plan(const struct daemon *d, const struct bsc_uplink *cur, uint32_t have,
		 uint32_t active, uint32_t preferred, uint64_t now, struct daemon_plan *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < d->n; i++) {
		const struct uplink_rt *u = &d->up[i];
		struct bsc_uplink *e = &p->next[i];
		uint32_t st, old;

		if (!(have & (1u << i)))
			continue;
		*e = cur[i];
		daemon_candidate_of(u, e->admin, &p->cand[i]);
		st = bsc_dataplane_state(p->cand[i].health, e->admin);
		if (e->state == st && e->addr == u->addr && e->ifindex == u->ifindex &&
		    e->gateway == u->gateway &&
		    !memcmp(e->gw_mac, u->gw_mac, 6) && !memcmp(e->mac, u->mac, 6))
			continue;
		old = e->state;
		e->ifindex = u->ifindex;
		e->addr = u->addr;
		e->gateway = u->gateway;
		memcpy(e->mac, u->mac, 6);
		memcpy(e->gw_mac, u->gw_mac, 6);
		e->state = st;
		p->changed |= 1u << i;
		if (old == BSC_UPLINK_UP && st != BSC_UPLINK_UP)
			p->losing |= 1u << i;   /* no new flows any more */
		if (daemon_usable(old) && !daemon_usable(st))
			p->failed |= 1u << i;   /* nor its flows */
		if (daemon_usable(st))
			p->back |= 1u << i;     /* usable again: no kick pending */
	}
	p->active = daemon_class_choose(d, p->cand, 0, active, preferred, now);
}

/* The candidates class c may use: the uplinks it lists, ranked in that
 * order (none listed: every uplink, by priority), never a metered one for
 * `metered = no`.  others: the ones it does not list instead (what
 * `fallback = any` may take). */
static void class_candidates(const struct daemon *d, const struct bsc_candidate *cand,
			     const struct bsc_class_cfg *c, int others, struct bsc_candidate *mine)
{
	int i, listed[BSC_MAX_UPLINKS] = { 0 };

	for (i = 0; i < c->n_uplinks; i++)
		if (c->uplinks[i] >= 0 && c->uplinks[i] < d->n)
			listed[c->uplinks[i]] = i + 1; /* its rank in the list */
	for (i = 0; i < d->n; i++) {
		mine[i] = cand[i];
		if (!c->metered && d->up[i].cfg->health.metered)
			mine[i].present = 0;
		else if (others)
			mine[i].present = !listed[i] && mine[i].present;
		else if (c->n_uplinks && !listed[i])
			mine[i].present = 0;
		else if (c->n_uplinks)
			mine[i].priority = (uint32_t)listed[i];
	}
}

/* Class cls's active uplink, by the same chooser and hold-down as policy
 * 0's, over the candidates its policy allows (class_candidates).  With
 * none of them usable, `fallback = any` takes the best of every other
 * uplink it may use; otherwise BSC_NO_UPLINK (its new flows are dropped,
 * drop_class_no_uplink).  current: its active uplink now; preferred: the
 * operator's choice (policy 0 only). */
uint32_t daemon_class_choose(const struct daemon *d, const struct bsc_candidate *cand, int cls,
			     uint32_t current, uint32_t preferred, uint64_t now)
{
	const struct bsc_class_cfg *c = &d->cfg->classes[cls];
	struct bsc_candidate mine[BSC_MAX_UPLINKS];
	uint64_t hold = (uint64_t)d->cfg->failback_hold_ms * 1000000ull;
	uint32_t pick;

	if (cls >= d->cfg->n_classes) /* no classes read: every uplink */
		return bsc_choose_active(cand, d->n, current, preferred, now, hold);
	class_candidates(d, cand, c, 0, mine);
	pick = bsc_choose_active(mine, d->n, current, preferred, now, hold);
	if (pick != BSC_NO_UPLINK || !c->fallback_any || !c->n_uplinks)
		return pick;
	class_candidates(d, cand, c, 1, mine);
	return bsc_choose_active(mine, d->n, current, BSC_NO_UPLINK, now, hold);
}

/* A balance class's members (bit i: d->up[i]) from the candidates it may
 * use, by bsc_balance_members (current: its members now).  None usable
 * and `fallback = any`: the one uplink daemon_class_choose falls back to. */
uint32_t daemon_balance_choose(const struct daemon *d, const struct bsc_candidate *cand, int cls,
			       uint32_t current, uint64_t now)
{
	const struct bsc_class_cfg *c = &d->cfg->classes[cls];
	struct bsc_candidate mine[BSC_MAX_UPLINKS];
	uint64_t hold = (uint64_t)d->cfg->failback_hold_ms * 1000000ull;
	uint32_t in, pick;

	class_candidates(d, cand, c, 0, mine);
	in = bsc_balance_members(mine, d->n, current, now, hold);
	if (in || !c->fallback_any)
		return in;
	pick = daemon_class_choose(d, cand, cls, BSC_NO_UPLINK, BSC_NO_UPLINK, now);
	return pick < (uint32_t)d->n ? 1u << pick : 0;
}
