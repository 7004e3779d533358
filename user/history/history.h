/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * history/history.h - what happened to the site, kept on disk across restarts in an
 * SQLite database: the daemon's runs, uplink transitions, the active uplink,
 * outages (kept up to date from the transitions), drills, and the data used
 * per uplink; with retention.  The daemon writes (bsc_history_open), the
 * report reads (bsc_history_open_ro) while the daemon runs: WAL mode.
 *
 * Times are wall-clock milliseconds since the epoch.  Uplink states are
 * health.c's names: "unknown", "up", "degraded", "down".  Every function
 * returns 0, or -1 after logging what failed (with SQLite's own message).
 */
#ifndef BSC_HISTORY_H
#define BSC_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct bsc_history;

/* Create the file and its schema if needed (not its directory), migrate an
 * older schema, WAL mode.  retention_days is what bsc_history_prune keeps. */
int bsc_history_open(const char *path, uint32_t retention_days, struct bsc_history **out,
		     char *err, size_t errlen);
/* Read-only, for the report; works while the daemon writes. */
int bsc_history_open_ro(const char *path, struct bsc_history **out, char *err, size_t errlen);
void bsc_history_close(struct bsc_history *h);

/* Daemon start (started = 1) or clean stop (0).  At a start, outages left
 * open by a run that ended without a clean stop are closed at that run's
 * last record, flagged ended_by_restart; at a stop, open outages are closed
 * now, flagged the same way (nobody watches after that). */
int bsc_history_daemon(struct bsc_history *h, int64_t t_ms, int started);
/* Still running: a run that dies ends here.  Also the only place (with
 * close) where the write-ahead log is copied back into the database, out of
 * the failover path: call it every minute or so, or the log only grows. */
int bsc_history_heartbeat(struct bsc_history *h, int64_t t_ms);
/* An uplink's health changed.  Going to "down" opens an outage of that
 * uplink, leaving "down" closes it. */
int bsc_history_transition(struct bsc_history *h, int64_t t_ms, const char *uplink,
			   const char *from, const char *to, const char *reason);
/* A traffic class's uplink changed (from and to: "none", an uplink, or a
 * balance's members "a+b"). */
int bsc_history_class(struct bsc_history *h, int64_t t_ms, const char *cls, const char *from,
		      const char *to, const char *reason);
/* The uplink new flows take now; NULL: none, the site is offline (a site
 * outage, closed by the next non-NULL one). */
int bsc_history_active(struct bsc_history *h, int64_t t_ms, const char *uplink,
		       const char *reason);
/* Cumulative byte counters of an uplink since the data plane was loaded;
 * the increase since the last sample is added to that hour.  A counter
 * lower than the last sample means the data plane was reloaded: the whole
 * new value is the increase. */
int bsc_history_usage(struct bsc_history *h, int64_t t_ms, const char *uplink,
		      uint64_t tx_bytes, uint64_t rx_bytes);
/* A drill's result; json is its full JSON result (may be NULL). */
int bsc_history_drill(struct bsc_history *h, int64_t t_start_ms, int64_t t_end_ms, int passed,
		      double cutover_ms, double rto_ms, const char *json);
/* A new retention (a reload), applied at the next prune. */
void bsc_history_set_retention(struct bsc_history *h, uint32_t retention_days);

/* Delete what is older than the retention (the last state before it is
 * kept, so that a period starting there still knows where it stood). */
int bsc_history_prune(struct bsc_history *h, int64_t now_ms);

/* From here on the write calls above queue their record for a thread of
 * its own and return at once (0 queued, -1 dropped: the queue of queue_len
 * records was full); the thread does the SQL.  Call it once the start-up
 * reads are done: the queries below are not for a history with a writer. */
int bsc_history_start_writer(struct bsc_history *h, unsigned queue_len);

struct bsc_history_writer_stats {
	uint64_t queued, written, failed, dropped;
	unsigned depth, depth_max;      /* records waiting now, and at most */
	uint64_t last_write_ns, write_max_ns;
};

void bsc_history_writer_stats(struct bsc_history *h, struct bsc_history_writer_stats *st);
/* Wait until everything queued is written: 0, or -1 after timeout_ms. */
int bsc_history_flush(struct bsc_history *h, unsigned timeout_ms);

/* ---------------------------------------------------------------- queries */

#define BSC_HISTORY_NAME 32
#define BSC_HISTORY_LANES 16
/* A run whose last record is older than this is taken as dead (crashed):
 * the daemon records at least every minute. */
#define BSC_HISTORY_ALIVE_MS (3 * 60 * 1000)

struct bsc_outage {
	int64_t id;
	int site;                       /* the whole site was offline */
	char uplink[BSC_HISTORY_NAME];  /* "" for a site outage */
	int64_t start_ms;
	int64_t end_ms;                 /* -1: still open */
	char reason[128];               /* why it went down */
	char end_reason[128];
	char carried_by[128];           /* "cell", "cell,sat", "none", "" = not known */
	int ended_by_restart;           /* end = the daemon's last record, not a recovery */
};

/* Outages that overlap [from_ms, to_ms), oldest first; *out is malloc'd. */
int bsc_history_outages(struct bsc_history *h, int64_t from_ms, int64_t to_ms,
			struct bsc_outage **out, int *n);

struct bsc_drill_rec {
	int64_t id, start_ms, end_ms;
	int passed;
	double cutover_ms, rto_ms;
};

/* The last `limit` drills that started before to_ms, newest first. */
int bsc_history_drills(struct bsc_history *h, int64_t to_ms, int limit,
		       struct bsc_drill_rec **out, int *n);

/* Bytes through an uplink in the hours that overlap [from_ms, to_ms). */
int bsc_history_usage_sum(struct bsc_history *h, const char *uplink, int64_t from_ms,
			  int64_t to_ms, uint64_t *tx_bytes, uint64_t *rx_bytes);

/* A stretch of time in one state: for an uplink lane a health name, for the
 * carrying lane an uplink name, "none" (offline) or "unknown". */
struct bsc_span {
	int64_t start_ms, end_ms;
	char what[BSC_HISTORY_NAME];
};

struct bsc_lane {
	char name[BSC_HISTORY_NAME];
	int n, cap;
	struct bsc_span *spans;
};

/* A stretch of time the daemon ran (observed time), clipped to the period. */
struct bsc_run {
	int64_t began_ms;               /* the run's own start, before clipping */
	int64_t start_ms, end_ms;
	int stopped;                    /* a clean stop ended it */
	int running;                    /* still running (recent records) */
};

struct bsc_timeline {
	int64_t from_ms, to_ms;
	int n_runs;
	struct bsc_run *runs;
	int n_lanes;                    /* one per uplink */
	struct bsc_lane lanes[BSC_HISTORY_LANES];
	struct bsc_lane carrying;       /* which uplink new flows took */
	int alive;                      /* the daemon is running (last run recent) */
	int64_t last_ms;                /* the last record of the last run */
};

/* The period [from_ms, to_ms) as recorded, cut at now_ms: runs, a lane per
 * uplink (names first, then any other the history knows), and the carrying
 * lane.  Time outside the runs is in no span: not observed. */
int bsc_history_timeline(struct bsc_history *h, int64_t from_ms, int64_t to_ms, int64_t now_ms,
			 const char *const *names, int n_names, struct bsc_timeline *tl);
void bsc_timeline_free(struct bsc_timeline *tl);

struct bsc_availability {
	int64_t observed_ms;            /* the daemon ran */
	int64_t up_ms, degraded_ms, down_ms, unknown_ms;
	double pct;                     /* usable / (usable + down), -1 when nothing known */
};

/* An uplink: usable = up + degraded.  -1 for no such lane. */
int bsc_timeline_uplink_availability(const struct bsc_timeline *tl, const char *uplink,
				     struct bsc_availability *a);
/* The site: usable = some uplink active (up_ms), down = none (down_ms). */
void bsc_timeline_site_availability(const struct bsc_timeline *tl, struct bsc_availability *a);
/* Time `uplink` was down while another uplink carried the traffic: the
 * downtime the backups avoided. */
int64_t bsc_timeline_covered_ms(const struct bsc_timeline *tl, const char *uplink);
int64_t bsc_timeline_observed_ms(const struct bsc_timeline *tl);
const struct bsc_lane *bsc_timeline_lane(const struct bsc_timeline *tl, const char *uplink);

#endif
