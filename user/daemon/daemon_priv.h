/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon_priv.h - the controller's state, shared by daemon.c and the parts
 * that act on the running controller from inside its loop (drill.c).
 */
#ifndef BSC_DAEMON_PRIV_H
#define BSC_DAEMON_PRIV_H

#include <libmnl/libmnl.h>
#include <pthread.h>
#include <systemd/sd-event.h>

#include "config/config.h"
#include "dataplane/dataplane.h"
#include "daemon/events.h"
#include "dataplane/flows.h"
#include "health/health.h"
#include "metrics/metrics.h"
#include "probe/probe.h"

struct bsc_drill;

#define ROUND_SLOTS 64          /* rounds in flight per uplink (a divisor of 4096) */
#define TICK_MS 25              /* passive signal sampling, re-evaluation */
#define RULE_PRIO_BASE BSC_RULE_PRIO_BASE
#define RT_MAIN 254
#define BSC_STARTUP_GRACE_MS 10000 /* a start with no uplink usable: offline after this */

struct round {
	uint32_t seq;
	uint8_t n, ok, fail, done;
};

struct daemon;

struct uplink_rt {
	struct daemon *d;
	uint32_t idx;
	const struct bsc_uplink_cfg *cfg;
	uint32_t ifindex, addr, rule_addr, route_ifindex, route_gw;
	uint32_t gateway;       /* configured, or learnt (gateway = auto) */
	uint8_t mac[6], gw_mac[6];
	int carrier;
	struct bsc_health_state hs;
	uint64_t healthy_since;
	struct bsc_prober *prober;
	sd_event_source *timer;
	struct round rounds[ROUND_SLOTS];
	uint32_t round_seq;
	char last_fail[64];
	char path_warning[512]; /* why probes through it cannot work, as routed now */
	char path_seen[512];    /* the last check's finding: shown once seen twice */
	struct {
		int seen, ok;
		double rtt_ms;
		char why[64];
	} target[BSC_MAX_PROBES];       /* last result of each probe target */
	uint64_t transitions, probes_sent, probes_ok, probes_failed;
	/* passive signal: packets out with nothing back */
	uint64_t tx, rx, rx_change_ns, tx_at_rx_change, suspicious_until, last_suspicion;
};

struct daemon {
	const struct bsc_cfg *cfg;      /* = &cfg_store: reload updates it in place */
	struct bsc_cfg cfg_store;
	const struct bsc_run_opts *o;
	sd_event *ev;
	struct bsc_dp dp;
	struct uplink_rt up[BSC_MAX_UPLINKS];
	int n;
	uint32_t active;
	struct bsc_events events;
	struct bsc_ctl *ctl;
	struct bsc_hooks *hooks;
	int mon_dirty;                  /* a monitor event that matters to the choice */
	/* How late the tick timer ran: the loop's own stall gauge.  The worst
	 * of the current and the previous LAG_WINDOW_S window, and since start. */
	uint64_t lag_win_start_ns;
	uint64_t lag_max_ns[2], lag_max_all_ns, lag_last_ns;
	struct mnl_socket *mon;
	struct bsc_timeouts to;
	struct bsc_walk gc;             /* where the expiry pass stands */
	int gc_expired;                 /* flows expired so far in this pass */
	int flows_known;                /* the last finished pass's count: */
	long flows_total, flows_per[BSC_MAX_UPLINKS];
	/* TCP flows of failed uplinks being kicked, a slice a turn of the
	 * loop (daemon.c, kick_timer) */
	struct {
		sd_event_source *timer;
		uint32_t pending;       /* bit i: d->up[i] */
		struct bsc_walk w[BSC_MAX_UPLINKS];
		int sent[BSC_MAX_UPLINKS];
	} kick;
	/* for the metrics thread: a snapshot refreshed every tick */
	struct bsc_metrics *metrics;
	pthread_mutex_t view_lock;
	struct bsc_metrics_view view;
	uint64_t active_changes, start_time_s;
	/* the main default route found at start, put back on a clean stop */
	uint32_t saved_gw, saved_oif;
	int saved_route, route_changed;
	struct bsc_drill *drill;        /* the drill running, or NULL */
	struct bsc_history *hist;       /* NULL: history off or unusable */
	/* A start with no uplink usable yet (the first probes have not
	 * answered): not written as a site outage unless it lasts
	 * BSC_STARTUP_GRACE_MS; 0 when settled. */
	/* the last drill that ran, for the metrics */
	struct {
		uint64_t runs;
		int known, passed;
		double end_s, cutover_ms;
	} last_drill;
	int64_t hist_start_ms;
	uint64_t hist_start_mono;       /* the same instant, for the grace */
	uint32_t hist_ticks;
};

/* An event: log (or journal), `bascule events`, hooks. */
void daemon_record(struct daemon *d, const char *kind, const char *uplink, const char *old,
		   const char *new, const char *reason);
/* Bring the maps in line, choose the active uplink, act on what changed. */
void daemon_reevaluate(struct daemon *d);
/* The uplink that would carry new flows if `dead` failed now (the same
 * choice reevaluate makes), or BSC_NO_UPLINK. */
uint32_t daemon_backup_for(struct daemon *d, uint32_t dead);
const char *daemon_active_name(struct daemon *d);

#endif
