// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * history/record.c - what is written: the daemon's runs and heartbeats,
 * transitions, the active uplink, metered usage, drills, pruning; and the
 * outages kept up to date from them, so that a crash leaves consistent
 * rows (an open one is closed by the next start at the last record of the
 * run that died).
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

	st = hist_query(h, "SELECT id, uplink, carried_by FROM outages WHERE end_ms IS NULL AND kind = 'uplink'",
		   "");
	if (!st)
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && n < BSC_HISTORY_LANES) {
		const char *c = hist_col_text(st, 2);

		if (!strcmp(hist_col_text(st, 1), token) || has_token(c, token))
			continue;
		if (strlen(c) + strlen(token) + 2 > sizeof(open[0].carried))
			continue;
		open[n].id = sqlite3_column_int64(st, 0);
		snprintf(open[n].carried, sizeof(open[n].carried), "%s%s%s", c, *c ? "," : "",
			 token);
		n++;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = hist_fail(h, "reading open outages");
	sqlite3_finalize(st);
	for (i = 0; !rc && i < n; i++)
		rc = hist_exec(h, "UPDATE outages SET carried_by = ? WHERE id = ?", "si", open[i].carried,
			  open[i].id);
	return rc;
}

static int outage_open(struct bsc_history *h, int64_t t_ms, const char *uplink,
		       const char *reason)
{
	const char *carried = "";
	int64_t open;

	if (hist_query_i64(h, &open, 0,
		      "SELECT COUNT(*) FROM outages WHERE end_ms IS NULL AND kind = ? AND uplink IS ?",
		      "ss", uplink ? "uplink" : "site", uplink))
		return -1;
	if (open)
		return 0;
	if (!uplink)
		carried = "none";
	else if (h->active_known && strcmp(h->active, uplink))
		carried = h->active[0] ? h->active : "none";
	return hist_exec(h, "INSERT INTO outages (kind, uplink, start_ms, reason, carried_by) VALUES (?, ?, ?, ?, ?)",
		    "ssiss", uplink ? "uplink" : "site", uplink, t_ms, reason, carried);
}

static int outage_close(struct bsc_history *h, int64_t t_ms, const char *uplink,
			const char *reason)
{
	return hist_exec(h, "UPDATE outages SET end_ms = MAX(start_ms, ?1),"
		    " duration_ms = MAX(start_ms, ?1) - start_ms, end_reason = ?2"
		    " WHERE end_ms IS NULL AND kind = ?3 AND uplink IS ?4",
		    "isss", t_ms, reason, uplink ? "uplink" : "site", uplink);
}

/* Every open outage ends at t_ms, because the daemon stopped watching. */
int hist_outages_close_all(struct bsc_history *h, int64_t t_ms, const char *reason)
{
	return hist_exec(h, "UPDATE outages SET end_ms = MAX(start_ms, ?1),"
		    " duration_ms = MAX(start_ms, ?1) - start_ms, end_reason = ?2,"
		    " ended_by_restart = 1 WHERE end_ms IS NULL",
		    "is", t_ms, reason);
}

/* A run left without a clean stop (killed, crashed, power cut): what was
 * open then ends at its last record. */
int hist_close_dead_runs(struct bsc_history *h)
{
	int64_t last;

	if (hist_query_i64(h, &last, -1,
		      "SELECT MAX(last_ms) FROM runs WHERE stop_ms IS NULL", ""))
		return -1;
	if (last < 0 && hist_query_i64(h, &last, -1,
				  "SELECT MAX(t) FROM (SELECT MAX(t_ms) AS t FROM transitions"
				  " UNION ALL SELECT MAX(t_ms) FROM active)", ""))
		return -1;
	if (last < 0)
		return 0;
	return hist_outages_close_all(h, last, "the daemon ended without a clean stop: its last record");
}

int bsc_history_daemon(struct bsc_history *h, int64_t t_ms, int started)
{
	int rc;

	if (hist_deferred(h))
		return hist_enqueue(h, &(struct hrec){ .op = H_DAEMON, .t = t_ms, .flag = started });
	rc = hist_begin(h);
	h->active_known = 0;
	h->active[0] = '\0';
	if (rc)
		return -1;
	if (started) {
		rc = hist_close_dead_runs(h);
		if (!rc)
			rc = hist_exec(h, "INSERT INTO runs (start_ms, last_ms) VALUES (?, ?)", "ii",
				  t_ms, t_ms);
		if (!rc)
			h->run_id = sqlite3_last_insert_rowid(h->db);
	} else {
		rc = hist_outages_close_all(h, t_ms, "the daemon stopped");
		if (!rc && h->run_id)
			rc = hist_exec(h, "UPDATE runs SET stop_ms = ?1, last_ms = MAX(last_ms, ?1) WHERE id = ?2",
				  "ii", t_ms, h->run_id);
	}
	rc = hist_end(h, rc);
	if (!started)
		h->run_id = 0;
	return rc;
}

int bsc_history_heartbeat(struct bsc_history *h, int64_t t_ms)
{
	int rc;

	if (hist_deferred(h))
		return hist_enqueue(h, &(struct hrec){ .op = H_HEARTBEAT, .t = t_ms });
	rc = hist_touch(h, t_ms);

	/* Copy the WAL back here, outside the failover path; PASSIVE never
	 * waits for the report's readers. */
	if (sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
	    SQLITE_OK)
		rc = hist_fail(h, "checkpoint");
	return rc;
}

/* A change of something named (an uplink's state, a class's uplink), for
 * the writer thread. */
static int enqueue_change(struct bsc_history *h, enum hop op, int64_t t_ms, const char *name,
			  const char *from, const char *to, const char *reason)
{
	struct hrec r = { .op = op, .t = t_ms };

	snprintf(r.uplink, sizeof(r.uplink), "%s", name);
	snprintf(r.from, sizeof(r.from), "%s", from);
	snprintf(r.to, sizeof(r.to), "%s", to);
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	return hist_enqueue(h, &r);
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
	if (hist_deferred(h))
		return enqueue_change(h, H_TRANSITION, t_ms, uplink, from, to, reason);
	rc = hist_begin(h);
	if (!rc)
		rc = hist_exec(h, "INSERT INTO transitions (t_ms, uplink, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)",
			  "issss", t_ms, uplink, from, to, reason);
	if (!rc && !strcmp(to, "down"))
		rc = outage_open(h, t_ms, uplink, reason);
	else if (!rc)
		rc = outage_close(h, t_ms, uplink, reason);
	if (!rc)
		rc = hist_touch(h, t_ms);
	return hist_end(h, rc);
}

int bsc_history_class(struct bsc_history *h, int64_t t_ms, const char *cls, const char *from,
		      const char *to, const char *reason)
{
	int rc;

	if (!cls || !from || !to) {
		bsc_log(LOG_ERR, "history %s: a class's change needs the class and two uplinks", h->path);
		return -1;
	}
	reason = reason ? reason : "";
	if (hist_deferred(h))
		return enqueue_change(h, H_CLASS, t_ms, cls, from, to, reason);
	rc = hist_begin(h);
	if (!rc)
		rc = hist_exec(h, "INSERT INTO class_changes (t_ms, class, from_uplink, to_uplink, reason) "
			       "VALUES (?, ?, ?, ?, ?)", "issss", t_ms, cls, from, to, reason);
	if (!rc)
		rc = hist_touch(h, t_ms);
	return hist_end(h, rc);
}

int bsc_history_active(struct bsc_history *h, int64_t t_ms, const char *uplink,
		       const char *reason)
{
	int rc;

	reason = reason ? reason : "";
	if (uplink && !*uplink)
		uplink = NULL;
	if (hist_deferred(h)) {
		struct hrec r = { .op = H_ACTIVE, .t = t_ms, .flag = uplink != NULL };

		snprintf(r.uplink, sizeof(r.uplink), "%s", uplink ? uplink : "");
		snprintf(r.reason, sizeof(r.reason), "%s", reason);
		return hist_enqueue(h, &r);
	}
	rc = hist_begin(h);
	if (!rc)
		rc = hist_exec(h, "INSERT INTO active (t_ms, uplink, reason) VALUES (?, ?, ?)", "iss",
			  t_ms, uplink, reason);
	if (!rc && uplink)
		rc = outage_close(h, t_ms, NULL, reason);
	else if (!rc)
		rc = outage_open(h, t_ms, NULL, reason);
	if (!rc)
		rc = carried_add(h, uplink ? uplink : "none");
	if (!rc)
		rc = hist_touch(h, t_ms);
	rc = hist_end(h, rc);
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
	if (hist_deferred(h)) {
		struct hrec r = { .op = H_USAGE, .t = t_ms, .x = tx_bytes, .y = rx_bytes };

		snprintf(r.uplink, sizeof(r.uplink), "%s", uplink);
		return hist_enqueue(h, &r);
	}
	rc = hist_begin(h);
	if (rc)
		return -1;
	st = hist_query(h, "SELECT tx_bytes, rx_bytes FROM usage_last WHERE uplink = ?", "s", uplink);
	if (!st)
		return hist_end(h, -1);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		last_tx = sqlite3_column_int64(st, 0);
		last_rx = sqlite3_column_int64(st, 1);
	} else if (s != SQLITE_DONE) {
		rc = hist_fail(h, "reading the last usage sample");
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
		rc = hist_exec(h, "INSERT INTO usage_last (uplink, t_ms, tx_bytes, rx_bytes) VALUES (?1, ?2, ?3, ?4)"
			  " ON CONFLICT (uplink) DO UPDATE SET t_ms = ?2, tx_bytes = ?3, rx_bytes = ?4",
			  "siii", uplink, t_ms, (int64_t)(tx_bytes & INT64_MAX),
			  (int64_t)(rx_bytes & INT64_MAX));
	if (!rc && (dtx || drx))
		rc = hist_exec(h, "INSERT INTO usage (uplink, hour_ms, tx_bytes, rx_bytes) VALUES (?1, ?2, ?3, ?4)"
			  " ON CONFLICT (uplink, hour_ms) DO UPDATE SET tx_bytes = tx_bytes + ?3,"
			  " rx_bytes = rx_bytes + ?4",
			  "siii", uplink, t_ms - ((t_ms % HOUR_MS) + HOUR_MS) % HOUR_MS, dtx, drx);
	if (!rc)
		rc = hist_touch(h, t_ms);
	return hist_end(h, rc);
}

int bsc_history_drill(struct bsc_history *h, int64_t t_start_ms, int64_t t_end_ms, int passed,
		      double cutover_ms, double rto_ms, const char *json)
{
	int rc;

	if (hist_deferred(h)) {
		struct hrec r = { .op = H_DRILL, .t = t_start_ms, .t2 = t_end_ms, .flag = passed,
				  .a = cutover_ms, .b = rto_ms };

		if (json && !(r.json = strdup(json)))
			return -1;
		rc = hist_enqueue(h, &r);
		if (rc)
			free(r.json);
		return rc;
	}
	rc = hist_begin(h);

	if (!rc)
		rc = hist_exec(h, "INSERT INTO drills (start_ms, end_ms, passed, cutover_ms, rto_ms, result) VALUES (?, ?, ?, ?, ?, ?)",
			  "iiidds", t_start_ms, t_end_ms, (int64_t)!!passed, cutover_ms, rto_ms, json);
	if (!rc)
		rc = hist_touch(h, t_end_ms);
	return hist_end(h, rc);
}

int bsc_history_prune(struct bsc_history *h, int64_t now_ms)
{
	int64_t cutoff;
	int rc, removed = 0;

	if (hist_deferred(h))
		return hist_enqueue(h, &(struct hrec){ .op = H_PRUNE, .t = now_ms });
	if (!h->retention_days)
		return 0;
	cutoff = now_ms - (int64_t)h->retention_days * DAY_MS;
	rc = hist_begin(h);
	/* the last transition of each uplink and the last active uplink before
	 * the cutoff stay: they say where things stood when the kept time
	 * starts */
	if (!rc)
		rc = hist_exec(h, "DELETE FROM transitions WHERE t_ms < ?1 AND id NOT IN"
			  " (SELECT MAX(id) FROM transitions WHERE t_ms < ?1 GROUP BY uplink)",
			  "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = hist_exec(h, "DELETE FROM active WHERE t_ms < ?1 AND id <>"
			  " (SELECT MAX(id) FROM active WHERE t_ms < ?1)", "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = hist_exec(h, "DELETE FROM class_changes WHERE t_ms < ?1 AND id NOT IN"
			  " (SELECT MAX(id) FROM class_changes WHERE t_ms < ?1 GROUP BY class)",
			  "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = hist_exec(h, "DELETE FROM outages WHERE end_ms < ?", "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = hist_exec(h, "DELETE FROM runs WHERE COALESCE(stop_ms, last_ms) < ? AND id <> ?",
			  "ii", cutoff, h->run_id);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = hist_exec(h, "DELETE FROM drills WHERE start_ms < ?", "i", cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	if (!rc)
		rc = hist_exec(h, "DELETE FROM usage WHERE hour_ms + ? <= ?", "ii", HOUR_MS, cutoff);
	removed += rc ? 0 : sqlite3_changes(h->db);
	rc = hist_end(h, rc);
	if (!rc && removed)
		bsc_log(LOG_INFO, "history %s: %d record(s) older than %u days removed", h->path,
			removed, h->retention_days);
	return rc;
}
