// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * history/timeline.c - the period as lanes of intervals (each uplink, the
 * site, the daemon's runs), and what is computed from them: the time
 * observed, availability per uplink and for the site, the time covered.
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
	hist_copy(l->spans[l->n].what, sizeof(l->spans[0].what), what);
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

	st = hist_query(h, sql[carrying][0], "sii", l->name, rs, cs);
	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		hist_copy(state, sizeof(state), hist_col_text(st, 0));
	else if (s != SQLITE_DONE)
		rc = hist_fail(h, "reading the state at the start of a run");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	st = hist_query(h, sql[carrying][1], "sii", l->name, cs, ce);
	if (!st)
		return -1;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);

		rc = lane_add(l, at, t, state);
		at = t;
		hist_copy(state, sizeof(state), hist_col_text(st, 1));
	}
	if (!rc && s != SQLITE_DONE)
		rc = hist_fail(h, "reading changes");
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
	hist_copy(tl->lanes[tl->n_lanes].name, sizeof(tl->lanes[0].name), name);
	tl->n_lanes++;
	return 0;
}

static int timeline_runs(struct bsc_history *h, struct bsc_timeline *tl, int64_t now_ms)
{
	int64_t last_id;
	sqlite3_stmt *st;
	int s, cap = 0;

	if (hist_query_i64(h, &last_id, 0, "SELECT MAX(id) FROM runs", ""))
		return -1;
	st = hist_query(h, "SELECT id, start_ms, last_ms, stop_ms FROM runs"
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
		return hist_fail(h, "reading runs");
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
	hist_copy(tl->carrying.name, sizeof(tl->carrying.name), "carrying");
	for (i = 0; i < n_names; i++)
		add_lane_name(tl, names[i]);
	st = hist_query(h, "SELECT DISTINCT uplink FROM transitions WHERE t_ms < ? ORDER BY uplink", "i",
		   tl->to_ms);
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		add_lane_name(tl, hist_col_text(st, 0));
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return hist_fail(h, "reading uplink names");
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
