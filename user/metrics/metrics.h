/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics/metrics.h - Prometheus metrics over HTTP (libmicrohttpd, its own thread).
 * Counters come straight from the pinned maps at scrape time; what only the
 * controller knows (health, probe figures, transitions) comes from a view
 * the daemon hands over under its lock.
 */
#ifndef BSC_METRICS_H
#define BSC_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include "bascule.h"
#include "dataplane/maps.h"

struct bsc_metrics_uplink {
	char name[BSC_NAME_LEN];
	int health;             /* enum bsc_health */
	int held;               /* held down by flap damping */
	int carrier;
	int path_warning;       /* the kernel's routing cannot carry its probes */
	int active;             /* new flows of policy 0 go here */
	uint32_t priority;      /* configured; the lowest is the primary */
	double rtt_ms, jitter_ms;
	unsigned loss_pct;
	uint64_t transitions;   /* health changes since start */
	uint64_t probes_sent, probes_ok, probes_failed;
};

struct bsc_metrics_view {
	int n;
	struct bsc_metrics_uplink up[BSC_MAX_UPLINKS];
	uint64_t active_changes;
	uint64_t start_time_s;  /* unix time the daemon started */
	/* continuity drills: those run since the start, and the last one that
	 * ran (from the history at start, then each drill's own result) */
	uint64_t drills;
	int drill_known, drill_passed;
	double drill_end_s;     /* unix time it ended */
	double drill_cutover_ms; /* < 0: no cut-over was seen */
	/* the flow table as the daemon's last expiry pass saw it (a scrape
	 * never walks a table of a million flows itself); unknown until the
	 * first pass ends: then the scrape counts */
	int flows_known;
	long flows_total, flows_per[BSC_MAX_UPLINKS];
	/* the loop's worst lateness over the last 5 to 10 s */
	uint64_t loop_lag_ns;
	/* the history's writer (history on: hist_on) */
	int hist_on;
	uint64_t hist_failed, hist_dropped;
};

/* Fill the view; called from the metrics thread, so it must lock. */
typedef void (*bsc_metrics_view_fn)(void *data, struct bsc_metrics_view *v);

struct bsc_metrics;

/* Serve GET /metrics on listen ("127.0.0.1:9901", "[::1]:9901", "0.0.0.0:9901").
 * NULL with a message on failure. */
struct bsc_metrics *bsc_metrics_start(const char *listen, const struct bsc_maps *maps,
				      bsc_metrics_view_fn view, void *data, char *err,
				      size_t errlen);
void bsc_metrics_stop(struct bsc_metrics *m);

/* The exposition text (format 0.0.4) from the maps and a view. */
void bsc_metrics_render(FILE *out, const struct bsc_maps *maps, const struct bsc_metrics_view *v);

#endif
