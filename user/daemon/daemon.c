// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon.c - the controller: one sd-event loop that
 *
 *  - loads (or adopts) the data plane and keeps its maps in step with the
 *    kernel's view of each uplink (netlink: carrier, address, gateway MAC),
 *    reacting to link events at once;
 *  - probes every uplink through that uplink (probe.c), feeds the results to
 *    its state machine (health.c), faster on the active uplink, slower on
 *    standby and metered ones, in bursts when the data plane shows packets
 *    leaving with nothing coming back;
 *  - chooses the active uplink (health.c) and flips it with one map write,
 *    moves the kernel's default route with it, resets TCP flows stranded on
 *    an uplink that failed;
 *  - records every transition as an event (log, `bascule events`, hooks);
 *  - expires idle flows.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/control.h"
#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/daemon_priv.h"
#include "daemon/drill.h"
#include "dataplane/dataplane.h"
#include "daemon/events.h"
#include "dataplane/flows.h"
#include "health/health.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "net/netlink.h"
#include "probe/probe.h"

static const uint8_t zero_mac[6];

static const char *active_name(struct daemon *d)
{
	return d->active < (uint32_t)d->n ? d->up[d->active].cfg->name : "none";
}

const char *daemon_active_name(struct daemon *d)
{
	return active_name(d);
}

static void history_settle(struct daemon *d);

void daemon_record(struct daemon *d, const char *kind, const char *uplink, const char *old,
		   const char *new, const char *reason)
{
	struct bsc_event ev = { .realtime_ns = bsc_real_ns(), .mono_ns = bsc_now_ns() };

	snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
	snprintf(ev.uplink, sizeof(ev.uplink), "%s", uplink);
	snprintf(ev.old_state, sizeof(ev.old_state), "%s", old);
	snprintf(ev.new_state, sizeof(ev.new_state), "%s", new);
	snprintf(ev.reason, sizeof(ev.reason), "%s", reason);
	bsc_events_add(&d->events, &ev);
	if (d->hist && !strcmp(kind, "uplink"))
		bsc_history_transition(d->hist, (int64_t)(ev.realtime_ns / 1000000), uplink, old, new,
				       reason);
	else if (d->hist && !strcmp(kind, "active")) {
		history_settle(d);
		/* during the start-up grace, only the first usable uplink */
		if (!d->hist_start_ms || d->active < (uint32_t)d->n) {
			bsc_history_active(d->hist, (int64_t)(ev.realtime_ns / 1000000),
					   d->active < (uint32_t)d->n ? new : NULL, reason);
			d->hist_start_ms = 0;
		}
	}
	if (getenv("JOURNAL_STREAM"))
		/* under systemd: one journal entry with fields to filter on
		 * (journalctl BASCULE_UPLINK=fiber) instead of a plain line */
		sd_journal_send("MESSAGE=%s %s: %s -> %s (%s)", kind, uplink, old, new, reason,
				"PRIORITY=%d", LOG_NOTICE, "SYSLOG_IDENTIFIER=bascule",
				"BASCULE_EVENT=%s", kind, "BASCULE_UPLINK=%s", uplink,
				"BASCULE_OLD_STATE=%s", old, "BASCULE_NEW_STATE=%s", new,
				"BASCULE_REASON=%s", reason, NULL);
	else
		bsc_log(LOG_NOTICE, "%s %s: %s -> %s (%s)", kind, uplink, old, new, reason);
	if (d->hooks)
		bsc_hooks_run(d->hooks, &ev, active_name(d), d->cfg->hooks, d->cfg->n_hooks);
}

/* ------------------------------------------------------------ routing */

static void routes_for_uplink(struct daemon *d, struct uplink_rt *u)
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

static void routes_remove(struct daemon *d)
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
static void default_route_follow(struct daemon *d)
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

/* ------------------------------------------------------------ decisions */

static int healthy(enum bsc_health h)
{
	return h == BSC_H_UP || h == BSC_H_DEGRADED;
}

static void health_changed(struct uplink_rt *u, enum bsc_health old)
{
	uint64_t now = bsc_now_ns();

	u->transitions++;
	/* The failback hold counts from the moment an uplink is fully up
	 * again: coming back from degraded restarts it too, so a link that
	 * wavers around its limits does not pull traffic back and forth. */
	if (u->hs.health == BSC_H_UP && old != BSC_H_UP)
		u->healthy_since = now;
	else if (!healthy(u->hs.health))
		u->healthy_since = 0;
	daemon_record(u->d, "uplink", u->cfg->name, bsc_health_names[old],
	       bsc_health_names[u->hs.health], u->hs.reason);
}

static void reschedule_now(struct uplink_rt *u)
{
	if (u->timer) {
		sd_event_source_set_time_relative(u->timer, 0);
		sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
	}
}

/* Bring the maps in line with what the daemon knows, choose the active
 * uplink, and act on what changed. */
/* What the selection knows of an uplink, with the operator's word. */
static void candidate_of(const struct uplink_rt *u, uint32_t admin, struct bsc_candidate *c)
{
	enum bsc_health h = u->hs.health;

	/* Whatever the probes say, an uplink cannot carry flows without an
	 * address to translate to or a gateway MAC to send to. */
	if (!u->addr || !memcmp(u->gw_mac, zero_mac, 6))
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
			candidate_of(&d->up[i], e.admin, &cand[i]);
	if (dead < (uint32_t)d->n)
		cand[dead].health = BSC_H_DOWN;
	bsc_policy_read(&d->dp.maps, zero, &pol);
	return bsc_choose_active(cand, d->n, dead, pol.preferred, bsc_now_ns(),
				 (uint64_t)d->cfg->failback_hold_ms * 1000000ull);
}

static int usable(uint32_t state)
{
	return state == BSC_UPLINK_UP || state == BSC_UPLINK_DRAINED;
}

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

static void kicks_start(struct daemon *d, uint32_t failed);

/* What follows a new active uplink, once the data plane has it. */
static void active_switched(struct daemon *d, const struct bsc_candidate *cand, uint32_t prev,
			    uint32_t active, uint32_t preferred, uint64_t now)
{
	const struct bsc_maps *m = &d->dp.maps;
	const char *old = active_name(d);
	char why[96];

	d->active = active;
	d->active_changes++;
	snprintf(why, sizeof(why), "%s",
		 active >= (uint32_t)d->n ? "no usable uplink" :
		 preferred == active ? "operator's choice" :
		 "best usable uplink by health and priority");
	daemon_record(d, "active", "-", old, active_name(d), why);
	/* Failback leaves existing flows where they are, unless asked:
	 * then datagram flows follow (TCP ones cannot). */
	if (d->cfg->failback_moves_flows && prev < (uint32_t)d->n && active < (uint32_t)d->n &&
	    cand[prev].present && (cand[prev].health == BSC_H_UP ||
				   cand[prev].health == BSC_H_DEGRADED)) {
		int k = bsc_flows_unbind_datagrams(m, prev);

		if (k > 0)
			bsc_log(LOG_NOTICE, "failback: %d UDP/ICMP flow(s) move from %s to %s", k,
				d->up[prev].cfg->name, active_name(d));
	}
	sd_notifyf(0, "STATUS=forwarding, %d uplink(s), active %s", d->n, active_name(d));
	default_route_follow(d);
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
		reschedule_now(u); /* probe the new active at its fast rate */
	}
}

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
	struct bsc_candidate cand[BSC_MAX_UPLINKS] = { 0 };
	const struct bsc_maps *m = &d->dp.maps;
	struct bsc_uplink next[BSC_MAX_UPLINKS];
	uint32_t changed = 0, losing = 0, failed = 0;
	uint32_t pol0 = 0, active, prev = BSC_NO_UPLINK;
	uint64_t now = bsc_now_ns();
	struct bsc_policy pol;
	int i, switched = 0;

	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];
		struct bsc_uplink *e = &next[i];
		uint32_t st, old;

		if (bsc_uplink_read(m, u->idx, e))
			continue;
		candidate_of(u, e->admin, &cand[i]);
		st = bsc_dataplane_state(cand[i].health, e->admin);
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
		changed |= 1u << i;
		if (old == BSC_UPLINK_UP && st != BSC_UPLINK_UP)
			losing |= 1u << i;      /* no new flows any more */
		if (usable(old) && !usable(st))
			failed |= 1u << i;      /* nor its flows */
		if (usable(st))
			d->kick.pending &= ~(1u << i); /* back before its kick ended */
	}
	for (i = 0; i < d->n; i++)
		if (changed & ~losing & (1u << i))
			uplink_commit(m, d->up[i].idx, &next[i]);
	if (!bsc_policy_read(m, pol0, &pol)) {
		/* The CLI may have flipped it by hand: start from what is there. */
		if (pol.active != d->active)
			d->active = pol.active;
		active = bsc_choose_active(cand, d->n, d->active, pol.preferred, now,
					   (uint64_t)d->cfg->failback_hold_ms * 1000000ull);
		if (active != pol.active) {
			prev = pol.active;
			pol.active = active;
			if (bpf_map_update_elem(m->policy, &pol0, &pol, BPF_ANY))
				bsc_log(LOG_ERR, "cannot write the active uplink: %s", strerror(errno));
			else
				switched = 1;
		}
	}
	for (i = 0; i < d->n; i++)
		if (losing & (1u << i))
			uplink_commit(m, d->up[i].idx, &next[i]);
	kicks_start(d, failed);
	if (switched)
		active_switched(d, cand, prev, pol.active, pol.preferred, now);
}

/* ------------------------------------------------------------ probing */

static const struct bsc_health_cfg *hcfg(const struct uplink_rt *u)
{
	return &u->cfg->health;
}

static void finish_round(struct uplink_rt *u, struct round *r, int good)
{
	enum bsc_health old = u->hs.health;

	r->done = 1;
	if (bsc_health_round(&u->hs, hcfg(u), good, bsc_now_ns())) {
		if (!good && u->last_fail[0]) {
			size_t l = strlen(u->hs.reason);

			snprintf(u->hs.reason + l, sizeof(u->hs.reason) - l, ", last: %s",
				 u->last_fail);
		}
		health_changed(u, old);
		daemon_reevaluate(u->d);
	}
}

static void on_probe(void *data, unsigned idx, int ok, uint64_t rtt_ns, const char *why)
{
	struct uplink_rt *u = data;
	uint32_t seq12 = idx >> 4;
	struct round *r = &u->rounds[seq12 % ROUND_SLOTS];

	if ((r->seq & 0xfff) != seq12 || !r->n)
		return; /* a round long replaced */
	if ((idx & 0xf) < BSC_MAX_PROBES) {
		unsigned t = idx & 0xf;

		u->target[t].seen = 1;
		u->target[t].ok = ok;
		u->target[t].rtt_ms = ok ? (double)rtt_ns / 1e6 : 0;
		snprintf(u->target[t].why, sizeof(u->target[t].why), "%s", ok ? "" : why ? why : "?");
	}
	bsc_health_probe(&u->hs, hcfg(u), ok, rtt_ns);
	if (ok) {
		r->ok++;
		u->probes_ok++;
	} else {
		r->fail++;
		u->probes_failed++;
		snprintf(u->last_fail, sizeof(u->last_fail), "%s", why ? why : "?");
	}
	if (r->done)
		return;
	if (r->ok >= hcfg(u)->quorum)
		finish_round(u, r, 1);
	else if (r->ok + r->fail >= r->n)
		finish_round(u, r, 0);
}

static void start_round(struct uplink_rt *u)
{
	const struct bsc_uplink_cfg *c = u->cfg;
	uint32_t seq = u->round_seq + 1;
	struct round *r = &u->rounds[seq % ROUND_SLOTS];
	int t;

	if (!c->n_probes || !u->prober)
		return;
	/* ROUND_SLOTS rounds still in flight (a timeout longer than that many
	 * intervals): wait for the oldest to end, at its own timeout. Calling
	 * it failed now would cut the timeout short (to 320 ms for a 400 ms
	 * timeout in a burst of 20 ms rounds, with 16 slots), and fail a
	 * link slower than that at every burst. */
	if (r->n && !r->done)
		return;
	u->round_seq = seq;
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->n = (uint8_t)c->n_probes;
	u->probes_sent += (uint64_t)c->n_probes;
	for (t = 0; t < c->n_probes; t++)
		bsc_prober_send(u->prober, ((seq & 0xfff) << 4) | (unsigned)t, &c->probes[t],
				(uint64_t)c->health.timeout_ms * 1000000ull);
}

static int round_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct uplink_rt *u = data;
	uint64_t now = bsc_now_ns();
	uint64_t next;

	start_round(u);
	next = bsc_health_interval_ns(hcfg(u), &u->hs, u->d->active == u->idx,
				      now < u->suspicious_until);
	sd_event_source_set_time_relative(s, next / 1000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* Packets leaving on the active uplink with nothing coming back: probe now
 * and fast, rather than wait for the next round. */
static void passive_signal(struct daemon *d, uint64_t now)
{
	struct bsc_uplink_stats st;
	struct uplink_rt *u;

	if (d->active >= (uint32_t)d->n)
		return;
	u = &d->up[d->active];
	if (!u->cfg->n_probes || bsc_uplink_stats_sum(&d->dp.maps, u->idx, &st))
		return;
	u->tx = st.tx_packets;
	if (st.rx_packets != u->rx) {
		u->rx = st.rx_packets;
		u->rx_change_ns = now;
		u->tx_at_rx_change = st.tx_packets;
		return;
	}
	/* Nothing sent since the last packet back: idle, not silent. The
	 * 100 ms then count from the last sample before traffic resumed, not
	 * from the last answer seconds ago: otherwise the first packets of a
	 * flow after a pause, still waiting for their first answer (one round
	 * trip, 40 ms on 5G), looked like a dead uplink. */
	if (st.tx_packets == u->tx_at_rx_change) {
		u->rx_change_ns = now;
		return;
	}
	if (st.tx_packets - u->tx_at_rx_change >= 5 && now - u->rx_change_ns >= 100000000ull &&
	    now - u->last_suspicion >= 2000000000ull) {
		u->last_suspicion = now;
		u->suspicious_until = now + (uint64_t)hcfg(u)->burst_ms * 1000000ull;
		bsc_log(LOG_INFO, "uplink %s: %llu packets out, nothing back for %llu ms: probing now",
			u->cfg->name, (unsigned long long)(st.tx_packets - u->tx_at_rx_change),
			(unsigned long long)((now - u->rx_change_ns) / 1000000));
		reschedule_now(u);
	}
}

/* ------------------------------------------------------------ netlink facts */

/* No uplink usable BSC_STARTUP_GRACE_MS after the start: the site has been
 * offline since then, and the history says so from the start. */
static void history_settle(struct daemon *d)
{
	if (d->hist && d->hist_start_ms &&
	    bsc_now_ns() - d->hist_start_mono >= BSC_STARTUP_GRACE_MS * 1000000ull) {
		bsc_history_active(d->hist, d->hist_start_ms, NULL,
				   "daemon started, no uplink usable");
		d->hist_start_ms = 0;
	}
}

/* Whether probes through this uplink can work as the kernel routes now:
 * from its address to its first target, out of its device through a route
 * (not the kernel's "assume on-link" fallback for a socket bound to a
 * device), and the answer, coming in on the device, not dropped by the
 * reverse-path filter (rp_filter).  manage_routes arranges both (a table
 * and a rule per uplink); without it, the operator's own routing must, and
 * an uplink that looks dead only because of its routes is named as such in
 * `bascule health` and the log, instead of a bare timeout.  Without
 * carrier or address there is nothing to ask, and the finding stays; a new
 * finding counts once two checks in a row agree (a DHCP client adds the
 * address a moment before its route). */
static void path_check(struct daemon *d, struct uplink_rt *u, int carrier)
{
	char w[sizeof(u->path_warning)] = "", a[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
	char ifn[IF_NAMESIZE] = "?";
	uint32_t target;
	struct nl_route r;
	int ret;

	if (!u->ifindex || !u->addr || !carrier || !u->cfg->n_probes)
		return;
	target = u->cfg->probes[0].addr;
	inet_ntop(AF_INET, &u->addr, a, sizeof(a));
	inet_ntop(AF_INET, &target, t, sizeof(t));
	ret = nl_route_get(target, u->addr, 0, u->ifindex, &r);
	if (ret)
		snprintf(w, sizeof(w), "no route from %s to %s out of %s (%s)", a, t, u->cfg->ifname,
			 strerror(-ret));
	else if (r.oif != u->ifindex)
		snprintf(w, sizeof(w), "traffic from %s to %s is routed out of %s, not %s", a, t,
			 if_indextoname(r.oif, ifn) ? ifn : "?", u->cfg->ifname);
	else if (!r.table)
		snprintf(w, sizeof(w), "no route from %s to %s through %s: the kernel takes %s for on-link and probes go unanswered",
			 a, t, u->cfg->ifname, t);
	else if ((ret = nl_route_get(u->addr, target, u->ifindex, 0, &r)))
		snprintf(w, sizeof(w), "the kernel drops replies from %s coming in on %s (%s): the reverse-path filter (rp_filter) finds no route back to %s through %s",
			 t, u->cfg->ifname, strerror(-ret), t, u->cfg->ifname);
	if (w[0] && !d->cfg->manage_routes)
		snprintf(w + strlen(w), sizeof(w) - strlen(w),
			 "; manage_routes is off: route 'from %s' through %s yourself, or set manage_routes = yes",
			 a, u->cfg->ifname);
	if (!strcmp(w, u->path_warning) || strcmp(w, u->path_seen)) {
		snprintf(u->path_seen, sizeof(u->path_seen), "%s", w);
		return;
	}
	if (w[0])
		bsc_log(LOG_WARNING, "uplink %s: %s", u->cfg->name, w);
	else
		bsc_log(LOG_NOTICE, "uplink %s: its probes are routed through it again", u->cfg->name);
	snprintf(u->path_warning, sizeof(u->path_warning), "%s", w);
}

static void refresh_uplink(struct daemon *d, struct uplink_rt *u)
{
	const struct bsc_uplink_cfg *c = u->cfg;
	struct nl_link l = { 0 };
	struct nl_addr a = { 0 };
	uint8_t mac[6];
	uint32_t ifindex = if_nametoindex(c->ifname);
	int carrier = 0;
	enum bsc_health old = u->hs.health;

	u->ifindex = ifindex;
	if (ifindex && !nl_link_get(ifindex, &l)) {
		memcpy(u->mac, l.mac, 6);
		carrier = l.up && l.carrier;
		u->addr = nl_addr4_get(ifindex, &a) ? 0 : a.addr;
		if (c->gateway_auto) {
			uint32_t gw = 0;

			/* DHCP moved the gateway (a replaced 5G router): its
			 * MAC is another one too. */
			if (!nl_default_gw(ifindex, d->cfg->route_metric, &gw) && gw != u->gateway) {
				bsc_log(LOG_NOTICE, "uplink %s: gateway %s (learnt from the kernel's routes)",
					c->name, inet_ntoa(*(struct in_addr *)&gw));
				u->gateway = gw;
				memset(u->gw_mac, 0, 6);
			}
		}
		/* The last known gateway MAC stays in use while the kernel's
		 * entry ages out: XDP traffic does not refresh it.  One not
		 * known yet is asked for, never waited for: it comes back as
		 * a neighbour event (on_neigh). */
		if (carrier && u->gateway && !nl_neigh_resolve(ifindex, u->gateway, mac))
			memcpy(u->gw_mac, mac, 6);
	} else {
		u->addr = 0;
	}
	if (ifindex) {
		uint32_t idx = u->idx;

		bpf_map_update_elem(d->dp.maps.tx_ports, &idx, &ifindex, BPF_ANY);
	}
	if (u->prober)
		bsc_prober_set_source(u->prober, u->addr);
	routes_for_uplink(d, u);
	path_check(d, u, carrier);

	if (bsc_health_carrier(&u->hs, hcfg(u), carrier, bsc_now_ns()))
		health_changed(u, old);
	else if (carrier && !u->carrier && u->hs.health == BSC_H_DOWN && u->ifindex)
		daemon_record(d, "carrier", c->name, "no carrier", "carrier", u->hs.reason);
	old = u->hs.health;
	/* Without probes, an uplink is as healthy as its link looks. */
	if (!c->n_probes) {
		int ready = carrier && u->addr && memcmp(u->gw_mac, zero_mac, 6);
		enum bsc_health h = ready ? BSC_H_UP : BSC_H_DOWN;

		if (h != u->hs.health) {
			u->hs.health = h;
			u->hs.since_ns = bsc_now_ns();
			snprintf(u->hs.reason, sizeof(u->hs.reason), "%s",
				 ready ? "link ready (no probes configured)" :
				 !carrier ? "no carrier" : !u->addr ? "no address" :
				 "gateway MAC unknown");
			health_changed(u, old);
		}
	} else if (u->hs.health == BSC_H_UNKNOWN || u->hs.health == BSC_H_DOWN) {
		/* probes need an address and a way out */
		if (!u->addr && carrier)
			snprintf(u->hs.reason, sizeof(u->hs.reason), "no address");
	}
	u->carrier = carrier;
}

static void on_link_change(void *data, uint32_t ifindex)
{
	struct daemon *d = data;
	int i;

	d->mon_dirty = 1;
	for (i = 0; i < d->n; i++)
		if (d->up[i].ifindex == ifindex || !d->up[i].ifindex)
			refresh_uplink(d, &d->up[i]);
}

/* A neighbour has a MAC now: an uplink's gateway that was asked for. The
 * LAN's many neighbours come here too, and cost a compare each. */
static void on_neigh(void *data, uint32_t ifindex, uint32_t ip)
{
	struct daemon *d = data;
	int i;

	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];

		if (u->ifindex == ifindex && u->gateway == ip) {
			uint8_t before[6];

			memcpy(before, u->gw_mac, 6);
			refresh_uplink(d, u);
			d->mon_dirty |= memcmp(before, u->gw_mac, 6) != 0;
		}
	}
}

static int monitor_io(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct daemon *d = data;
	int i;

	d->mon_dirty = 0;
	if (nl_monitor_read(d->mon, on_link_change, on_neigh, d) == -ENOBUFS) {
		for (i = 0; i < d->n; i++)
			refresh_uplink(d, &d->up[i]);
		d->mon_dirty = 1;
	}
	if (d->mon_dirty)
		daemon_reevaluate(d);
	return 0;
}

/* ------------------------------------------------------------ timers */

static int rearm(sd_event_source *s, uint64_t ms)
{
	sd_event_source_set_time_relative(s, ms * 1000);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* What the metrics thread may see: copied under the lock, never shared. */
static void snapshot(struct daemon *d)
{
	struct bsc_metrics_view v = { .n = d->n };
	int i;

	v.active_changes = d->active_changes;
	v.start_time_s = d->start_time_s;
	v.drills = d->last_drill.runs;
	v.drill_known = d->last_drill.known;
	v.drill_passed = d->last_drill.passed;
	v.drill_end_s = d->last_drill.end_s;
	v.drill_cutover_ms = d->last_drill.cutover_ms;
	v.flows_known = d->flows_known;
	v.flows_total = d->flows_total;
	memcpy(v.flows_per, d->flows_per, sizeof(v.flows_per));
	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];
		struct bsc_metrics_uplink *m = &v.up[i];

		snprintf(m->name, sizeof(m->name), "%s", u->cfg->name);
		m->health = u->hs.health;
		m->held = u->hs.held;
		m->carrier = u->carrier;
		m->path_warning = u->path_warning[0] != 0;
		m->active = d->active == u->idx;
		m->rtt_ms = u->hs.rtt_us / 1000.0;
		m->jitter_ms = u->hs.jitter_us / 1000.0;
		m->loss_pct = u->hs.loss_pct;
		m->transitions = u->transitions;
		m->probes_sent = u->probes_sent;
		m->probes_ok = u->probes_ok;
		m->probes_failed = u->probes_failed;
	}
	pthread_mutex_lock(&d->view_lock);
	d->view = v;
	pthread_mutex_unlock(&d->view_lock);
}

static void metrics_view(void *data, struct bsc_metrics_view *v)
{
	struct daemon *d = data;

	pthread_mutex_lock(&d->view_lock);
	*v = d->view;
	pthread_mutex_unlock(&d->view_lock);
}

static void add_count(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void add_ms(struct json_object *o, const char *key, uint64_t ns)
{
	json_object_object_add(o, key, json_object_new_double((double)ns / 1e6));
}

/* records the history's writer may have waiting for the disk: minutes of
 * transitions, hours of samples (about 300 KiB) */
#define HISTORY_QUEUE 1024
#define LAG_WINDOW_S 5

/* The tick was due at `due_us` (CLOCK_MONOTONIC): anything that held the
 * loop shows here as lateness. */
static void loop_lag(struct daemon *d, uint64_t due_us)
{
	uint64_t now = bsc_now_ns(), due = due_us * 1000, lag = now > due ? now - due : 0;

	if (now - d->lag_win_start_ns >= LAG_WINDOW_S * 1000000000ull) {
		d->lag_max_ns[1] = d->lag_max_ns[0];
		d->lag_max_ns[0] = 0;
		d->lag_win_start_ns = now;
	}
	if (lag > d->lag_max_ns[0])
		d->lag_max_ns[0] = lag;
	if (lag > d->lag_max_all_ns)
		d->lag_max_all_ns = lag;
	d->lag_last_ns = lag;
}

static int tick_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;

	loop_lag(d, usec);
	passive_signal(d, bsc_now_ns());
	daemon_reevaluate(d);
	bsc_drill_tick(d);
	history_settle(d);
	snapshot(d);
	return rearm(s, TICK_MS);
}

static int refresh_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;
	int i;

	for (i = 0; i < d->n; i++)
		refresh_uplink(d, &d->up[i]);
	daemon_reevaluate(d);
	return rearm(s, d->cfg->refresh_interval_ms);
}

/* Data used on metered uplinks, and a heartbeat, once a minute; the
 * retention once a day. */
static void history_sample(struct daemon *d)
{
	int64_t ms = (int64_t)(bsc_real_ns() / 1000000);
	struct bsc_uplink_stats st;
	int i;

	for (i = 0; i < d->n; i++)
		if (d->up[i].cfg->health.metered && !bsc_uplink_stats_sum(&d->dp.maps, d->up[i].idx, &st))
			bsc_history_usage(d->hist, ms, d->up[i].cfg->name, st.tx_bytes, st.rx_bytes);
	bsc_history_heartbeat(d->hist, ms);
	if (++d->hist_ticks % 1440 == 0)
		bsc_history_prune(d->hist, ms);
}

static int history_timer(sd_event_source *s, uint64_t usec, void *data)
{
	history_sample(data);
	return rearm(s, 60000);
}

static int gc_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;
	int n = bsc_flows_gc_step(&d->dp.maps, &d->to, bsc_now_ns(), &d->gc, BSC_GC_SLICE);

	if (n > 0)
		d->gc_expired += n;
	if (!d->gc.done)
		return rearm(s, 1);
	if (n >= 0) {
		/* the table as this pass saw it, for the metrics */
		d->flows_known = 1;
		d->flows_total = d->gc.kept;
		memcpy(d->flows_per, d->gc.kept_per, sizeof(d->flows_per));
	}
	if (d->gc_expired > 0)
		bsc_log(LOG_DEBUG, "expired %d flow(s)", d->gc_expired);
	d->gc_expired = 0;
	return rearm(s, d->cfg->gc_interval_ms);
}

/* One slice of the TCP kick of the first uplink that has one pending:
 * bounded work a turn of the loop, as the expiry pass above. */
static int kick_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;
	struct uplink_rt *u;
	int i, k;

	for (i = 0; i < d->n && !(d->kick.pending & (1u << i)); i++)
		;
	if (i == d->n)
		return 0;
	u = &d->up[i];
	k = bsc_flows_kick_tcp_step(&d->dp.maps, u->idx, &d->kick.w[i], BSC_GC_SLICE);
	if (k > 0)
		d->kick.sent[i] += k;
	if (k < 0 || d->kick.w[i].done) {
		d->kick.pending &= ~(1u << i);
		if (d->kick.sent[i] > 0)
			bsc_log(LOG_NOTICE, "uplink %s failed: resetting %d TCP flow(s)",
				u->cfg->name, d->kick.sent[i]);
	}
	return d->kick.pending ? rearm(s, 1) : 0;
}

/* Kick the TCP flows of the uplinks in `failed` (bit i: d->up[i]), from
 * the loop; an uplink that fails again starts over. */
static void kicks_start(struct daemon *d, uint32_t failed)
{
	int i;

	if (!failed)
		return;
	for (i = 0; i < d->n; i++)
		if (failed & (1u << i)) {
			memset(&d->kick.w[i], 0, sizeof(d->kick.w[i]));
			d->kick.sent[i] = 0;
		}
	d->kick.pending |= failed;
	if (!d->ev)
		return;
	if (d->kick.timer)
		rearm(d->kick.timer, 0);
	else if (sd_event_add_time_relative(d->ev, &d->kick.timer, CLOCK_MONOTONIC, 0, 1,
					    kick_timer, d) < 0)
		bsc_log(LOG_WARNING, "no timer for the TCP kick: stranded TCP flows wait for "
			"their next packet");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *data)
{
	struct daemon *d = data;

	bsc_log(LOG_INFO, "signal %u: %s", si->ssi_signo,
		d->o->keep ? "leaving the data plane running (pinned)" : "detaching");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* ------------------------------------------------------------ control */

static void health_json(struct daemon *d, FILE *out)
{
	struct json_object *root = json_object_new_object(), *ups = json_object_new_array();
	uint64_t now = bsc_now_ns();
	int i, t;

	json_object_object_add(root, "active", json_object_new_string(active_name(d)));
	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];
		const struct bsc_health_state *h = &u->hs;
		struct json_object *o = json_object_new_object(), *tg = json_object_new_array();
		int answering = 0;

		json_object_object_add(o, "name", json_object_new_string(u->cfg->name));
		json_object_object_add(o, "health", json_object_new_string(bsc_health_names[h->health]));
		json_object_object_add(o, "since_s", json_object_new_double((double)(now - h->since_ns) / 1e9));
		json_object_object_add(o, "reason", json_object_new_string(h->reason));
		json_object_object_add(o, "rtt_ms", json_object_new_double(h->rtt_us / 1000.0));
		json_object_object_add(o, "jitter_ms", json_object_new_double(h->jitter_us / 1000.0));
		json_object_object_add(o, "loss_pct", json_object_new_int(h->loss_pct));
		json_object_object_add(o, "probes", json_object_new_int(u->cfg->n_probes));
		if (u->path_warning[0])
			json_object_object_add(o, "path_warning", json_object_new_string(u->path_warning));
		for (t = 0; t < u->cfg->n_probes; t++) {
			struct json_object *x = json_object_new_object();
			char spec[256];

			bsc_probe_target_format(&u->cfg->probes[t], spec, sizeof(spec));
			json_object_object_add(x, "probe", json_object_new_string(spec));
			json_object_object_add(x, "answering", json_object_new_boolean(u->target[t].ok));
			json_object_object_add(x, "rtt_ms", json_object_new_double(u->target[t].rtt_ms));
			json_object_object_add(x, "last_error", json_object_new_string(u->target[t].why));
			json_object_array_add(tg, x);
			answering += u->target[t].ok;
		}
		json_object_object_add(o, "targets_answering", json_object_new_int(answering));
		json_object_object_add(o, "targets", tg);
		json_object_object_add(o, "held", json_object_new_boolean(h->held));
		json_object_object_add(o, "penalty", json_object_new_double(bsc_health_penalty(h, hcfg(u), now)));
		json_object_object_add(o, "carrier", json_object_new_boolean(u->carrier));
		json_object_array_add(ups, o);
	}
	json_object_object_add(root, "uplinks", ups);
	{
		struct bsc_hook_stats hs;
		struct json_object *h = json_object_new_object();

		bsc_hooks_stats(d->hooks, &hs);
		add_count(h, "started", hs.started);
		add_count(h, "ok", hs.ok);
		add_count(h, "failed", hs.failed);
		add_count(h, "killed", hs.killed);
		add_count(h, "skipped", hs.skipped);
		add_count(h, "running", hs.running);
		json_object_object_add(root, "hooks", h);
	}
	if (d->hist) {
		struct bsc_history_writer_stats ws;
		struct json_object *h = json_object_new_object();

		bsc_history_writer_stats(d->hist, &ws);
		add_count(h, "queued", ws.queued);
		add_count(h, "written", ws.written);
		add_count(h, "failed", ws.failed);
		add_count(h, "dropped", ws.dropped);
		add_count(h, "waiting", ws.depth);
		add_count(h, "waiting_max", ws.depth_max);
		add_ms(h, "last_write_ms", ws.last_write_ns);
		add_ms(h, "write_max_ms", ws.write_max_ns);
		json_object_object_add(root, "history", h);
	}
	{
		/* the tick timer's lateness: what held the loop, in ms */
		struct json_object *l = json_object_new_object();
		uint64_t recent = d->lag_max_ns[0] > d->lag_max_ns[1] ? d->lag_max_ns[0] : d->lag_max_ns[1];

		add_ms(l, "last_ms", d->lag_last_ns);
		add_ms(l, "max_recent_ms", recent);
		add_ms(l, "max_ms", d->lag_max_all_ns);
		json_object_object_add(l, "window_s", json_object_new_int(2 * LAG_WINDOW_S));
		json_object_object_add(root, "loop_lag", l);
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

/* Re-read the configuration.  What can change while running changes (probes
 * and their profiles, priorities, failback hold, timeouts, hooks, the
 * per-host budget); a file that does not parse, or that changes what only a
 * restart can (the LAN, the pin root, the flow table's size, the control
 * socket, the metrics address, the history file, the routes it manages,
 * the set of uplinks and their interfaces), is refused and the running configuration stays. */
static int reload(struct daemon *d, FILE *out)
{
	struct bsc_cfg *n = malloc(sizeof(*n));
	char err[4096];
	int i;

	if (!n)
		return -ENOMEM;
	if (bsc_config_load(d->cfg_store.path, n, err, sizeof(err))) {
		fprintf(out, "refused, the running configuration stays:\n%s", err);
		bsc_log(LOG_WARNING, "reload refused: %s", err);
		free(n);
		return -EINVAL;
	}
	{
		/* What only a restart can change, named in the refusal. */
		const char *changed =
			strcmp(n->lan_ifname, d->cfg->lan_ifname) ? "lan" :
			strcmp(n->pin_root, d->cfg->pin_root) ? "pin_root" :
			n->flow_table_size != d->cfg->flow_table_size ? "flow_table_size" :
			strcmp(n->control_socket, d->cfg->control_socket) ? "control_socket" :
			/* the socket's group is set when it is made: taken
			 * silently, the old group would keep its access */
			strcmp(n->control_group, d->cfg->control_group) ? "control_group" :
			n->hook_timeout_ms != d->cfg->hook_timeout_ms ? "hook_timeout_ms" :
			n->hook_max_running != d->cfg->hook_max_running ? "hook_max_running" :
			strcmp(n->metrics_listen, d->cfg->metrics_listen) ? "metrics_listen" :
			strcmp(n->history, d->cfg->history) ? "history" :
			n->manage_routes != d->cfg->manage_routes ? "manage_routes" :
			n->route_table_base != d->cfg->route_table_base ? "route_table_base" :
			n->route_metric != d->cfg->route_metric ? "route_metric" :
			n->n_uplinks != d->cfg->n_uplinks ? "the number of uplinks" : NULL;

		if (changed) {
			snprintf(err, sizeof(err), "%s: %s changed: that needs a restart (`bascule run --keep` keeps forwarding across it)",
				 n->path, changed);
			goto refuse;
		}
	}
	for (i = 0; i < n->n_uplinks; i++) {
		if (strcmp(n->uplinks[i].name, d->cfg->uplinks[i].name) ||
		    strcmp(n->uplinks[i].ifname, d->cfg->uplinks[i].ifname)) {
			snprintf(err, sizeof(err), "%s: uplink %d is now '%s' on %s (was '%s' on %s): that needs a restart",
				 n->path, i + 1, n->uplinks[i].name, n->uplinks[i].ifname,
				 d->cfg->uplinks[i].name, d->cfg->uplinks[i].ifname);
			goto refuse;
		}
		if (n->uplinks[i].nat_port_min != d->cfg->uplinks[i].nat_port_min ||
		    n->uplinks[i].nat_port_max != d->cfg->uplinks[i].nat_port_max) {
			snprintf(err, sizeof(err), "%s: uplink %s: nat_ports changed: that needs a restart (the bindings hold ports of the old range)",
				 n->path, n->uplinks[i].name);
			goto refuse;
		}
	}
	for (i = 0; i < n->n_uplinks; i++) {
		struct uplink_rt *u = &d->up[i];

		if (!n->uplinks[i].gateway_auto && n->uplinks[i].gateway != u->gateway) {
			u->gateway = n->uplinks[i].gateway;
			memset(u->gw_mac, 0, 6);
		}
		if (n->uplinks[i].n_probes && !u->timer)
			sd_event_add_time_relative(d->ev, &u->timer, CLOCK_MONOTONIC, 0, 1,
						   round_timer, u);
	}
	{
		struct bsc_config c;
		uint32_t zero = 0;

		if (!bpf_map_lookup_elem(d->dp.maps.config, &zero, &c)) {
			c.host_flow_rate = n->host_flow_rate;
			c.host_flow_burst = n->host_flow_burst;
			c.flags = n->source_guard ? BSC_CFG_SOURCE_GUARD : 0;
			bpf_map_update_elem(d->dp.maps.config, &zero, &c, BPF_ANY);
		}
	}
	d->cfg_store = *n;
	bsc_timeouts_from_cfg(&d->to, d->cfg);
	/* The uplinks map shows each uplink's priority (status, bpftool):
	 * keep it the one in force. */
	for (i = 0; i < d->n; i++) {
		struct bsc_uplink w;

		if (!bsc_uplink_read(&d->dp.maps, d->up[i].idx, &w) &&
		    w.priority != d->up[i].cfg->priority) {
			w.priority = d->up[i].cfg->priority;
			bsc_uplink_write(&d->dp.maps, d->up[i].idx, &w);
		}
	}
	if (d->hist)
		bsc_history_set_retention(d->hist, d->cfg->history_retention_days);
	free(n);
	for (i = 0; i < d->n; i++)
		refresh_uplink(d, &d->up[i]);
	daemon_reevaluate(d);
	fprintf(out, "reloaded %s\n", d->cfg->path);
	daemon_record(d, "config", "-", "-", "reloaded", d->cfg->path);
	return 0;
refuse:
	fprintf(out, "refused, the running configuration stays:\n%s\n", err);
	bsc_log(LOG_WARNING, "reload refused: %s", err);
	free(n);
	return -EINVAL;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *data)
{
	FILE *null = fopen("/dev/null", "w");

	reload(data, null ? null : stderr);
	if (null)
		fclose(null);
	return 0;
}

/* Requests answered over time, on their own connection. */
static int take_request(void *data, const char *req, int fd)
{
	if (strcmp(req, "drill"))
		return 0;
	bsc_drill_start(data, fd);
	return 1;
}

static void on_request(void *data, const char *req, FILE *out)
{
	struct daemon *d = data;

	if (!strcmp(req, "reload"))
		reload(d, out);
	else if (!strcmp(req, "events"))
		bsc_events_json(&d->events, out);
	else if (!strcmp(req, "health"))
		health_json(d, out);
	else if (!strcmp(req, "ping"))
		fprintf(out, "pong\n");
	else {
		/* the request is the client's text: escaped by json-c, never
		 * pasted into the JSON */
		struct json_object *o = json_object_new_object();
		char msg[400];

		snprintf(msg, sizeof(msg), "unknown request '%s' (events, health, reload, drill, ping)",
			 req);
		json_object_object_add(o, "error", json_object_new_string(msg));
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
}

/* ------------------------------------------------------------ setup */

static int setup_lan(const struct bsc_cfg *cfg, const struct bsc_maps *m)
{
	struct bsc_config c = { 0 };
	struct nl_link l;
	struct nl_addr a;
	uint32_t zero = 0, slot = BSC_LAN_SLOT, ifindex;

	ifindex = if_nametoindex(cfg->lan_ifname);
	if (!ifindex) {
		bsc_log(LOG_ERR, "lan interface %s: %s", cfg->lan_ifname, strerror(errno));
		return -ENODEV;
	}
	if (nl_link_get(ifindex, &l) || nl_addr4_get(ifindex, &a)) {
		bsc_log(LOG_ERR, "lan interface %s has no IPv4 address: give it the LAN gateway address",
			cfg->lan_ifname);
		return -ENOENT;
	}
	c.lan_ifindex = ifindex;
	c.lan_addr = a.addr;
	c.lan_mask = a.prefixlen ? htonl(~0u << (32 - a.prefixlen)) : 0;
	c.lan_net = a.addr & c.lan_mask;
	memcpy(c.lan_mac, l.mac, 6);
	c.host_flow_rate = cfg->host_flow_rate;
	c.host_flow_burst = cfg->host_flow_burst;
	c.flags = cfg->source_guard ? BSC_CFG_SOURCE_GUARD : 0;
	if (bpf_map_update_elem(m->tx_ports, &slot, &ifindex, BPF_ANY)) {
		bsc_log(LOG_ERR, "lan interface %s cannot take redirected frames: %s",
			cfg->lan_ifname, strerror(errno));
		return -errno;
	}
	if (bpf_map_update_elem(m->config, &zero, &c, BPF_ANY))
		return -errno;
	bsc_log(LOG_INFO, "lan %s: %s/%u", cfg->lan_ifname, inet_ntoa(*(struct in_addr *)&a.addr),
		a.prefixlen);
	return 0;
}

/* Uplinks of an older configuration that are gone now must not keep
 * taking flows; names that stayed keep their operator's word (admin). */
static void clear_stale_uplinks(const struct bsc_cfg *cfg, const struct bsc_maps *m)
{
	struct bsc_uplink u, empty = { 0 };
	uint32_t i;

	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		if (bsc_uplink_read(m, i, &u) || !u.ifindex)
			continue;
		if (i < (uint32_t)cfg->n_uplinks && !strcmp(u.name, cfg->uplinks[i].name))
			continue;
		bsc_uplink_write(m, i, &empty);
	}
}

static void init_policy(const struct bsc_maps *m)
{
	struct bsc_policy p;
	uint32_t i;

	for (i = 0; i < BSC_MAX_POLICIES; i++) {
		if (bsc_policy_read(m, i, &p))
			continue;
		/* A fresh map is all zeroes, which would name uplink 0. */
		if (p.active == 0 && p.preferred == 0) {
			p.active = BSC_NO_UPLINK;
			p.preferred = BSC_NO_UPLINK;
			bpf_map_update_elem(m->policy, &i, &p, BPF_ANY);
		}
	}
}

static void setup_uplink(struct daemon *d, int i)
{
	struct uplink_rt *u = &d->up[i];
	struct bsc_uplink e;
	uint64_t now = bsc_now_ns();

	u->d = d;
	u->idx = (uint32_t)i;
	u->cfg = &d->cfg->uplinks[i];
	u->gateway = u->cfg->gateway;
	bsc_health_init(&u->hs, now);
	/* Adopting a running data plane: an uplink that was carrying flows is
	 * trusted until probes say otherwise, so a restart resets nothing. */
	if (!bsc_uplink_read(&d->dp.maps, u->idx, &e) && e.state == BSC_UPLINK_UP &&
	    !strcmp(e.name, u->cfg->name)) {
		u->hs.health = BSC_H_UP;
		u->healthy_since = now - (uint64_t)d->cfg->failback_hold_ms * 1000000ull;
		snprintf(u->hs.reason, sizeof(u->hs.reason), "adopted (was up)");
		memcpy(u->gw_mac, e.gw_mac, 6);
	}
	{
		struct bsc_uplink w;

		if (bsc_uplink_read(&d->dp.maps, u->idx, &w))
			memset(&w, 0, sizeof(w));
		memset(w.name, 0, sizeof(w.name));
		snprintf(w.name, sizeof(w.name), "%s", u->cfg->name);
		if (w.drill_until_ns) {
			/* a daemon that died during a drill: give the uplink
			 * back now rather than at the deadline */
			bsc_log(LOG_NOTICE, "uplink %s: a drill was interrupted; given back",
				u->cfg->name);
			w.drill_until_ns = 0;
		}
		w.gateway = u->gateway;
		w.priority = u->cfg->priority;
		w.nat_port_min = u->cfg->nat_port_min;
		w.nat_port_max = u->cfg->nat_port_max;
		bsc_uplink_write(&d->dp.maps, u->idx, &w);
	}
	u->prober = bsc_prober_new(d->ev, u->cfg->ifname, on_probe, u);
	if (!u->prober && u->cfg->n_probes)
		bsc_log(LOG_ERR, "uplink %s: cannot create its prober", u->cfg->name);
	/* The probes' echo identifier is the box's: below the NAT's range,
	 * so no LAN host's ping can be given it and take the replies. */
	if (u->prober)
		bsc_prober_echo_id_below(u->prober, u->cfg->nat_port_min);
	refresh_uplink(d, u);
	if (u->cfg->n_probes)
		sd_event_add_time_relative(d->ev, &u->timer, CLOCK_MONOTONIC, 0, 1, round_timer, u);
}

static int add_timer(struct daemon *d, uint64_t ms, sd_event_time_handler_t cb)
{
	return sd_event_add_time_relative(d->ev, NULL, CLOCK_MONOTONIC, ms * 1000, 1000, cb, d);
}

/* The NAT's ports and the box's own must never meet: the kernel hands its
 * ephemeral ports (net.ipv4.ip_local_port_range of this namespace) to the
 * box's connections (probes, DNS, a VPN), and a NAT binding on one of them
 * would take their replies.  0 when every uplink's range is clear of it. */
int bsc_nat_ranges_check(const struct bsc_cfg *cfg, const char *range_file,
			 char *err, size_t errlen)
{
	unsigned lo, hi;
	FILE *f = fopen(range_file, "r");
	int i, n;

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", range_file, strerror(e));
		return -e;
	}
	n = fscanf(f, "%u %u", &lo, &hi);
	fclose(f);
	if (n != 2) {
		snprintf(err, errlen, "%s: not two port numbers", range_file);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_uplinks; i++) {
		const struct bsc_uplink_cfg *u = &cfg->uplinks[i];

		if (u->nat_port_max < lo || u->nat_port_min > hi)
			continue;
		snprintf(err, errlen,
			 "%s:%d: uplink %s: nat_ports %u-%u overlap the kernel's ephemeral ports %u-%u (%s): the box's own connections could be given the NAT's ports; move nat_ports, or the sysctl net.ipv4.ip_local_port_range",
			 cfg->path, u->line, u->name, u->nat_port_min, u->nat_port_max, lo, hi,
			 range_file);
		return -EADDRINUSE;
	}
	return 0;
}

int bsc_daemon_run(const struct bsc_cfg *cfg, const struct bsc_run_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));
	char err[512];
	sigset_t ss;
	int i, ret;

	if (!d)
		return -ENOMEM;
	d->cfg_store = *cfg;
	d->cfg = &d->cfg_store;
	cfg = d->cfg;
	pthread_mutex_init(&d->view_lock, NULL);
	d->start_time_s = (uint64_t)time(NULL);
	d->o = o;
	d->n = cfg->n_uplinks;
	d->active = BSC_NO_UPLINK;
	bsc_timeouts_from_cfg(&d->to, cfg);
	/* Hooks are reaped by the hook runner, from the loop (pidfd). */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);

	ret = bsc_nat_ranges_check(cfg, BSC_PORT_RANGE_SYSCTL, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		free(d);
		return ret;
	}
	ret = sd_event_new(&d->ev);
	if (ret < 0) {
		bsc_log(LOG_ERR, "event loop: %s", strerror(-ret));
		free(d);
		return ret;
	}
	d->hooks = bsc_hooks_new(d->ev, cfg->hook_max_running, cfg->hook_timeout_ms);
	if (!d->hooks)
		bsc_log(LOG_WARNING, "hooks: out of memory: none will run");
	ret = bsc_dp_load(&d->dp, cfg, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		goto out_ev;
	}
	if (cfg->history[0] && bsc_history_open(cfg->history, cfg->history_retention_days, &d->hist,
						err, sizeof(err)))
		bsc_log(LOG_ERR, "%s: running without a history", err);
	if (d->hist) {
		struct bsc_drill_rec *dr = NULL;
		int ndr = 0;

		bsc_history_daemon(d->hist, (int64_t)(bsc_real_ns() / 1000000), 1);
		bsc_history_prune(d->hist, (int64_t)(bsc_real_ns() / 1000000));
		/* the last drill, for the metrics, until the next one */
		if (!bsc_history_drills(d->hist, INT64_MAX, 1, &dr, &ndr) && ndr == 1) {
			d->last_drill.known = 1;
			d->last_drill.passed = dr[0].passed;
			d->last_drill.end_s = (double)dr[0].end_ms / 1000.0;
			d->last_drill.cutover_ms = dr[0].cutover_ms;
		}
		free(dr);
		/* from here on the disk cannot hold the loop: a thread writes */
		if (bsc_history_start_writer(d->hist, HISTORY_QUEUE))
			bsc_log(LOG_WARNING, "history: no writer thread: the loop writes it");
	}
	init_policy(&d->dp.maps);
	clear_stale_uplinks(cfg, &d->dp.maps);
	if (cfg->manage_routes)
		d->saved_route = !nl_main_default(cfg->route_metric, &d->saved_gw, &d->saved_oif);
	ret = setup_lan(cfg, &d->dp.maps);
	if (ret)
		goto out;
	/* The monitor first: the gateways' MACs asked for while the uplinks
	 * are set up come back on it. */
	d->mon = nl_monitor_open();
	if (d->mon)
		sd_event_add_io(d->ev, NULL, mnl_socket_get_fd(d->mon), EPOLLIN, monitor_io, d);
	else
		bsc_log(LOG_WARNING, "no netlink monitor: link and gateway changes seen every %u ms only",
			cfg->refresh_interval_ms);
	for (i = 0; i < d->n; i++)
		setup_uplink(d, i);
	daemon_reevaluate(d);
	/* Where the site stands, flipped or adopted.  A fresh start has no
	 * uplink usable until the first probes answer (milliseconds): the
	 * site is offline only if none is within the grace (history_settle). */
	if (d->hist && d->active < (uint32_t)d->n)
		bsc_history_active(d->hist, (int64_t)(bsc_real_ns() / 1000000), active_name(d),
				   "daemon started");
	else if (d->hist) {
		d->hist_start_ms = (int64_t)(bsc_real_ns() / 1000000);
		d->hist_start_mono = bsc_now_ns();
	}

	ret = bsc_dp_attach(&d->dp, cfg->lan_ifname, 1, err, sizeof(err));
	for (i = 0; !ret && i < cfg->n_uplinks; i++)
		ret = bsc_dp_attach(&d->dp, cfg->uplinks[i].ifname, 0, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		goto out;
	}
	for (i = 0; i < d->dp.n_links; i++)
		bsc_log(LOG_INFO, "XDP %s on %s%s", i == 0 ? "bascule_lan" : "bascule_wan",
			d->dp.links[i].ifname, d->dp.links[i].adopted ? " (adopted running link)" : "");

	d->ctl = bsc_ctl_listen(d->ev, cfg->control_socket, cfg->control_group, on_request, d,
				err, sizeof(err));
	if (!d->ctl)
		bsc_log(LOG_WARNING, "%s", err);
	bsc_ctl_set_taker(d->ctl, take_request);
	add_timer(d, TICK_MS, tick_timer);
	add_timer(d, cfg->refresh_interval_ms, refresh_timer);
	add_timer(d, cfg->gc_interval_ms, gc_timer);
	if (d->hist)
		add_timer(d, 60000, history_timer);
	sd_event_add_signal(d->ev, NULL, SIGINT, on_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGTERM, on_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGHUP, on_sighup, d);
	snapshot(d);
	if (strcmp(cfg->metrics_listen, "off")) {
		d->metrics = bsc_metrics_start(cfg->metrics_listen, &d->dp.maps, metrics_view, d,
					       err, sizeof(err));
		if (!d->metrics)
			bsc_log(LOG_WARNING, "metrics: %s", err);
	}
	/* Under systemd: pings at half of WatchdogSec from the loop itself, so
	 * a stuck loop is restarted (the data plane keeps forwarding). */
	sd_event_set_watchdog(d->ev, 1);

	bsc_log(LOG_INFO, "running: pin root %s, %d uplink(s), flow table %u, control %s",
		cfg->pin_root, cfg->n_uplinks, cfg->flow_table_size, cfg->control_socket);
	printf("READY\n");
	fflush(stdout);
	sd_notifyf(0, "READY=1\nSTATUS=forwarding, %d uplink(s), active %s", d->n, active_name(d));
	ret = sd_event_loop(d->ev);
	if (ret < 0)
		bsc_log(LOG_ERR, "event loop: %s", strerror(-ret));
	ret = 0;
	bsc_drill_stop(d, "the daemon is stopping");
out:
	if (!(o->keep && !ret))
		routes_remove(d);
	sd_notify(0, "STOPPING=1");
	bsc_metrics_stop(d->metrics);
	sd_event_source_disable_unref(d->kick.timer);
	for (i = 0; i < d->n; i++) {
		sd_event_source_disable_unref(d->up[i].timer);
		bsc_prober_free(d->up[i].prober);
	}
	bsc_ctl_close(d->ctl);
	bsc_hooks_free(d->hooks);
	d->hooks = NULL;
	if (d->mon)
		mnl_socket_close(d->mon);
	if (d->hist) {
		history_sample(d);
		history_settle(d);
		bsc_history_daemon(d->hist, (int64_t)(bsc_real_ns() / 1000000), 0);
		bsc_history_close(d->hist);
	}
	bsc_dp_close(&d->dp, o->keep && !ret);
out_ev:
	sd_event_unref(d->ev);
	pthread_mutex_destroy(&d->view_lock);
	free(d);
	return ret;
}
