// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * history.c - the history database (SQLite) and the queries the report
 * makes of it.
 *
 * Why SQLite: each record is a transaction, so a daemon killed in the middle
 * of one leaves the file as it was before it; WAL lets `bascule report` read
 * while the daemon writes; and the report's questions (outages of a period,
 * sums per uplink) are queries, not a file format to parse.
 *
 * The daemon writes from its event loop, on the failover path (a transition
 * is recorded before the flip).  So commits do not wait for the disk
 * (synchronous = NORMAL: a power cut may lose the last records, never
 * corrupt the file), and the WAL is copied back into the database only from
 * bsc_history_heartbeat (and at close), never by whichever commit crosses a
 * threshold: about 60 us a record, where a checkpoint in a commit took tens
 * of milliseconds.
 *
 * Outages are kept up to date here, from the transitions and the active
 * uplink, so that a crash leaves consistent rows: an open one is closed by
 * the next start at the last record of the run that died.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "history/history.h"
#include "lib/log.h"

#define HOUR_MS 3600000ll
#define DAY_MS 86400000ll
#define BUSY_MS 200             /* the daemon is the only writer */
#define AUTOCHECKPOINT 0        /* never in a commit: the heartbeat checkpoints */

/* A write for the writer thread: the arguments of one of the calls below,
 * copied (the caller's strings need not outlive the call). */
enum hop { H_DAEMON, H_HEARTBEAT, H_TRANSITION, H_ACTIVE, H_USAGE, H_DRILL, H_PRUNE, H_RETENTION };

struct hrec {
	enum hop op;
	int64_t t, t2;
	int flag;                       /* started, passed, has an uplink */
	double a, b;
	uint64_t x, y;
	char uplink[BSC_HISTORY_NAME];
	char from[24], to[24];
	char reason[128];
	char *json;                     /* a drill's, owned by the record */
};

struct writer;

struct bsc_history {
	sqlite3 *db;
	char path[256];
	uint32_t retention_days;
	int64_t run_id;                 /* the daemon's current run, 0 = none */
	int active_known;               /* the active uplink since this run started */
	char active[BSC_HISTORY_NAME];  /* "" = none (offline) */
	struct writer *w;               /* the writer thread, once started */
};

static int deferred(struct bsc_history *h);
static int enqueue(struct bsc_history *h, const struct hrec *r);

/* ------------------------------------------------------------ schema */

/* Migration i brings user_version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  start_ms INTEGER NOT NULL,"
	"  last_ms INTEGER NOT NULL,"           /* last record while it ran */
	"  stop_ms INTEGER"                     /* clean stop; NULL: running or died */
	");"
	"CREATE TABLE transitions ("
	"  id INTEGER PRIMARY KEY,"
	"  t_ms INTEGER NOT NULL,"
	"  uplink TEXT NOT NULL,"
	"  from_state TEXT NOT NULL,"
	"  to_state TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX transitions_by_uplink ON transitions (uplink, t_ms);"
	"CREATE TABLE active ("
	"  id INTEGER PRIMARY KEY,"
	"  t_ms INTEGER NOT NULL,"
	"  uplink TEXT,"                        /* NULL: no uplink, site offline */
	"  reason TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX active_by_time ON active (t_ms);"
	"CREATE TABLE outages ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('uplink', 'site')),"
	"  uplink TEXT,"                        /* NULL for the site */
	"  start_ms INTEGER NOT NULL,"
	"  end_ms INTEGER,"                     /* NULL while open */
	"  duration_ms INTEGER,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  end_reason TEXT NOT NULL DEFAULT '',"
	"  carried_by TEXT NOT NULL DEFAULT '',"
	"  ended_by_restart INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX outages_by_time ON outages (start_ms);"
	"CREATE TABLE drills ("
	"  id INTEGER PRIMARY KEY,"
	"  start_ms INTEGER NOT NULL,"
	"  end_ms INTEGER NOT NULL,"
	"  passed INTEGER NOT NULL,"
	"  cutover_ms REAL NOT NULL,"
	"  rto_ms REAL NOT NULL,"
	"  result TEXT"
	");"
	"CREATE TABLE usage ("                  /* bytes per uplink and hour */
	"  uplink TEXT NOT NULL,"
	"  hour_ms INTEGER NOT NULL,"
	"  tx_bytes INTEGER NOT NULL,"
	"  rx_bytes INTEGER NOT NULL,"
	"  PRIMARY KEY (uplink, hour_ms)"
	");"
	"CREATE TABLE usage_last ("             /* the last sample of the counters */
	"  uplink TEXT PRIMARY KEY,"
	"  t_ms INTEGER NOT NULL,"
	"  tx_bytes INTEGER NOT NULL,"
	"  rx_bytes INTEGER NOT NULL"
	");",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ------------------------------------------------------------ helpers */

static int fail(struct bsc_history *h, const char *what)
{
	bsc_log(LOG_ERR, "history %s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
	return -1;
}

static sqlite3_stmt *prep(struct bsc_history *h, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(h, sql);
		return NULL;
	}
	return st;
}

/* Bind by type letters: i int64, s text (NULL binds NULL), d double. */
static int bindv(struct bsc_history *h, sqlite3_stmt *st, const char *types, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 'i') {
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else if (types[i] == 'd') {
			rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
		} else {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT) :
				 sqlite3_bind_null(st, i + 1);
		}
	}
	return rc == SQLITE_OK ? 0 : fail(h, "bind");
}

/* Prepare a statement and bind its arguments; NULL (and the error noted)
 * if either fails. */
static sqlite3_stmt *queryv(struct bsc_history *h, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st = prep(h, sql);

	if (st && bindv(h, st, types, ap)) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Run one statement that returns no rows. */
static int exec(struct bsc_history *h, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc = 0;

	va_start(ap, types);
	st = queryv(h, sql, types, ap);
	va_end(ap);
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = fail(h, sql);
	sqlite3_finalize(st);
	return rc;
}

/* Prepare and bind a query; step it with sqlite3_step. */
static sqlite3_stmt *query(struct bsc_history *h, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = queryv(h, sql, types, ap);
	va_end(ap);
	return st;
}

/* One integer from a query; def when there is no row or it is NULL. */
static int query_i64(struct bsc_history *h, int64_t *out, int64_t def, const char *sql,
		     const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc = 0, s;

	va_start(ap, types);
	st = queryv(h, sql, types, ap);
	va_end(ap);
	*out = def;
	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(st, 0);
	else if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = fail(h, sql);
	sqlite3_finalize(st);
	return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

static int begin(struct bsc_history *h)
{
	return exec(h, "BEGIN IMMEDIATE", "");
}

/* Commit when everything went well, roll back otherwise; returns rc. */
static int end(struct bsc_history *h, int rc)
{
	if (!rc && exec(h, "COMMIT", ""))
		rc = -1;
	if (rc && sqlite3_get_autocommit(h->db) == 0)
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* The current run's last record moves forward. */
static int touch(struct bsc_history *h, int64_t t_ms)
{
	if (!h->run_id)
		return 0;
	return exec(h, "UPDATE runs SET last_ms = MAX(last_ms, ?) WHERE id = ?", "ii", t_ms,
		    h->run_id);
}

/* ------------------------------------------------------------ open */

static int set_err(char *err, size_t errlen, const char *path, const char *what, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "history %s: %s: %s", path, what, why);
	return -1;
}

static int migrate(struct bsc_history *h, char *err, size_t errlen)
{
	char sql[64];
	int64_t v;
	int i;

	if (query_i64(h, &v, 0, "PRAGMA user_version", ""))
		return set_err(err, errlen, h->path, "reading its version", sqlite3_errmsg(h->db));
	if (v > SCHEMA_VERSION) {
		char why[96];

		snprintf(why, sizeof(why), "schema version %lld, this bascule knows up to %d",
			 (long long)v, SCHEMA_VERSION);
		return set_err(err, errlen, h->path, "written by a newer bascule", why);
	}
	if (v == SCHEMA_VERSION)
		return 0;
	if (begin(h))
		return set_err(err, errlen, h->path, "migrating", sqlite3_errmsg(h->db));
	for (i = (int)v; i < SCHEMA_VERSION; i++) {
		char *msg = NULL;

		if (sqlite3_exec(h->db, migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
			set_err(err, errlen, h->path, "creating its tables", msg ? msg : "?");
			sqlite3_free(msg);
			end(h, -1);
			return -1;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION); /* no binding */
	if (exec(h, sql, "") || end(h, 0))
		return set_err(err, errlen, h->path, "migrating", sqlite3_errmsg(h->db));
	return 0;
}

static int open_common(const char *path, int flags, struct bsc_history **out, char *err,
		       size_t errlen)
{
	struct bsc_history *h;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return set_err(err, errlen, "", "opening", "no path given");
	h = calloc(1, sizeof(*h));
	if (!h)
		return set_err(err, errlen, path, "opening", strerror(ENOMEM));
	snprintf(h->path, sizeof(h->path), "%s", path);
	rc = sqlite3_open_v2(path, &h->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, path, "cannot open",
			h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
		bsc_history_close(h);
		return -1;
	}
	sqlite3_extended_result_codes(h->db, 1);
	sqlite3_busy_timeout(h->db, flags & SQLITE_OPEN_READONLY ? 2000 : BUSY_MS);
	*out = h;
	return 0;
}

void bsc_history_set_retention(struct bsc_history *h, uint32_t retention_days)
{
	if (deferred(h)) {
		enqueue(h, &(struct hrec){ .op = H_RETENTION, .x = retention_days });
		return;
	}
	h->retention_days = retention_days;
}

int bsc_history_open(const char *path, uint32_t retention_days, struct bsc_history **out,
		     char *err, size_t errlen)
{
	struct bsc_history *h;
	char *msg = NULL, sql[160];

	if (open_common(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &h, err, errlen))
		return -1;
	h->retention_days = retention_days;
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		 " PRAGMA wal_autocheckpoint = %d;", AUTOCHECKPOINT);
	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_err(err, errlen, path, "setting it up (is it an SQLite file?)", msg ? msg : "?");
		sqlite3_free(msg);
		bsc_history_close(h);
		return -1;
	}
	if (migrate(h, err, errlen)) {
		bsc_history_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

int bsc_history_open_ro(const char *path, struct bsc_history **out, char *err, size_t errlen)
{
	struct bsc_history *h;
	int64_t v;

	if (open_common(path, SQLITE_OPEN_READONLY, &h, err, errlen))
		return -1;
	if (query_i64(h, &v, 0, "PRAGMA user_version", "")) {
		set_err(err, errlen, path, "not readable as a history (is it an SQLite file?)",
			sqlite3_errmsg(h->db));
		bsc_history_close(h);
		return -1;
	}
	if (v != SCHEMA_VERSION) {
		char why[96];

		snprintf(why, sizeof(why), "schema version %lld, expected %d%s", (long long)v,
			 SCHEMA_VERSION, v == 0 ? " (empty: has the daemon run with it?)" :
			 v > SCHEMA_VERSION ? " (written by a newer bascule)" : "");
		set_err(err, errlen, path, "not a history this bascule reads", why);
		bsc_history_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

/* ------------------------------------------------------------ the writer */

/* Once bsc_history_start_writer has run, the write calls above only queue a
 * record: the writer thread owns the connection and does the SQL, so a slow
 * or hung disk (a commit waiting on write(2), a checkpoint on fsync) holds
 * the writer, never the daemon's event loop.  The queue is bounded: when the
 * disk is so slow that it fills, a record is dropped and counted, never
 * waited for. */
struct writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t more, done;
	struct hrec *ring;
	unsigned cap, head, n;
	int stop, busy, exited;
	struct bsc_history_writer_stats st;
};

/* A write call made by anyone but the writer, once it runs, is queued. */
static int deferred(struct bsc_history *h)
{
	return h->w && !pthread_equal(pthread_self(), h->w->th);
}

static int enqueue(struct bsc_history *h, const struct hrec *r)
{
	struct writer *w = h->w;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->n == w->cap || w->stop) {
		if (!w->st.dropped++)
			bsc_log(LOG_WARNING, "history %s: the disk is not keeping up, %u records queued:"
				" records are being dropped (counted in health: history.dropped)",
				h->path, w->n);
		rc = -1;
	} else {
		w->ring[(w->head + w->n) % w->cap] = *r;
		w->n++;
		w->st.queued++;
		if (w->n > w->st.depth_max)
			w->st.depth_max = w->n;
		pthread_cond_signal(&w->more);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int apply(struct bsc_history *h, struct hrec *r)
{
	switch (r->op) {
	case H_DAEMON:
		return bsc_history_daemon(h, r->t, r->flag);
	case H_HEARTBEAT:
		return bsc_history_heartbeat(h, r->t);
	case H_TRANSITION:
		return bsc_history_transition(h, r->t, r->uplink, r->from, r->to, r->reason);
	case H_ACTIVE:
		return bsc_history_active(h, r->t, r->flag ? r->uplink : NULL, r->reason);
	case H_USAGE:
		return bsc_history_usage(h, r->t, r->uplink, r->x, r->y);
	case H_DRILL:
		return bsc_history_drill(h, r->t, r->t2, r->flag, r->a, r->b, r->json);
	case H_PRUNE:
		return bsc_history_prune(h, r->t);
	case H_RETENTION:
		bsc_history_set_retention(h, (uint32_t)r->x);
		return 0;
	}
	return -1;
}

static void *writer_main(void *arg)
{
	struct bsc_history *h = arg;
	struct writer *w = h->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct hrec r;
		uint64_t t0, dt;
		int rc;

		while (!w->n && !w->stop)
			pthread_cond_wait(&w->more, &w->mu);
		if (!w->n)
			break; /* stopping, and everything queued is written */
		r = w->ring[w->head];
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		t0 = bsc_now_ns();
		rc = apply(h, &r);
		dt = bsc_now_ns() - t0;
		free(r.json);
		pthread_mutex_lock(&w->mu);
		w->head = (w->head + 1) % w->cap;
		w->n--;
		w->busy = 0;
		if (rc)
			w->st.failed++;
		else
			w->st.written++;
		w->st.last_write_ns = dt;
		if (dt > w->st.write_max_ns)
			w->st.write_max_ns = dt;
		pthread_cond_broadcast(&w->done);
	}
	w->exited = 1;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int bsc_history_start_writer(struct bsc_history *h, unsigned queue_len)
{
	struct writer *w;

	if (h->w || !queue_len)
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->ring = calloc(queue_len, sizeof(*w->ring)))) {
		free(w);
		return -1;
	}
	w->cap = queue_len;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->done, NULL);
	/* h->w is set before the thread runs: its first deferred() sees its
	 * own id in w->th, written by pthread_create before it returns here
	 * and read by the thread only under w->mu */
	h->w = w;
	pthread_mutex_lock(&w->mu);
	if (pthread_create(&w->th, NULL, writer_main, h)) {
		pthread_mutex_unlock(&w->mu);
		h->w = NULL;
		free(w->ring);
		free(w);
		return -1;
	}
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void bsc_history_writer_stats(struct bsc_history *h, struct bsc_history_writer_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!h || !h->w)
		return;
	pthread_mutex_lock(&h->w->mu);
	*st = h->w->st;
	st->depth = h->w->n;
	pthread_mutex_unlock(&h->w->mu);
}

int bsc_history_flush(struct bsc_history *h, unsigned timeout_ms)
{
	struct writer *w = h ? h->w : NULL;
	struct timespec ts;
	int rc = 0;

	if (!w)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000l;
	if (ts.tv_nsec >= 1000000000l) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000l;
	}
	pthread_mutex_lock(&w->mu);
	while ((w->n || w->busy) && !w->exited && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->done, &w->mu, &ts);
	rc = w->n || w->busy ? -1 : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

#define STOP_WAIT_MS 5000

/* Write what is queued and end the thread; -1 if the disk holds it longer
 * than STOP_WAIT_MS (the thread is left running, with h). */
static int writer_stop(struct bsc_history *h)
{
	struct writer *w = h->w;
	unsigned left;

	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->mu);
	if (bsc_history_flush(h, STOP_WAIT_MS)) {
		pthread_mutex_lock(&w->mu);
		left = w->n;
		pthread_mutex_unlock(&w->mu);
		bsc_log(LOG_ERR, "history %s: the disk held the writer over %d ms at the stop:"
			" %u record(s) not written", h->path, STOP_WAIT_MS, left);
		return -1;
	}
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->done);
	free(w->ring);
	free(w);
	h->w = NULL;
	return 0;
}

void bsc_history_close(struct bsc_history *h)
{
	if (!h)
		return;
	if (h->w && writer_stop(h))
		return; /* stuck on the disk: it still holds h (the process ends) */
	if (h->db && sqlite3_close(h->db) != SQLITE_OK)
		bsc_log(LOG_ERR, "history %s: closing: %s", h->path, sqlite3_errmsg(h->db));
	free(h);
}

/* ------------------------------------------------------------ outages */

static int has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = list;

	while ((p = strstr(p, tok))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* The uplink (or "none") carries the traffic now: every open uplink outage
 * but its own notes it. */
static int carried_add(struct bsc_history *h, const char *token)
{
	struct {
		int64_t id;
		char carried[128];
	} open[BSC_HISTORY_LANES];
	sqlite3_stmt *st;
	int n = 0, i, s, rc = 0;

	st = query(h, "SELECT id, uplink, carried_by FROM outages WHERE end_ms IS NULL AND kind = 'uplink'",
		   "");
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && n < BSC_HISTORY_LANES) {
		const char *c = col_text(st, 2);

		if (!strcmp(col_text(st, 1), token) || has_token(c, token))
			continue;
		if (strlen(c) + strlen(token) + 2 > sizeof(open[0].carried))
			continue;
		open[n].id = sqlite3_column_int64(st, 0);
		snprintf(open[n].carried, sizeof(open[n].carried), "%s%s%s", c, *c ? "," : "",
			 token);
		n++;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = fail(h, "reading open outages");
	sqlite3_finalize(st);
	for (i = 0; !rc && i < n; i++)
		rc = exec(h, "UPDATE outages SET carried_by = ? WHERE id = ?", "si", open[i].carried,
			  open[i].id);
	return rc;
}

static int outage_open(struct bsc_history *h, int64_t t_ms, const char *uplink,
		       const char *reason)
{
	const char *carried = "";
	int64_t open;

	if (query_i64(h, &open, 0,
		      "SELECT COUNT(*) FROM outages WHERE end_ms IS NULL AND kind = ? AND uplink IS ?",
		      "ss", uplink ? "uplink" : "site", uplink))
		return -1;
	if (open)
		return 0;
	if (!uplink)
		carried = "none";
	else if (h->active_known && strcmp(h->active, uplink))
		carried = h->active[0] ? h->active : "none";
	return exec(h, "INSERT INTO outages (kind, uplink, start_ms, reason, carried_by) VALUES (?, ?, ?, ?, ?)",
		    "ssiss", uplink ? "uplink" : "site", uplink, t_ms, reason, carried);
}

static int outage_close(struct bsc_history *h, int64_t t_ms, const char *uplink,
			const char *reason)
{
	return exec(h, "UPDATE outages SET end_ms = MAX(start_ms, ?1),"
		    " duration_ms = MAX(start_ms, ?1) - start_ms, end_reason = ?2"
		    " WHERE end_ms IS NULL AND kind = ?3 AND uplink IS ?4",
		    "isss", t_ms, reason, uplink ? "uplink" : "site", uplink);
}

/* Every open outage ends at t_ms, because the daemon stopped watching. */
static int outages_close_all(struct bsc_history *h, int64_t t_ms, const char *reason)
{
	return exec(h, "UPDATE outages SET end_ms = MAX(start_ms, ?1),"
		    " duration_ms = MAX(start_ms, ?1) - start_ms, end_reason = ?2,"
		    " ended_by_restart = 1 WHERE end_ms IS NULL",
		    "is", t_ms, reason);
}

/* ------------------------------------------------------------ records */

/* A run left without a clean stop (killed, crashed, power cut): what was
 * open then ends at its last record. */
static int close_dead_runs(struct bsc_history *h)
{
	int64_t last;

	if (query_i64(h, &last, -1,
		      "SELECT MAX(last_ms) FROM runs WHERE stop_ms IS NULL", ""))
		return -1;
	if (last < 0 && query_i64(h, &last, -1,
				  "SELECT MAX(t) FROM (SELECT MAX(t_ms) AS t FROM transitions"
				  " UNION ALL SELECT MAX(t_ms) FROM active)", ""))
		return -1;
	if (last < 0)
		return 0;
	return outages_close_all(h, last, "the daemon ended without a clean stop: its last record");
}

int bsc_history_daemon(struct bsc_history *h, int64_t t_ms, int started)
{
	int rc;

	if (deferred(h))
		return enqueue(h, &(struct hrec){ .op = H_DAEMON, .t = t_ms, .flag = started });
	rc = begin(h);
	h->active_known = 0;
	h->active[0] = '\0';
	if (rc)
		return -1;
	if (started) {
		rc = close_dead_runs(h);
		if (!rc)
			rc = exec(h, "INSERT INTO runs (start_ms, last_ms) VALUES (?, ?)", "ii",
				  t_ms, t_ms);
		if (!rc)
			h->run_id = sqlite3_last_insert_rowid(h->db);
	} else {
		rc = outages_close_all(h, t_ms, "the daemon stopped");
		if (!rc && h->run_id)
			rc = exec(h, "UPDATE runs SET stop_ms = ?1, last_ms = MAX(last_ms, ?1) WHERE id = ?2",
				  "ii", t_ms, h->run_id);
	}
	rc = end(h, rc);
	if (!started)
		h->run_id = 0;
	return rc;
}

int bsc_history_heartbeat(struct bsc_history *h, int64_t t_ms)
{
	int rc;

	if (deferred(h))
		return enqueue(h, &(struct hrec){ .op = H_HEARTBEAT, .t = t_ms });
	rc = touch(h, t_ms);

	/* Copy the WAL back here, outside the failover path; PASSIVE never
	 * waits for the report's readers. */
	if (sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
	    SQLITE_OK)
		rc = fail(h, "checkpoint");
	return rc;
}

int bsc_history_transition(struct bsc_history *h, int64_t t_ms, const char *uplink,
			   const char *from, const char *to, const char *reason)
{
	int rc;

	if (!uplink || !from || !to) {
		bsc_log(LOG_ERR, "history %s: a transition needs an uplink and two states", h->path);
		return -1;
	}
	reason = reason ? reason : "";
	if (deferred(h)) {
		struct hrec r = { .op = H_TRANSITION, .t = t_ms };

		snprintf(r.uplink, sizeof(r.uplink), "%s", uplink);
		snprintf(r.from, sizeof(r.from), "%s", from);
		snprintf(r.to, sizeof(r.to), "%s", to);
		snprintf(r.reason, sizeof(r.reason), "%s", reason);
		return enqueue(h, &r);
	}
	rc = begin(h);
	if (!rc)
		rc = exec(h, "INSERT INTO transitions (t_ms, uplink, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)",
			  "issss", t_ms, uplink, from, to, reason);
	if (!rc && !strcmp(to, "down"))
		rc = outage_open(h, t_ms, uplink, reason);
	else if (!rc)
		rc = outage_close(h, t_ms, uplink, reason);
	if (!rc)
		rc = touch(h, t_ms);
	return end(h, rc);
}

int bsc_history_active(struct bsc_history *h, int64_t t_ms, const char *uplink,
		       const char *reason)
{
	int rc;

	reason = reason ? reason : "";
	if (uplink && !*uplink)
		uplink = NULL;
	if (deferred(h)) {
		struct hrec r = { .op = H_ACTIVE, .t = t_ms, .flag = uplink != NULL };

		snprintf(r.uplink, sizeof(r.uplink), "%s", uplink ? uplink : "");
		snprintf(r.reason, sizeof(r.reason), "%s", reason);
		return enqueue(h, &r);
	}
	rc = begin(h);
	if (!rc)
		rc = exec(h, "INSERT INTO active (t_ms, uplink, reason) VALUES (?, ?, ?)", "iss",
			  t_ms, uplink, reason);
	if (!rc && uplink)
		rc = outage_close(h, t_ms, NULL, reason);
	else if (!rc)
		rc = outage_open(h, t_ms, NULL, reason);
	if (!rc)
		rc = carried_add(h, uplink ? uplink : "none");
	if (!rc)
		rc = touch(h, t_ms);
	rc = end(h, rc);
	if (!rc) {
		h->active_known = 1;
		snprintf(h->active, sizeof(h->active), "%s", uplink ? uplink : "");
	}
	return rc;
}

int bsc_history_usage(struct bsc_history *h, int64_t t_ms, const char *uplink,
		      uint64_t tx_bytes, uint64_t rx_bytes)
{
	int64_t last_tx = -1, last_rx = -1, dtx, drx;
	sqlite3_stmt *st;
	int rc, s;

	if (!uplink)
		return -1;
	if (deferred(h)) {
		struct hrec r = { .op = H_USAGE, .t = t_ms, .x = tx_bytes, .y = rx_bytes };

		snprintf(r.uplink, sizeof(r.uplink), "%s", uplink);
		return enqueue(h, &r);
	}
	rc = begin(h);
	if (rc)
		return -1;
	st = query(h, "SELECT tx_bytes, rx_bytes FROM usage_last WHERE uplink = ?", "s", uplink);
	if (!st)
		return end(h, -1);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		last_tx = sqlite3_column_int64(st, 0);
		last_rx = sqlite3_column_int64(st, 1);
	} else if (s != SQLITE_DONE) {
		rc = fail(h, "reading the last usage sample");
	}
	sqlite3_finalize(st);
	/* SQLite integers are signed: 2^63 bytes is far beyond any uplink */
	dtx = (int64_t)(tx_bytes & INT64_MAX);
	drx = (int64_t)(rx_bytes & INT64_MAX);
	if (last_tx >= 0 && dtx >= last_tx && drx >= last_rx) {
		/* the same counters as last time: the increase */
		dtx -= last_tx;
		drx -= last_rx;
	} /* else a first sample, or the data plane was reloaded: all of it */
	if (!rc)
		rc = exec(h, "INSERT INTO usage_last (uplink, t_ms, tx_bytes, rx_bytes) VALUES (?1, ?2, ?3, ?4)"
			  " ON CONFLICT (uplink) DO UPDATE SET t_ms = ?2, tx_bytes = ?3, rx_bytes = ?4",
			  "siii", uplink, t_ms, (int64_t)(tx_bytes & INT64_MAX),
			  (int64_t)(rx_bytes & INT64_MAX));
	if (!rc && (dtx || drx))
		rc = exec(h, "INSERT INTO usage (uplink, hour_ms, tx_bytes, rx_bytes) VALUES (?1, ?2, ?3, ?4)"
			  " ON CONFLICT (uplink, hour_ms) DO UPDATE SET tx_bytes = tx_bytes + ?3,"
			  " rx_bytes = rx_bytes + ?4",
			  "siii", uplink, t_ms - ((t_ms % HOUR_MS) + HOUR_MS) % HOUR_MS, dtx, drx);
	if (!rc)
		rc = touch(h, t_ms);
	return end(h, rc);
}

int bsc_history_drill(struct bsc_history *h, int64_t t_start_ms, int64_t t_end_ms, int passed,
		      double cutover_ms, double rto_ms, const char *json)
{
	int rc;

	if (deferred(h)) {
		struct hrec r = { .op = H_DRILL, .t = t_start_ms, .t2 = t_end_ms, .flag = passed,
				  .a = cutover_ms, .b = rto_ms };

		if (json && !(r.json = strdup(json)))
			return -1;
		rc = enqueue(h, &r);
		if (rc)
			free(r.json);
		return rc;
	}
	rc = begin(h);

	if (!rc)
		rc = exec(h, "INSERT INTO drills (start_ms, end_ms, passed, cutover_ms, rto_ms, result) VALUES (?, ?, ?, ?, ?, ?)",
			  "iiidds", t_start_ms, t_end_ms, (int64_t)!!passed, cutover_ms, rto_ms, json);
	if (!rc)
		rc = touch(h, t_end_ms);
	return end(h, rc);
}

int bsc_history_prune(struct bsc_history *h, int64_t now_ms)
{
	int64_t cutoff;
	int rc, removed = 0;

	if (deferred(h))
		return enqueue(h, &(struct hrec){ .op = H_PRUNE, .t = now_ms });
	if (!h->retention_days)
		return 0;
	cutoff = now_ms - (int64_t)h->retention_days * DAY_MS;
	rc = begin(h);
	/* the last transition of each uplink and the last active uplink before
	 * the cutoff stay: they say where things stood when the kept time
	 * starts */
	if (!rc)
		rc = exec(h, "DELETE FROM transitions WHERE t_ms < ?1 AND id NOT IN"
			  " (SELECT MAX(id) FROM transitions WHERE t_ms < ?1 GROUP BY uplink)",
			  "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = exec(h, "DELETE FROM active WHERE t_ms < ?1 AND id <>"
			  " (SELECT MAX(id) FROM active WHERE t_ms < ?1)", "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = exec(h, "DELETE FROM outages WHERE end_ms < ?", "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = exec(h, "DELETE FROM runs WHERE COALESCE(stop_ms, last_ms) < ? AND id <> ?",
			  "ii", cutoff, h->run_id);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = exec(h, "DELETE FROM drills WHERE start_ms < ?", "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = exec(h, "DELETE FROM usage WHERE hour_ms + ? <= ?", "ii", HOUR_MS, cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	rc = end(h, rc);
	if (!rc && removed)
		bsc_log(LOG_INFO, "history %s: %d record(s) older than %u days removed", h->path,
			removed, h->retention_days);
	return rc;
}

/* ------------------------------------------------------------ queries */

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

int bsc_history_outages(struct bsc_history *h, int64_t from_ms, int64_t to_ms,
			struct bsc_outage **out, int *n)
{
	struct bsc_outage *v = NULL, *o;
	sqlite3_stmt *st;
	int cap = 0, s;

	*out = NULL;
	*n = 0;
	st = query(h, "SELECT id, kind, COALESCE(uplink, ''), start_ms, COALESCE(end_ms, -1), reason,"
		   " end_reason, carried_by, ended_by_restart FROM outages"
		   " WHERE start_ms < ?2 AND (end_ms IS NULL OR end_ms >= ?1) ORDER BY start_ms, id",
		   "ii", from_ms, to_ms);
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			struct bsc_outage *nv = realloc(v, (size_t)(cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				bsc_log(LOG_ERR, "history %s: out of memory", h->path);
				break;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		o = &v[(*n)++];
		memset(o, 0, sizeof(*o));
		o->id = sqlite3_column_int64(st, 0);
		o->site = !strcmp(col_text(st, 1), "site");
		copy(o->uplink, sizeof(o->uplink), col_text(st, 2));
		o->start_ms = sqlite3_column_int64(st, 3);
		o->end_ms = sqlite3_column_int64(st, 4);
		copy(o->reason, sizeof(o->reason), col_text(st, 5));
		copy(o->end_reason, sizeof(o->end_reason), col_text(st, 6));
		copy(o->carried_by, sizeof(o->carried_by), col_text(st, 7));
		o->ended_by_restart = sqlite3_column_int(st, 8);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		if (s != SQLITE_ROW)
			fail(h, "reading outages");
		free(v);
		*n = 0;
		return -1;
	}
	*out = v;
	return 0;
}

int bsc_history_drills(struct bsc_history *h, int64_t to_ms, int limit,
		       struct bsc_drill_rec **out, int *n)
{
	struct bsc_drill_rec *v;
	sqlite3_stmt *st;
	int s;

	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	v = calloc((size_t)limit, sizeof(*v));
	if (!v)
		return -1;
	st = query(h, "SELECT id, start_ms, end_ms, passed, cutover_ms, rto_ms FROM drills"
		   " WHERE start_ms < ? ORDER BY start_ms DESC, id DESC LIMIT ?", "ii", to_ms,
		   (int64_t)limit);
	if (!st) {
		free(v);
		return -1;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
		struct bsc_drill_rec *d = &v[(*n)++];

		d->id = sqlite3_column_int64(st, 0);
		d->start_ms = sqlite3_column_int64(st, 1);
		d->end_ms = sqlite3_column_int64(st, 2);
		d->passed = sqlite3_column_int(st, 3);
		d->cutover_ms = sqlite3_column_double(st, 4);
		d->rto_ms = sqlite3_column_double(st, 5);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE && s != SQLITE_ROW) {
		free(v);
		*n = 0;
		return fail(h, "reading drills");
	}
	*out = v;
	return 0;
}

int bsc_history_usage_sum(struct bsc_history *h, const char *uplink, int64_t from_ms,
			  int64_t to_ms, uint64_t *tx_bytes, uint64_t *rx_bytes)
{
	sqlite3_stmt *st;
	int s, rc = 0;

	*tx_bytes = *rx_bytes = 0;
	st = query(h, "SELECT COALESCE(SUM(tx_bytes), 0), COALESCE(SUM(rx_bytes), 0) FROM usage"
		   " WHERE uplink = ? AND hour_ms + ? > ? AND hour_ms < ?",
		   "siii", uplink, HOUR_MS, from_ms, to_ms);
	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*tx_bytes = (uint64_t)sqlite3_column_int64(st, 0);
		*rx_bytes = (uint64_t)sqlite3_column_int64(st, 1);
	} else {
		rc = fail(h, "summing usage");
	}
	sqlite3_finalize(st);
	return rc;
}

/* ------------------------------------------------------------ timeline */

static int lane_add(struct bsc_lane *l, int64_t start, int64_t end, const char *what)
{
	struct bsc_span *last = l->n ? &l->spans[l->n - 1] : NULL;

	if (end <= start)
		return 0;
	/* one span for a state that goes on (a restart in the middle still
	 * leaves a gap: only touching spans merge) */
	if (last && last->end_ms == start && !strcmp(last->what, what)) {
		last->end_ms = end;
		return 0;
	}
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		struct bsc_span *v = realloc(l->spans, (size_t)cap * sizeof(*v));

		if (!v)
			return -1;
		l->spans = v;
		l->cap = cap;
	}
	l->spans[l->n].start_ms = start;
	l->spans[l->n].end_ms = end;
	copy(l->spans[l->n].what, sizeof(l->spans[0].what), what);
	l->n++;
	return 0;
}

/* One lane over one run [rs, re), clipped to [cs, ce): the state at cs is
 * the last change of the run at or before it ("unknown" without one). */
static int lane_fill(struct bsc_history *h, struct bsc_lane *l, int carrying, int64_t rs,
		     int64_t cs, int64_t ce)
{
	static const char *const sql[2][2] = {
		{ "SELECT to_state FROM transitions WHERE uplink = ?1 AND t_ms >= ?2 AND t_ms <= ?3"
		  " ORDER BY t_ms DESC, id DESC LIMIT 1",
		  "SELECT t_ms, to_state FROM transitions WHERE uplink = ?1 AND t_ms > ?2 AND t_ms < ?3"
		  " ORDER BY t_ms, id" },
		{ "SELECT COALESCE(uplink, 'none') FROM active WHERE ?1 IS NOT NULL AND t_ms >= ?2"
		  " AND t_ms <= ?3 ORDER BY t_ms DESC, id DESC LIMIT 1",
		  "SELECT t_ms, COALESCE(uplink, 'none') FROM active WHERE ?1 IS NOT NULL AND t_ms > ?2"
		  " AND t_ms < ?3 ORDER BY t_ms, id" },
	};
	char state[BSC_HISTORY_NAME] = "unknown";
	int64_t at = cs;
	sqlite3_stmt *st;
	int s, rc = 0;

	st = query(h, sql[carrying][0], "sii", l->name, rs, cs);
	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		copy(state, sizeof(state), col_text(st, 0));
	else if (s != SQLITE_DONE)
		rc = fail(h, "reading the state at the start of a run");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	st = query(h, sql[carrying][1], "sii", l->name, cs, ce);
	if (!st)
		return -1;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);

		rc = lane_add(l, at, t, state);
		at = t;
		copy(state, sizeof(state), col_text(st, 1));
	}
	if (!rc && s != SQLITE_DONE)
		rc = fail(h, "reading changes");
	sqlite3_finalize(st);
	if (!rc)
		rc = lane_add(l, at, ce, state);
	return rc;
}

static int add_lane_name(struct bsc_timeline *tl, const char *name)
{
	int i;

	for (i = 0; i < tl->n_lanes; i++)
		if (!strcmp(tl->lanes[i].name, name))
			return 0;
	if (tl->n_lanes >= BSC_HISTORY_LANES || !*name)
		return 0;
	copy(tl->lanes[tl->n_lanes].name, sizeof(tl->lanes[0].name), name);
	tl->n_lanes++;
	return 0;
}

static int timeline_runs(struct bsc_history *h, struct bsc_timeline *tl, int64_t now_ms)
{
	int64_t last_id;
	sqlite3_stmt *st;
	int s, cap = 0;

	if (query_i64(h, &last_id, 0, "SELECT MAX(id) FROM runs", ""))
		return -1;
	st = query(h, "SELECT id, start_ms, last_ms, stop_ms FROM runs"
		   " WHERE start_ms < ?2 AND COALESCE(stop_ms, ?3) >= ?1 ORDER BY start_ms, id",
		   "iii", tl->from_ms, tl->to_ms, INT64_MAX);
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), start = sqlite3_column_int64(st, 1);
		int64_t last = sqlite3_column_int64(st, 2), end;
		int stopped = sqlite3_column_type(st, 3) != SQLITE_NULL;
		int running = 0;

		if (stopped) {
			end = sqlite3_column_int64(st, 3);
		} else if (id == last_id && now_ms - last <= BSC_HISTORY_ALIVE_MS) {
			running = 1;
			end = now_ms;
		} else {
			end = last; /* it died: watched until its last record */
		}
		if (id == last_id) {
			tl->alive = running;
			tl->last_ms = last;
		}
		if (start < tl->from_ms)
			start = tl->from_ms;
		if (end > tl->to_ms)
			end = tl->to_ms;
		if (end <= start)
			continue;
		if (tl->n_runs == cap) {
			int nc = cap ? cap * 2 : 8;
			struct bsc_run *v = realloc(tl->runs, (size_t)nc * sizeof(*v));

			if (!v) {
				sqlite3_finalize(st);
				return -1;
			}
			tl->runs = v;
			cap = nc;
		}
		tl->runs[tl->n_runs++] = (struct bsc_run){
			.began_ms = sqlite3_column_int64(st, 1), .start_ms = start, .end_ms = end,
			.stopped = stopped, .running = running };
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return fail(h, "reading runs");
	return 0;
}

int bsc_history_timeline(struct bsc_history *h, int64_t from_ms, int64_t to_ms, int64_t now_ms,
			 const char *const *names, int n_names, struct bsc_timeline *tl)
{
	sqlite3_stmt *st;
	int i, r, s, rc = 0;

	memset(tl, 0, sizeof(*tl));
	tl->from_ms = from_ms;
	tl->to_ms = to_ms < now_ms ? to_ms : now_ms;
	copy(tl->carrying.name, sizeof(tl->carrying.name), "carrying");
	for (i = 0; i < n_names; i++)
		add_lane_name(tl, names[i]);
	st = query(h, "SELECT DISTINCT uplink FROM transitions WHERE t_ms < ? ORDER BY uplink", "i",
		   tl->to_ms);
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		add_lane_name(tl, col_text(st, 0));
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return fail(h, "reading uplink names");
	if (tl->from_ms >= tl->to_ms)
		return 0;
	if (timeline_runs(h, tl, now_ms)) {
		bsc_timeline_free(tl);
		return -1;
	}
	for (r = 0; !rc && r < tl->n_runs; r++) {
		const struct bsc_run *run = &tl->runs[r];

		/* states from before the run's own start belong to another run */
		for (i = 0; !rc && i < tl->n_lanes; i++)
			rc = lane_fill(h, &tl->lanes[i], 0, run->began_ms, run->start_ms, run->end_ms);
		if (!rc)
			rc = lane_fill(h, &tl->carrying, 1, run->began_ms, run->start_ms, run->end_ms);
	}
	if (rc)
		bsc_timeline_free(tl);
	return rc;
}

void bsc_timeline_free(struct bsc_timeline *tl)
{
	int i;

	for (i = 0; i < tl->n_lanes; i++) {
		free(tl->lanes[i].spans);
		tl->lanes[i].spans = NULL;
		tl->lanes[i].n = tl->lanes[i].cap = 0;
	}
	free(tl->carrying.spans);
	tl->carrying.spans = NULL;
	tl->carrying.n = tl->carrying.cap = 0;
	free(tl->runs);
	tl->runs = NULL;
	tl->n_runs = 0;
}

/* ------------------------------------------------------------ figures */

int64_t bsc_timeline_observed_ms(const struct bsc_timeline *tl)
{
	int64_t t = 0;
	int i;

	for (i = 0; i < tl->n_runs; i++)
		t += tl->runs[i].end_ms - tl->runs[i].start_ms;
	return t;
}

const struct bsc_lane *bsc_timeline_lane(const struct bsc_timeline *tl, const char *uplink)
{
	int i;

	for (i = 0; i < tl->n_lanes; i++)
		if (!strcmp(tl->lanes[i].name, uplink))
			return &tl->lanes[i];
	return NULL;
}

static void percent(struct bsc_availability *a)
{
	int64_t known = a->up_ms + a->degraded_ms + a->down_ms;

	a->pct = known ? 100.0 * (double)(a->up_ms + a->degraded_ms) / (double)known : -1;
}

int bsc_timeline_uplink_availability(const struct bsc_timeline *tl, const char *uplink,
				     struct bsc_availability *a)
{
	const struct bsc_lane *l = bsc_timeline_lane(tl, uplink);
	int i;

	memset(a, 0, sizeof(*a));
	a->pct = -1;
	if (!l)
		return -1;
	a->observed_ms = bsc_timeline_observed_ms(tl);
	for (i = 0; i < l->n; i++) {
		const struct bsc_span *s = &l->spans[i];
		int64_t d = s->end_ms - s->start_ms;

		if (!strcmp(s->what, "up"))
			a->up_ms += d;
		else if (!strcmp(s->what, "degraded"))
			a->degraded_ms += d;
		else if (!strcmp(s->what, "down"))
			a->down_ms += d;
		else
			a->unknown_ms += d;
	}
	percent(a);
	return 0;
}

void bsc_timeline_site_availability(const struct bsc_timeline *tl, struct bsc_availability *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->observed_ms = bsc_timeline_observed_ms(tl);
	for (i = 0; i < tl->carrying.n; i++) {
		const struct bsc_span *s = &tl->carrying.spans[i];
		int64_t d = s->end_ms - s->start_ms;

		if (!strcmp(s->what, "none"))
			a->down_ms += d;
		else if (!strcmp(s->what, "unknown"))
			a->unknown_ms += d;
		else
			a->up_ms += d;
	}
	percent(a);
}

int64_t bsc_timeline_covered_ms(const struct bsc_timeline *tl, const char *uplink)
{
	const struct bsc_lane *l = bsc_timeline_lane(tl, uplink), *c = &tl->carrying;
	int64_t t = 0;
	int i = 0, j = 0;

	if (!l)
		return 0;
	/* both lanes are sorted and their spans do not overlap */
	while (i < l->n && j < c->n) {
		const struct bsc_span *a = &l->spans[i], *b = &c->spans[j];
		int64_t s = a->start_ms > b->start_ms ? a->start_ms : b->start_ms;
		int64_t e = a->end_ms < b->end_ms ? a->end_ms : b->end_ms;

		if (e > s && !strcmp(a->what, "down") && strcmp(b->what, "none") &&
		    strcmp(b->what, "unknown") && strcmp(b->what, uplink))
			t += e - s;
		if (a->end_ms < b->end_ms)
			i++;
		else
			j++;
	}
	return t;
}
