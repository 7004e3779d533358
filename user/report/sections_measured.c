// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report/sections_measured.c - the report's sections measured by the history:
 * drills against the RTO, outages with a timeline (the chart in HTML, a
 * table of changes in Markdown) and close-ups, availability, metered data,
 * the cost of the backups against the cost of downtime they avoided, and
 * how these figures are made.  Exact figures in tables and notes, for the
 * IT provider.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report/report_priv.h"

#define YEAR_MS (365.25 * DAY_MS)
#define MAX_OUTAGE_ROWS 200
#define MAX_TEXT_ROWS 200
#define MAX_CLOSEUPS 6
#define MIN_SCALE_MS (7 * DAY_MS)   /* observed time worth scaling up to a year */

static void no_history(struct doc *d, const struct model *m)
{
	rpt_p_open(d, "note");
	rpt_t(d, "No history: %s", m->o->history_note ? m->o->history_note : "none was given.");
	rpt_p_close(d);
}

void rpt_drills_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Drill", "Measured cut-over", "Target (RTO)", "Result" };
	uint32_t rto = m->cfg->site.rto_ms;
	int i;

	rpt_section(d, "drills", "Drills: the recovery time objective against what was measured");
	rpt_p_open(d, NULL);
	rpt_t(d, "The target: traffic on the backup within ");
	rpt_b(d, "%s", rpt_dur(rto));
	rpt_t(d, " of a cut of the primary link (rto_ms in the configuration). A drill cuts the primary link "
	      "on purpose and measures it.");
	rpt_p_close(d);
	if (!m->h) {
		no_history(d, m);
		rpt_section_end(d);
		return;
	}
	if (!m->n_drills) {
		rpt_p_open(d, "note");
		rpt_t(d, "No drill recorded yet. Run ");
		rpt_code(d, "bascule drill");
		rpt_t(d, " at least once a year, better every month.");
		rpt_p_close(d);
		rpt_section_end(d);
		return;
	}
	rpt_p_open(d, NULL);
	rpt_t(d, "The last drill, on %s, ", rpt_when(m->drills[0].start_ms, 0));
	rpt_b(d, "%s", m->drills[0].passed ? "passed" : "failed");
	if (m->drills[0].cutover_ms < 0)
		rpt_t(d, ": it stopped before the traffic reached the backup.");
	else
		rpt_t(d, ": the traffic was on the backup after %.1f ms%s.", m->drills[0].cutover_ms,
		      m->drills[0].cutover_ms <= rto ? ", within the target" : ", beyond the target");
	rpt_p_close(d);
	rpt_table_open(d, "drills", 4, heads);
	for (i = 0; i < m->n_drills; i++) {
		const struct bsc_drill_rec *r = &m->drills[i];

		rpt_row_open(d);
		rpt_cell(d, NULL, -1, "%s", rpt_when(r->start_ms, 0));
		if (r->cutover_ms < 0)
			rpt_cell(d, "num", -1, "%s", "no cut-over");
		else
			rpt_cell(d, "num", (int64_t)llround(r->cutover_ms), "%.1f ms",
				 r->cutover_ms);
		rpt_cell(d, "num", -1, "%.0f ms", r->rto_ms);
		rpt_cell(d, r->passed ? "ok" : "bad", -1, "%s", r->passed ? "passed" : "failed");
		rpt_row_close(d);
	}
	rpt_table_close(d);
	rpt_section_end(d);
}

static const char *outage_what(const struct bsc_outage *o, char *buf, size_t len)
{
	if (o->site)
		snprintf(buf, len, "whole site offline");
	else
		snprintf(buf, len, "%s down", o->uplink);
	return buf;
}

static void closeups(struct doc *d, const struct model *m)
{
	int i, n = 0;

	for (i = 0; i < m->n_outages && n < MAX_CLOSEUPS; i++) {
		const struct bsc_outage *o = &m->outages[i];
		int64_t e = rpt_outage_end(m, o), pad = (e - o->start_ms) / 2, x0, x1;
		char title[160], what[64];

		if (!o->site && (m->primary < 0 || strcmp(o->uplink, rpt_up_name(m, m->primary))))
			continue;
		if (pad < 2000)
			pad = 2000;
		x0 = o->start_ms - pad < m->x0 ? m->x0 : o->start_ms - pad;
		x1 = e + pad > m->x1 ? m->x1 : e + pad;
		snprintf(title, sizeof(title), "Close-up: %s at %s, %s", outage_what(o, what, sizeof(what)),
			 rpt_when(o->start_ms, 0), rpt_dur(e - o->start_ms));
		rpt_svg_timeline(d, m, x0, x1, title);
		n++;
	}
}

/* Markdown: the timeline as a table of the moments something changed. */
static void text_timeline(struct doc *d, const struct model *m)
{
	const char *heads[BSC_HISTORY_LANES + 2];
	int idx[BSC_HISTORY_LANES + 1] = { 0 }, n = m->tl.n_lanes, rows = 0, i;
	const struct bsc_lane *lanes[BSC_HISTORY_LANES + 1];
	int64_t at = INT64_MIN;

	heads[0] = "From";
	for (i = 0; i < n; i++) {
		heads[i + 1] = m->tl.lanes[i].name;
		lanes[i] = &m->tl.lanes[i];
	}
	heads[n + 1] = "carrying traffic";
	lanes[n] = &m->tl.carrying;
	rpt_table_open(d, "timeline", n + 2, heads);
	for (;;) {
		int64_t next = INT64_MAX;

		/* the next boundary of any lane after `at` */
		for (i = 0; i <= n; i++) {
			while (idx[i] < lanes[i]->n && lanes[i]->spans[idx[i]].end_ms <= at)
				idx[i]++;
			if (idx[i] < lanes[i]->n) {
				const struct bsc_span *s = &lanes[i]->spans[idx[i]];
				int64_t c = s->start_ms > at ? s->start_ms : s->end_ms;

				if (s->start_ms > at && c < next)
					next = c;
				else if (s->start_ms <= at && s->end_ms < next && s->end_ms > at)
					next = s->end_ms;
			}
		}
		if (next == INT64_MAX || (next >= m->x1 && m->tl.alive))
			break; /* still running: its end is only now */
		at = next;
		if (rows++ >= MAX_TEXT_ROWS) {
			rpt_md(d, "| ... | (more changes, see the HTML report) |\n");
			break;
		}
		rpt_row_open(d);
		rpt_cell(d, NULL, -1, "%s", rpt_when(at, 1));
		for (i = 0; i <= n; i++) {
			const struct bsc_span *s = NULL;
			int j;

			for (j = idx[i]; j < lanes[i]->n; j++) {
				if (lanes[i]->spans[j].start_ms <= at && lanes[i]->spans[j].end_ms > at) {
					s = &lanes[i]->spans[j];
					break;
				}
				if (lanes[i]->spans[j].start_ms > at)
					break;
			}
			rpt_cell(d, NULL, -1, "%s", s ? s->what : "not observed");
		}
		rpt_row_close(d);
	}
	rpt_table_close(d);
}

void rpt_outages_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Start", "End", "Duration", "What", "Why",
					     "Traffic carried by", "Note" };
	int i, shown = 0;

	rpt_section(d, "outages", "Outages of the period");
	if (!m->h) {
		no_history(d, m);
		rpt_section_end(d);
		return;
	}
	rpt_p_open(d, NULL);
	if (m->primary >= 0 && rpt_primary_down_ms(m) > 0) {
		rpt_t(d, "The primary link %s was down for ", rpt_up_name(m, m->primary));
		rpt_b(d, "%s", rpt_dur(rpt_primary_down_ms(m)));
		rpt_t(d, " in all. During %s of that, a backup link carried the traffic", rpt_dur(m->covered_ms));
		if (m->n_site_outages)
			rpt_t(d, "; the whole site was offline %d time%s, for %s in all.", m->n_site_outages,
			      m->n_site_outages == 1 ? "" : "s", rpt_dur(m->site.down_ms));
		else
			rpt_t(d, ", and the site never went offline.");
	} else if (m->primary >= 0) {
		rpt_t(d, "The primary link %s was not down while Bascule watched.", rpt_up_name(m, m->primary));
	}
	rpt_t(d, " Bascule watched for %s of the period.", rpt_dur(m->observed_ms));
	rpt_p_close(d);
	if (m->n_outages) {
		rpt_table_open(d, "outages", 7, heads);
		for (i = 0; i < m->n_outages && shown < MAX_OUTAGE_ROWS; i++, shown++) {
			const struct bsc_outage *o = &m->outages[i];
			int64_t e = rpt_outage_end(m, o);
			char what[64];

			rpt_row_open(d);
			rpt_cell(d, NULL, -1, "%s", rpt_when(o->start_ms, 1));
			if (o->end_ms >= 0)
				rpt_cell(d, NULL, -1, "%s", rpt_when(o->end_ms, 1));
			else
				rpt_cell(d, NULL, -1, "%s", m->tl.alive ? "still going on" : "not recorded");
			rpt_cell(d, "num", e - o->start_ms, "%s%s", o->end_ms < 0 ? "at least " : "",
				 rpt_dur(e - o->start_ms));
			rpt_cell(d, o->site ? "bad" : NULL, -1, "%s", outage_what(o, what, sizeof(what)));
			rpt_cell(d, NULL, -1, "%s", o->reason[0] ? o->reason : "-");
			rpt_cell(d, NULL, -1, "%s", o->site ? "nothing (offline)" :
				 !o->carried_by[0] ? "not recorded" :
				 !strcmp(o->carried_by, "none") ? "nothing (offline)" : o->carried_by);
			if (o->ended_by_restart)
				rpt_cell(d, NULL, -1, "the daemon stopped while it was open: the end is its last record, "
					 "not a recovery");
			else if (o->end_ms < 0)
				rpt_cell(d, NULL, -1, m->tl.alive ? "ongoing" :
					 "the records stop before its end");
			else
				rpt_cell(d, NULL, -1, "-");
			rpt_row_close(d);
		}
		rpt_table_close(d);
		if (shown < m->n_outages) {
			rpt_p_open(d, "note");
			rpt_t(d, "%d more outages are not listed.", m->n_outages - shown);
			rpt_p_close(d);
		}
	}
	rpt_h3(d, "Timeline: which link carried the traffic");
	if (m->x1 <= m->x0) {
		rpt_p_open(d, "note");
		rpt_t(d, "Bascule did not run during the period: nothing was observed.");
		rpt_p_close(d);
		rpt_section_end(d);
		return;
	}
	rpt_p_open(d, NULL);
	rpt_t(d, "From %s to %s. One line per link (green up, amber degraded, red down), and the line "
	      "\"carrying traffic\" coloured by the link new connections took (red: none, offline). "
	      "Hatched: Bascule was not running.", rpt_when(m->x0, 0), rpt_when(m->x1, 0));
	rpt_p_close(d);
	if (d->md) {
		text_timeline(d, m);
	} else {
		rpt_svg_timeline(d, m, m->x0, m->x1, "Links and the traffic over the period");
		closeups(d, m);
	}
	rpt_section_end(d);
}

void rpt_availability_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "", "Available", "Down", "Degraded", "Not known yet",
					     "Outages", "Observed" };
	int k;

	rpt_section(d, "availability", "Availability");
	if (!m->h) {
		no_history(d, m);
		rpt_section_end(d);
		return;
	}
	rpt_p_open(d, NULL);
	rpt_t(d, "The site was online ");
	rpt_b(d, "%s", rpt_pct(m->site.pct));
	rpt_t(d, " of the time Bascule watched (%s). A link counts as available when it is up or degraded "
	      "(slow but usable); the site, when some link carries its traffic.", rpt_dur(m->observed_ms));
	rpt_p_close(d);
	rpt_table_open(d, "availability", 7, heads);
	rpt_row_open(d);
	rpt_cell(d, NULL, -1, "whole site");
	rpt_cell(d, "num", -1, "%s", rpt_pct(m->site.pct));
	rpt_cell(d, "num", m->site.down_ms, "%s", rpt_dur(m->site.down_ms));
	rpt_cell(d, "num", -1, "-");
	rpt_cell(d, "num", m->site.unknown_ms, "%s", rpt_dur(m->site.unknown_ms));
	rpt_cell(d, "num", -1, "%d", m->n_site_outages);
	rpt_cell(d, "num", m->observed_ms, "%s", rpt_dur(m->observed_ms));
	rpt_row_close(d);
	for (k = 0; k < m->cfg->n_uplinks; k++) {
		int i = m->order[k];
		const struct bsc_availability *a = &m->up[i];

		rpt_row_open(d);
		rpt_cell(d, NULL, -1, "%s", rpt_up_name(m, i));
		rpt_cell(d, "num", -1, "%s", rpt_pct(a->pct));
		rpt_cell(d, "num", a->down_ms, "%s", rpt_dur(a->down_ms));
		rpt_cell(d, "num", a->degraded_ms, "%s", rpt_dur(a->degraded_ms));
		rpt_cell(d, "num", a->unknown_ms, "%s", rpt_dur(a->unknown_ms));
		rpt_cell(d, "num", -1, "%d", m->n_up_outages[i]);
		rpt_cell(d, "num", a->observed_ms, "%s", rpt_dur(a->observed_ms));
		rpt_row_close(d);
	}
	rpt_table_close(d);
	rpt_section_end(d);
}

void rpt_data_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Link", "Sent", "Received", "Total", "Price per GB",
					     "Cost" };
	int k, any = 0;

	rpt_section(d, "data", "Data used on metered links");
	for (k = 0; k < m->cfg->n_uplinks; k++)
		any |= m->cfg->uplinks[k].health.metered;
	if (!any) {
		rpt_p_open(d, NULL);
		rpt_t(d, "No link is metered.");
		rpt_p_close(d);
		rpt_section_end(d);
		return;
	}
	if (!m->h) {
		no_history(d, m);
		rpt_section_end(d);
		return;
	}
	rpt_table_open(d, "data", 6, heads);
	for (k = 0; k < m->cfg->n_uplinks; k++) {
		int i = m->order[k];
		const struct bsc_uplink_cfg *u = &m->cfg->uplinks[i];
		uint64_t total = m->tx[i] + m->rx[i];

		if (!u->health.metered)
			continue;
		rpt_row_open(d);
		rpt_cell(d, NULL, -1, "%s", u->name);
		rpt_cell(d, "num", -1, "%s", rpt_bytes(m->tx[i]));
		rpt_cell(d, "num", -1, "%s", rpt_bytes(m->rx[i]));
		rpt_cell(d, "num", -1, "%s", rpt_bytes(total));
		if (u->cost_per_gb >= 0) {
			rpt_cell(d, "num", -1, "%s", rpt_money(u->cost_per_gb, m->cur));
			rpt_cell(d, "num", -1, "%s", rpt_money((double)total / 1e9 * u->cost_per_gb, m->cur));
		} else {
			rpt_cell(d, "num", -1, "not given");
			rpt_cell(d, "num", -1, "-");
		}
		rpt_row_close(d);
	}
	rpt_table_close(d);
	rpt_p_open(d, NULL);
	rpt_t(d, "Counted by the data plane (IP packets, both ways), sampled every minute and summed by the "
	      "hour: the first and last hour of the period may count a little outside it. 1 GB = 10^9 bytes.");
	rpt_p_close(d);
	rpt_section_end(d);
}

void rpt_cost_section(struct doc *d, const struct model *m)
{
	const struct bsc_cfg *c = m->cfg;
	double yearly = 0, per_hour = c->site.downtime_cost_per_hour, data_cost = 0;
	int k, missing = 0, backups = 0;

	rpt_section(d, "cost", "Cost of the backups against the cost of downtime");
	for (k = 0; k < c->n_uplinks; k++) {
		const struct bsc_uplink_cfg *u = &c->uplinks[k];

		if (u->health.metered && u->cost_per_gb > 0)
			data_cost += (double)(m->tx[k] + m->rx[k]) / 1e9 * u->cost_per_gb;
		if (!rpt_is_backup(m, k))
			continue;
		backups++;
		if (u->monthly_cost >= 0)
			yearly += 12 * u->monthly_cost;
		else
			missing++;
	}
	if (!backups) {
		rpt_p_open(d, "note");
		rpt_t(d, "There is no backup link: an outage of the only link takes the site offline.");
		rpt_p_close(d);
		rpt_section_end(d);
		return;
	}
	rpt_list_open(d, 0);
	rpt_item_open(d);
	rpt_t(d, "The backup link%s cost ", backups == 1 ? "" : "s");
	rpt_b(d, "%s a year", rpt_money(yearly, m->cur));
	rpt_t(d, " (12 times the monthly cost%s).", missing ? "; some backups have no monthly_cost given and "
	      "count as 0" : "");
	rpt_item_close(d);
	if (per_hour < 0) {
		rpt_item_open(d);
		rpt_t(d, "The cost of an hour offline is not given (downtime_cost_per_hour in [site]): the "
		      "comparison needs it.");
		rpt_item_close(d);
		rpt_list_close(d);
		rpt_section_end(d);
		return;
	}
	rpt_item_open(d);
	rpt_t(d, "An hour offline costs the business %s (the figure in the configuration). ",
	      rpt_money(per_hour, m->cur));
	rpt_t(d, "A working day of 8 hours without Internet would cost %s.", rpt_money(8 * per_hour, m->cur));
	rpt_item_close(d);
	if (per_hour > 0) {
		rpt_item_open(d);
		rpt_t(d, "So the backups pay for themselves if they keep the site online for ");
		rpt_b(d, "%.1f hours a year", yearly / per_hour);
		rpt_t(d, " while the primary link is down.");
		rpt_item_close(d);
	}
	if (m->h && m->observed_ms > 0) {
		double hours = (double)m->covered_ms / 3600000.0;
		double scale = YEAR_MS / (double)m->observed_ms;
		int enough = m->observed_ms >= MIN_SCALE_MS;

		rpt_item_open(d);
		rpt_t(d, "In this period the backups carried the traffic for %s while the primary link was down: ",
		      rpt_dur(m->covered_ms));
		rpt_b(d, "%s of downtime avoided", rpt_money(hours * per_hour, m->cur));
		if (enough)
			rpt_t(d, ". At the same rate over a year (the %s observed, scaled up): about %s, worth %s.",
			      rpt_dur(m->observed_ms),
			      rpt_dur((int64_t)((double)m->covered_ms * scale)),
			      rpt_money(hours * scale * per_hour, m->cur));
		else
			rpt_t(d, ". Bascule watched for %s only: too short to scale up to a year (that takes "
			      "7 days at least).", rpt_dur(m->observed_ms));
		rpt_item_close(d);
		if (data_cost > 0) {
			rpt_item_open(d);
			rpt_t(d, "Data on metered backups cost %s in the period", rpt_money(data_cost, m->cur));
			if (enough)
				rpt_t(d, " (about %s a year at that rate)", rpt_money(data_cost * scale, m->cur));
			rpt_t(d, ".");
			rpt_item_close(d);
		}
	}
	rpt_list_close(d);
	rpt_p_open(d, "note");
	rpt_t(d, "Assumptions: an outage costs the same every hour, whatever the time of day; the backups "
	      "avoid all of it while they carry the traffic; the observed period stands for a whole year. "
	      "Fibre outages are rare and uneven, so a short period says little: the break-even figure "
	      "above is the one to weigh.");
	rpt_p_close(d);
	rpt_section_end(d);
}

void rpt_notes_section(struct doc *d, const struct model *m)
{
	rpt_section(d, "notes", "How these figures are made (for the IT provider)");
	rpt_list_open(d, 0);
	rpt_item_open(d);
	rpt_t(d, "Observed time: while the Bascule daemon ran (a run that ended without a clean stop counts "
	      "until its last record; the daemon records at least every minute). Time it did not run is "
	      "not counted anywhere.");
	rpt_item_close(d);
	rpt_item_open(d);
	rpt_t(d, "An outage of a link runs from its transition to down until it leaves down (health "
	      "transitions, to the millisecond). A site outage runs while no link is active. An outage "
	      "still open when the daemon stopped is closed at that moment and marked so.");
	rpt_item_close(d);
	rpt_item_open(d);
	rpt_t(d, "Availability = (up + degraded) / (up + degraded + down) for a link, and online / "
	      "(online + offline) for the site; \"not known yet\" (just after a start, before the first "
	      "probes) counts in neither.");
	rpt_item_close(d);
	rpt_item_open(d);
	rpt_t(d, "Downtime avoided = time the primary link was down while another link was active.");
	rpt_item_close(d);
	rpt_item_open(d);
	rpt_t(d, "Times are the box's local time. Configuration: %s. History: %s.", m->cfg->path,
	      m->o->history_path ? m->o->history_path : "none");
	rpt_item_close(d);
	rpt_list_close(d);
	rpt_section_end(d);
}
