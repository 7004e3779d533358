// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * health/health.c - the uplink state machine, flap damping, probing rates, and the
 * choice of the active uplink.
 *
 *   unknown --good round--------------------------> up / degraded
 *   unknown --down_after bad rounds---------------> down
 *   up <--------window over / back under limits---> degraded
 *   up, degraded --down_after bad rounds----------> down   (+damping penalty)
 *   any --carrier lost----------------------------> down   (at once)
 *   down --up_after good rounds, not held---------> up / degraded
 *
 * A round is good when at least `quorum` of its targets answered within the
 * timeout, so one dead or rate-limiting target never moves traffic.  Damping
 * (as in BGP route flap damping) holds a bouncing uplink down: every down
 * adds a penalty that halves every half-life; above `suppress` the uplink is
 * held down until the penalty decays below `reuse`.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "health/health.h"

const char *const bsc_health_names[4] = { "unknown", "up", "degraded", "down" };

void bsc_health_cfg_defaults(struct bsc_health_cfg *c)
{
	/* Silent failure, worst case: a round starts up to one interval after
	 * the cut, down_after rounds fail, the last one a timeout after it was
	 * sent: 50 + 2 x 50 + 150 = 300 ms (README, "Defaults"). */
	c->interval_active_ms = 50;
	c->interval_standby_ms = 500;
	c->interval_metered_ms = 2000;
	c->burst_interval_ms = 20;
	c->burst_ms = 1000;
	c->timeout_ms = 150;
	c->quorum = 1;
	c->down_after = 3;
	c->up_after = 5;
	/* 100 probes: at 19 % probe loss (10 % each way) the chance of 40 or
	 * more failures in a window is below 1e-7, so random loss does not
	 * degrade an uplink; a real 50 % loss does within a second or two. */
	c->window = 100;
	c->loss_pct = 40;
	c->rtt_ms = 500;
	c->jitter_ms = 200;
	c->damp_penalty = 1000;
	c->damp_suppress = 2500; /* three downs within about half a half-life */
	c->damp_reuse = 1500;
	c->damp_half_life_ms = 60000;
	c->metered = 0;
}

void bsc_health_init(struct bsc_health_state *s, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->health = BSC_H_UNKNOWN;
	s->since_ns = now;
	s->penalty_ns = now;
	s->carrier = 1;
	snprintf(s->reason, sizeof(s->reason), "starting");
}

static void window_reset(struct bsc_health_state *s)
{
	s->win_pos = s->win_len = 0;
	s->loss_pct = s->rtt_us = s->jitter_us = 0;
}

static void window_stats(struct bsc_health_state *s, uint32_t window)
{
	uint32_t i, n = s->win_len, fails = 0, oks = 0, pairs = 0;
	uint64_t rtt_sum = 0, jit_sum = 0;
	int64_t prev = -1;

	for (i = 0; i < n; i++) {
		/* oldest first, so that jitter follows the order of probes */
		uint32_t k = (s->win_pos + window - n + i) % window;

		if (!s->win_ok[k]) {
			fails++;
			continue;
		}
		oks++;
		rtt_sum += s->win_rtt_us[k];
		if (prev >= 0) {
			jit_sum += (uint64_t)llabs((int64_t)s->win_rtt_us[k] - prev);
			pairs++;
		}
		prev = s->win_rtt_us[k];
	}
	s->loss_pct = n ? fails * 100 / n : 0;
	s->rtt_us = oks ? (uint32_t)(rtt_sum / oks) : 0;
	s->jitter_us = pairs ? (uint32_t)(jit_sum / pairs) : 0;
}

void bsc_health_probe(struct bsc_health_state *s, const struct bsc_health_cfg *c,
		      int ok, uint64_t rtt_ns)
{
	uint32_t window = c->window > BSC_WINDOW_MAX ? BSC_WINDOW_MAX : (c->window ? c->window : 1);

	/* Without carrier a probe can only fail: that says nothing of the
	 * path, and such failures would be counted as loss once it is back. */
	if (!s->carrier)
		return;
	s->win_ok[s->win_pos] = !!ok;
	s->win_rtt_us[s->win_pos] = ok ? (uint32_t)(rtt_ns / 1000) : 0;
	s->win_pos = (s->win_pos + 1) % window;
	if (s->win_len < window)
		s->win_len++;
	window_stats(s, window);
}

double bsc_health_penalty(const struct bsc_health_state *s, const struct bsc_health_cfg *c,
			  uint64_t now)
{
	double dt;

	if (s->penalty <= 0 || !c->damp_half_life_ms)
		return 0;
	dt = now > s->penalty_ns ? (double)(now - s->penalty_ns) / 1e6 : 0;
	return s->penalty * pow(0.5, dt / c->damp_half_life_ms);
}

static void set_health(struct bsc_health_state *s, enum bsc_health h, uint64_t now)
{
	s->health = h;
	s->since_ns = now;
}

static void go_down(struct bsc_health_state *s, const struct bsc_health_cfg *c, uint64_t now)
{
	/* Only a fall from service is a flap; an uplink that never came up
	 * starts without a penalty. */
	if (s->health == BSC_H_UP || s->health == BSC_H_DEGRADED) {
		s->penalty = bsc_health_penalty(s, c, now) + c->damp_penalty;
		s->penalty_ns = now;
	}
	if (c->damp_suppress && s->penalty >= c->damp_suppress)
		s->held = 1;
	set_health(s, BSC_H_DOWN, now);
	s->good_run = 0;
	window_reset(s);
}

/* Over the degraded limits?  `slack` (percent) gives the hysteresis on the
 * way back: an uplink recovers only below 3/4 of each limit. */
static int over_limits(const struct bsc_health_state *s, const struct bsc_health_cfg *c,
		       uint32_t slack, char *why, size_t len)
{
	uint32_t need = c->window / 2 ? c->window / 2 : 1;

	if (s->win_len < need)
		return 0;
	if (c->loss_pct && s->loss_pct * 100 > c->loss_pct * slack) {
		snprintf(why, len, "loss %u%% over %u%%", s->loss_pct, c->loss_pct);
		return 1;
	}
	if (c->rtt_ms && s->rtt_us / 10 > c->rtt_ms * slack) {
		snprintf(why, len, "rtt %.1f ms over %u ms", s->rtt_us / 1000.0, c->rtt_ms);
		return 1;
	}
	if (c->jitter_ms && s->jitter_us / 10 > c->jitter_ms * slack) {
		snprintf(why, len, "jitter %.1f ms over %u ms", s->jitter_us / 1000.0, c->jitter_ms);
		return 1;
	}
	return 0;
}

int bsc_health_round(struct bsc_health_state *s, const struct bsc_health_cfg *c,
		     int good, uint64_t now)
{
	enum bsc_health old = s->health;
	char why[64] = "";

	if (!s->carrier)
		return 0;
	if (good) {
		s->good_run++;
		s->bad_run = 0;
	} else {
		s->bad_run++;
		s->good_run = 0;
	}
	if (s->held && bsc_health_penalty(s, c, now) < c->damp_reuse)
		s->held = 0;

	switch (s->health) {
	case BSC_H_UNKNOWN:
		if (good) {
			set_health(s, BSC_H_UP, now);
			snprintf(s->reason, sizeof(s->reason), "probes answered");
		} else if (s->bad_run >= c->down_after) {
			go_down(s, c, now);
			snprintf(s->reason, sizeof(s->reason), "%u rounds without %u answer(s)",
				 s->bad_run, c->quorum);
		}
		break;
	case BSC_H_UP:
	case BSC_H_DEGRADED:
		if (s->bad_run >= c->down_after) {
			go_down(s, c, now);
			snprintf(s->reason, sizeof(s->reason), "%u rounds without %u answer(s) in %u ms",
				 s->bad_run, c->quorum, c->timeout_ms);
		} else if (s->health == BSC_H_UP && over_limits(s, c, 100, why, sizeof(why))) {
			set_health(s, BSC_H_DEGRADED, now);
			snprintf(s->reason, sizeof(s->reason), "%s", why);
		} else if (s->health == BSC_H_DEGRADED && good &&
			   !over_limits(s, c, 75, why, sizeof(why))) {
			set_health(s, BSC_H_UP, now);
			snprintf(s->reason, sizeof(s->reason), "back under the limits");
		}
		break;
	case BSC_H_DOWN:
		/* While down, the window holds the current good run only: the
		 * failures that made it (or kept it) down must not make it
		 * degraded the moment it is back. */
		if (!good)
			window_reset(s);
		if (s->good_run >= c->up_after) {
			if (s->held) {
				snprintf(s->reason, sizeof(s->reason),
					 "held down: flapping (penalty %.0f, reuse below %u)",
					 bsc_health_penalty(s, c, now), c->damp_reuse);
				break;
			}
			if (over_limits(s, c, 100, why, sizeof(why))) {
				set_health(s, BSC_H_DEGRADED, now);
				snprintf(s->reason, sizeof(s->reason), "%u good rounds, but %s",
					 s->good_run, why);
			} else {
				set_health(s, BSC_H_UP, now);
				snprintf(s->reason, sizeof(s->reason), "%u good rounds", s->good_run);
			}
		}
		break;
	}
	return s->health != old;
}

int bsc_health_carrier(struct bsc_health_state *s, const struct bsc_health_cfg *c,
		       int carrier, uint64_t now)
{
	enum bsc_health old = s->health;

	if (!!carrier == s->carrier)
		return 0;
	s->carrier = !!carrier;
	s->good_run = s->bad_run = 0;
	if (!carrier) {
		if (s->health != BSC_H_DOWN)
			go_down(s, c, now);
		snprintf(s->reason, sizeof(s->reason), "carrier lost");
	} else {
		/* Carrier back means "probe before use": up_after good rounds,
		 * judged on what the link does from now on (an uplink that was
		 * already down kept its window). */
		if (s->health != BSC_H_DOWN)
			go_down(s, c, now);
		window_reset(s);
		snprintf(s->reason, sizeof(s->reason), "carrier back, probing");
	}
	return s->health != old;
}

uint64_t bsc_health_interval_ns(const struct bsc_health_cfg *c, const struct bsc_health_state *s,
				int active, int suspicious)
{
	uint32_t ms;

	if (suspicious)
		ms = c->burst_interval_ms;
	else if (active && (s->health == BSC_H_UP || s->health == BSC_H_DEGRADED))
		ms = c->interval_active_ms;
	else
		ms = c->metered ? c->interval_metered_ms : c->interval_standby_ms;
	return (uint64_t)ms * 1000000ull;
}

static int usable(const struct bsc_candidate *c)
{
	return c->present && c->admin == BSC_ADMIN_AUTO &&
	       (c->health == BSC_H_UP || c->health == BSC_H_DEGRADED);
}

/* Strictly better: healthy before degraded, then a lower priority value. */
static int strictly_better(const struct bsc_candidate *c, uint32_t a, uint32_t b)
{
	int ra = c[a].health == BSC_H_UP ? 0 : 1, rb = c[b].health == BSC_H_UP ? 0 : 1;

	if (ra != rb)
		return ra < rb;
	return c[a].priority < c[b].priority;
}

/* For picking among equals, the lower index wins. */
static int better(const struct bsc_candidate *c, uint32_t a, uint32_t b)
{
	return strictly_better(c, a, b) || (!strictly_better(c, b, a) && a < b);
}

uint32_t bsc_choose_active(const struct bsc_candidate *c, int n, uint32_t current,
			   uint32_t preferred, uint64_t now, uint64_t hold_ns)
{
	uint32_t best = BSC_NO_UPLINK, stable = BSC_NO_UPLINK, i;

	if (preferred < (uint32_t)n && usable(&c[preferred]))
		return preferred;
	for (i = 0; i < (uint32_t)n; i++) {
		if (!usable(&c[i]))
			continue;
		if (best == BSC_NO_UPLINK || better(c, i, best))
			best = i;
		if (now - c[i].healthy_since_ns >= hold_ns &&
		    (stable == BSC_NO_UPLINK || better(c, i, stable)))
			stable = i;
	}
	if (current >= (uint32_t)n || !usable(&c[current]))
		return best;
	if (c[current].health == BSC_H_DEGRADED)
		return c[best].health == BSC_H_UP ? best : current;
	/* current is UP: only an uplink that has been healthy for the hold
	 * time may take over (failback without flapping). */
	if (stable != BSC_NO_UPLINK && stable != current && strictly_better(c, stable, current))
		return stable;
	return current;
}

uint32_t bsc_balance_members(const struct bsc_candidate *c, int n, uint32_t current,
			     uint64_t now, uint64_t hold_ns)
{
	uint32_t in = 0, up = 0;
	int i;

	uint32_t fresh = 0, fresh_up = 0;

	for (i = 0; i < n && i < 32; i++) {
		if (!usable(&c[i]))
			continue;
		if (!(current & (1u << i)) && now - c[i].healthy_since_ns < hold_ns) {
			fresh |= 1u << i;
			fresh_up |= c[i].health == BSC_H_UP ? 1u << i : 0;
			continue;
		}
		in |= 1u << i;
		if (c[i].health == BSC_H_UP)
			up |= 1u << i;
	}
	/* none up among those that waited: the up newcomers at once, as
	 * bsc_choose_active leaves a degraded current one at once; none at
	 * all (the start, after an outage): every usable one at once */
	if (!up && fresh_up)
		return fresh_up;
	return up ? up : in ? in : fresh;
}

uint32_t bsc_dataplane_state(enum bsc_health h, uint32_t admin)
{
	if (admin == BSC_ADMIN_DOWN || h == BSC_H_DOWN)
		return BSC_UPLINK_DOWN;
	if (h == BSC_H_UNKNOWN)
		return BSC_UPLINK_UNKNOWN;
	if (admin == BSC_ADMIN_DRAIN)
		return BSC_UPLINK_DRAINED;
	return BSC_UPLINK_UP;
}
