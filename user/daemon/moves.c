// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/moves.c - what a decision does to existing flows: those its
 * classes move off an uplink that is still healthy (failback = move-udp,
 * reset-tcp), marked in one walk once every policy is written, and the TCP
 * kick that resets, a slice a turn of the loop, the TCP flows of failed
 * uplinks and those a move marked.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/state.h"
#include "dataplane/move.h"
#include "lib/log.h"

/* The moves of the decision under way (daemon_reevaluate): at most one per
 * class and uplink; a balance class's table copied, as it stands once
 * written. */
static struct {
	struct bsc_move mv[BSC_MAX_CLASSES * BSC_MAX_UPLINKS];
	struct bsc_balance *tab[BSC_MAX_CLASSES];
	int n, ntab;
} acc;

void daemon_move_add(struct daemon *d, int cls, uint32_t from, const struct bsc_balance *bal)
{
	int fb = bsc_class_failback(d->cfg, cls), i;
	struct bsc_balance *copy = NULL;

	if (fb == BSC_FAILBACK_STAY || !from)
		return;
	if (bal) {
		if (acc.ntab >= BSC_MAX_CLASSES || !(copy = malloc(sizeof(*copy)))) {
			bsc_log(LOG_WARNING, "class %s: its flows stay where they are (no memory to move them)",
				d->cfg->classes[cls].name);
			return;
		}
		memcpy(copy, bal, sizeof(*copy));
		acc.tab[acc.ntab++] = copy;
	}
	for (i = 0; i < d->n && acc.n < (int)(sizeof(acc.mv) / sizeof(acc.mv[0])); i++)
		if (from & (1u << i))
			acc.mv[acc.n++] = (struct bsc_move){
				.uplink = d->up[i].idx, .cls = cls, .tcp = fb == BSC_FAILBACK_RESET_TCP,
				.bal = copy, .persist_source = d->cfg->classes[cls].persist_source,
			};
}

static int up_of(const struct daemon *d, uint32_t idx)
{
	int i;

	for (i = 0; i < d->n && d->up[i].idx != idx; i++)
		;
	return i;
}

void daemon_moves_run(struct daemon *d)
{
	uint32_t kick = 0;
	int i, r;

	if (acc.n) {
		r = bsc_flows_move(&d->dp.maps, acc.mv, acc.n);
		if (r < 0)
			bsc_log(LOG_WARNING, "cannot move flows: %s", strerror(-r));
	}
	for (i = 0; i < acc.n; i++) {
		const struct bsc_move *x = &acc.mv[i];
		int u = up_of(d, x->uplink);
		const char *name = u < d->n ? d->up[u].cfg->name : "?";

		if (x->datagrams)
			bsc_log(LOG_NOTICE, "failback: class %s: %d UDP/ICMP flow(s) move off %s",
				d->cfg->classes[x->cls].name, x->datagrams, name);
		if (x->tcp_marked) {
			bsc_log(LOG_NOTICE, "failback: class %s: %d TCP flow(s) on %s to be reset (failback = reset-tcp)",
				d->cfg->classes[x->cls].name, x->tcp_marked, name);
			if (u < d->n)
				kick |= 1u << u;
		}
	}
	for (i = 0; i < acc.ntab; i++)
		free(acc.tab[i]);
	acc.n = acc.ntab = 0;
	daemon_kicks_start(d, kick, 1);
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
		if (d->kick.sent[i] > 0 && (d->kick.moving & (1u << i)))
			bsc_log(LOG_NOTICE, "uplink %s: resetting %d TCP flow(s) its classes moved off it",
				u->cfg->name, d->kick.sent[i]);
		else if (d->kick.sent[i] > 0)
			bsc_log(LOG_NOTICE, "uplink %s failed: resetting %d TCP flow(s)",
				u->cfg->name, d->kick.sent[i]);
		d->kick.moving &= ~(1u << i);
	}
	return d->kick.pending ? daemon_rearm(s, 1) : 0;
}

/* Kick the TCP flows of the uplinks in `failed` (bit i: d->up[i]), from
 * the loop; an uplink that fails again starts over.  `moving`: these
 * uplinks are healthy, and their flows that a move marked are kicked (the
 * walk kicks only what the data plane would reset: kick_cb). */
void daemon_kicks_start(struct daemon *d, uint32_t failed, int moving)
{
	int i;

	if (!failed)
		return;
	if (moving)
		d->kick.moving |= failed & ~d->kick.pending;
	else
		d->kick.moving &= ~failed;
	for (i = 0; i < d->n; i++)
		if (failed & (1u << i)) {
			memset(&d->kick.w[i], 0, sizeof(d->kick.w[i]));
			d->kick.sent[i] = 0;
		}
	d->kick.pending |= failed;
	if (!d->ev)
		return;
	if (d->kick.timer)
		daemon_rearm(d->kick.timer, 0);
	else if (sd_event_add_time_relative(d->ev, &d->kick.timer, CLOCK_MONOTONIC, 0, 1,
					    kick_timer, d) < 0)
		bsc_log(LOG_WARNING, "no timer for the TCP kick: stranded TCP flows wait for "
			"their next packet");
}
