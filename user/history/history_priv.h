/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * history/history_priv.h - what the history's files share: the handle, the
 * writer thread's record, the statement helpers (store.c).
 */
#ifndef BSC_HISTORY_PRIV_H
#define BSC_HISTORY_PRIV_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "history/history.h"

#define HOUR_MS 3600000ll
#define DAY_MS 86400000ll
#define BUSY_MS 200             /* the daemon is the only writer */
#define AUTOCHECKPOINT 0        /* never in a commit: the heartbeat checkpoints */

/* A write for the writer thread: the arguments of one of the public
 * calls, copied (the caller's strings need not outlive the call). */
enum hop { H_DAEMON, H_HEARTBEAT, H_TRANSITION, H_ACTIVE, H_USAGE, H_DRILL, H_PRUNE, H_RETENTION, H_CLASS };

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

/* store.c: opening, the schema, statements */
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))
int hist_fail(struct bsc_history *h, const char *what);
sqlite3_stmt *hist_prep(struct bsc_history *h, const char *sql);
int hist_bindv(struct bsc_history *h, sqlite3_stmt *st, const char *types, va_list ap);
sqlite3_stmt *hist_queryv(struct bsc_history *h, const char *sql, const char *types, va_list ap);
int hist_exec(struct bsc_history *h, const char *sql, const char *types, ...);
sqlite3_stmt *hist_query(struct bsc_history *h, const char *sql, const char *types, ...);
int hist_query_i64(struct bsc_history *h, int64_t *out, int64_t def, const char *sql,
		     const char *types, ...);
const char *hist_col_text(sqlite3_stmt *st, int i);
int hist_begin(struct bsc_history *h);
int hist_end(struct bsc_history *h, int rc);
int hist_touch(struct bsc_history *h, int64_t t_ms);
int hist_set_err(char *err, size_t errlen, const char *path, const char *what, const char *why);
int hist_deferred(struct bsc_history *h);
int hist_enqueue(struct bsc_history *h, const struct hrec *r);
int hist_outages_close_all(struct bsc_history *h, int64_t t_ms, const char *reason);
int hist_close_dead_runs(struct bsc_history *h);
int hist_migrate(struct bsc_history *h, char *err, size_t errlen);
int hist_open_common(const char *path, int flags, struct bsc_history **out, char *err,
		       size_t errlen);

static inline void hist_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

#endif
