/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * health/health.h - deciding whether an uplink is healthy, and which uplink new
 * flows take.  Pure logic on an injected clock (nanoseconds): no sockets, no
 * maps, so every sequence of probe results gives the same transitions in a
 * unit test as in the daemon.
 */
#ifndef BSC_HEALTH_H
#define BSC_HEALTH_H

#include <stdint.h>
#include "bascule.h"

enum bsc_health {
	BSC_H_UNKNOWN = 0,      /* not probed yet, or carrier just came back */
	BSC_H_UP,
	BSC_H_DEGRADED,         /* answers, but loss/latency/jitter over limits */
	BSC_H_DOWN,
};

extern const char *const bsc_health_names[4];

/* Per-uplink profile: how to probe and how to judge. */
struct bsc_health_cfg {
	uint32_t interval_active_ms;    /* between rounds on the active uplink */
	uint32_t interval_standby_ms;   /* on a standby (or down) uplink */
	uint32_t interval_metered_ms;   /* on a metered standby uplink */
	uint32_t burst_interval_ms;     /* while suspicious */
	uint32_t burst_ms;              /* how long a burst lasts */
	uint32_t timeout_ms;            /* a probe not answered by then failed */
	uint32_t quorum;                /* answers needed for a good round */
	uint32_t down_after;            /* consecutive bad rounds -> down */
	uint32_t up_after;              /* consecutive good rounds -> up */
	uint32_t window;                /* probes in the loss/RTT window */
	uint32_t loss_pct;              /* degraded above this loss */
	uint32_t rtt_ms;                /* degraded above this mean RTT */
	uint32_t jitter_ms;             /* degraded above this mean RTT change */
	uint32_t damp_penalty;          /* added per down transition */
	uint32_t damp_suppress;         /* held down above this penalty */
	uint32_t damp_reuse;            /* released below this */
	uint32_t damp_half_life_ms;
	int metered;
};

void bsc_health_cfg_defaults(struct bsc_health_cfg *c);

#define BSC_WINDOW_MAX 256

/* An uplink's health as the state machine keeps it. */
struct bsc_health_state {
	enum bsc_health health;
	uint64_t since_ns;              /* in this health since */
	uint32_t good_run, bad_run;     /* consecutive rounds */
	/* loss / RTT window over the last `window` probes */
	uint8_t win_ok[BSC_WINDOW_MAX];
	uint32_t win_rtt_us[BSC_WINDOW_MAX];
	uint32_t win_pos, win_len;
	/* flap damping */
	double penalty;
	uint64_t penalty_ns;
	int held;                       /* suppressed by damping */
	int carrier;
	/* last computed figures, for status */
	uint32_t loss_pct, rtt_us, jitter_us;
	char reason[96];                /* why the last transition happened */
};

void bsc_health_init(struct bsc_health_state *s, uint64_t now);

/* One probe's result: feeds the loss/RTT/jitter window. */
void bsc_health_probe(struct bsc_health_state *s, const struct bsc_health_cfg *c,
		      int ok, uint64_t rtt_ns);
/* A round's verdict (quorum of answers or not), and carrier changes.  Each
 * returns 1 when the health changed; s->reason says why. */
int bsc_health_round(struct bsc_health_state *s, const struct bsc_health_cfg *c,
		     int good, uint64_t now);
int bsc_health_carrier(struct bsc_health_state *s, const struct bsc_health_cfg *c,
		       int carrier, uint64_t now);

/* Current damping penalty (decayed to now). */
double bsc_health_penalty(const struct bsc_health_state *s, const struct bsc_health_cfg *c,
			  uint64_t now);

/* Time until the next round should start, given the uplink's role. */
uint64_t bsc_health_interval_ns(const struct bsc_health_cfg *c, const struct bsc_health_state *s,
				int active, int suspicious);

/* What the selection needs of an uplink. */
struct bsc_candidate {
	int present;
	enum bsc_health health;
	uint32_t admin;                 /* enum bsc_admin */
	uint32_t priority;
	uint64_t healthy_since_ns;      /* UP (or DEGRADED) continuously since */
};

/* The uplink new flows take.  The operator's preferred uplink if usable;
 * otherwise keep the current one while it is UP unless a better one (UP,
 * lower priority value) has been healthy for hold_ns (failback without
 * flapping); leave a DEGRADED current one for any UP one at once; with the
 * current one unusable, take the best usable now.  BSC_NO_UPLINK if none. */
uint32_t bsc_choose_active(const struct bsc_candidate *c, int n, uint32_t current,
			   uint32_t preferred, uint64_t now, uint64_t hold_ns);

/* The members of a balance (bit i: c[i]): the usable uplinks, except that
 * one not a member now (not in `current`) joins only once healthy for
 * hold_ns (no flapping) unless no UP one is in (then the UP newcomers, or
 * with none in at all every usable one, at once), and DEGRADED ones are
 * left out while an UP one is in. */
uint32_t bsc_balance_members(const struct bsc_candidate *c, int n, uint32_t current,
			     uint64_t now, uint64_t hold_ns);

/* What the data plane is told of an uplink's state. */
uint32_t bsc_dataplane_state(enum bsc_health h, uint32_t admin);

#endif
