// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report/model.c - the report's figures: the history of the period read into
 * struct model (timeline, outages, drills, availability, observed and
 * covered time, data used), what is computed from it (outage counts, how
 * long an outage lasted, the uplinks by priority), and the figures as text
 * (durations, times, money, bytes, percentages).
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "report/report_priv.h"

/* ================================================================ figures */

void bsc_report_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, len, "%lld ms", (long long)ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.3f s", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, len, "%lld min %06.3f s", (long long)(s / 60),
			 (double)(ms % 60000) / 1000);
	else if (ms < DAY_MS)
		snprintf(buf, len, "%lld h %02lld min %02lld s", (long long)(s / 3600),
			 (long long)(s / 60 % 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lld d %02lld h %02lld min", (long long)(s / 86400),
			 (long long)(s / 3600 % 24), (long long)(s / 60 % 60));
}

/* Small helpers that return a static buffer each, for use as printf
 * arguments: a few per call at most (ring of 8). */
static char *ring(void)
{
	static char bufs[8][64];
	static int i;

	return bufs[i++ % 8];
}

const char *rpt_dur(int64_t ms)
{
	char *b = ring();

	bsc_report_duration(ms, b, 64);
	return b;
}

const char *rpt_when(int64_t ms, int with_ms)
{
	time_t s = (time_t)(ms / 1000);
	char *b = ring();
	struct tm tm;
	size_t n;

	localtime_r(&s, &tm);
	n = strftime(b, 64, "%Y-%m-%d %H:%M:%S", &tm);
	if (with_ms)
		snprintf(b + n, 64 - n, ".%03lld", (long long)(ms % 1000));
	return b;
}

const char *rpt_day(int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	char *b = ring();
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(b, 64, "%Y-%m-%d", &tm);
	return b;
}

const char *rpt_money(double x, const char *cur)
{
	char *b = ring();

	snprintf(b, 64, x >= 1000 ? "%.0f %s" : "%.2f %s", x, cur);
	return b;
}

const char *rpt_bytes(uint64_t n)
{
	char *b = ring();

	if (n < 1000000)
		snprintf(b, 64, "%.1f kB", (double)n / 1e3);
	else if (n < 1000000000)
		snprintf(b, 64, "%.1f MB", (double)n / 1e6);
	else
		snprintf(b, 64, "%.2f GB", (double)n / 1e9);
	return b;
}

const char *rpt_pct(double p)
{
	char *b = ring();

	if (p < 0)
		snprintf(b, 64, "not known");
	else if (p >= 100)
		snprintf(b, 64, "100 %%");
	else
		snprintf(b, 64, "%.3f %%", floor(p * 1000) / 1000); /* never rounds up to 100 */
	return b;
}

/* ================================================================ model */

const char *rpt_up_name(const struct model *m, int i)
{
	return m->cfg->uplinks[i].name;
}

int rpt_is_backup(const struct model *m, int i)
{
	return i != m->primary;
}

void rpt_sort_uplinks(struct model *m)
{
	int i, j, n = m->cfg->n_uplinks;

	for (i = 0; i < n; i++)
		m->order[i] = i;
	for (i = 1; i < n; i++) /* insertion sort keeps config order on ties */
		for (j = i; j > 0 && m->cfg->uplinks[m->order[j]].priority <
				     m->cfg->uplinks[m->order[j - 1]].priority; j--) {
			int x = m->order[j];

			m->order[j] = m->order[j - 1];
			m->order[j - 1] = x;
		}
}

int rpt_model_load(struct model *m)
{
	const char *names[BSC_MAX_UPLINKS];
	int i, n = m->cfg->n_uplinks;

	for (i = 0; i < n; i++)
		names[i] = rpt_up_name(m, i);
	if (bsc_history_timeline(m->h, m->o->from_ms, m->o->to_ms, m->o->now_ms, names, n, &m->tl) ||
	    bsc_history_outages(m->h, m->o->from_ms, m->o->to_ms, &m->outages, &m->n_outages) ||
	    bsc_history_drills(m->h, m->o->to_ms, m->o->max_drills ? m->o->max_drills : 10,
			       &m->drills, &m->n_drills))
		return -1;
	m->observed_ms = bsc_timeline_observed_ms(&m->tl);
	bsc_timeline_site_availability(&m->tl, &m->site);
	for (i = 0; i < n; i++) {
		bsc_timeline_uplink_availability(&m->tl, rpt_up_name(m, i), &m->up[i]);
		if (bsc_history_usage_sum(m->h, rpt_up_name(m, i), m->o->from_ms, m->o->to_ms, &m->tx[i],
					  &m->rx[i]))
			return -1;
	}
	if (m->primary >= 0)
		m->covered_ms = bsc_timeline_covered_ms(&m->tl, rpt_up_name(m, m->primary));
	for (i = 0; i < m->n_outages; i++) {
		int u = m->outages[i].site ? -1 : bsc_config_find_uplink(m->cfg, m->outages[i].uplink);

		if (m->outages[i].site)
			m->n_site_outages++;
		else if (u >= 0)
			m->n_up_outages[u]++;
	}
	if (m->tl.n_runs) {
		m->x0 = m->tl.runs[0].start_ms;
		m->x1 = m->tl.runs[m->tl.n_runs - 1].end_ms;
	}
	return 0;
}

/* How long an outage lasted, as far as the period and the records go. */
int64_t rpt_outage_end(const struct model *m, const struct bsc_outage *o)
{
	if (o->end_ms >= 0)
		return o->end_ms;
	return m->tl.alive ? m->o->now_ms : (m->tl.last_ms > o->start_ms ? m->tl.last_ms : o->start_ms);
}

int64_t rpt_primary_down_ms(const struct model *m)
{
	return m->primary >= 0 ? m->up[m->primary].down_ms : 0;
}
