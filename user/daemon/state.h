/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon/state.h - the running controller's state, private to the daemon
 * module: the loop (loop.c), the decision and its application (decide.c,
 * apply.c), the uplinks' facts and probes (uplinks.c, probing.c), routes,
 * records and requests share it.  Nothing outside user/daemon/ includes it.
 */
#ifndef BSC_DAEMON_STATE_H
#define BSC_DAEMON_STATE_H

#include <libmnl/libmnl.h>
#include <pthread.h>
#include <string.h>
#include <sys/signalfd.h>
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
/* records the history's writer may have waiting for the disk: minutes of
 * transitions, hours of samples (about 300 KiB) */
#define HISTORY_QUEUE 1024
#define LAG_WINDOW_S 5          /* the loop's lateness: worst of two such windows */

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
		uint32_t moving;        /* ... whose kick is of flows a move marked */
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
	/* the balance classes' members as last written (bit i: up[i]);
	 * bal_known[c] 0: to be written (start, reload) */
	uint32_t bal_members[BSC_MAX_CLASSES];
	uint8_t bal_known[BSC_MAX_CLASSES];
	/* why each class (1..) has its uplink now, for status (health) */
	char cls_why[BSC_MAX_CLASSES][80];
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

static inline const struct bsc_health_cfg *daemon_hcfg(const struct uplink_rt *u)
{
	return &u->cfg->health;
}

static inline int daemon_mac_unknown(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !memcmp(mac, zero, 6);
}

/* decide.c: the decision, pure */
int daemon_healthy(enum bsc_health h);
int daemon_usable(uint32_t state);
/* What the chooser knows of an uplink, with the operator's word. */
void daemon_candidate_of(const struct uplink_rt *u, uint32_t admin, struct bsc_candidate *c);

/* The decision for one re-evaluation (decide.c), carried out by apply.c. */
struct daemon_plan {
	struct bsc_uplink next[BSC_MAX_UPLINKS]; /* each entry as it must be */
	struct bsc_candidate cand[BSC_MAX_UPLINKS];
	uint32_t changed;       /* bit i: next[i] differs from the map */
	uint32_t losing;        /* ... and stops taking new flows */
	uint32_t failed;        /* ... and stops carrying its flows */
	uint32_t back;          /* ... and is usable (a pending kick ends) */
	uint32_t active;        /* policy 0's active uplink */
};
void daemon_plan(const struct daemon *d, const struct bsc_uplink *cur, uint32_t have,
		 uint32_t active, uint32_t preferred, uint64_t now, struct daemon_plan *p);
uint32_t daemon_class_choose(const struct daemon *d, const struct bsc_candidate *cand, int cls,
			     uint32_t current, uint32_t preferred, uint64_t now);

/* apply.c */
int daemon_classes_load(struct daemon *d);
uint32_t daemon_balance_choose(const struct daemon *d, const struct bsc_candidate *cand, int cls,
			       uint32_t current, uint64_t now);

/* moves.c */
void daemon_kicks_start(struct daemon *d, uint32_t failed, int moving);
/* Class cls's flows on the uplinks in `from` (bit i: d->up[i], healthy
 * ones that it leaves) move as its failback says: to where its policy, or
 * its balance table `bal` (copied), sends them now.  Carried out, in one
 * walk, by daemon_moves_run once every policy is written. */
struct bsc_balance;
void daemon_move_add(struct daemon *d, int cls, uint32_t from, const struct bsc_balance *bal);
void daemon_moves_run(struct daemon *d);

/* probing.c */
void daemon_health_changed(struct uplink_rt *u, enum bsc_health old);
void daemon_reschedule_now(struct uplink_rt *u);
int daemon_round_timer(sd_event_source *s, uint64_t usec, void *data);
void daemon_on_probe(void *data, unsigned idx, int ok, uint64_t rtt_ns, const char *why);
void daemon_passive_signal(struct daemon *d, uint64_t now);

/* uplinks.c */
void daemon_refresh_uplink(struct daemon *d, struct uplink_rt *u);
int daemon_monitor_io(sd_event_source *s, int fd, uint32_t revents, void *data);
int daemon_setup_lan(const struct bsc_cfg *cfg, const struct bsc_maps *m);
void daemon_clear_stale_uplinks(const struct bsc_cfg *cfg, const struct bsc_maps *m);
void daemon_init_policy(const struct bsc_maps *m);
void daemon_setup_uplink(struct daemon *d, int i);

/* routes.c */
void daemon_routes_for_uplink(struct daemon *d, struct uplink_rt *u);
void daemon_routes_remove(struct daemon *d);
void daemon_default_route_follow(struct daemon *d);

/* record.c */
void daemon_history_settle(struct daemon *d);
void daemon_history_sample(struct daemon *d);

/* requests.c */
int daemon_on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *data);
int daemon_take_request(void *data, const char *req, int fd);
void daemon_on_request(void *data, const char *req, FILE *out);

/* loop.c */
int daemon_rearm(sd_event_source *s, uint64_t ms);

#endif
