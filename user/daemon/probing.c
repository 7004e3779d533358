// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/probing.c - the probe rounds of every uplink: sending them on the
 * uplink's schedule (fast on the active one, slow on standby, in bursts on
 * suspicion), counting answers into rounds, feeding rounds to the health
 * state machine (health/), and the passive signal (packets out, nothing
 * back) that brings the next round forward.
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


void daemon_health_changed(struct uplink_rt *u, enum bsc_health old)
{
	uint64_t now = bsc_now_ns();

	u->transitions++;
	/* The failback hold counts from the moment an uplink is fully up
	 * again: coming back from degraded restarts it too, so a link that
	 * wavers around its limits does not pull traffic back and forth. */
	if (u->hs.health == BSC_H_UP && old != BSC_H_UP)
		u->healthy_since = now;
	else if (!daemon_healthy(u->hs.health))
		u->healthy_since = 0;
	daemon_record(u->d, "uplink", u->cfg->name, bsc_health_names[old],
	       bsc_health_names[u->hs.health], u->hs.reason);
}

void daemon_reschedule_now(struct uplink_rt *u)
{
	if (u->timer) {
		sd_event_source_set_time_relative(u->timer, 0);
		sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
	}
}

static void finish_round(struct uplink_rt *u, struct round *r, int good)
{
	enum bsc_health old = u->hs.health;

	r->done = 1;
	if (bsc_health_round(&u->hs, daemon_hcfg(u), good, bsc_now_ns())) {
		if (!good && u->last_fail[0]) {
			size_t l = strlen(u->hs.reason);

			snprintf(u->hs.reason + l, sizeof(u->hs.reason) - l, ", last: %s",
				 u->last_fail);
		}
		daemon_health_changed(u, old);
		daemon_reevaluate(u->d);
	}
}

void daemon_on_probe(void *data, unsigned idx, int ok, uint64_t rtt_ns, const char *why)
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
	bsc_health_probe(&u->hs, daemon_hcfg(u), ok, rtt_ns);
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
	if (r->ok >= daemon_hcfg(u)->quorum)
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

int daemon_round_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct uplink_rt *u = data;
	uint64_t now = bsc_now_ns();
	uint64_t next;

	start_round(u);
	next = bsc_health_interval_ns(daemon_hcfg(u), &u->hs, u->d->active == u->idx,
				      now < u->suspicious_until);
	sd_event_source_set_time_relative(s, next / 1000);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* Packets leaving on the active uplink with nothing coming back: probe now
 * and fast, rather than wait for the next round. */
void daemon_passive_signal(struct daemon *d, uint64_t now)
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
		u->suspicious_until = now + (uint64_t)daemon_hcfg(u)->burst_ms * 1000000ull;
		bsc_log(LOG_INFO, "uplink %s: %llu packets out, nothing back for %llu ms: probing now",
			u->cfg->name, (unsigned long long)(st.tx_packets - u->tx_at_rx_change),
			(unsigned long long)((now - u->rx_change_ns) / 1000000));
		daemon_reschedule_now(u);
	}
}
