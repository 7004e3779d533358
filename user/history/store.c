// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * history/store.c - the history's database: the schema and its
 * migrations, opening (read-write for the daemon, read-only for the
 * report), the retention, and the statement helpers the other files use.
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
 * Outages are kept up to date in record.c, from the transitions and the active
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

#include "history/history.h"
#include "history/history_priv.h"
#include "lib/clock.h"
#include "lib/log.h"

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
	/* 1 -> 2: traffic classes' uplinks (issue 16) */
	"CREATE TABLE class_changes ("
	"  id INTEGER PRIMARY KEY,"
	"  t_ms INTEGER NOT NULL,"
	"  class TEXT NOT NULL,"
	"  from_uplink TEXT NOT NULL,"          /* "none", an uplink, or a balance's "a+b" */
	"  to_uplink TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX class_changes_by_class ON class_changes (class, t_ms);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int hist_fail(struct bsc_history *h, const char *what)
{
	bsc_log(LOG_ERR, "history %s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
	return -1;
}

sqlite3_stmt *hist_prep(struct bsc_history *h, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		hist_fail(h, sql);
		return NULL;
	}
	return st;
}

/* Bind by type letters: i int64, s text (NULL binds NULL), d double. */
int hist_bindv(struct bsc_history *h, sqlite3_stmt *st, const char *types, va_list ap)
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
	return rc == SQLITE_OK ? 0 : hist_fail(h, "bind");
}

/* Prepare a statement and bind its arguments; NULL (and the error noted)
 * if either fails. */
sqlite3_stmt *hist_queryv(struct bsc_history *h, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st = hist_prep(h, sql);

	if (st && hist_bindv(h, st, types, ap)) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Run one statement that returns no rows. */
int hist_exec(struct bsc_history *h, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc = 0;

	va_start(ap, types);
	st = hist_queryv(h, sql, types, ap);
	va_end(ap);
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = hist_fail(h, sql);
	sqlite3_finalize(st);
	return rc;
}

/* Prepare and bind a query; step it with sqlite3_step. */
sqlite3_stmt *hist_query(struct bsc_history *h, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = hist_queryv(h, sql, types, ap);
	va_end(ap);
	return st;
}

/* One integer from a query; def when there is no row or it is NULL. */
int hist_query_i64(struct bsc_history *h, int64_t *out, int64_t def, const char *sql,
		     const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc = 0, s;

	va_start(ap, types);
	st = hist_queryv(h, sql, types, ap);
	va_end(ap);
	*out = def;
	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(st, 0);
	else if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = hist_fail(h, sql);
	sqlite3_finalize(st);
	return rc;
}

const char *hist_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

int hist_begin(struct bsc_history *h)
{
	return hist_exec(h, "BEGIN IMMEDIATE", "");
}

/* Commit when everything went well, roll back otherwise; returns rc. */
int hist_end(struct bsc_history *h, int rc)
{
	if (!rc && hist_exec(h, "COMMIT", ""))
		rc = -1;
	if (rc && sqlite3_get_autocommit(h->db) == 0)
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* The current run's last record moves forward. */
int hist_touch(struct bsc_history *h, int64_t t_ms)
{
	if (!h->run_id)
		return 0;
	return hist_exec(h, "UPDATE runs SET last_ms = MAX(last_ms, ?) WHERE id = ?", "ii", t_ms,
		    h->run_id);
}

int hist_set_err(char *err, size_t errlen, const char *path, const char *what, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "history %s: %s: %s", path, what, why);
	return -1;
}

int hist_migrate(struct bsc_history *h, char *err, size_t errlen)
{
	char sql[64];
	int64_t v;
	int i;

	if (hist_query_i64(h, &v, 0, "PRAGMA user_version", ""))
		return hist_set_err(err, errlen, h->path, "reading its version", sqlite3_errmsg(h->db));
	if (v > SCHEMA_VERSION) {
		char why[96];

		snprintf(why, sizeof(why), "schema version %lld, this bascule knows up to %d",
			 (long long)v, SCHEMA_VERSION);
		return hist_set_err(err, errlen, h->path, "written by a newer bascule", why);
	}
	if (v == SCHEMA_VERSION)
		return 0;
	if (hist_begin(h))
		return hist_set_err(err, errlen, h->path, "migrating", sqlite3_errmsg(h->db));
	for (i = (int)v; i < SCHEMA_VERSION; i++) {
		char *msg = NULL;

		if (sqlite3_exec(h->db, migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
			hist_set_err(err, errlen, h->path, "creating its tables", msg ? msg : "?");
			sqlite3_free(msg);
			hist_end(h, -1);
			return -1;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION); /* no binding */
	if (hist_exec(h, sql, "") || hist_end(h, 0))
		return hist_set_err(err, errlen, h->path, "migrating", sqlite3_errmsg(h->db));
	return 0;
}

int hist_open_common(const char *path, int flags, struct bsc_history **out, char *err,
		       size_t errlen)
{
	struct bsc_history *h;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return hist_set_err(err, errlen, "", "opening", "no path given");
	h = calloc(1, sizeof(*h));
	if (!h)
		return hist_set_err(err, errlen, path, "opening", strerror(ENOMEM));
	snprintf(h->path, sizeof(h->path), "%s", path);
	rc = sqlite3_open_v2(path, &h->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		hist_set_err(err, errlen, path, "cannot open",
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
	if (hist_deferred(h)) {
		hist_enqueue(h, &(struct hrec){ .op = H_RETENTION, .x = retention_days });
		return;
	}
	h->retention_days = retention_days;
}

int bsc_history_open(const char *path, uint32_t retention_days, struct bsc_history **out,
		     char *err, size_t errlen)
{
	struct bsc_history *h;
	char *msg = NULL, sql[160];

	if (hist_open_common(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &h, err, errlen))
		return -1;
	h->retention_days = retention_days;
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		 " PRAGMA wal_autocheckpoint = %d;", AUTOCHECKPOINT);
	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		hist_set_err(err, errlen, path, "setting it up (is it an SQLite file?)", msg ? msg : "?");
		sqlite3_free(msg);
		bsc_history_close(h);
		return -1;
	}
	if (hist_migrate(h, err, errlen)) {
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

	if (hist_open_common(path, SQLITE_OPEN_READONLY, &h, err, errlen))
		return -1;
	if (hist_query_i64(h, &v, 0, "PRAGMA user_version", "")) {
		hist_set_err(err, errlen, path, "not readable as a history (is it an SQLite file?)",
			sqlite3_errmsg(h->db));
		bsc_history_close(h);
		return -1;
	}
	if (v != SCHEMA_VERSION) {
		char why[96];

		snprintf(why, sizeof(why), "schema version %lld, expected %d%s", (long long)v,
			 SCHEMA_VERSION, v == 0 ? " (empty: has the daemon run with it?)" :
			 v > SCHEMA_VERSION ? " (written by a newer bascule)" : "");
		hist_set_err(err, errlen, path, "not a history this bascule reads", why);
		bsc_history_close(h);
		return -1;
	}
	*out = h;
	return 0;
}
