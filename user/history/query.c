// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * history/query.c - what the report asks of the history: the outages, the
 * drills and the metered data of a period.
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


int bsc_history_outages(struct bsc_history *h, int64_t from_ms, int64_t to_ms,
			struct bsc_outage **out, int *n)
{
	struct bsc_outage *v = NULL, *o;
	sqlite3_stmt *st;
	int cap = 0, s;

	*out = NULL;
	*n = 0;
	st = hist_query(h, "SELECT id, kind, COALESCE(uplink, ''), start_ms, COALESCE(end_ms, -1), reason,"
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
		o->site = !strcmp(hist_col_text(st, 1), "site");
		hist_copy(o->uplink, sizeof(o->uplink), hist_col_text(st, 2));
		o->start_ms = sqlite3_column_int64(st, 3);
		o->end_ms = sqlite3_column_int64(st, 4);
		hist_copy(o->reason, sizeof(o->reason), hist_col_text(st, 5));
		hist_copy(o->end_reason, sizeof(o->end_reason), hist_col_text(st, 6));
		hist_copy(o->carried_by, sizeof(o->carried_by), hist_col_text(st, 7));
		o->ended_by_restart = sqlite3_column_int(st, 8);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		if (s != SQLITE_ROW)
			hist_fail(h, "reading outages");
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
	st = hist_query(h, "SELECT id, start_ms, end_ms, passed, cutover_ms, rto_ms FROM drills"
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
		return hist_fail(h, "reading drills");
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
	st = hist_query(h, "SELECT COALESCE(SUM(tx_bytes), 0), COALESCE(SUM(rx_bytes), 0) FROM usage"
		   " WHERE uplink = ? AND hour_ms + ? > ? AND hour_ms < ?",
		   "siii", uplink, HOUR_MS, from_ms, to_ms);
	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*tx_bytes = (uint64_t)sqlite3_column_int64(st, 0);
		*rx_bytes = (uint64_t)sqlite3_column_int64(st, 1);
	} else {
		rc = hist_fail(h, "summing usage");
	}
	sqlite3_finalize(st);
	return rc;
}
