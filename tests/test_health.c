// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_health.c - unit tests of the uplink health state machine (cmocka).
 *
 *   rounds      unknown / up / degraded / down on sequences of good and bad
 *               rounds, with the exact round of each transition and its reason
 *   carrier     carrier loss and return
 *   window      loss, RTT and jitter limits, the 3/4 hysteresis on the way back
 *   quorum      random probe loss and dead targets against the quorum
 *   damping     flap penalty, hold-down and release on the injected clock
 *   interval    the probing rate for each role
 *   choose      which uplink new flows take (bsc_choose_active)
 *   dataplane   what the data plane is told, for every health x admin
 *
 * Everything runs on an injected nanosecond clock, so every sequence is
 * deterministic; random loss comes from a fixed-seed PRNG.  Table-driven
 * tests register one cmocka test per row, named after the row, and all run
 * in one group so that CMOCKA_MESSAGE_OUTPUT=TAP prints a single plan.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bascule.h"
#include "health/health.h"
#include "lib/runner.h"


#define MS(x) ((uint64_t)(x) * 1000000ull)
#define S(x)  ((uint64_t)(x) * 1000000000ull)
#define T0    S(1000)           /* the clock does not start at zero */

enum { BAD = 0, GOOD = 1 };

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

/* One uplink: its profile, its state and the clock. */
struct uplink {
	struct bsc_health_cfg c;
	struct bsc_health_state s;
	uint64_t now;
	int changes;            /* health changes seen by rounds() */
};

static void start(struct uplink *u)
{
	memset(u, 0, sizeof(*u));
	bsc_health_cfg_defaults(&u->c);
	/* The window mechanics are checked on a short window, easy to fill by
	 * hand; test_defaults checks the shipped size. */
	u->c.window = 20;
	u->now = T0;
	bsc_health_init(&u->s, u->now);
}

/* Health compared by name, so that a failure reads "up" != "down". */
#define assert_health(u, h) \
	assert_string_equal(bsc_health_names[(u)->s.health], bsc_health_names[h])

/* `n` rounds of the same verdict, `step` apart (the first one `step` after
 * the current time).  Returns the number (1-based) of the first round that
 * changed the health, 0 if none did; u->changes counts every change. */
static int rounds(struct uplink *u, int n, int good, uint64_t step)
{
	int i, first = 0;

	for (i = 1; i <= n; i++) {
		u->now += step;
		if (bsc_health_round(&u->s, &u->c, good, u->now)) {
			u->changes++;
			if (!first)
				first = i;
		}
	}
	return first;
}

/* A fresh uplink, brought up by its first good round. */
static void start_up(struct uplink *u)
{
	start(u);
	assert_int_equal(rounds(u, 1, GOOD, MS(50)), 1);
	assert_health(u, BSC_H_UP);
}

/* `n` probes with the same result. */
static void probes(struct uplink *u, int n, int ok, uint32_t rtt_ms)
{
	int i;

	for (i = 0; i < n; i++)
		bsc_health_probe(&u->s, &u->c, ok, ok ? MS(rtt_ms) : 0);
}

/* A whole window: `fails` lost probes, then answers at `rtt_ms`. */
static void fill(struct uplink *u, uint32_t fails, uint32_t rtt_ms)
{
	probes(u, (int)fails, 0, 0);
	probes(u, (int)(u->c.window - fails), 1, rtt_ms);
}

/* A whole window of answers alternating between two RTTs: the mean change
 * between consecutive RTTs (jitter) is |a - b|. */
static void fill_alternating(struct uplink *u, uint32_t a_ms, uint32_t b_ms)
{
	uint32_t i;

	for (i = 0; i < u->c.window; i++)
		bsc_health_probe(&u->s, &u->c, 1, MS(i % 2 ? b_ms : a_ms));
}

/* Deterministic PRNG (splitmix64), so failures reproduce. */
static uint64_t rng_state;

static uint64_t rng64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int rng_chance(double p)
{
	return (double)(rng64() >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ------------------------------------------------------------------ */
/* defaults                                                           */
/* ------------------------------------------------------------------ */

static void test_defaults(void **st)
{
	struct bsc_health_cfg c;

	memset(&c, 0xa5, sizeof(c));
	bsc_health_cfg_defaults(&c);
	assert_int_equal(c.interval_active_ms, 50);
	assert_int_equal(c.interval_standby_ms, 500);
	assert_int_equal(c.interval_metered_ms, 2000);
	assert_int_equal(c.burst_interval_ms, 20);
	assert_int_equal(c.burst_ms, 1000);
	assert_int_equal(c.timeout_ms, 150);
	assert_int_equal(c.quorum, 1);
	assert_int_equal(c.down_after, 3);
	assert_int_equal(c.up_after, 5);
	assert_int_equal(c.window, 100);
	assert_int_equal(c.loss_pct, 40);
	assert_int_equal(c.rtt_ms, 500);
	assert_int_equal(c.jitter_ms, 200);
	assert_int_equal(c.damp_penalty, 1000);
	assert_int_equal(c.damp_reuse, 1500);
	assert_int_equal(c.damp_half_life_ms, 60000);
	assert_int_equal(c.metered, 0);
	/* The README's worst case for a silent cut: one interval before the
	 * first failing round starts, down_after - 1 more intervals, and the
	 * last round's timeout. */
	assert_int_equal(c.interval_active_ms + (c.down_after - 1) * c.interval_active_ms +
			 c.timeout_ms, 300);
}

static void test_init(void **st)
{
	struct bsc_health_state s;

	memset(&s, 0xa5, sizeof(s));
	bsc_health_init(&s, T0);
	assert_int_equal(s.health, BSC_H_UNKNOWN);
	assert_int_equal(s.since_ns, T0);
	assert_int_equal(s.good_run, 0);
	assert_int_equal(s.bad_run, 0);
	assert_int_equal(s.win_len, 0);
	assert_int_equal(s.held, 0);
	assert_int_equal(s.carrier, 1);
	assert_true(s.penalty == 0.0);
	assert_string_equal(s.reason, "starting");
	assert_string_equal(bsc_health_names[BSC_H_UNKNOWN], "unknown");
	assert_string_equal(bsc_health_names[BSC_H_UP], "up");
	assert_string_equal(bsc_health_names[BSC_H_DEGRADED], "degraded");
	assert_string_equal(bsc_health_names[BSC_H_DOWN], "down");
}

/* ------------------------------------------------------------------ */
/* rounds                                                             */
/* ------------------------------------------------------------------ */

static void test_unknown_up_on_first_good_round(void **st)
{
	struct uplink u;

	start(&u);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "probes answered");
	assert_int_equal(u.s.since_ns, T0 + MS(50));
	assert_int_equal(u.s.good_run, 1);
	/* more good rounds change nothing */
	assert_int_equal(rounds(&u, 100, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.since_ns, T0 + MS(50));
}

static void test_unknown_up_after_bad_rounds_short_of_down(void **st)
{
	struct uplink u;

	start(&u);
	assert_int_equal(rounds(&u, 2, BAD, MS(500)), 0);
	assert_health(&u, BSC_H_UNKNOWN);
	assert_string_equal(u.s.reason, "starting");
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "probes answered");
}

static void test_unknown_down_after_down_after_bad_rounds(void **st)
{
	struct uplink u;

	start(&u);
	assert_int_equal(rounds(&u, 2, BAD, MS(500)), 0);
	assert_health(&u, BSC_H_UNKNOWN);
	assert_int_equal(u.s.bad_run, 2);
	assert_int_equal(rounds(&u, 1, BAD, MS(500)), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s)");
	assert_int_equal(u.s.since_ns, T0 + MS(1500));
	/* more bad rounds: no further change, the reason stays */
	assert_int_equal(rounds(&u, 10, BAD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s)");
}

static void test_unknown_down_follows_config(void **st)
{
	struct uplink u;

	start(&u);
	u.c.down_after = 7;
	u.c.quorum = 2;
	assert_int_equal(rounds(&u, 6, BAD, MS(500)), 0);
	assert_health(&u, BSC_H_UNKNOWN);
	assert_int_equal(rounds(&u, 1, BAD, MS(500)), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "7 rounds without 2 answer(s)");
}

static void test_up_down_at_the_down_after_th_bad_round(void **st)
{
	struct uplink u;
	uint64_t t;

	start_up(&u);
	t = u.now;
	assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.since_ns, t);
	assert_int_equal(rounds(&u, 1, BAD, MS(50)), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(u.s.since_ns, t + MS(150));
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s) in 150 ms");
	assert_int_equal(u.s.good_run, 0);
}

static void test_up_down_reason_follows_config(void **st)
{
	struct uplink u;

	start_up(&u);
	u.c.down_after = 5;
	u.c.quorum = 2;
	u.c.timeout_ms = 400;
	assert_int_equal(rounds(&u, 4, BAD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(rounds(&u, 1, BAD, MS(50)), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "5 rounds without 2 answer(s) in 400 ms");
}

static void test_up_good_round_resets_bad_run(void **st)
{
	struct uplink u;

	start_up(&u);
	/* bad, bad, good, bad, bad: never three in a row */
	assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 0);
	assert_int_equal(u.s.bad_run, 0);
	assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "probes answered");
	assert_int_equal(u.s.bad_run, 2);
	/* and the run that follows still needs its third */
	assert_int_equal(rounds(&u, 1, BAD, MS(50)), 1);
	assert_health(&u, BSC_H_DOWN);
}

static void test_up_long_alternation_never_down(void **st)
{
	struct uplink u;
	int i;

	start_up(&u);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
		assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 0);
	}
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.changes, 1);        /* the start_up() one only */
}

static void go_down(struct uplink *u)
{
	assert_int_equal(rounds(u, (int)u->c.down_after, BAD, MS(50)), (int)u->c.down_after);
	assert_health(u, BSC_H_DOWN);
}

static void test_down_up_after_up_after_good_rounds(void **st)
{
	struct uplink u;
	uint64_t t;

	start_up(&u);
	go_down(&u);
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(u.s.good_run, 4);
	t = u.now;
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.since_ns, t + MS(500));
	assert_string_equal(u.s.reason, "5 good rounds");
}

static void test_down_interrupted_good_run_restarts(void **st)
{
	struct uplink u;

	start_up(&u);
	go_down(&u);
	/* 4 good, 1 bad, 4 good: still down */
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	assert_int_equal(rounds(&u, 1, BAD, MS(500)), 0);
	assert_int_equal(u.s.good_run, 0);
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s) in 150 ms");
	/* the fifth of the new run brings it up */
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "5 good rounds");
}

static void test_down_up_after_follows_config(void **st)
{
	struct uplink u;

	start_up(&u);
	u.c.up_after = 1;
	go_down(&u);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "1 good rounds");
}

/* ------------------------------------------------------------------ */
/* carrier                                                            */
/* ------------------------------------------------------------------ */

static void test_carrier_lost_down_at_once(void **st)
{
	struct uplink u;

	start_up(&u);
	u.now += MS(7);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "carrier lost");
	assert_int_equal(u.s.since_ns, u.now);
	assert_int_equal(u.s.carrier, 0);
	/* a down transition like any other: it is penalised */
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, u.now) - 1000.0) < 1e-9);
	/* lost again: nothing new */
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now + MS(1)), 0);
	assert_health(&u, BSC_H_DOWN);
}

static void test_carrier_lost_from_degraded(void **st)
{
	struct uplink u;

	start_up(&u);
	fill(&u, 0, 900);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "carrier lost");
	assert_int_equal(u.s.win_len, 0);
}

static void test_carrier_rounds_while_lost_change_nothing(void **st)
{
	struct uplink u;
	uint64_t t;

	start_up(&u);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now), 1);
	t = u.now;
	assert_int_equal(rounds(&u, 20, GOOD, MS(500)), 0);
	assert_int_equal(rounds(&u, 20, BAD, MS(500)), 0);
	assert_int_equal(rounds(&u, 20, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(u.s.since_ns, t);
	assert_int_equal(u.s.good_run, 0);
	assert_int_equal(u.s.bad_run, 0);
	assert_string_equal(u.s.reason, "carrier lost");
}

static void test_carrier_back_stays_down_until_up_after(void **st)
{
	struct uplink u;

	start_up(&u);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now), 1);
	assert_int_equal(rounds(&u, 10, GOOD, MS(500)), 0);
	u.now += MS(500);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 1, u.now), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(u.s.carrier, 1);
	assert_string_equal(u.s.reason, "carrier back, probing");
	/* back again: nothing new */
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 1, u.now), 0);
	assert_string_equal(u.s.reason, "carrier back, probing");
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "5 good rounds");
}

static void test_carrier_flicker_restarts_good_run(void **st)
{
	struct uplink u;

	start_up(&u);
	go_down(&u);
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	/* lost and back between two rounds: the four good rounds are void */
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now + MS(1)), 0);
	assert_string_equal(u.s.reason, "carrier lost");
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 1, u.now + MS(2)), 0);
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
}

/* Probes that fail while there is no carrier (sent into a dead link, or
 * timing out after the carrier went) are no sign of loss on the path: once
 * the carrier is back, the uplink comes up on clean probes and stays up.
 * (Counted, they filled the loss window, and a fibre came back "up", then
 * "degraded" a second later, in the lab on emulated links.) */
static void test_carrier_probes_while_lost_not_counted(void **st)
{
	struct uplink u;

	start_up(&u);
	probes(&u, 4, 1, 20);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now), 1);
	probes(&u, 16, 0, 0);
	assert_int_equal(rounds(&u, 4, BAD, MS(500)), 0);
	assert_int_equal(u.s.win_len, 0);
	u.now += MS(100);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 1, u.now), 0);
	assert_int_equal(u.s.win_len, 0);
	probes(&u, 16, 1, 20);
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	probes(&u, 4, 1, 20);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	probes(&u, 20, 1, 20);
	assert_int_equal(rounds(&u, 5, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.loss_pct, 0);
}

/* An uplink down by its rounds, with a good run under way, loses its
 * carrier for a moment: the window starts again with the carrier. */
static void test_carrier_back_clears_the_window(void **st)
{
	struct uplink u;

	start_up(&u);
	go_down(&u);
	probes(&u, 6, 1, 20);
	assert_int_equal(rounds(&u, 2, GOOD, MS(500)), 0);
	assert_int_equal(u.s.win_len, 6);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now + MS(1)), 0);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 1, u.now + MS(2)), 0);
	assert_int_equal(u.s.win_len, 0);
	assert_int_equal(u.s.rtt_us, 0);
}

static void test_carrier_lost_while_down_adds_no_penalty(void **st)
{
	struct uplink u;

	start_up(&u);
	go_down(&u);
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, u.now) - 1000.0) < 1e-9);
	assert_int_equal(bsc_health_carrier(&u.s, &u.c, 0, u.now), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "carrier lost");
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, u.now) - 1000.0) < 1e-9);
}

/* ------------------------------------------------------------------ */
/* window: loss, RTT, jitter                                          */
/* ------------------------------------------------------------------ */

static void test_window_stats(void **st)
{
	struct uplink u;

	start(&u);
	/* oldest first: 10, 30, lost, 20 -> loss 25 %, mean 20 ms, jitter
	 * (|30-10| + |20-30|) / 2 = 15 ms (a lost probe is skipped) */
	bsc_health_probe(&u.s, &u.c, 1, MS(10));
	bsc_health_probe(&u.s, &u.c, 1, MS(30));
	bsc_health_probe(&u.s, &u.c, 0, MS(99));
	bsc_health_probe(&u.s, &u.c, 1, MS(20));
	assert_int_equal(u.s.win_len, 4);
	assert_int_equal(u.s.loss_pct, 25);
	assert_int_equal(u.s.rtt_us, 20000);
	assert_int_equal(u.s.jitter_us, 15000);
	/* the window holds the last `window` probes only */
	fill(&u, 5, 40);
	assert_int_equal(u.s.win_len, 20);
	assert_int_equal(u.s.loss_pct, 25);
	assert_int_equal(u.s.rtt_us, 40000);
	assert_int_equal(u.s.jitter_us, 0);
	probes(&u, 5, 1, 40);
	assert_int_equal(u.s.loss_pct, 0);
}

static void test_degraded_on_loss(void **st)
{
	struct uplink u;
	uint64_t t;

	start_up(&u);
	/* 8 of 20 lost = 40 %: at the limit, not over it */
	fill(&u, 8, 20);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	/* 9 of 20 = 45 % */
	fill(&u, 9, 20);
	t = u.now + MS(50);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "loss 45% over 40%");
	assert_int_equal(u.s.since_ns, t);
	assert_int_equal(u.s.loss_pct, 45);
	/* still over: no further change */
	assert_int_equal(rounds(&u, 10, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_DEGRADED);
}

static void test_degraded_on_bad_round_too(void **st)
{
	struct uplink u;

	start_up(&u);
	fill(&u, 12, 20);
	assert_int_equal(rounds(&u, 1, BAD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "loss 60% over 40%");
}

static void test_degraded_needs_half_a_window(void **st)
{
	struct uplink u;

	start_up(&u);
	/* 9 probes, all lost: 100 % loss, but fewer than window / 2 */
	probes(&u, 9, 0, 0);
	assert_int_equal(u.s.loss_pct, 100);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	/* the tenth makes half a window */
	probes(&u, 1, 0, 0);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "loss 100% over 40%");
}

static void test_degraded_on_rtt(void **st)
{
	struct uplink u;

	start_up(&u);
	fill(&u, 0, 500);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	fill(&u, 0, 600);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "rtt 600.0 ms over 500 ms");
	assert_int_equal(u.s.rtt_us, 600000);
}

static void test_degraded_on_jitter(void **st)
{
	struct uplink u;

	start_up(&u);
	/* 10, 210, 10, ...: mean RTT 110 ms, jitter 200 ms (at the limit) */
	fill_alternating(&u, 10, 210);
	assert_int_equal(u.s.jitter_us, 200000);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
	/* 10, 260, ...: mean RTT 135 ms, well under 500, jitter 250 ms */
	fill_alternating(&u, 10, 260);
	assert_int_equal(u.s.rtt_us, 135000);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "jitter 250.0 ms over 200 ms");
}

static void test_limits_of_zero_disable(void **st)
{
	struct uplink u;

	start_up(&u);
	u.c.loss_pct = 0;
	u.c.rtt_ms = 0;
	u.c.jitter_ms = 0;
	probes(&u, 10, 0, 0);
	fill_alternating(&u, 10, 5000);
	probes(&u, 10, 0, 0);
	assert_int_equal(u.s.loss_pct, 50);
	assert_int_equal(rounds(&u, 5, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
}

/* Hysteresis: from degraded, back to up only below 3/4 of the limit. */
static void test_hysteresis_loss(void **st)
{
	struct uplink u;

	start_up(&u);
	u.c.loss_pct = 50;
	fill(&u, 11, 20);               /* 55 % */
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "loss 55% over 50%");
	fill(&u, 8, 20);                /* 40 % = 80 % of the limit */
	assert_int_equal(rounds(&u, 5, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "loss 55% over 50%");
	fill(&u, 7, 20);                /* 35 % = 70 % of the limit */
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "back under the limits");
}

static void test_hysteresis_rtt(void **st)
{
	struct uplink u;
	uint64_t t;

	start_up(&u);
	fill(&u, 0, 600);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	fill(&u, 0, 400);               /* 80 % of 500 ms */
	assert_int_equal(rounds(&u, 5, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_DEGRADED);
	fill(&u, 0, 350);               /* 70 % */
	t = u.now + MS(50);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "back under the limits");
	assert_int_equal(u.s.since_ns, t);
}

static void test_hysteresis_jitter(void **st)
{
	struct uplink u;

	start_up(&u);
	fill_alternating(&u, 10, 260);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	fill_alternating(&u, 10, 170);  /* 160 ms = 80 % of 200 */
	assert_int_equal(rounds(&u, 5, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_DEGRADED);
	fill_alternating(&u, 10, 150);  /* 140 ms = 70 % */
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "back under the limits");
}

static void test_degraded_recovers_only_on_good_round(void **st)
{
	struct uplink u;

	start_up(&u);
	fill(&u, 0, 600);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	fill(&u, 0, 100);
	assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
	assert_health(&u, BSC_H_DEGRADED);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_UP);
}

static void test_degraded_down_after_bad_rounds(void **st)
{
	struct uplink u;

	start_up(&u);
	fill(&u, 9, 20);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
	assert_health(&u, BSC_H_DEGRADED);
	assert_int_equal(rounds(&u, 1, BAD, MS(50)), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s) in 150 ms");
}

static void test_window_reset_when_down(void **st)
{
	struct uplink u;

	start_up(&u);
	fill(&u, 12, 20);
	assert_int_equal(rounds(&u, 1, GOOD, MS(50)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	probes(&u, 3, 0, 0);
	assert_int_equal(rounds(&u, 2, BAD, MS(50)), 0);
	probes(&u, 3, 0, 0);
	assert_int_equal(rounds(&u, 1, BAD, MS(50)), 1);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(u.s.win_len, 0);
	assert_int_equal(u.s.loss_pct, 0);
	assert_int_equal(u.s.rtt_us, 0);
	assert_int_equal(u.s.jitter_us, 0);
	/* comes back with clean probes: the old losses are forgotten, it is
	 * up and stays up */
	probes(&u, 3, 1, 20);
	assert_int_equal(rounds(&u, 4, GOOD, MS(500)), 0);
	probes(&u, 3, 1, 20);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.win_len, 6);
	assert_int_equal(u.s.loss_pct, 0);
	probes(&u, 6, 1, 20);
	assert_int_equal(rounds(&u, 5, GOOD, MS(50)), 0);
	assert_health(&u, BSC_H_UP);
}

/* The diagram in health.c: "down --up_after good rounds, not held--> up /
 * degraded".  An uplink that comes back over the limits must come back
 * degraded, not up for a round: bsc_choose_active leaves a degraded current
 * uplink for any UP one at once, so one round of a false "up" moves new
 * flows onto the slow uplink. */
static void test_down_back_over_limits_is_degraded(void **st)
{
	struct uplink u;
	int i;

	start_up(&u);
	go_down(&u);
	/* three targets answer each round, all at 800 ms (limit 500) */
	for (i = 1; i <= 4; i++) {
		probes(&u, 3, 1, 800);
		assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 0);
	}
	assert_health(&u, BSC_H_DOWN);
	probes(&u, 3, 1, 800);
	assert_int_equal(u.s.win_len, 15);
	assert_int_equal(u.s.rtt_us, 800000);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_DEGRADED);
	assert_string_equal(u.s.reason, "5 good rounds, but rtt 800.0 ms over 500 ms");
}

/* ------------------------------------------------------------------ */
/* quorum                                                             */
/* ------------------------------------------------------------------ */

struct loss_run {
	int rounds_bad, longest_bad, downs, first_down;
};

/* `n` rounds of 3 probes each, each lost with probability `p` (fixed
 * seed), a round good with at least `quorum` answers. */
static struct loss_run random_loss(uint32_t quorum, int n, double p)
{
	struct loss_run r = { 0 };
	struct uplink u;
	int i, j, answered, run = 0;

	start(&u);
	u.c.quorum = quorum;
	rng_state = 0x5eed;
	for (i = 1; i <= n; i++) {
		answered = 0;
		for (j = 0; j < 3; j++) {
			int ok = !rng_chance(p);

			bsc_health_probe(&u.s, &u.c, ok, MS(20 + j));
			answered += ok;
		}
		u.now += bsc_health_interval_ns(&u.c, &u.s, 1, 0);
		if (answered >= (int)quorum) {
			run = 0;
		} else {
			r.rounds_bad++;
			if (++run > r.longest_bad)
				r.longest_bad = run;
		}
		if (bsc_health_round(&u.s, &u.c, answered >= (int)quorum, u.now) &&
		    u.s.health == BSC_H_DOWN) {
			r.downs++;
			if (!r.first_down)
				r.first_down = i;
		}
	}
	return r;
}

/* 10 % loss each way: a probe round trip is lost with p = 1 - 0.9^2 = 0.19.
 * A bad round (all three lost) has p = 0.19^3 = 0.0069: about 690 in
 * 100 000 rounds; three in a row, p = 3.2e-7, about 0.03 expected. */
static void test_quorum_one_of_three_rides_out_random_loss(void **st)
{
	struct loss_run r = random_loss(1, 100000, 0.19);

	assert_int_equal(r.downs, 0);
	assert_in_range(r.longest_bad, 1, 2);           /* losses did happen */
	assert_in_range(r.rounds_bad, 550, 850);
}

/* Same probes, same seed, but all three must answer: a round is bad with
 * p = 1 - 0.81^3 = 0.47, and three in a row come quickly. */
static void test_quorum_three_of_three_goes_down_on_random_loss(void **st)
{
	struct loss_run r = random_loss(3, 100000, 0.19);

	assert_true(r.downs > 0);
	assert_in_range(r.first_down, 3, 100);
	assert_in_range(r.rounds_bad, 45000, 48500);
}

/* Three targets, `dead` of them never answering, the others always. */
static int dead_targets(uint32_t quorum, int dead, int n, struct uplink *u)
{
	int i, j, answered;

	start(u);
	u->c.quorum = quorum;
	for (i = 1; i <= n; i++) {
		answered = 0;
		for (j = 0; j < 3; j++) {
			int ok = j >= dead;

			bsc_health_probe(&u->s, &u->c, ok, MS(20));
			answered += ok;
		}
		u->now += MS(50);
		if (bsc_health_round(&u->s, &u->c, answered >= (int)quorum, u->now))
			u->changes++;
		if (u->s.health == BSC_H_DOWN)
			return i;
	}
	return 0;
}

/* With the shipped window (100 probes), 10 % loss each way never even
 * degrades the uplink (which would move new flows): 100 000 rounds of 3
 * probes, each lost with p = 0.19; and a real 50 % loss does degrade it. */
static void test_default_window_rides_out_random_loss(void **st)
{
	struct uplink u;
	int i, j, degraded = 0;

	start(&u);
	bsc_health_cfg_defaults(&u.c);
	rng_state = 0x5eed;
	for (i = 0; i < 100000; i++) {
		int answered = 0;

		for (j = 0; j < 3; j++) {
			int ok = !rng_chance(0.19);

			bsc_health_probe(&u.s, &u.c, ok, MS(10));
			answered += ok;
		}
		u.now += MS(50);
		bsc_health_round(&u.s, &u.c, answered >= 1, u.now);
		degraded += u.s.health != BSC_H_UP;
	}
	assert_int_equal(degraded, 0);
	for (i = 0; i < 200 && u.s.health == BSC_H_UP; i++) {
		int answered = 0;

		for (j = 0; j < 3; j++) {
			int ok = !rng_chance(0.5);

			bsc_health_probe(&u.s, &u.c, ok, MS(10));
			answered += ok;
		}
		u.now += MS(50);
		bsc_health_round(&u.s, &u.c, answered >= 1, u.now);
	}
	assert_health(&u, BSC_H_DEGRADED);
	assert_true(i < 100); /* within 5 s of rounds */
}

static void test_quorum_one_dead_target_never_down(void **st)
{
	struct uplink u;

	/* one of three dead, quorum 1: up on the first round, and stays up
	 * (window loss 30-35 %, under the 40 % limit) */
	assert_int_equal(dead_targets(1, 1, 10000, &u), 0);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.changes, 1);
	/* quorum 2 still has its two answers */
	assert_int_equal(dead_targets(2, 1, 10000, &u), 0);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.changes, 1);
}

static void test_quorum_two_with_two_dead_goes_down(void **st)
{
	struct uplink u;

	assert_int_equal(dead_targets(2, 2, 10000, &u), 3);
	assert_string_equal(u.s.reason, "3 rounds without 2 answer(s)");
	/* whereas quorum 1 rides on the one live target (degraded by the
	 * 67 % window loss, but never down) */
	assert_int_equal(dead_targets(1, 2, 10000, &u), 0);
	assert_health(&u, BSC_H_DEGRADED);
}

/* ------------------------------------------------------------------ */
/* damping                                                            */
/* ------------------------------------------------------------------ */

static void test_penalty_halves_every_half_life(void **st)
{
	struct uplink u;
	uint64_t t;

	start_up(&u);
	assert_true(bsc_health_penalty(&u.s, &u.c, u.now) == 0.0);
	go_down(&u);
	t = u.now;
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, t) - 1000.0) < 1e-9);
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, t + S(30)) - 1000.0 / sqrt(2.0)) < 1e-6);
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, t + S(60)) - 500.0) < 1e-9);
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, t + S(120)) - 250.0) < 1e-9);
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, t + S(600)) - 1000.0 / 1024) < 1e-9);
	/* a second down adds to what is left of the first */
	assert_int_equal(rounds(&u, 5, GOOD, S(12)), 5);
	go_down(&u);
	assert_int_equal(u.now, t + S(60) + MS(150));
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, u.now) -
			 (1000.0 + 1000.0 * pow(0.5, 60150.0 / 60000.0))) < 1e-6);
	/* half-life 10 s */
	u.c.damp_half_life_ms = 10000;
	assert_true(fabs(bsc_health_penalty(&u.s, &u.c, u.now + S(10)) -
			 bsc_health_penalty(&u.s, &u.c, u.now) / 2) < 1e-9);
}

/* A flap at the pace the profile allows: down_after bad rounds at the
 * active interval, then up_after good rounds at the standby interval. */
static void flap_down(struct uplink *u)
{
	assert_int_equal(rounds(u, (int)u->c.down_after, BAD, MS(u->c.interval_active_ms)),
			 (int)u->c.down_after);
	assert_health(u, BSC_H_DOWN);
}

static void flap_up(struct uplink *u)
{
	assert_int_equal(rounds(u, (int)u->c.up_after, GOOD, MS(u->c.interval_standby_ms)),
			 (int)u->c.up_after);
	assert_health(u, BSC_H_UP);
}

/* Three downs as fast as the defaults let an uplink bounce (about 2.65 s a
 * cycle) must get it held down, as BGP damping holds a route after three
 * quick flaps; then up_after good rounds do not bring it up, and it comes
 * up once the penalty has decayed below reuse, about one half-life later. */
static void test_damping_three_quick_downs_held(void **st)
{
	struct uplink u;
	uint64_t first, third;
	char got[128], want[128];

	start_up(&u);
	first = u.now;
	flap_down(&u);
	assert_int_equal(u.s.held, 0);
	flap_up(&u);
	flap_down(&u);
	assert_int_equal(u.s.held, 0);
	flap_up(&u);
	flap_down(&u);
	third = u.now;
	snprintf(got, sizeof(got), "%s after three downs in %.2f s (penalty %.1f, suppress %u)",
		 u.s.held ? "held" : "not held", (double)(third - first) / 1e9,
		 bsc_health_penalty(&u.s, &u.c, third), u.c.damp_suppress);
	snprintf(want, sizeof(want), "held after three downs in %.2f s (penalty %.1f, suppress %u)",
		 (double)(third - first) / 1e9,
		 bsc_health_penalty(&u.s, &u.c, third), u.c.damp_suppress);
	assert_string_equal(got, want);
	assert_health(&u, BSC_H_DOWN);
	/* good rounds do not bring it up */
	assert_int_equal(rounds(&u, (int)u.c.up_after, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_non_null(strstr(u.s.reason, "held down: flapping"));
	/* half a half-life on: still held */
	assert_int_equal(rounds(&u, 60, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_int_equal(u.s.held, 1);
	/* a half-life after the third down: released, up */
	u.now = third + S(60) - MS(500);
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 1);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.held, 0);
}

/* Damping where the figures are exact: three downs at the same instant
 * bring the penalty to exactly 3000 = suppress; release exactly when it
 * falls below reuse (1500), i.e. just after one half-life. */
static void test_damping_hold_and_release_exact(void **st)
{
	struct uplink u;
	uint64_t t;
	char want[96];

	start_up(&u);
	t = u.now;
	assert_int_equal(rounds(&u, 3, BAD, 0), 3);
	assert_int_equal(rounds(&u, 5, GOOD, 0), 5);
	assert_int_equal(rounds(&u, 3, BAD, 0), 3);
	assert_int_equal(u.s.held, 0);
	assert_int_equal(rounds(&u, 5, GOOD, 0), 5);
	assert_int_equal(rounds(&u, 3, BAD, 0), 3);
	assert_health(&u, BSC_H_DOWN);
	assert_true(bsc_health_penalty(&u.s, &u.c, t) == 3000.0);
	assert_int_equal(u.s.held, 1);
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s) in 150 ms");
	/* up_after good rounds: held, and the reason says so */
	assert_int_equal(rounds(&u, 4, GOOD, 0), 0);
	assert_string_equal(u.s.reason, "3 rounds without 1 answer(s) in 150 ms");
	assert_int_equal(rounds(&u, 1, GOOD, 0), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "held down: flapping (penalty 3000, reuse below 1500)");
	/* more good rounds during the half-life: still held */
	assert_int_equal(rounds(&u, 119, GOOD, MS(500)), 0);
	assert_health(&u, BSC_H_DOWN);
	assert_string_equal(u.s.reason, "held down: flapping (penalty 1509, reuse below 1500)");
	/* exactly one half-life: 1500, not below reuse */
	assert_int_equal(rounds(&u, 1, GOOD, MS(500)), 0);
	assert_int_equal(u.now, t + S(60));
	assert_string_equal(u.s.reason, "held down: flapping (penalty 1500, reuse below 1500)");
	assert_int_equal(u.s.held, 1);
	/* one nanosecond later: released, and the good run is long enough */
	assert_int_equal(rounds(&u, 1, GOOD, 1), 1);
	assert_health(&u, BSC_H_UP);
	assert_int_equal(u.s.held, 0);
	snprintf(want, sizeof(want), "%u good rounds", 5 + 119 + 1 + 1);
	assert_string_equal(u.s.reason, want);
	assert_int_equal(u.s.since_ns, t + S(60) + 1);
}

static void test_damping_two_downs_not_held(void **st)
{
	struct uplink u;

	start_up(&u);
	assert_int_equal(rounds(&u, 3, BAD, 0), 3);
	assert_int_equal(rounds(&u, 5, GOOD, 0), 5);
	assert_int_equal(rounds(&u, 3, BAD, 0), 3);
	assert_true(bsc_health_penalty(&u.s, &u.c, u.now) == 2000.0);
	assert_int_equal(u.s.held, 0);
	assert_int_equal(rounds(&u, 5, GOOD, 0), 5);
	assert_health(&u, BSC_H_UP);
	assert_string_equal(u.s.reason, "5 good rounds");
}

static void test_damping_spaced_downs_never_held(void **st)
{
	struct uplink u;
	int i;

	/* one down every two half-lives: the penalty never passes
	 * 1000 / (1 - 1/4) = 1333 */
	start_up(&u);
	for (i = 0; i < 50; i++) {
		u.now += S(120);
		flap_down(&u);
		assert_int_equal(u.s.held, 0);
		flap_up(&u);
	}
	assert_true(bsc_health_penalty(&u.s, &u.c, u.now) < 1334.0);
}

/* ------------------------------------------------------------------ */
/* probing interval                                                   */
/* ------------------------------------------------------------------ */

struct interval_case {
	const char *what;
	enum bsc_health health;
	int active, suspicious, metered;
	uint64_t want_ns;
};

static struct interval_case interval_cases[] = {
	{ "interval: active up", BSC_H_UP, 1, 0, 0, MS(50) },
	{ "interval: active degraded", BSC_H_DEGRADED, 1, 0, 0, MS(50) },
	{ "interval: active down is probed as standby", BSC_H_DOWN, 1, 0, 0, MS(500) },
	{ "interval: active unknown is probed as standby", BSC_H_UNKNOWN, 1, 0, 0, MS(500) },
	{ "interval: standby up", BSC_H_UP, 0, 0, 0, MS(500) },
	{ "interval: standby degraded", BSC_H_DEGRADED, 0, 0, 0, MS(500) },
	{ "interval: standby down", BSC_H_DOWN, 0, 0, 0, MS(500) },
	{ "interval: standby unknown", BSC_H_UNKNOWN, 0, 0, 0, MS(500) },
	{ "interval: metered standby up", BSC_H_UP, 0, 0, 1, MS(2000) },
	{ "interval: metered standby down", BSC_H_DOWN, 0, 0, 1, MS(2000) },
	{ "interval: metered active up", BSC_H_UP, 1, 0, 1, MS(50) },
	{ "interval: metered active down", BSC_H_DOWN, 1, 0, 1, MS(2000) },
	{ "interval: suspicious active up", BSC_H_UP, 1, 1, 0, MS(20) },
	{ "interval: suspicious standby up", BSC_H_UP, 0, 1, 0, MS(20) },
	{ "interval: suspicious down", BSC_H_DOWN, 0, 1, 0, MS(20) },
	{ "interval: suspicious metered standby", BSC_H_UP, 0, 1, 1, MS(20) },
};

static void test_interval(void **st)
{
	const struct interval_case *k = *st;
	struct uplink u;

	start(&u);
	u.c.metered = k->metered;
	u.s.health = k->health;
	assert_int_equal(bsc_health_interval_ns(&u.c, &u.s, k->active, k->suspicious), k->want_ns);
}

static void test_interval_follows_config(void **st)
{
	struct uplink u;

	start_up(&u);
	u.c.interval_active_ms = 60000;
	u.c.interval_standby_ms = 600000;
	u.c.interval_metered_ms = 3600000;
	u.c.burst_interval_ms = 5;
	/* 3 600 000 ms does not overflow 32 bits on the way to ns */
	assert_int_equal(bsc_health_interval_ns(&u.c, &u.s, 1, 0), S(60));
	assert_int_equal(bsc_health_interval_ns(&u.c, &u.s, 0, 0), S(600));
	u.c.metered = 1;
	assert_int_equal(bsc_health_interval_ns(&u.c, &u.s, 0, 0), S(3600));
	assert_int_equal(bsc_health_interval_ns(&u.c, &u.s, 0, 1), MS(5));
}

/* ------------------------------------------------------------------ */
/* choice of the active uplink                                        */
/* ------------------------------------------------------------------ */

#define NOW  S(5000)
#define HOLD S(30)
#define NO   BSC_NO_UPLINK

static struct bsc_candidate cand(enum bsc_health h, uint32_t prio, uint64_t since)
{
	return (struct bsc_candidate){ .present = 1, .health = h, .admin = BSC_ADMIN_AUTO,
				       .priority = prio, .healthy_since_ns = since };
}

static struct bsc_candidate admin(struct bsc_candidate c, uint32_t a)
{
	c.admin = a;
	return c;
}

static struct bsc_candidate absent(struct bsc_candidate c)
{
	c.present = 0;
	return c;
}

#define OLD   S(100)            /* healthy for long */
#define CHOOSE(cs, cur, pref) \
	bsc_choose_active(cs, (int)ARRAY_SIZE(cs), cur, pref, NOW, HOLD)

static void test_choose_best_priority(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 30, OLD), cand(BSC_H_UP, 10, OLD), cand(BSC_H_UP, 20, OLD),
	};

	assert_int_equal(CHOOSE(c, NO, NO), 1);
	/* ties go to the lower index */
	c[2].priority = 10;
	assert_int_equal(CHOOSE(c, NO, NO), 1);
	/* unknown and down are not usable */
	c[1].health = BSC_H_DOWN;
	assert_int_equal(CHOOSE(c, NO, NO), 2);
	c[2].health = BSC_H_UNKNOWN;
	assert_int_equal(CHOOSE(c, NO, NO), 0);
}

static void test_choose_up_beats_degraded(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_DEGRADED, 1, OLD), cand(BSC_H_UP, 50, OLD), cand(BSC_H_DEGRADED, 2, OLD),
	};

	assert_int_equal(CHOOSE(c, NO, NO), 1);
	/* an UP current is not left for a DEGRADED one of better priority */
	assert_int_equal(CHOOSE(c, 1, NO), 1);
	/* degraded only: best priority among them */
	c[1].health = BSC_H_DOWN;
	assert_int_equal(CHOOSE(c, NO, NO), 0);
}

static void test_choose_degraded_current_left_for_up(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_DEGRADED, 10, OLD), cand(BSC_H_UP, 50, NOW),
	};

	/* the UP one has been healthy for no time at all: no hold applies
	 * when the current one is degraded */
	assert_int_equal(CHOOSE(c, 0, NO), 1);
}

static void test_choose_degraded_current_kept_if_none_up(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_DEGRADED, 1, OLD), cand(BSC_H_DEGRADED, 50, OLD), cand(BSC_H_DOWN, 0, 0),
	};

	assert_int_equal(CHOOSE(c, 1, NO), 1);
}

static void test_choose_failback_waits_for_hold(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, NOW - HOLD + 1), cand(BSC_H_UP, 20, OLD),
	};

	/* the better one has been healthy for hold - 1 ns */
	assert_int_equal(CHOOSE(c, 1, NO), 1);
	assert_int_equal(bsc_choose_active(c, 2, 1, NO, NOW - S(10), HOLD), 1);
	/* exactly hold_ns */
	c[0].healthy_since_ns = NOW - HOLD;
	assert_int_equal(CHOOSE(c, 1, NO), 0);
	/* the same uplinks, seen as time passes */
	c[0].healthy_since_ns = NOW;
	assert_int_equal(bsc_choose_active(c, 2, 1, NO, NOW + HOLD - 1, HOLD), 1);
	assert_int_equal(bsc_choose_active(c, 2, 1, NO, NOW + HOLD, HOLD), 0);
	/* with no current one, the best is taken at once */
	assert_int_equal(CHOOSE(c, NO, NO), 0);
}

/* A balance's members: a newcomer waits for the hold while another is in;
 * with none in (the start), every usable one at once; degraded ones only
 * while none is up; an unusable one never. */
static void test_balance_members(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, NOW - HOLD + 1), cand(BSC_H_UP, 20, OLD),
		cand(BSC_H_DEGRADED, 30, OLD), cand(BSC_H_DOWN, 40, OLD),
	};

	assert_int_equal(bsc_balance_members(c, 4, 0x2, NOW, HOLD), 0x2);
	assert_int_equal(bsc_balance_members(c, 4, 0x2, NOW + 1, HOLD), 0x3);
	assert_int_equal(bsc_balance_members(c, 4, 0x3, NOW, HOLD), 0x3);
	assert_int_equal(bsc_balance_members(c, 4, 0, NOW, HOLD), 0x2);
	c[1].health = BSC_H_DOWN;
	assert_int_equal(bsc_balance_members(c, 4, 0, NOW, HOLD), 0x1);
	c[0].health = BSC_H_DOWN;
	assert_int_equal(bsc_balance_members(c, 4, 0x3, NOW, HOLD), 0x4);
	c[2].health = BSC_H_DOWN;
	assert_int_equal(bsc_balance_members(c, 4, 0x3, NOW, HOLD), 0);
}

static void test_choose_failback_to_degraded_current_not_held(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, NOW), cand(BSC_H_DEGRADED, 20, OLD),
	};

	assert_int_equal(CHOOSE(c, 1, NO), 0);
}

static void test_choose_failback_to_best_stable(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, NOW - S(1)),         /* best, too fresh */
		cand(BSC_H_UP, 20, OLD),                /* better than current, stable */
		cand(BSC_H_UP, 30, OLD),                /* current */
	};

	assert_int_equal(CHOOSE(c, 2, NO), 1);
	assert_int_equal(CHOOSE(c, 1, NO), 1);
}

/* "keep the current one while it is UP unless a better one (UP, lower
 * priority value) has been healthy for hold_ns": an uplink of the same
 * priority is not better, and moving new flows to it gains nothing. */
static void test_choose_no_failback_at_equal_priority(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, OLD), cand(BSC_H_UP, 10, OLD),
	};

	assert_int_equal(CHOOSE(c, 1, NO), 1);
	assert_int_equal(CHOOSE(c, 0, NO), 0);
}

static void test_choose_current_unusable_takes_best_at_once(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, NOW), cand(BSC_H_DOWN, 5, 0), cand(BSC_H_UP, 20, NOW),
	};

	assert_int_equal(CHOOSE(c, 1, NO), 0);
	c[1] = admin(cand(BSC_H_UP, 5, OLD), BSC_ADMIN_DRAIN);
	assert_int_equal(CHOOSE(c, 1, NO), 0);
	c[1] = admin(cand(BSC_H_UP, 5, OLD), BSC_ADMIN_DOWN);
	assert_int_equal(CHOOSE(c, 1, NO), 0);
	c[1] = absent(cand(BSC_H_UP, 5, OLD));
	assert_int_equal(CHOOSE(c, 1, NO), 0);
	c[1] = cand(BSC_H_UNKNOWN, 5, OLD);
	assert_int_equal(CHOOSE(c, 1, NO), 0);
	/* a current index beyond n */
	assert_int_equal(CHOOSE(c, 7, NO), 0);
}

static void test_choose_none_usable(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_DOWN, 10, OLD),
		cand(BSC_H_UNKNOWN, 20, OLD),
		admin(cand(BSC_H_UP, 1, OLD), BSC_ADMIN_DRAIN),
		admin(cand(BSC_H_UP, 2, OLD), BSC_ADMIN_DOWN),
		absent(cand(BSC_H_UP, 0, OLD)),
	};

	assert_int_equal(CHOOSE(c, NO, NO), NO);
	assert_int_equal(CHOOSE(c, 2, NO), NO);
	assert_int_equal(CHOOSE(c, 0, 3), NO);
	assert_int_equal(bsc_choose_active(c, 0, NO, NO, NOW, HOLD), NO);
}

static void test_choose_admin_never_chosen(void **st)
{
	struct bsc_candidate c[] = {
		admin(cand(BSC_H_UP, 1, OLD), BSC_ADMIN_DRAIN),
		admin(cand(BSC_H_UP, 2, OLD), BSC_ADMIN_DOWN),
		cand(BSC_H_DEGRADED, 90, NOW),
	};

	assert_int_equal(CHOOSE(c, NO, NO), 2);
	assert_int_equal(CHOOSE(c, 0, NO), 2);
	assert_int_equal(CHOOSE(c, 1, NO), 2);
	assert_int_equal(CHOOSE(c, 2, 0), 2);
	assert_int_equal(CHOOSE(c, 2, 1), 2);
}

static void test_choose_absent_ignored(void **st)
{
	struct bsc_candidate c[] = {
		absent(cand(BSC_H_UP, 1, OLD)), cand(BSC_H_UP, 20, OLD), absent(cand(BSC_H_UP, 2, OLD)),
	};

	assert_int_equal(CHOOSE(c, NO, NO), 1);
	assert_int_equal(CHOOSE(c, 0, NO), 1);
	assert_int_equal(CHOOSE(c, 1, 2), 1);
}

static void test_choose_preferred_wins_while_usable(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, OLD), cand(BSC_H_UP, 20, OLD), cand(BSC_H_DEGRADED, 30, NOW),
	};

	/* over a better priority, over the current one, with no hold */
	assert_int_equal(CHOOSE(c, 0, 1), 1);
	c[1].healthy_since_ns = NOW;
	assert_int_equal(CHOOSE(c, 0, 1), 1);
	/* even degraded, while another is UP */
	assert_int_equal(CHOOSE(c, 0, 2), 2);
	assert_int_equal(CHOOSE(c, NO, 2), 2);
}

static void test_choose_preferred_ignored_when_unusable(void **st)
{
	struct bsc_candidate c[] = {
		cand(BSC_H_UP, 10, OLD), cand(BSC_H_DOWN, 20, OLD), cand(BSC_H_UP, 30, OLD),
	};

	assert_int_equal(CHOOSE(c, 2, 1), 0);
	c[1] = cand(BSC_H_UNKNOWN, 20, OLD);
	assert_int_equal(CHOOSE(c, 2, 1), 0);
	c[1] = admin(cand(BSC_H_UP, 20, OLD), BSC_ADMIN_DRAIN);
	assert_int_equal(CHOOSE(c, 2, 1), 0);
	c[1] = admin(cand(BSC_H_UP, 20, OLD), BSC_ADMIN_DOWN);
	assert_int_equal(CHOOSE(c, 2, 1), 0);
	c[1] = absent(cand(BSC_H_UP, 20, OLD));
	assert_int_equal(CHOOSE(c, 2, 1), 0);
	/* out of range */
	assert_int_equal(CHOOSE(c, 2, 3), 0);
	assert_int_equal(CHOOSE(c, 2, 7), 0);
	/* ignored, the rest of the rules apply: the current one is kept when
	 * the better one is too fresh */
	c[0].healthy_since_ns = NOW;
	assert_int_equal(CHOOSE(c, 2, 1), 2);
}

/* ------------------------------------------------------------------ */
/* data plane state                                                   */
/* ------------------------------------------------------------------ */

struct dp_case {
	const char *what;
	enum bsc_health health;
	uint32_t admin;
	uint32_t want;
};

static struct dp_case dp_cases[] = {
	{ "dataplane: unknown, auto", BSC_H_UNKNOWN, BSC_ADMIN_AUTO, BSC_UPLINK_UNKNOWN },
	{ "dataplane: up, auto", BSC_H_UP, BSC_ADMIN_AUTO, BSC_UPLINK_UP },
	{ "dataplane: degraded, auto", BSC_H_DEGRADED, BSC_ADMIN_AUTO, BSC_UPLINK_UP },
	{ "dataplane: down, auto", BSC_H_DOWN, BSC_ADMIN_AUTO, BSC_UPLINK_DOWN },
	{ "dataplane: unknown, admin down", BSC_H_UNKNOWN, BSC_ADMIN_DOWN, BSC_UPLINK_DOWN },
	{ "dataplane: up, admin down", BSC_H_UP, BSC_ADMIN_DOWN, BSC_UPLINK_DOWN },
	{ "dataplane: degraded, admin down", BSC_H_DEGRADED, BSC_ADMIN_DOWN, BSC_UPLINK_DOWN },
	{ "dataplane: down, admin down", BSC_H_DOWN, BSC_ADMIN_DOWN, BSC_UPLINK_DOWN },
	{ "dataplane: unknown, drain", BSC_H_UNKNOWN, BSC_ADMIN_DRAIN, BSC_UPLINK_UNKNOWN },
	{ "dataplane: up, drain", BSC_H_UP, BSC_ADMIN_DRAIN, BSC_UPLINK_DRAINED },
	{ "dataplane: degraded, drain", BSC_H_DEGRADED, BSC_ADMIN_DRAIN, BSC_UPLINK_DRAINED },
	{ "dataplane: down, drain", BSC_H_DOWN, BSC_ADMIN_DRAIN, BSC_UPLINK_DOWN },
};

static void test_dataplane_state(void **st)
{
	const struct dp_case *k = *st;

	assert_int_equal(bsc_dataplane_state(k->health, k->admin), k->want);
}

/* ------------------------------------------------------------------ */
/* runner                                                             */
/* ------------------------------------------------------------------ */

int main(void)
{
	T_ADD(test_defaults);
	T_ADD(test_init);
	T_ADD(test_unknown_up_on_first_good_round);
	T_ADD(test_unknown_up_after_bad_rounds_short_of_down);
	T_ADD(test_unknown_down_after_down_after_bad_rounds);
	T_ADD(test_unknown_down_follows_config);
	T_ADD(test_up_down_at_the_down_after_th_bad_round);
	T_ADD(test_up_down_reason_follows_config);
	T_ADD(test_up_good_round_resets_bad_run);
	T_ADD(test_up_long_alternation_never_down);
	T_ADD(test_down_up_after_up_after_good_rounds);
	T_ADD(test_down_interrupted_good_run_restarts);
	T_ADD(test_down_up_after_follows_config);
	T_ADD(test_carrier_lost_down_at_once);
	T_ADD(test_carrier_lost_from_degraded);
	T_ADD(test_carrier_rounds_while_lost_change_nothing);
	T_ADD(test_carrier_back_stays_down_until_up_after);
	T_ADD(test_carrier_flicker_restarts_good_run);
	T_ADD(test_carrier_lost_while_down_adds_no_penalty);
	T_ADD(test_carrier_probes_while_lost_not_counted);
	T_ADD(test_carrier_back_clears_the_window);
	T_ADD(test_window_stats);
	T_ADD(test_degraded_on_loss);
	T_ADD(test_degraded_on_bad_round_too);
	T_ADD(test_degraded_needs_half_a_window);
	T_ADD(test_degraded_on_rtt);
	T_ADD(test_degraded_on_jitter);
	T_ADD(test_limits_of_zero_disable);
	T_ADD(test_hysteresis_loss);
	T_ADD(test_hysteresis_rtt);
	T_ADD(test_hysteresis_jitter);
	T_ADD(test_degraded_recovers_only_on_good_round);
	T_ADD(test_degraded_down_after_bad_rounds);
	T_ADD(test_window_reset_when_down);
	T_ADD(test_down_back_over_limits_is_degraded);
	T_ADD(test_quorum_one_of_three_rides_out_random_loss);
	T_ADD(test_quorum_three_of_three_goes_down_on_random_loss);
	T_ADD(test_quorum_one_dead_target_never_down);
	T_ADD(test_default_window_rides_out_random_loss);
	T_ADD(test_quorum_two_with_two_dead_goes_down);
	T_ADD(test_penalty_halves_every_half_life);
	T_ADD(test_damping_three_quick_downs_held);
	T_ADD(test_damping_hold_and_release_exact);
	T_ADD(test_damping_two_downs_not_held);
	T_ADD(test_damping_spaced_downs_never_held);
	T_ADD_ROWS(NULL, interval_cases, test_interval);
	T_ADD(test_interval_follows_config);
	T_ADD(test_choose_best_priority);
	T_ADD(test_choose_up_beats_degraded);
	T_ADD(test_choose_degraded_current_left_for_up);
	T_ADD(test_choose_degraded_current_kept_if_none_up);
	T_ADD(test_choose_failback_waits_for_hold);
	T_ADD(test_balance_members);
	T_ADD(test_choose_failback_to_degraded_current_not_held);
	T_ADD(test_choose_failback_to_best_stable);
	T_ADD(test_choose_no_failback_at_equal_priority);
	T_ADD(test_choose_current_unusable_takes_best_at_once);
	T_ADD(test_choose_none_usable);
	T_ADD(test_choose_admin_never_chosen);
	T_ADD(test_choose_absent_ignored);
	T_ADD(test_choose_preferred_wins_while_usable);
	T_ADD(test_choose_preferred_ignored_when_unusable);
	T_ADD_ROWS(NULL, dp_cases, test_dataplane_state);

	return t_run("bascule_health", NULL, NULL) ? 1 : 0;
}
