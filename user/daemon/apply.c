// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/apply.c - carrying out the decision (decide.c): the uplinks' map
 * entries and policy 0's active uplink written in an order that leaves no
 * flow without an uplink, then what follows a switch (the event, datagram
 * flows moved on failback, systemd's status, the default route), and the
 * TCP flows of a failed uplink reset in slices from the loop.
 */
#include <bpf/bpf.h>
#include <systemd/sd-daemon.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/state.h"
#include "dataplane/balance.h"
#include "dataplane/flows.h"
#include "dataplane/move.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"


/* Write an uplink's entry with the operator's word (and a drill's deadline)
 * as they are now: they may have changed since the entry was read (the
 * window is a few microseconds). */
static void uplink_commit(const struct bsc_maps *m, uint32_t idx, struct bsc_uplink *e)
{
	struct bsc_uplink now_e;

	if (!bsc_uplink_read(m, idx, &now_e)) {
		e->admin = now_e.admin;
		e->drill_until_ns = now_e.drill_until_ns;
	}
	bsc_uplink_write(m, idx, e);
}

/* An uplink a class leaves while it still carries flows well enough: its
 * flows move as the class's failback says (moves.c); a failed one's move by
 * themselves. */
static int still_usable(const struct bsc_candidate *c)
{
	return c->present && (c->health == BSC_H_UP || c->health == BSC_H_DEGRADED);
}

/* What follows a new active uplink, once the data plane has it. */
static void active_switched(struct daemon *d, const struct bsc_candidate *cand, uint32_t prev,
			    uint32_t active, uint32_t preferred, uint64_t now)
{
	const struct bsc_maps *m = &d->dp.maps;
	const char *old = daemon_active_name(d);
	char why[96];

	d->active = active;
	d->active_changes++;
	snprintf(why, sizeof(why), "%s",
		 active >= (uint32_t)d->n ? "no usable uplink" :
		 preferred == active ? "operator's choice" :
		 "best usable uplink by health and priority");
	daemon_record(d, "active", "-", old, daemon_active_name(d), why);
	/* Failback leaves the default class's flows where they are, unless
	 * its failback says otherwise */
	if (prev < (uint32_t)d->n && active < (uint32_t)d->n && still_usable(&cand[prev]))
		daemon_move_add(d, 0, 1u << prev, NULL);
	sd_notifyf(0, "STATUS=forwarding, %d uplink(s), active %s", d->n, daemon_active_name(d));
	daemon_default_route_follow(d);
	if (active < (uint32_t)d->n) {
		struct uplink_rt *u = &d->up[active];
		struct bsc_uplink_stats st;

		/* the passive signal starts from fresh counters: they
		 * were not followed while the uplink was on standby */
		if (!bsc_uplink_stats_sum(m, u->idx, &st)) {
			u->tx = st.tx_packets;
			u->rx = st.rx_packets;
		}
		u->rx_change_ns = now;
		u->tx_at_rx_change = u->tx;
		daemon_reschedule_now(u); /* probe the new active at its fast rate */
	}
}

static void classes_commit(struct daemon *d, const struct daemon_plan *p, uint64_t now);

/* Bring the maps in line with what the daemon knows, choose the active
 * uplink, and act on what changed.
 *
 * The order of the writes gives every flow an uplink at every instant: the
 * uplinks that take new flows now (or keep doing so) first, then policy 0's
 * new active uplink, and only then the uplinks that stop taking new flows
 * (failed, drained).  The other way round, a UDP flow of a failed uplink,
 * or a new flow, that comes in between finds the active uplink not UP and
 * is dropped (drop_no_uplink).  The TCP flows of a failed uplink are kicked
 * last, in slices from the loop (kick_timer): not here, where a walk of the
 * whole flow table would hold the loop and its probes. */
void daemon_reevaluate(struct daemon *d)
{
	const struct bsc_maps *m = &d->dp.maps;
	struct bsc_uplink cur[BSC_MAX_UPLINKS];
	struct daemon_plan p;
	uint32_t have = 0, pol0 = 0, prev;
	uint64_t now = bsc_now_ns();
	struct bsc_policy pol;
	int i, have_pol;

	for (i = 0; i < d->n; i++)
		if (!bsc_uplink_read(m, d->up[i].idx, &cur[i]))
			have |= 1u << i;
	/* The map is where the active uplink stands (adopted at a restart). */
	have_pol = !bsc_policy_read(m, pol0, &pol);
	if (have_pol)
		d->active = pol.active;
	else
		pol = (struct bsc_policy){ .active = d->active, .preferred = BSC_NO_UPLINK };
	daemon_plan(d, cur, have, d->active, pol.preferred, now, &p);
	if (!have_pol)
		p.active = pol.active; /* unreadable policy: left as it is */
	d->kick.pending &= ~p.back; /* back before its kick ended */
	for (i = 0; i < d->n; i++)
		if (p.changed & ~p.losing & (1u << i))
			uplink_commit(m, d->up[i].idx, &p.next[i]);
	prev = pol.active;
	if (p.active != pol.active) {
		pol.active = p.active;
		if (bpf_map_update_elem(m->policy, &pol0, &pol, BPF_ANY)) {
			bsc_log(LOG_ERR, "cannot write the active uplink: %s", strerror(errno));
			pol.active = prev;
		}
	}
	classes_commit(d, &p, now);
	for (i = 0; i < d->n; i++)
		if (p.losing & (1u << i))
			uplink_commit(m, d->up[i].idx, &p.next[i]);
	daemon_kicks_start(d, p.failed, 0);
	if (pol.active != prev)
		active_switched(d, p.cand, prev, pol.active, pol.preferred, now);
	daemon_moves_run(d); /* every policy written: moved flows rebind by them */
}

/* The uplinks of `mask` as an event names a balance's members:
 * "fiber+cell", or "none". */
static void members_text(const struct daemon *d, uint32_t mask, char *buf, size_t len)
{
	int i;

	buf[0] = 0;
	for (i = 0; i < d->n; i++)
		if (mask & (1u << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "+" : "",
				 d->up[i].cfg->name);
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* A balance class's table and policy, when its members change (or were
 * never written): the table first, then the policy that points at it. */
static void balance_commit(struct daemon *d, const struct bsc_candidate *cand, uint32_t c,
			   struct bsc_policy *pol, uint64_t now)
{
	const struct bsc_maps *m = &d->dp.maps;
	const struct bsc_class_cfg *cc = &d->cfg->classes[c];
	struct bsc_balance_member mem[BSC_MAX_UPLINKS];
	static struct bsc_balance tab;
	uint32_t in = daemon_balance_choose(d, cand, (int)c, d->bal_members[c], now);
	char was[96], is[96];
	uint32_t from = 0;
	int i, k = 0;

	snprintf(d->cls_why[c], sizeof(d->cls_why[c]), "%s", in ? "balance over its usable members" :
		 "balance: no member usable, its new flows are dropped");
	if (d->bal_known[c] && in == d->bal_members[c] && pol->balance)
		return;
	/* the list's members with their weights; none of them: the uplink
	 * `fallback = any` took, alone */
	for (i = 0; i < cc->n_uplinks; i++) {
		int u = cc->uplinks[i];

		if (u >= 0 && u < d->n && (in & (1u << u)))
			mem[k++] = (struct bsc_balance_member){ .idx = d->up[u].idx,
								.name = d->up[u].cfg->name,
								.weight = cc->weights[i] };
	}
	for (i = 0; !k && i < d->n; i++)
		if (in & (1u << i))
			mem[k++] = (struct bsc_balance_member){ .idx = d->up[i].idx,
								.name = d->up[i].cfg->name, .weight = 1 };
	pol->active = BSC_NO_UPLINK;
	for (i = 0; i < d->n && k; i++)
		if (d->up[i].idx == mem[0].idx)
			pol->active = (uint32_t)i;
	members_text(d, d->bal_known[c] ? d->bal_members[c] : 0, was, sizeof(was));
	members_text(d, in, is, sizeof(is));
	bsc_balance_fill(&tab, mem, k);
	if (bpf_map_update_elem(m->balance, &c, &tab, BPF_ANY)) {
		bsc_log(LOG_ERR, "cannot write class %s's balance: %s", cc->name, strerror(errno));
		return;
	}
	if (strcmp(was, is))
		daemon_record(d, "class", cc->name, was, is, in ? "balance: its usable members" :
			      "balance: no member usable, its new flows are dropped");
	pol->balance = 1;
	pol->persist_source = (uint8_t)cc->persist_source;
	pol->preferred = BSC_NO_UPLINK;
	if (bpf_map_update_elem(m->policy, &c, pol, BPF_ANY)) {
		bsc_log(LOG_ERR, "cannot write class %s's policy: %s", cc->name, strerror(errno));
		return;
	}
	/* the flows of members still healthy whose slots went to another */
	for (i = 0; i < d->n && d->bal_known[c] && in; i++)
		if ((d->bal_members[c] & (1u << i)) && still_usable(&cand[i]))
			from |= 1u << i;
	daemon_move_add(d, (int)c, from, &tab);
	d->bal_members[c] = in;
	d->bal_known[c] = 1;
}

/* Why class c (failing over) has `next`, in the operator's words: the
 * first of its list, or the first usable one after those that are not,
 * its fallback, or nothing it may use. */
static void class_why(struct daemon *d, uint32_t c, uint32_t next)
{
	const struct bsc_class_cfg *cc = &d->cfg->classes[c];
	char *w = d->cls_why[c];
	size_t len = sizeof(d->cls_why[c]);
	int i;

	if (next >= (uint32_t)d->n) {
		snprintf(w, len, "no uplink it may use: its new flows are dropped");
		return;
	}
	if (!cc->n_uplinks) {
		snprintf(w, len, "by health and priority, as the default class");
		return;
	}
	for (i = 0; i < cc->n_uplinks && cc->uplinks[i] != (int)next; i++)
		;
	if (!i) {
		snprintf(w, len, "first of its list");
		return;
	}
	snprintf(w, len, i < cc->n_uplinks ? "its list (" : "fallback = any (");
	for (i = 0; i < cc->n_uplinks && cc->uplinks[i] != (int)next; i++)
		snprintf(w + strlen(w), len - strlen(w), "%s%s", i ? " " : "", d->up[cc->uplinks[i]].cfg->name);
	snprintf(w + strlen(w), len - strlen(w), " not usable)");
}

/* The classes' policies (1..): each class's active uplink by its own
 * policy (or its balance: balance_commit), from the same candidates as
 * policy 0's.  A policy the daemon never wrote (preferred is not
 * BSC_NO_UPLINK: the map's zeroes) has no current uplink yet.  Written
 * where policy 0's is (daemon_reevaluate). */
static void classes_commit(struct daemon *d, const struct daemon_plan *p, uint64_t now)
{
	const struct bsc_maps *m = &d->dp.maps;
	uint32_t c, next, cur;
	struct bsc_policy pol;

	for (c = 1; c < (uint32_t)d->cfg->n_classes && c < BSC_MAX_CLASSES; c++) {
		if (bsc_policy_read(m, c, &pol))
			continue;
		if (d->cfg->classes[c].balance) {
			balance_commit(d, p->cand, c, &pol, now);
			continue;
		}
		cur = pol.preferred == BSC_NO_UPLINK && !pol.balance ? pol.active : BSC_NO_UPLINK;
		next = daemon_class_choose(d, p->cand, (int)c, cur, BSC_NO_UPLINK, now);
		class_why(d, c, next);
		if (next == pol.active && pol.preferred == BSC_NO_UPLINK && !pol.balance)
			continue;
		if (next != cur)
			daemon_record(d, "class", d->cfg->classes[c].name,
				      cur < (uint32_t)d->n ? d->up[cur].cfg->name : "none",
				      next < (uint32_t)d->n ? d->up[next].cfg->name : "none",
				      next < (uint32_t)d->n ? "best usable uplink of its list by health" :
				      "no uplink it may use: its new flows are dropped");
		pol.active = next;
		pol.preferred = BSC_NO_UPLINK;
		pol.balance = 0;
		pol.persist_source = 0;
		if (bpf_map_update_elem(m->policy, &c, &pol, BPF_ANY))
			bsc_log(LOG_ERR, "cannot write class %s's uplink: %s", d->cfg->classes[c].name,
				strerror(errno));
		else if (cur < (uint32_t)d->n && next < (uint32_t)d->n && next != cur &&
			 still_usable(&p->cand[cur]))
			daemon_move_add(d, (int)c, 1u << cur, NULL);
	}
}

/* The classes' rules into class_rules, their count (and the classes in
 * use) into config: none while they are written, so that a new flow sees
 * every rule of the new set or none (the default class, for the
 * microseconds in between).  After daemon_reevaluate, so that every class
 * has its uplink before a flow can fall in it. */
int daemon_classes_load(struct daemon *d)
{
	const struct bsc_maps *m = &d->dp.maps;
	struct bsc_config c;
	uint32_t zero = 0, i, k;

	if (bpf_map_lookup_elem(m->config, &zero, &c))
		return -errno;
	if (c.n_class_rules) {
		c.n_class_rules = 0;
		if (bpf_map_update_elem(m->config, &zero, &c, BPF_ANY))
			return -errno;
	}
	for (i = 0; i < (uint32_t)d->cfg->n_rules && i < BSC_MAX_CLASS_RULES; i++) {
		const struct bsc_class_match *x = &d->cfg->rules[i];
		struct bsc_class_rule r = {
			.src = x->src, .src_mask = x->src_mask, .dst = x->dst, .dst_mask = x->dst_mask,
			.sport_lo = x->sport_lo, .sport_hi = x->sport_hi,
			.dport_lo = x->dport_lo, .dport_hi = x->dport_hi,
			.proto = x->proto, .dscp = x->dscp, .cls = (uint8_t)x->cls,
			.has_mac = (uint8_t)x->has_mac,
		};

		memcpy(r.mac, x->mac, 6);
		if (bpf_map_update_elem(m->class_rules, &i, &r, BPF_ANY))
			return -errno;
	}
	/* each class's name in its policy, "" where no class is any more */
	for (k = 0; k < BSC_MAX_CLASSES; k++) {
		struct bsc_policy pol;
		const char *name = k < (uint32_t)d->cfg->n_classes ? d->cfg->classes[k].name : "";

		if (bsc_policy_read(m, k, &pol) || !strncmp(pol.name, name, sizeof(pol.name)))
			continue;
		snprintf(pol.name, sizeof(pol.name), "%s", name);
		if (bpf_map_update_elem(m->policy, &k, &pol, BPF_ANY))
			return -errno;
	}
	if (bpf_map_lookup_elem(m->config, &zero, &c))
		return -errno;
	c.n_class_rules = (uint16_t)i;
	c.n_classes = d->cfg->n_classes > 0 ? (uint32_t)d->cfg->n_classes : 1;
	return bpf_map_update_elem(m->config, &zero, &c, BPF_ANY) ? -errno : 0;
}
