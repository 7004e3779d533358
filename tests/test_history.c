// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_history.c - the history database (user/history/) and the report
 * made from it (user/report/), with cmocka.
 *
 *   schema       created with its tables, WAL, user_version; bad files refused
 *   restart      a closed and reopened database keeps everything
 *   outages      opened by "down", closed when leaving it, duration to the ms;
 *                which uplinks carried the traffic; site outages
 *   crash        outages left open by a run that died, or by a clean stop
 *   usage        deltas of cumulative counters, counter resets, hours
 *   retention    what prune removes and what it keeps
 *   writer       queued writes land in order; a held disk never holds the
 *                caller, what the queue cannot take is dropped and counted
 *   timeline     availability, observed time and downtime avoided on a
 *                hand-built history with known answers
 *   report       the HTML holds the outage with its duration, escapes a
 *                hostile site name, and the Markdown says the same
 *
 * Times are made up (milliseconds from T0), so every figure is exact.
 * TZ=UTC, so that the report's local times are known too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "config/config.h"
#include "history/history.h"
#include "report/report.h"
#include "lib/runner.h"

#define T0 1700000000000ll      /* 2023-11-14 22:13:20 UTC */
#define S 1000ll
#define DAY (86400 * S)

/* ------------------------------------------------------------------ */
/* fixtures                                                           */
/* ------------------------------------------------------------------ */

struct fx {
	char dir[64];
	char path[96];
	struct bsc_history *h;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bascule-history-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	bsc_history_close(f->h);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s/other.db", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct bsc_history *hopen(struct fx *f)
{
	char err[512] = "";

	if (bsc_history_open(f->path, 400, &f->h, err, sizeof(err)))
		fail_msg("open %s: %s", f->path, err);
	return f->h;
}

static void reopen(struct fx *f)
{
	bsc_history_close(f->h);
	f->h = NULL;
	hopen(f);
}

/* A second, independent connection to look at the file. */
static int64_t sql_i64(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -999;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void outages(struct fx *f, struct bsc_outage **o, int *n)
{
	assert_int_equal(bsc_history_outages(f->h, 0, INT64_MAX, o, n), 0);
}

#define OK(x) assert_int_equal((x), 0)

/* ------------------------------------------------------------------ */
/* schema                                                             */
/* ------------------------------------------------------------------ */

static void test_schema_created(void **state)
{
	struct fx *f = *state;

	hopen(f);
	assert_int_equal(sql_i64(f, "PRAGMA user_version"), 2);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN"
				    " ('runs', 'transitions', 'active', 'outages', 'drills', 'usage', 'usage_last',"
				    " 'class_changes')"), 8);
	assert_int_equal(sql_i64(f, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	/* opening it again does not migrate twice */
	reopen(f);
	assert_int_equal(sql_i64(f, "PRAGMA user_version"), 2);
}

/* A class's changes of uplink are kept, in order, the reason with them;
 * pruning keeps the last of each class before the cutoff (where it stood
 * when the kept time starts).  A database of version 1 (before classes)
 * gains the table, its other records kept. */
static void test_class_changes(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	hopen(f);
	OK(bsc_history_transition(f->h, T0, "fiber", "unknown", "up", "probes answered"));
	OK(bsc_history_class(f->h, T0 + 1000, "voip", "fiber", "cell", "best usable uplink"));
	OK(bsc_history_class(f->h, T0 + 2000, "guests", "fiber", "none", "no uplink it may use"));
	OK(bsc_history_class(f->h, T0 + 9000, "voip", "cell", "fiber", "best usable uplink"));
	OK(bsc_history_class(f->h, T0 + 9500, "bulk", "fiber", "fiber+cell", "balance"));
	assert_int_equal(bsc_history_class(f->h, T0, NULL, "a", "b", ""), -1);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM class_changes"), 4);
	assert_int_equal(sql_i64(f, "SELECT t_ms FROM class_changes WHERE class = 'voip' AND to_uplink = 'fiber'"),
			 T0 + 9000);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM class_changes WHERE class = 'guests' AND"
				    " from_uplink = 'fiber' AND to_uplink = 'none' AND reason = 'no uplink it may use'"), 1);
	/* 400 days' retention: prune as of T0 + 9000 + 400 days */
	OK(bsc_history_prune(f->h, T0 + 9600 + 400 * DAY));
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM class_changes"), 3); /* voip's last, guests', bulk's */
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM class_changes WHERE class = 'voip' AND t_ms = " 
				    "(SELECT MAX(t_ms) FROM class_changes WHERE class = 'voip')"), 1);
	assert_int_equal(sql_i64(f, "SELECT to_uplink = 'fiber' FROM class_changes WHERE class = 'voip'"), 1);
	/* back to version 1: the migration adds the table again, the rest kept */
	bsc_history_close(f->h);
	f->h = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE class_changes; PRAGMA user_version = 1;", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	hopen(f);
	assert_int_equal(sql_i64(f, "PRAGMA user_version"), 2);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM class_changes"), 0);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM transitions"), 1);
}

static void test_open_refuses_what_is_not_a_history(void **state)
{
	struct fx *f = *state;
	char other[128], err[512] = "";
	struct bsc_history *h = NULL;
	FILE *x;

	/* no file: named in the message */
	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	assert_int_equal(bsc_history_open_ro(other, &h, err, sizeof(err)), -1);
	assert_null(h);
	assert_non_null(strstr(err, other));
	/* a text file */
	x = fopen(other, "w");
	assert_non_null(x);
	fputs("this is not a database, it is a shopping list\n", x);
	fclose(x);
	assert_int_equal(bsc_history_open(other, 400, &h, err, sizeof(err)), -1);
	assert_null(h);
	assert_non_null(strstr(err, other));
	assert_non_null(strstr(err, "not a database"));
	unlink(other);
	/* an SQLite file without our schema */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
		sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	assert_int_equal(bsc_history_open_ro(other, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "schema version 0"));
	/* a newer schema */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
		sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	assert_int_equal(bsc_history_open(other, 400, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer bascule"));
	/* a directory that does not exist is not created */
	assert_int_equal(bsc_history_open("/nonexistent/bascule/h.db", 400, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/bascule/h.db"));
}

/* ------------------------------------------------------------------ */
/* outages                                                            */
/* ------------------------------------------------------------------ */

/* The lab's story: fibre active, cut for 3.212 s, 5G takes over, fibre back
 * up, failback after the hold. */
static void fibre_cut(struct bsc_history *h, int64_t t)
{
	OK(bsc_history_daemon(h, t, 1));
	OK(bsc_history_active(h, t + 5, NULL, "starting"));
	OK(bsc_history_transition(h, t + 40, "fiber", "unknown", "up", "first good round"));
	OK(bsc_history_transition(h, t + 45, "cell", "unknown", "up", "first good round"));
	OK(bsc_history_active(h, t + 41, "fiber", "best usable uplink"));
	OK(bsc_history_transition(h, t + 10000, "fiber", "up", "down", "carrier lost"));
	OK(bsc_history_active(h, t + 10001, "cell", "best usable uplink"));
	OK(bsc_history_transition(h, t + 13212, "fiber", "down", "up", "5 good rounds"));
	OK(bsc_history_active(h, t + 16300, "fiber", "best usable uplink"));
}

static void test_outage_open_close_duration(void **state)
{
	struct fx *f = *state;
	struct bsc_outage *o;
	int n;

	fibre_cut(hopen(f), T0);
	outages(f, &o, &n);
	assert_int_equal(n, 2); /* the start (no uplink yet) and the cut */
	assert_true(o[0].site);
	assert_int_equal(o[0].end_ms - o[0].start_ms, 36);
	assert_false(o[1].site);
	assert_string_equal(o[1].uplink, "fiber");
	assert_int_equal(o[1].start_ms, T0 + 10000);
	assert_int_equal(o[1].end_ms, T0 + 13212);
	assert_string_equal(o[1].reason, "carrier lost");
	assert_string_equal(o[1].end_reason, "5 good rounds");
	assert_string_equal(o[1].carried_by, "cell");
	assert_false(o[1].ended_by_restart);
	assert_int_equal(sql_i64(f, "SELECT duration_ms FROM outages WHERE uplink = 'fiber'"), 3212);
	free(o);
	/* still open: end -1 */
	OK(bsc_history_transition(f->h, T0 + 20000, "cell", "up", "down", "3 rounds without answer"));
	outages(f, &o, &n);
	assert_int_equal(n, 3);
	assert_int_equal(o[2].end_ms, -1);
	assert_string_equal(o[2].carried_by, "fiber");
	free(o);
}

static void test_carried_by_follows_the_active_uplinks(void **state)
{
	struct fx *f = *state;
	struct bsc_history *h = hopen(f);
	struct bsc_outage *o;
	int n;

	OK(bsc_history_daemon(h, T0, 1));
	OK(bsc_history_active(h, T0 + 1, "fiber", "x"));
	OK(bsc_history_transition(h, T0 + 100, "fiber", "up", "down", "timeout"));
	OK(bsc_history_active(h, T0 + 101, "cell", "x"));
	OK(bsc_history_transition(h, T0 + 200, "cell", "up", "down", "timeout"));
	OK(bsc_history_active(h, T0 + 201, "sat", "x"));
	OK(bsc_history_transition(h, T0 + 300, "sat", "up", "down", "carrier lost"));
	OK(bsc_history_active(h, T0 + 301, NULL, "no usable uplink"));
	OK(bsc_history_active(h, T0 + 301, NULL, "no usable uplink")); /* once only */
	OK(bsc_history_transition(h, T0 + 900, "cell", "down", "up", "ok"));
	OK(bsc_history_active(h, T0 + 901, "cell", "x"));
	outages(f, &o, &n);
	assert_int_equal(n, 4);
	assert_string_equal(o[0].uplink, "fiber");
	assert_string_equal(o[0].carried_by, "cell,sat,none");
	assert_string_equal(o[1].uplink, "cell");
	assert_string_equal(o[1].carried_by, "sat,none");      /* not itself, at the end */
	assert_string_equal(o[2].uplink, "sat");
	assert_string_equal(o[2].carried_by, "none,cell");
	assert_true(o[3].site);
	assert_int_equal(o[3].start_ms, T0 + 301);
	assert_int_equal(o[3].end_ms, T0 + 901);
	assert_string_equal(o[3].carried_by, "none");
	assert_int_equal(o[0].end_ms, -1);
	free(o);
}

/* ------------------------------------------------------------------ */
/* restart                                                            */
/* ------------------------------------------------------------------ */

static void test_reopen_keeps_everything(void **state)
{
	struct fx *f = *state;
	struct bsc_drill_rec *d;
	struct bsc_outage *o;
	uint64_t tx, rx;
	int n;

	fibre_cut(hopen(f), T0);
	OK(bsc_history_usage(f->h, T0 + 60000, "cell", 5000, 7000));
	OK(bsc_history_drill(f->h, T0 + 70000, T0 + 90000, 1, 12.5, 1000, "{\"passed\":true}"));
	OK(bsc_history_daemon(f->h, T0 + 100000, 0));
	reopen(f);
	outages(f, &o, &n);
	assert_int_equal(n, 2);
	assert_int_equal(o[1].end_ms - o[1].start_ms, 3212);
	free(o);
	OK(bsc_history_usage_sum(f->h, "cell", T0, T0 + DAY, &tx, &rx));
	assert_int_equal(tx, 5000);
	assert_int_equal(rx, 7000);
	OK(bsc_history_drills(f->h, T0 + DAY, 10, &d, &n));
	assert_int_equal(n, 1);
	assert_true(d[0].passed);
	assert_true(d[0].cutover_ms == 12.5);
	free(d);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM runs WHERE stop_ms = 1700000100000"), 1);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM drills WHERE result = '{\"passed\":true}'"), 1);
}

/* The daemon dies (no stop) with the fibre down: the next start closes the
 * outage at the last record, flagged. */
static void test_restart_closes_outages_of_a_dead_run(void **state)
{
	struct fx *f = *state;
	struct bsc_history *h = hopen(f);
	struct bsc_outage *o;
	int n;

	OK(bsc_history_daemon(h, T0, 1));
	OK(bsc_history_active(h, T0 + 10, "fiber", "x"));
	OK(bsc_history_transition(h, T0 + 5000, "fiber", "up", "down", "carrier lost"));
	OK(bsc_history_active(h, T0 + 5001, "cell", "x"));
	OK(bsc_history_heartbeat(h, T0 + 9000));
	reopen(f); /* killed: no bsc_history_daemon(0) */
	outages(f, &o, &n);
	assert_int_equal(n, 1);
	assert_int_equal(o[0].end_ms, -1); /* still open until someone knows better */
	free(o);
	OK(bsc_history_daemon(f->h, T0 + 20000, 1));
	outages(f, &o, &n);
	assert_int_equal(n, 1);
	assert_int_equal(o[0].end_ms, T0 + 9000);
	assert_true(o[0].ended_by_restart);
	assert_non_null(strstr(o[0].end_reason, "without a clean stop"));
	free(o);
	/* after the restart the daemon does not know the active uplink yet:
	 * a new fibre outage starts with nothing carried */
	OK(bsc_history_transition(f->h, T0 + 20050, "fiber", "unknown", "down", "carrier lost"));
	outages(f, &o, &n);
	assert_int_equal(n, 2);
	assert_string_equal(o[1].carried_by, "");
	free(o);
}

static void test_clean_stop_closes_open_outages(void **state)
{
	struct fx *f = *state;
	struct bsc_history *h = hopen(f);
	struct bsc_outage *o;
	int n;

	OK(bsc_history_daemon(h, T0, 1));
	OK(bsc_history_active(h, T0 + 10, "fiber", "x"));
	OK(bsc_history_transition(h, T0 + 5000, "fiber", "up", "down", "carrier lost"));
	OK(bsc_history_active(h, T0 + 5001, NULL, "no usable uplink"));
	OK(bsc_history_daemon(h, T0 + 12000, 0));
	outages(f, &o, &n);
	assert_int_equal(n, 2);
	assert_int_equal(o[0].end_ms, T0 + 12000);
	assert_int_equal(o[1].end_ms, T0 + 12000);
	assert_true(o[0].ended_by_restart && o[1].ended_by_restart);
	assert_string_equal(o[0].end_reason, "the daemon stopped");
	free(o);
	/* the next start has nothing left to close */
	OK(bsc_history_daemon(h, T0 + 30000, 1));
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM outages WHERE end_ms IS NULL"), 0);
	assert_int_equal(sql_i64(f, "SELECT MAX(end_ms) FROM outages"), T0 + 12000);
}

/* ------------------------------------------------------------------ */
/* usage                                                              */
/* ------------------------------------------------------------------ */

static void test_usage_deltas_and_counter_reset(void **state)
{
	struct fx *f = *state;
	struct bsc_history *h = hopen(f);
	int64_t hour = (T0 / 3600000 + 1) * 3600000; /* a whole hour */
	uint64_t tx, rx;

	OK(bsc_history_usage(h, hour + 60 * S, "cell", 100, 50));     /* first sample: all */
	OK(bsc_history_usage(h, hour + 120 * S, "cell", 300, 80));    /* +200 +30 */
	OK(bsc_history_usage(h, hour + 180 * S, "cell", 300, 80));    /* nothing */
	OK(bsc_history_usage(h, hour + 240 * S, "cell", 10, 5));      /* reloaded: +10 +5 */
	OK(bsc_history_usage(h, hour + 300 * S, "cell", 30, 5));      /* +20 */
	OK(bsc_history_usage(h, hour + 60 * S, "sat", 1000, 1000));   /* another uplink */
	OK(bsc_history_usage_sum(h, "cell", hour, hour + 3600 * S, &tx, &rx));
	assert_int_equal(tx, 100 + 200 + 10 + 20);
	assert_int_equal(rx, 50 + 30 + 5);
	/* the next hour has its own row */
	OK(bsc_history_usage(h, hour + 3700 * S, "cell", 1030, 1005));
	OK(bsc_history_usage_sum(h, "cell", hour + 3600 * S, hour + 7200 * S, &tx, &rx));
	assert_int_equal(tx, 1000);
	assert_int_equal(rx, 1000);
	OK(bsc_history_usage_sum(h, "cell", hour, hour + 7200 * S, &tx, &rx));
	assert_int_equal(tx, 1330);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM usage WHERE uplink = 'cell'"), 2);
	/* the counters survive a restart of the daemon (adopted data plane) */
	reopen(f);
	OK(bsc_history_usage(f->h, hour + 3800 * S, "cell", 1130, 1005));
	OK(bsc_history_usage_sum(f->h, "cell", hour + 3600 * S, hour + 7200 * S, &tx, &rx));
	assert_int_equal(tx, 1100);
	/* an unknown uplink has used nothing */
	OK(bsc_history_usage_sum(f->h, "nope", 0, INT64_MAX / 2, &tx, &rx));
	assert_int_equal(tx + rx, 0);
}

/* ------------------------------------------------------------------ */
/* retention                                                          */
/* ------------------------------------------------------------------ */

static void test_prune_keeps_the_retention_and_the_last_state(void **state)
{
	struct fx *f = *state;
	struct bsc_history *h;
	char err[256];
	int64_t old = T0, now = T0 + 20 * DAY;

	assert_int_equal(bsc_history_open(f->path, 10, &f->h, err, sizeof(err)), 0);
	h = f->h;
	/* an old run, wholly before the cutoff (now - 10 days) */
	OK(bsc_history_daemon(h, old, 1));
	OK(bsc_history_active(h, old + 1, "fiber", "x"));
	OK(bsc_history_transition(h, old + 2, "fiber", "unknown", "up", "x"));
	OK(bsc_history_transition(h, old + 100, "fiber", "up", "down", "x"));
	OK(bsc_history_transition(h, old + 200, "fiber", "down", "up", "x"));
	OK(bsc_history_usage(h, old + 300, "cell", 10, 10));
	OK(bsc_history_drill(h, old + 400, old + 500, 1, 5, 1000, NULL));
	OK(bsc_history_daemon(h, old + DAY, 0));
	/* a recent one */
	OK(bsc_history_daemon(h, now - DAY, 1));
	OK(bsc_history_active(h, now - DAY + 1, "cell", "x"));
	OK(bsc_history_transition(h, now - DAY + 2, "cell", "unknown", "up", "x"));
	OK(bsc_history_drill(h, now - 400, now - 300, 0, 1500, 1000, NULL));
	OK(bsc_history_prune(h, now));
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM runs"), 1);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM outages"), 0);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM drills"), 1);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM usage"), 0);
	/* the last fibre transition and the last active row before the cutoff */
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM transitions WHERE uplink = 'fiber'"), 1);
	assert_int_equal(sql_i64(f, "SELECT t_ms FROM transitions WHERE uplink = 'fiber'"), old + 200);
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM active"), 2);
	/* pruning again removes nothing more */
	OK(bsc_history_prune(h, now));
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM transitions"), 2);
}

/* ------------------------------------------------------------------ */
/* timeline and availability                                          */
/* ------------------------------------------------------------------ */

/* Two runs, 100 s and 50 s, a 30 s gap without the daemon:
 *
 *   run 1  [0, 100 s)  stopped cleanly
 *     fiber  unknown 0-100 ms, up -40 s, down -43 s, up -100 s
 *     cell   unknown 0-300 ms, up
 *     active none 0-150 ms, fiber -40.001 s, cell -46 s, fiber
 *   run 2  [130 s, 180 s)  still running at 180 s
 *     fiber  unknown 130-130.1 s, down -140 s (no backup up: offline
 *            140.002-150 s), up
 *     cell   unknown, down at 130.2 s, up at 150 s
 *     active none 130-130.15 s, fiber, none 140.002 s, cell 150 s
 */
static void build_timeline(struct bsc_history *h)
{
	OK(bsc_history_daemon(h, T0, 1));
	OK(bsc_history_active(h, T0, NULL, "starting"));
	OK(bsc_history_transition(h, T0 + 100, "fiber", "unknown", "up", "x"));
	OK(bsc_history_active(h, T0 + 150, "fiber", "x"));
	OK(bsc_history_transition(h, T0 + 300, "cell", "unknown", "up", "x"));
	OK(bsc_history_transition(h, T0 + 40000, "fiber", "up", "down", "carrier lost"));
	OK(bsc_history_active(h, T0 + 40001, "cell", "x"));
	OK(bsc_history_transition(h, T0 + 43000, "fiber", "down", "up", "x"));
	OK(bsc_history_active(h, T0 + 46000, "fiber", "x"));
	OK(bsc_history_daemon(h, T0 + 100000, 0));

	OK(bsc_history_daemon(h, T0 + 130000, 1));
	OK(bsc_history_active(h, T0 + 130000, NULL, "starting"));
	OK(bsc_history_transition(h, T0 + 130100, "fiber", "unknown", "up", "x"));
	OK(bsc_history_active(h, T0 + 130150, "fiber", "x"));
	OK(bsc_history_transition(h, T0 + 130200, "cell", "unknown", "down", "x"));
	OK(bsc_history_transition(h, T0 + 140000, "fiber", "up", "down", "x"));
	OK(bsc_history_active(h, T0 + 140002, NULL, "no usable uplink"));
	OK(bsc_history_transition(h, T0 + 150000, "cell", "down", "up", "x"));
	OK(bsc_history_active(h, T0 + 150000, "cell", "x"));
	OK(bsc_history_transition(h, T0 + 160000, "fiber", "down", "up", "x"));
	OK(bsc_history_heartbeat(h, T0 + 170000));
}

static void test_timeline_availability_known_answers(void **state)
{
	static const char *const names[] = { "fiber", "cell", "sat" };
	struct fx *f = *state;
	struct bsc_availability a;
	struct bsc_timeline tl;

	build_timeline(hopen(f));
	OK(bsc_history_timeline(f->h, T0 - DAY, T0 + DAY, T0 + 180000, names, 3, &tl));
	assert_int_equal(tl.n_runs, 2);
	assert_true(tl.runs[0].stopped);
	assert_true(tl.runs[1].running && tl.alive);
	assert_int_equal(bsc_timeline_observed_ms(&tl), 150000);
	assert_int_equal(tl.n_lanes, 3); /* sat: configured, never seen */

	OK(bsc_timeline_uplink_availability(&tl, "fiber", &a));
	assert_int_equal(a.observed_ms, 150000);
	assert_int_equal(a.unknown_ms, 100 + 100);
	assert_int_equal(a.down_ms, 3000 + 20000);
	assert_int_equal(a.up_ms, 150000 - 200 - 23000);
	assert_int_equal(a.degraded_ms, 0);
	assert_true(a.pct > 84.6461 && a.pct < 84.6463); /* 126800 / 149800 */

	OK(bsc_timeline_uplink_availability(&tl, "cell", &a));
	assert_int_equal(a.unknown_ms, 300 + 200);
	assert_int_equal(a.down_ms, 19800);
	OK(bsc_timeline_uplink_availability(&tl, "sat", &a));
	assert_int_equal(a.unknown_ms, 150000);
	assert_true(a.pct < 0); /* nothing known */
	assert_int_equal(bsc_timeline_uplink_availability(&tl, "nope", &a), -1);

	bsc_timeline_site_availability(&tl, &a);
	assert_int_equal(a.down_ms, 150 + 150 + 9998);
	assert_int_equal(a.up_ms, 150000 - 10298);
	assert_int_equal(a.unknown_ms, 0);
	assert_true(a.pct > 93.1346 && a.pct < 93.1347); /* 139702 / 150000 */

	/* fibre down 40-43 s with cell active from 40.001 s: 2999 ms; in run 2
	 * it was down 140-160 s, carried by nobody until 150 s: 10 s */
	assert_int_equal(bsc_timeline_covered_ms(&tl, "fiber"), 2999 + 10000);
	/* cell down 130.2-150 s: the fibre carried until 140.002 s */
	assert_int_equal(bsc_timeline_covered_ms(&tl, "cell"), 9802);
	bsc_timeline_free(&tl);

	/* clipped to [41 s, 135 s): the state at 41 s is known from before */
	OK(bsc_history_timeline(f->h, T0 + 41000, T0 + 135000, T0 + 180000, names, 3, &tl));
	assert_int_equal(bsc_timeline_observed_ms(&tl), 59000 + 5000);
	assert_int_equal(tl.lanes[0].spans[0].start_ms, T0 + 41000);
	assert_string_equal(tl.lanes[0].spans[0].what, "down");
	assert_string_equal(tl.carrying.spans[0].what, "cell");
	OK(bsc_timeline_uplink_availability(&tl, "fiber", &a));
	assert_int_equal(a.down_ms, 2000);
	bsc_timeline_free(&tl);
}

/* A run without a clean stop counts until its last record once it is more
 * than BSC_HISTORY_ALIVE_MS old: it died. */
static void test_timeline_dead_run_ends_at_its_last_record(void **state)
{
	static const char *const names[] = { "fiber" };
	struct fx *f = *state;
	struct bsc_timeline tl;

	hopen(f);
	OK(bsc_history_daemon(f->h, T0, 1));
	OK(bsc_history_active(f->h, T0 + 10, "fiber", "x"));
	OK(bsc_history_heartbeat(f->h, T0 + 60000));
	OK(bsc_history_timeline(f->h, T0, T0 + DAY, T0 + 60000 + BSC_HISTORY_ALIVE_MS, names, 1, &tl));
	assert_true(tl.alive);
	assert_int_equal(bsc_timeline_observed_ms(&tl), 60000 + BSC_HISTORY_ALIVE_MS);
	bsc_timeline_free(&tl);
	OK(bsc_history_timeline(f->h, T0, T0 + DAY, T0 + 60001 + BSC_HISTORY_ALIVE_MS, names, 1, &tl));
	assert_false(tl.alive);
	assert_int_equal(bsc_timeline_observed_ms(&tl), 60000);
	assert_int_equal(tl.last_ms, T0 + 60000);
	bsc_timeline_free(&tl);
}

/* The report reads while the daemon writes (WAL). */
static void test_reader_while_writer_is_open(void **state)
{
	struct fx *f = *state;
	struct bsc_history *ro = NULL;
	struct bsc_outage *o;
	char err[256];
	int n;

	fibre_cut(hopen(f), T0);
	assert_int_equal(bsc_history_open_ro(f->path, &ro, err, sizeof(err)), 0);
	OK(bsc_history_outages(ro, 0, INT64_MAX, &o, &n));
	assert_int_equal(n, 2);
	free(o);
	OK(bsc_history_transition(f->h, T0 + 20000, "fiber", "up", "down", "timeout"));
	OK(bsc_history_outages(ro, 0, INT64_MAX, &o, &n));
	assert_int_equal(n, 3);
	free(o);
	bsc_history_close(ro);
}

/* ------------------------------------------------------------------ */
/* the writer thread                                                  */
/* ------------------------------------------------------------------ */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Queued writes land in order, the same rows as direct ones. */
static void test_writer_writes_everything_in_order(void **state)
{
	struct fx *f = *state;
	struct bsc_history_writer_stats ws;
	struct bsc_history *ro = NULL;
	struct bsc_outage *o;
	char err[256];
	int n;

	OK(bsc_history_start_writer(hopen(f), 64));
	fibre_cut(f->h, T0);
	OK(bsc_history_drill(f->h, T0 + 20000, T0 + 21000, 1, 310.5, 1000, "{\"passed\": true}"));
	OK(bsc_history_flush(f->h, 5000));
	bsc_history_writer_stats(f->h, &ws);
	assert_int_equal(ws.queued, 10);
	assert_int_equal(ws.written, 10);
	assert_int_equal(ws.failed, 0);
	assert_int_equal(ws.dropped, 0);
	assert_int_equal(ws.depth, 0);
	OK(bsc_history_open_ro(f->path, &ro, err, sizeof(err)));
	OK(bsc_history_outages(ro, 0, INT64_MAX, &o, &n));
	assert_int_equal(n, 2);
	assert_int_equal(o[1].start_ms, T0 + 10000);
	assert_int_equal(o[1].end_ms, T0 + 13212);
	assert_string_equal(o[1].carried_by, "cell");
	free(o);
	bsc_history_close(ro);
	assert_int_equal(sql_i64(f, "SELECT cutover_ms * 10 FROM drills"), 3105);
	/* a stop writes what is still queued */
	OK(bsc_history_transition(f->h, T0 + 30000, "cell", "up", "down", "timeout"));
	OK(bsc_history_daemon(f->h, T0 + 31000, 0));
	bsc_history_close(f->h);
	f->h = NULL;
	assert_int_equal(sql_i64(f, "SELECT COUNT(*) FROM outages WHERE uplink = 'cell'"), 1);
	assert_int_equal(sql_i64(f, "SELECT stop_ms FROM runs"), T0 + 31000);
}

/* A disk that holds the writer (here: another process's write lock, so
 * that every commit waits its 200 ms busy timeout) never holds the
 * caller: each call returns at once, and what the queue cannot take is
 * dropped and counted. */
static void test_writer_never_waits_for_a_held_disk(void **state)
{
	struct fx *f = *state;
	struct bsc_history_writer_stats ws;
	double t0, took, worst = 0;
	sqlite3 *db;
	int i, rc, refused = 0;

	hopen(f);
	OK(bsc_history_daemon(f->h, T0, 1));
	OK(bsc_history_start_writer(f->h, 8));
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	t0 = now_ms();
	for (i = 0; i < 100; i++) {
		double t = now_ms();

		rc = bsc_history_transition(f->h, T0 + i, "fiber", i % 2 ? "down" : "up",
					    i % 2 ? "up" : "down", "flapping");
		refused += rc != 0;
		if (now_ms() - t > worst)
			worst = now_ms() - t;
	}
	took = now_ms() - t0;
	bsc_history_writer_stats(f->h, &ws);
	print_message("# 100 calls in %.2f ms (longest %.3f ms) with the writer held: queued %llu, dropped %llu\n",
		      took, worst, (unsigned long long)ws.queued, (unsigned long long)ws.dropped);
	/* writing them would take 100 x 200 ms; queueing takes microseconds */
	assert_true(worst < 100);
	assert_int_equal(ws.queued + ws.dropped, 100);
	assert_int_equal(ws.dropped, refused);
	assert_true(ws.queued <= 8 + 1 + (unsigned)(took / 200));
	assert_true(ws.dropped >= 100 - 8 - 1 - (unsigned)(took / 200));
	usleep(300 * 1000); /* the writer's first record waits out its busy timeout */
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	OK(bsc_history_flush(f->h, 10000));
	bsc_history_writer_stats(f->h, &ws);
	assert_int_equal(ws.written + ws.failed, ws.queued);
	assert_true(ws.failed >= 1);
	assert_true(ws.written >= 1);
	assert_true(ws.write_max_ns >= 150 * 1000000ull); /* the held commit waited */
}

/* ------------------------------------------------------------------ */
/* report                                                             */
/* ------------------------------------------------------------------ */

static const char report_conf[] =
	"[bascule]\nlan = lan0\n"
	"[site]\nname = %s\naddress = 1 rue du Four\nrto_ms = 1000\n"
	"downtime_cost_per_hour = 120\ncurrency = EUR\n"
	"staff_check = Take a card payment\n"
	"[contact Second]\nphone = 2\nescalation = 2\n"
	"[contact First]\nphone = 1\nescalation = 1\nrole = IT <provider>\n"
	"[uplink fiber]\ninterface = wan0\ngateway = 192.0.2.1\npriority = 10\nmonthly_cost = 40\n"
	"probe = icmp 203.0.113.1\n"
	"[uplink cell]\ninterface = wan1\ngateway = 198.51.100.1\npriority = 20\nmetered = yes\n"
	"monthly_cost = 20\ncost_per_gb = 2\nsupport = 0800 123\n";

static char *render(struct fx *f, const char *site_name, enum bsc_report_format fmt)
{
	struct bsc_report_opts o = { .from_ms = T0 - DAY, .to_ms = T0 + DAY, .now_ms = T0 + 60000,
				     .format = fmt, .history_path = f->path };
	char text[4096], err[2048], *buf = NULL;
	struct bsc_cfg *cfg = malloc(sizeof(*cfg));
	size_t len = 0;
	FILE *out;

	assert_non_null(cfg);
	snprintf(text, sizeof(text), report_conf, site_name);
	if (bsc_config_parse_string(text, "report.conf", cfg, err, sizeof(err)))
		fail_msg("%s", err);
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	OK(bsc_report_write(cfg, f->h, &o, out));
	fclose(out);
	free(cfg);
	return buf;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

static void test_report_html_has_the_outage_and_its_duration(void **state)
{
	struct fx *f = *state;
	char *html;

	fibre_cut(hopen(f), T0);
	OK(bsc_history_usage(f->h, T0 + 50000, "cell", 1500000000, 500000000));
	OK(bsc_history_drill(f->h, T0 + 20000, T0 + 30000, 1, 6.2, 1000, "{}"));
	html = render(f, "Boulangerie Martin", BSC_REPORT_HTML);
	if (getenv("BSC_REPORT_SAMPLE")) { /* to look at it */
		FILE *x = fopen(getenv("BSC_REPORT_SAMPLE"), "w");

		if (x) {
			fputs(html, x);
			fclose(x);
		}
	}
	assert_memory_equal(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32);
	assert_non_null(strstr(html, "<title>Continuity plan: Boulangerie Martin</title>"));
	/* the cut: 22:13:30.000 to 22:13:33.212 UTC, 3.212 s, carried by cell */
	assert_non_null(strstr(html, "<td>2023-11-14 22:13:30.000</td><td>2023-11-14 22:13:33.212</td>"
				     "<td class=\"num\" data-ms=\"3212\">3.212 s</td><td>fiber down</td>"
				     "<td>carrier lost</td><td>cell</td>"));
	assert_non_null(strstr(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\""));
	assert_non_null(strstr(html, "fiber: down from 2023-11-14 22:13:30.000 to 2023-11-14 22:13:33.212 (3.212 s)"));
	/* contacts by escalation: First before Second */
	assert_true(strstr(html, "<td>First</td>") < strstr(html, "<td>Second</td>"));
	assert_non_null(strstr(html, "IT &lt;provider&gt;"));
	/* the drill against the RTO */
	assert_non_null(strstr(html, "<td class=\"num\" data-ms=\"6\">6.2 ms</td>"));
	assert_non_null(strstr(html, "<td class=\"ok\">passed</td>"));
	/* metered data: 2 GB at 2 EUR */
	assert_non_null(strstr(html, "<td class=\"num\">2.00 GB</td>"));
	assert_non_null(strstr(html, "<td class=\"num\">4.00 EUR</td>"));
	/* the backup costs 240 EUR a year, 2 hours of downtime at 120 EUR */
	assert_non_null(strstr(html, "240.00 EUR a year"));
	assert_non_null(strstr(html, "2.0 hours a year"));
	/* nothing external, nothing active */
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "<link"));
	assert_int_equal(count(html, "http"), count(html, "http://www.w3.org/2000/svg"));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
}

static void test_report_escapes_a_hostile_site_name(void **state)
{
	struct fx *f = *state;
	char *html, *mdtext;

	fibre_cut(hopen(f), T0);
	html = render(f, "<script>alert('x')</script> & \"Co\"", BSC_REPORT_HTML);
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "<title>Continuity plan: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
				     "&amp; &quot;Co&quot;</title>"));
	free(html);
	mdtext = render(f, "<img src=x> | *bold*", BSC_REPORT_MD);
	assert_non_null(strstr(mdtext, "# Continuity plan: \\<img src=x\\> \\| \\*bold\\*\n"));
	free(mdtext);
}

static void test_report_markdown_says_the_same(void **state)
{
	struct fx *f = *state;
	char *mdtext;

	fibre_cut(hopen(f), T0);
	mdtext = render(f, "Boulangerie Martin", BSC_REPORT_MD);
	assert_non_null(strstr(mdtext, "# Continuity plan: Boulangerie Martin\n"));
	assert_non_null(strstr(mdtext, "| 2023-11-14 22:13:30.000 | 2023-11-14 22:13:33.212 | 3.212 s | fiber down |"));
	assert_non_null(strstr(mdtext, "## Outages of the period\n"));
	/* the timeline as text: the cut and the failback */
	assert_non_null(strstr(mdtext, "| From | fiber | cell | carrying traffic |\n"));
	assert_non_null(strstr(mdtext, "| 2023-11-14 22:13:30.000 | down | up | fiber |\n"));
	assert_non_null(strstr(mdtext, "| 2023-11-14 22:13:30.001 | down | up | cell |\n"));
	assert_non_null(strstr(mdtext, "| 2023-11-14 22:13:36.300 | up | up | fiber |\n"));
	/* the daemon runs on: no "not observed" row at the end */
	assert_null(strstr(mdtext, "not observed |"));
	assert_null(strstr(mdtext, "<svg"));
	assert_null(strstr(mdtext, "<td"));
	free(mdtext);
}

/* Without a history the plan is still written, and says why. */
static void test_report_without_history(void **state)
{
	struct bsc_report_opts o = { .from_ms = T0 - DAY, .to_ms = T0, .now_ms = T0,
				     .history_note = "history is off in x.conf" };
	char text[4096], err[2048], *buf = NULL;
	struct bsc_cfg *cfg = malloc(sizeof(*cfg));
	size_t len = 0;
	FILE *out;

	assert_non_null(cfg);
	snprintf(text, sizeof(text), report_conf, "Shop");
	OK(bsc_config_parse_string(text, "report.conf", cfg, err, sizeof(err)));
	out = open_memstream(&buf, &len);
	OK(bsc_report_write(cfg, NULL, &o, out));
	fclose(out);
	free(cfg);
	assert_non_null(strstr(buf, "No history: history is off in x.conf"));
	assert_non_null(strstr(buf, "Take a card payment"));
	assert_null(strstr(buf, "<svg"));
	free(buf);
}

/* The plan lists the traffic classes in the operator's words, in file
 * order and the default class last; without classes, no such line. */
static void test_report_lists_the_classes(void **state)
{
	struct bsc_report_opts o = { .from_ms = T0 - DAY, .to_ms = T0, .now_ms = T0,
				     .format = BSC_REPORT_MD, .history_note = "history is off" };
	char text[8192], err[2048], *buf = NULL;
	struct bsc_cfg *cfg = malloc(sizeof(*cfg));
	const char *a, *b;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_non_null(cfg);
	snprintf(text, sizeof(text), report_conf, "Shop");
	strcat(text, "[uplink sat]\ninterface = wan2\ngateway = 100.64.0.1\npriority = 30\n"
		     "[class phones]\nmatch = dscp ef\nuplinks = fiber cell\nfailback = move-udp\n"
		     "[class guests]\nmatch = src 10.77.0.128/25\nuplinks = fiber sat\nmetered = no\n"
		     "[class vpn]\nmatch = proto tcp dport 1194\nuplinks = fiber\nfailback = reset-tcp\n"
		     "fallback = any\n"
		     "[class bulk]\nmatch = proto tcp dport 443\nbalance = fiber:3 sat:1\npersist = source\n");
	OK(bsc_config_parse_string(text, "report.conf", cfg, err, sizeof(err)));
	out = open_memstream(&buf, &len);
	OK(bsc_report_write(cfg, NULL, &o, out));
	fclose(out);
	assert_non_null(a = strstr(buf, "- **phones**: fiber, then cell; with none of them working, it waits "
					"(its new connections are refused). When a better link is back, its calls "
					"move back too.\n"));
	assert_non_null(strstr(buf, "- **guests**: fiber, then sat; never a metered link;"));
	assert_non_null(strstr(buf, "- **vpn**: fiber only; with none of them working, any link that works. "
				    "When a better link is back, its calls move back too, and its connections "
				    "are restarted there.\n"));
	assert_non_null(strstr(buf, "- **bulk**: spread over fiber (3 in 4) and sat (1 in 4), each connection "
				    "staying on its link and each computer's connections all on one;"));
	assert_non_null(b = strstr(buf, "- **Everything else**: every link, in the order above. When a better "
					"link is back, its calls and connections in progress stay where they are.\n"));
	assert_true(a < b);
	free(buf);
	/* without classes: none of it */
	snprintf(text, sizeof(text), report_conf, "Shop");
	OK(bsc_config_parse_string(text, "report.conf", cfg, err, sizeof(err)));
	out = open_memstream(&buf, &len);
	OK(bsc_report_write(cfg, NULL, &o, out));
	fclose(out);
	assert_null(strstr(buf, "Everything else"));
	free(buf);
	free(cfg);
}

static void test_duration_format(void **state)
{
	static const struct {
		int64_t ms;
		const char *s;
	} rows[] = {
		{ 0, "0 ms" }, { 999, "999 ms" }, { 1000, "1.000 s" }, { 3212, "3.212 s" },
		{ 59999, "59.999 s" }, { 60000, "1 min 00.000 s" }, { 252345, "4 min 12.345 s" },
		{ 3600000, "1 h 00 min 00 s" }, { 7627000, "2 h 07 min 07 s" },
		{ 86400000, "1 d 00 h 00 min" }, { 273000000, "3 d 03 h 50 min" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bsc_report_duration(rows[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, rows[i].s);
	}
}

/* with the fixture: a fresh history file */
#define T(fn) t_add_fixture(#fn, fn, fx_setup, fx_teardown, NULL)

int main(void)
{
	T(test_schema_created);
	T(test_class_changes);
	T(test_open_refuses_what_is_not_a_history);
	T(test_outage_open_close_duration);
	T(test_carried_by_follows_the_active_uplinks);
	T(test_reopen_keeps_everything);
	T(test_restart_closes_outages_of_a_dead_run);
	T(test_clean_stop_closes_open_outages);
	T(test_usage_deltas_and_counter_reset);
	T(test_prune_keeps_the_retention_and_the_last_state);
	T(test_timeline_availability_known_answers);
	T(test_timeline_dead_run_ends_at_its_last_record);
	T(test_reader_while_writer_is_open);
	T(test_writer_writes_everything_in_order);
	T(test_writer_never_waits_for_a_held_disk);
	T(test_report_html_has_the_outage_and_its_duration);
	T(test_report_escapes_a_hostile_site_name);
	T(test_report_markdown_says_the_same);
	T_ADD(test_report_without_history);
	T_ADD(test_report_lists_the_classes);
	T_ADD(test_duration_format);

	setenv("TZ", "UTC", 1);
	tzset();
	return t_run("bascule_history", NULL, NULL) ? 1 : 0;
}
