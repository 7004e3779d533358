// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report.c - the continuity plan: what the site has, what happens on its
 * own during an outage, what the staff check, whom to call, and what the
 * history measured (drills against the RTO, outages with a timeline,
 * availability, metered data, the cost of the backups against the cost of
 * downtime they avoided).
 *
 * Plain sentences first, for the business owner; exact figures in tables
 * and in the notes, for the IT provider.  HTML and Markdown come from the
 * same calls (the doc_* primitives below), so they say the same thing.
 * Every string is escaped where it is written: the configuration's text may
 * hold anything.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "report/report.h"

#define DAY_MS 86400000ll
#define YEAR_MS (365.25 * DAY_MS)
#define MAX_OUTAGE_ROWS 200
#define MAX_TEXT_ROWS 200
#define MAX_CLOSEUPS 6
#define MIN_SCALE_MS (7 * DAY_MS)   /* observed time worth scaling up to a year */

/* ================================================================ output */

struct doc {
	FILE *f;
	int md;
	int in_head;            /* Markdown: the header row is being written */
	int cols;
};

static void esc(struct doc *d, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!d->md) {
			switch (c) {
			case '&': fputs("&amp;", d->f); break;
			case '<': fputs("&lt;", d->f); break;
			case '>': fputs("&gt;", d->f); break;
			case '"': fputs("&quot;", d->f); break;
			case '\'': fputs("&#39;", d->f); break;
			default: fputc(c, d->f);
			}
		} else if (c == '\n' || c == '\r') {
			fputc(' ', d->f);
		} else {
			/* CommonMark: any ASCII punctuation may be escaped */
			if (strchr("\\`*_[]<>|#!&~", c))
				fputc('\\', d->f);
			fputc(c, d->f);
		}
	}
}

static void vtext(struct doc *d, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return;
	esc(d, s);
	free(s);
}

/* Text, formatted then escaped as a whole. */
static void __attribute__((format(printf, 2, 3))) t(struct doc *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(d, fmt, ap);
	va_end(ap);
}

/* A command the reader may type. */
static void code(struct doc *d, const char *s)
{
	fputs(d->md ? "`" : "<code>", d->f);
	if (d->md)
		fputs(s, d->f); /* trusted: the report's own words */
	else
		esc(d, s);
	fputs(d->md ? "`" : "</code>", d->f);
}

static void __attribute__((format(printf, 2, 3))) b(struct doc *d, const char *fmt, ...)
{
	va_list ap;

	fputs(d->md ? "**" : "<strong>", d->f);
	va_start(ap, fmt);
	vtext(d, fmt, ap);
	va_end(ap);
	fputs(d->md ? "**" : "</strong>", d->f);
}

/* Markup that only one of the formats has. */
static void html(struct doc *d, const char *s)
{
	if (!d->md)
		fputs(s, d->f);
}

static void md(struct doc *d, const char *s)
{
	if (d->md)
		fputs(s, d->f);
}

static void section(struct doc *d, const char *id, const char *title)
{
	if (d->md) {
		fprintf(d->f, "## %s\n\n", title);
		return;
	}
	fprintf(d->f, "<section id=\"%s\">\n<h2>", id);
	esc(d, title);
	fputs("</h2>\n", d->f);
}

static void section_end(struct doc *d)
{
	html(d, "</section>\n");
}

static void h3(struct doc *d, const char *title)
{
	if (d->md) {
		fputs("### ", d->f);
		esc(d, title);
		fputs("\n\n", d->f);
		return;
	}
	fputs("<h3>", d->f);
	esc(d, title);
	fputs("</h3>\n", d->f);
}

static void p_open(struct doc *d, const char *cls)
{
	if (!d->md)
		fprintf(d->f, cls ? "<p class=\"%s\">" : "<p>", cls);
	else if (cls && !strcmp(cls, "note"))
		fputs("> ", d->f);
}

static void p_close(struct doc *d)
{
	fputs(d->md ? "\n\n" : "</p>\n", d->f);
}

static void list_open(struct doc *d, int ordered)
{
	d->cols = ordered;
	html(d, ordered ? "<ol>\n" : "<ul>\n");
}

static void item_open(struct doc *d)
{
	fputs(d->md ? (d->cols ? "1. " : "- ") : "<li>", d->f);
}

static void item_close(struct doc *d)
{
	fputs(d->md ? "\n" : "</li>\n", d->f);
}

static void list_close(struct doc *d)
{
	fputs(d->md ? "\n" : (d->cols ? "</ol>\n" : "</ul>\n"), d->f);
}

static void table_open(struct doc *d, const char *cls, int n, const char *const *heads)
{
	int i;

	d->cols = n;
	if (d->md) {
		fputs("|", d->f);
		for (i = 0; i < n; i++) {
			fputc(' ', d->f);
			esc(d, heads[i]);
			fputs(" |", d->f);
		}
		fputs("\n|", d->f);
		for (i = 0; i < n; i++)
			fputs("---|", d->f);
		fputc('\n', d->f);
		return;
	}
	fprintf(d->f, "<table class=\"%s\">\n<thead><tr>", cls);
	for (i = 0; i < n; i++) {
		fputs("<th>", d->f);
		esc(d, heads[i]);
		fputs("</th>", d->f);
	}
	fputs("</tr></thead>\n<tbody>\n", d->f);
}

static void row_open(struct doc *d)
{
	fputs(d->md ? "|" : "<tr>", d->f);
}

static void row_close(struct doc *d)
{
	fputs(d->md ? "\n" : "</tr>\n", d->f);
}

/* A cell: cls styles it (num, ok, bad), ms >= 0 gives it the exact
 * duration in milliseconds (data-ms) for machines. */
static void __attribute__((format(printf, 4, 5))) cell(struct doc *d, const char *cls, int64_t ms,
						    const char *fmt, ...)
{
	va_list ap;

	if (d->md) {
		fputc(' ', d->f);
	} else {
		fputs("<td", d->f);
		if (cls)
			fprintf(d->f, " class=\"%s\"", cls);
		if (ms >= 0)
			fprintf(d->f, " data-ms=\"%lld\"", (long long)ms);
		fputc('>', d->f);
	}
	va_start(ap, fmt);
	vtext(d, fmt, ap);
	va_end(ap);
	fputs(d->md ? " |" : "</td>", d->f);
}

static void table_close(struct doc *d)
{
	fputs(d->md ? "\n" : "</tbody>\n</table>\n", d->f);
}

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

static const char *dur(int64_t ms)
{
	char *b = ring();

	bsc_report_duration(ms, b, 64);
	return b;
}

static const char *when(int64_t ms, int with_ms)
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

static const char *day(int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	char *b = ring();
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(b, 64, "%Y-%m-%d", &tm);
	return b;
}

static const char *money(double x, const char *cur)
{
	char *b = ring();

	snprintf(b, 64, x >= 1000 ? "%.0f %s" : "%.2f %s", x, cur);
	return b;
}

static const char *bytes(uint64_t n)
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

static const char *pct(double p)
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

struct model {
	const struct bsc_cfg *cfg;
	const struct bsc_report_opts *o;
	struct bsc_history *h;
	const char *cur;
	int primary;                            /* index in cfg->uplinks, -1 none */
	int order[BSC_MAX_UPLINKS];             /* uplinks by priority */
	struct bsc_timeline tl;
	struct bsc_outage *outages;
	int n_outages;
	struct bsc_drill_rec *drills;
	int n_drills;
	struct bsc_availability site, up[BSC_MAX_UPLINKS];
	int n_up_outages[BSC_MAX_UPLINKS], n_site_outages;
	int64_t observed_ms, covered_ms;
	uint64_t tx[BSC_MAX_UPLINKS], rx[BSC_MAX_UPLINKS];
	int64_t x0, x1;                         /* the timeline's range */
};

static const char *up_name(const struct model *m, int i)
{
	return m->cfg->uplinks[i].name;
}

static int is_backup(const struct model *m, int i)
{
	return i != m->primary;
}

static void sort_uplinks(struct model *m)
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

static int load(struct model *m)
{
	const char *names[BSC_MAX_UPLINKS];
	int i, n = m->cfg->n_uplinks;

	for (i = 0; i < n; i++)
		names[i] = up_name(m, i);
	if (bsc_history_timeline(m->h, m->o->from_ms, m->o->to_ms, m->o->now_ms, names, n, &m->tl) ||
	    bsc_history_outages(m->h, m->o->from_ms, m->o->to_ms, &m->outages, &m->n_outages) ||
	    bsc_history_drills(m->h, m->o->to_ms, m->o->max_drills ? m->o->max_drills : 10,
			       &m->drills, &m->n_drills))
		return -1;
	m->observed_ms = bsc_timeline_observed_ms(&m->tl);
	bsc_timeline_site_availability(&m->tl, &m->site);
	for (i = 0; i < n; i++) {
		bsc_timeline_uplink_availability(&m->tl, up_name(m, i), &m->up[i]);
		if (bsc_history_usage_sum(m->h, up_name(m, i), m->o->from_ms, m->o->to_ms, &m->tx[i],
					  &m->rx[i]))
			return -1;
	}
	if (m->primary >= 0)
		m->covered_ms = bsc_timeline_covered_ms(&m->tl, up_name(m, m->primary));
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
static int64_t outage_end(const struct model *m, const struct bsc_outage *o)
{
	if (o->end_ms >= 0)
		return o->end_ms;
	return m->tl.alive ? m->o->now_ms : (m->tl.last_ms > o->start_ms ? m->tl.last_ms : o->start_ms);
}

static int64_t primary_down_ms(const struct model *m)
{
	return m->primary >= 0 ? m->up[m->primary].down_ms : 0;
}

/* ================================================================ SVG */

static const char *const lane_colours[] = { "#1565c0", "#6a1b9a", "#00838f", "#ef6c00",
					    "#5d4037", "#ad1457", "#558b2f", "#283593" };

static const char *state_colour(const char *s)
{
	if (!strcmp(s, "up"))
		return "#2e7d32";
	if (!strcmp(s, "degraded"))
		return "#f9a825";
	if (!strcmp(s, "down") || !strcmp(s, "none"))
		return "#c62828";
	return "#b0bec5";
}

static const char *carrying_colour(const struct model *m, const char *what)
{
	int i;

	for (i = 0; i < m->tl.n_lanes; i++)
		if (!strcmp(m->tl.lanes[i].name, what))
			return lane_colours[i % 8];
	return state_colour(what);
}

#define SVG_W 960
#define SVG_LABEL 120
#define SVG_PLOT (SVG_W - SVG_LABEL - 20)
#define LANE_H 22
#define LANE_GAP 10

static double xpos(int64_t t, int64_t x0, int64_t x1)
{
	return SVG_LABEL + (double)(t - x0) * SVG_PLOT / (double)(x1 - x0);
}

/* A tick step that gives at most 8 ticks, aligned on local time. */
static void svg_axis(struct doc *d, int64_t x0, int64_t x1, int y)
{
	static const int64_t steps[] = { 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000,
					 300000, 600000, 900000, 1800000, 3600000, 7200000,
					 10800000, 21600000, 43200000, DAY_MS, 2 * DAY_MS,
					 7 * DAY_MS, 14 * DAY_MS, 30 * DAY_MS };
	int64_t step = steps[sizeof(steps) / sizeof(steps[0]) - 1], tk, off;
	time_t now = (time_t)(x0 / 1000);
	struct tm tm;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((x1 - x0) / steps[i] <= 8) {
			step = steps[i];
			break;
		}
	}
	localtime_r(&now, &tm);
	off = (int64_t)tm.tm_gmtoff * 1000;
	fprintf(d->f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n", SVG_LABEL,
		y, SVG_LABEL + SVG_PLOT, y);
	for (tk = ((x0 + off) / step + 1) * step - off; tk < x1; tk += step) {
		time_t s = (time_t)(tk / 1000);
		char lab[32];
		double x = xpos(tk, x0, x1);

		localtime_r(&s, &tm);
		strftime(lab, sizeof(lab), step < 60000 ? "%H:%M:%S" : step < DAY_MS ? "%H:%M" : "%m-%d",
			 &tm);
		if (step < DAY_MS && tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0)
			strftime(lab, sizeof(lab), "%m-%d", &tm);
		fprintf(d->f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\"/>"
			"<text x=\"%.1f\" y=\"%d\" class=\"tick\">%s</text>\n", x, y, x, y + 5, x,
			y + 17, lab);
	}
}

static void svg_span(struct doc *d, const struct bsc_span *s, int64_t x0, int64_t x1, int y,
		     const char *colour, const char *lane, int thin_visible)
{
	int64_t a = s->start_ms < x0 ? x0 : s->start_ms, e = s->end_ms > x1 ? x1 : s->end_ms;
	double xa, w;

	if (e <= a)
		return;
	xa = xpos(a, x0, x1);
	w = xpos(e, x0, x1) - xa;
	if (w < 2 && thin_visible)
		w = 2; /* a short outage on a long axis must still show */
	fprintf(d->f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"><title>",
		xa, y, w, LANE_H, colour);
	t(d, "%s: %s from %s to %s (%s)", lane, s->what, when(s->start_ms, 1), when(s->end_ms, 1),
	  dur(s->end_ms - s->start_ms));
	fputs("</title></rect>\n", d->f);
}

static void svg_lane(struct doc *d, const struct model *m, const struct bsc_lane *l, int carrying,
		     int64_t x0, int64_t x1, int y)
{
	int i;

	fprintf(d->f, "<text x=\"%d\" y=\"%d\" class=\"lane\">", SVG_LABEL - 8, y + 15);
	if (carrying)
		fputs("carrying traffic", d->f);
	else
		esc(d, l->name);
	fputs("</text>\n", d->f);
	fprintf(d->f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#unobserved)\"/>\n",
		SVG_LABEL, y, SVG_PLOT, LANE_H);
	/* the long states first, then what must show on top of them */
	for (i = 0; i < l->n; i++) {
		const struct bsc_span *s = &l->spans[i];
		int bad = !strcmp(s->what, "down") || !strcmp(s->what, "none");

		if (!bad)
			svg_span(d, s, x0, x1, y, carrying ? carrying_colour(m, s->what) :
				 state_colour(s->what), carrying ? "carrying traffic" : l->name, 0);
	}
	for (i = 0; i < l->n; i++) {
		const struct bsc_span *s = &l->spans[i];

		if (!strcmp(s->what, "down") || !strcmp(s->what, "none"))
			svg_span(d, s, x0, x1, y, state_colour(s->what),
				 carrying ? "carrying traffic" : l->name, 1);
	}
}

static void svg_legend_item(struct doc *d, int *x, int y, const char *fill, const char *label)
{
	fprintf(d->f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\" stroke=\"#777\"/>"
		"<text x=\"%d\" y=\"%d\" class=\"legend\">", *x, y, fill, *x + 16, y + 10);
	esc(d, label);
	fputs("</text>\n", d->f);
	*x += 24 + 7 * (int)strlen(label);
}

static void svg_timeline(struct doc *d, const struct model *m, int64_t x0, int64_t x1,
			 const char *title)
{
	int n = m->tl.n_lanes + 1, height = 20 + n * (LANE_H + LANE_GAP) + 70, i, y, x;

	if (x1 <= x0)
		return;
	fprintf(d->f, "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n<title>",
		SVG_W, height, SVG_W, height);
	esc(d, title);
	fputs("</title>\n<defs><pattern id=\"unobserved\" width=\"6\" height=\"6\" "
	      "patternUnits=\"userSpaceOnUse\"><rect width=\"6\" height=\"6\" fill=\"#fff\"/>"
	      "<path d=\"M0 6L6 0\" stroke=\"#ccc\"/></pattern></defs>\n", d->f);
	y = 10;
	for (i = 0; i < m->tl.n_lanes; i++, y += LANE_H + LANE_GAP)
		svg_lane(d, m, &m->tl.lanes[i], 0, x0, x1, y);
	y += 4;
	svg_lane(d, m, &m->tl.carrying, 1, x0, x1, y);
	y += LANE_H + 6;
	svg_axis(d, x0, x1, y);
	y += 32;
	x = SVG_LABEL;
	svg_legend_item(d, &x, y, state_colour("up"), "up");
	svg_legend_item(d, &x, y, state_colour("degraded"), "degraded");
	svg_legend_item(d, &x, y, state_colour("down"), "down / offline");
	svg_legend_item(d, &x, y, state_colour("unknown"), "not known yet");
	svg_legend_item(d, &x, y, "url(#unobserved)", "not observed");
	for (i = 0; i < m->tl.n_lanes; i++) {
		char label[48];

		snprintf(label, sizeof(label), "via %s", m->tl.lanes[i].name);
		svg_legend_item(d, &x, y, lane_colours[i % 8], label);
	}
	fputs("</svg>\n<figcaption>", d->f);
	esc(d, title);
	fputs("</figcaption>\n</figure>\n", d->f);
}

/* ================================================================ sections */

static void head(struct doc *d, const struct model *m)
{
	const struct bsc_cfg *c = m->cfg;
	const char *site = c->site.name[0] ? c->site.name : "this site";
	char tz[16];
	time_t now = (time_t)(m->o->now_ms / 1000);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(tz, sizeof(tz), "%Z", &tm);
	if (d->md) {
		fputs("# Continuity plan: ", d->f);
		esc(d, site);
		fputs("\n\n", d->f);
	} else {
		fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<meta name=\"generator\" content=\"bascule report\">\n<title>Continuity plan: ",
		      d->f);
		esc(d, site);
		fputs("</title>\n<style>\n"
		      "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f23;"
		      "margin:0;background:#f5f6f8;line-height:1.45}\n"
		      "main{max-width:1000px;margin:0 auto;padding:24px;background:#fff}\n"
		      "h1{font-size:1.8em;margin:0 0 4px}h2{border-bottom:2px solid #1565c0;padding-bottom:4px;"
		      "margin-top:36px}h3{margin-bottom:6px}\n"
		      ".sub{color:#555;margin:0}\n"
		      "table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:.93em}\n"
		      "th,td{border:1px solid #d0d4da;padding:5px 8px;text-align:left;vertical-align:top}\n"
		      "th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums;"
		      "white-space:nowrap}\n"
		      "td.ok{color:#1b5e20;font-weight:600}td.bad{color:#b71c1c;font-weight:600}\n"
		      ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\n"
		      ".card{flex:1 1 200px;border:1px solid #d0d4da;border-radius:6px;padding:10px 14px}\n"
		      ".card .v{font-size:1.5em;font-weight:700}.card .k{color:#555;font-size:.9em}\n"
		      ".note{background:#fff8e1;border-left:4px solid #f9a825;padding:8px 12px}\n"
		      "figure{margin:12px 0}figcaption{color:#555;font-size:.9em}\n"
		      "svg.timeline{max-width:100%;height:auto;font-size:12px}\n"
		      "svg .lane{text-anchor:end;fill:#1b1f23}svg .tick{text-anchor:middle;fill:#444}"
		      "svg .legend{fill:#333}\n"
		      "footer{color:#666;font-size:.85em;margin-top:36px;border-top:1px solid #ddd;"
		      "padding-top:8px}\n"
		      "@media print{body{background:#fff}main{padding:0}section{break-inside:avoid-page}}\n"
		      "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>Continuity plan: ", d->f);
		esc(d, site);
		fputs("</h1>\n", d->f);
	}
	p_open(d, "sub");
	if (c->site.address[0])
		t(d, "%s. ", c->site.address);
	t(d, "Period: %s to %s (%s). Generated %s.", day(m->o->from_ms), day(m->o->to_ms - 1), tz,
	  when(m->o->now_ms, 0));
	p_close(d);
	html(d, "</header>\n");
}

static void card(struct doc *d, const char *value, const char *key)
{
	if (d->md) {
		fputs("- ", d->f);
		esc(d, key);
		fputs(": **", d->f);
		esc(d, value);
		fputs("**\n", d->f);
		return;
	}
	fputs("<div class=\"card\"><div class=\"v\">", d->f);
	esc(d, value);
	fputs("</div><div class=\"k\">", d->f);
	esc(d, key);
	fputs("</div></div>\n", d->f);
}

static void summary(struct doc *d, const struct model *m)
{
	int64_t longest = 0;
	char v[64];
	int i, n_primary = 0;

	section(d, "summary", "At a glance");
	html(d, "<div class=\"cards\">\n");
	if (!m->h) {
		card(d, "no history", "outages, drills and availability need the history");
	} else {
		card(d, pct(m->site.pct), "site online (share of the observed time)");
		for (i = 0; i < m->n_outages; i++) {
			const struct bsc_outage *o = &m->outages[i];

			if (m->primary >= 0 && !o->site && !strcmp(o->uplink, up_name(m, m->primary))) {
				n_primary++;
				if (outage_end(m, o) - o->start_ms > longest)
					longest = outage_end(m, o) - o->start_ms;
			}
		}
		snprintf(v, sizeof(v), "%d", n_primary);
		card(d, v, m->primary >= 0 ? "outages of the primary link" : "outages");
		card(d, n_primary ? dur(longest) : "-", "longest outage of the primary link");
		snprintf(v, sizeof(v), "%d", m->n_site_outages);
		card(d, v, "times the whole site was offline");
		if (m->n_drills) {
			if (m->drills[0].cutover_ms < 0)
				snprintf(v, sizeof(v), "%s (no cut-over)",
					 m->drills[0].passed ? "passed" : "FAILED");
			else
				snprintf(v, sizeof(v), "%s (%.0f ms)",
					 m->drills[0].passed ? "passed" : "FAILED", m->drills[0].cutover_ms);
			card(d, v, "last drill");
		} else {
			card(d, "none yet", "drills");
		}
	}
	html(d, "</div>\n");
	md(d, "\n");
	section_end(d);
}

static void site_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Link", "Role", "Provider", "Equipment",
					     "Provider's support", "Metered", "Monthly cost" };
	const struct bsc_cfg *c = m->cfg;
	int k, backup = 0;

	section(d, "site", "The site and its Internet links");
	p_open(d, NULL);
	t(d, "%s has %d Internet link%s. Bascule, on the box between the office network and these links, "
	  "sends the traffic through one of them and switches to another on its own when it fails.",
	  c->site.name[0] ? c->site.name : "The site", c->n_uplinks, c->n_uplinks == 1 ? "" : "s");
	p_close(d);
	table_open(d, "uplinks", 7, heads);
	for (k = 0; k < c->n_uplinks; k++) {
		int i = m->order[k];
		const struct bsc_uplink_cfg *u = &c->uplinks[i];

		row_open(d);
		cell(d, NULL, -1, "%s (%s)", u->name, u->ifname);
		if (i == m->primary)
			cell(d, NULL, -1, "primary");
		else
			cell(d, NULL, -1, "backup %d", ++backup);
		cell(d, NULL, -1, "%s", u->provider[0] ? u->provider : "-");
		cell(d, NULL, -1, "%s", u->equipment[0] ? u->equipment : "-");
		cell(d, NULL, -1, "%s", u->support[0] ? u->support : "-");
		if (u->health.metered && u->cost_per_gb >= 0)
			cell(d, NULL, -1, "yes, %s per GB", money(u->cost_per_gb, m->cur));
		else
			cell(d, NULL, -1, "%s", u->health.metered ? "yes" : "no");
		if (u->monthly_cost >= 0)
			cell(d, "num", -1, "%s", money(u->monthly_cost, m->cur));
		else
			cell(d, "num", -1, "not given");
		row_close(d);
	}
	table_close(d);
	section_end(d);
}

static void automatic_section(struct doc *d, const struct model *m)
{
	const struct bsc_cfg *c = m->cfg;
	const struct bsc_uplink_cfg *p = m->primary >= 0 ? &c->uplinks[m->primary] : NULL;
	int k;

	section(d, "automatic", "What happens on its own during an outage");
	if (!p) {
		section_end(d);
		return;
	}
	list_open(d, 0);
	item_open(d);
	t(d, "Normally all traffic goes through ");
	b(d, "%s", p->name);
	t(d, "%s%s%s.", p->provider[0] ? " (" : "", p->provider, p->provider[0] ? ")" : "");
	if (c->n_uplinks > 1) {
		t(d, " If it fails, traffic goes to ");
		for (k = 1; k < c->n_uplinks; k++)
			t(d, "%s%s", up_name(m, m->order[k]), k + 1 < c->n_uplinks ? ", or else " : "");
		t(d, ": the first of them that works.");
	}
	item_close(d);
	if (p->n_probes) {
		const struct bsc_health_cfg *hc = &p->health;
		uint32_t worst = hc->down_after * hc->interval_active_ms + hc->timeout_ms;

		item_open(d);
		t(d, "Bascule tests every link all the time (%d test target%s on %s). A cable pulled or a "
		  "router switched off is seen at once. A link that stays connected but no longer reaches "
		  "the Internet is given up after ", p->n_probes, p->n_probes == 1 ? "" : "s", p->name);
		b(d, "%u ms at most", worst);
		t(d, " (%u tests in a row without an answer, %u ms apart, %u ms to answer).",
		  hc->down_after, hc->interval_active_ms, hc->timeout_ms);
		item_close(d);
	} else {
		item_open(d);
		t(d, "%s has no test targets configured: only a cable pulled or a router switched off is "
		  "noticed, not an Internet provider that stops answering.", p->name);
		item_close(d);
	}
	item_open(d);
	t(d, "Phone calls (VoIP), video calls and VPNs carry on over the backup link after a short "
	  "break. Downloads and web pages that were loading are cut at once so that the programs "
	  "reconnect immediately through the backup instead of waiting minutes.");
	item_close(d);
	item_open(d);
	t(d, "When %s works again, Bascule waits until it has answered well for ", p->name);
	b(d, "%s", dur(c->failback_hold_ms));
	t(d, " before new connections go back to it, so a link that keeps dropping does not bounce "
	  "traffic back and forth. %s",
	  c->failback_moves_flows ? "Calls and other datagram traffic move back too." :
	  "Calls in progress stay on the backup until they end.");
	item_close(d);
	for (k = 0; k < c->n_uplinks; k++) {
		const struct bsc_uplink_cfg *u = &c->uplinks[m->order[k]];

		if (!u->health.metered)
			continue;
		item_open(d);
		t(d, "%s is metered: while it stands by it is tested only every %s to save data",
		  u->name, dur(u->health.interval_metered_ms));
		if (u->cost_per_gb >= 0)
			t(d, "; data used on it costs %s per GB", money(u->cost_per_gb, m->cur));
		t(d, ".");
		item_close(d);
	}
	if (c->manage_routes) {
		item_open(d);
		t(d, "The box's own traffic (its name lookups, a VPN ending on it) follows the active link too.");
		item_close(d);
	}
	if (c->n_hooks) {
		item_open(d);
		t(d, "At every change, %d alert script%s run%s (for example a text message or a ticket to "
		  "the IT provider).", c->n_hooks, c->n_hooks == 1 ? "" : "s", c->n_hooks == 1 ? "s" : "");
		item_close(d);
	}
	list_close(d);
	section_end(d);
}

static void staff_section(struct doc *d, const struct model *m)
{
	const struct bsc_site_cfg *s = &m->cfg->site;
	int i;

	section(d, "staff", "What the staff should check");
	p_open(d, NULL);
	t(d, "Nobody needs to switch anything: the change-over is automatic. When the Internet seems "
	  "slow or cut, check, in this order:");
	p_close(d);
	if (!s->n_checks) {
		p_open(d, "note");
		t(d, "No checks are configured yet: add staff_check lines to the [site] section of %s.",
		  m->cfg->path);
		p_close(d);
	} else {
		list_open(d, 1);
		for (i = 0; i < s->n_checks; i++) {
			item_open(d);
			t(d, "%s", s->staff_check[i]);
			item_close(d);
		}
		list_close(d);
	}
	section_end(d);
}

static void contacts_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Order", "Who", "Role", "Phone", "E-mail", "When" };
	static const char *const sup_heads[] = { "Link", "Provider", "Support" };
	const struct bsc_cfg *c = m->cfg;
	int order[BSC_MAX_CONTACTS], i, j, n = c->n_contacts, any = 0;

	section(d, "contacts", "Who to call");
	for (i = 0; i < n; i++)
		order[i] = i;
	/* by escalation level, unset last, config order on ties */
	for (i = 1; i < n; i++)
		for (j = i; j > 0; j--) {
			uint32_t a = c->contacts[order[j]].escalation, p = c->contacts[order[j - 1]].escalation;
			int x = order[j];

			if ((a ? a : 1000) >= (p ? p : 1000))
				break;
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	if (!n) {
		p_open(d, "note");
		t(d, "No contacts are configured: add [contact NAME] sections to %s.", c->path);
		p_close(d);
	} else {
		p_open(d, NULL);
		t(d, "If the checks above fail, call these people in this order; go to the next one if "
		  "nobody answers within 15 minutes.");
		p_close(d);
		table_open(d, "contacts", 6, heads);
		for (i = 0; i < n; i++) {
			const struct bsc_contact_cfg *k = &c->contacts[order[i]];

			row_open(d);
			if (k->escalation)
				cell(d, "num", -1, "%u", k->escalation);
			else
				cell(d, "num", -1, "-");
			cell(d, NULL, -1, "%s", k->name);
			cell(d, NULL, -1, "%s", k->role[0] ? k->role : "-");
			cell(d, NULL, -1, "%s", k->phone[0] ? k->phone : "-");
			cell(d, NULL, -1, "%s", k->email[0] ? k->email : "-");
			cell(d, NULL, -1, "%s", k->hours[0] ? k->hours : "-");
			row_close(d);
		}
		table_close(d);
	}
	for (i = 0; i < c->n_uplinks; i++)
		any |= c->uplinks[i].support[0] != 0;
	if (!any) {
		section_end(d);
		return;
	}
	h3(d, "The links' providers");
	table_open(d, "support", 3, sup_heads);
	for (i = 0; i < c->n_uplinks; i++) {
		const struct bsc_uplink_cfg *u = &c->uplinks[m->order[i]];

		if (!u->support[0])
			continue;
		row_open(d);
		cell(d, NULL, -1, "%s", u->name);
		cell(d, NULL, -1, "%s", u->provider[0] ? u->provider : "-");
		cell(d, NULL, -1, "%s", u->support);
		row_close(d);
	}
	table_close(d);
	section_end(d);
}

static void no_history(struct doc *d, const struct model *m)
{
	p_open(d, "note");
	t(d, "No history: %s", m->o->history_note ? m->o->history_note : "none was given.");
	p_close(d);
}

static void drills_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Drill", "Measured cut-over", "Target (RTO)", "Result" };
	uint32_t rto = m->cfg->site.rto_ms;
	int i;

	section(d, "drills", "Drills: the recovery time objective against what was measured");
	p_open(d, NULL);
	t(d, "The target: traffic on the backup within ");
	b(d, "%s", dur(rto));
	t(d, " of a cut of the primary link (rto_ms in the configuration). A drill cuts the primary link "
	  "on purpose and measures it.");
	p_close(d);
	if (!m->h) {
		no_history(d, m);
		section_end(d);
		return;
	}
	if (!m->n_drills) {
		p_open(d, "note");
		t(d, "No drill recorded yet. Run ");
		code(d, "bascule drill");
		t(d, " at least once a year, better every month.");
		p_close(d);
		section_end(d);
		return;
	}
	p_open(d, NULL);
	t(d, "The last drill, on %s, ", when(m->drills[0].start_ms, 0));
	b(d, "%s", m->drills[0].passed ? "passed" : "failed");
	if (m->drills[0].cutover_ms < 0)
		t(d, ": it stopped before the traffic reached the backup.");
	else
		t(d, ": the traffic was on the backup after %.1f ms%s.", m->drills[0].cutover_ms,
		  m->drills[0].cutover_ms <= rto ? ", within the target" : ", beyond the target");
	p_close(d);
	table_open(d, "drills", 4, heads);
	for (i = 0; i < m->n_drills; i++) {
		const struct bsc_drill_rec *r = &m->drills[i];

		row_open(d);
		cell(d, NULL, -1, "%s", when(r->start_ms, 0));
		if (r->cutover_ms < 0)
			cell(d, "num", -1, "%s", "no cut-over");
		else
			cell(d, "num", (int64_t)llround(r->cutover_ms), "%.1f ms", r->cutover_ms);
		cell(d, "num", -1, "%.0f ms", r->rto_ms);
		cell(d, r->passed ? "ok" : "bad", -1, "%s", r->passed ? "passed" : "failed");
		row_close(d);
	}
	table_close(d);
	section_end(d);
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
		int64_t e = outage_end(m, o), pad = (e - o->start_ms) / 2, x0, x1;
		char title[160], what[64];

		if (!o->site && (m->primary < 0 || strcmp(o->uplink, up_name(m, m->primary))))
			continue;
		if (pad < 2000)
			pad = 2000;
		x0 = o->start_ms - pad < m->x0 ? m->x0 : o->start_ms - pad;
		x1 = e + pad > m->x1 ? m->x1 : e + pad;
		snprintf(title, sizeof(title), "Close-up: %s at %s, %s", outage_what(o, what, sizeof(what)),
			 when(o->start_ms, 0), dur(e - o->start_ms));
		svg_timeline(d, m, x0, x1, title);
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
	table_open(d, "timeline", n + 2, heads);
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
			md(d, "| ... | (more changes, see the HTML report) |\n");
			break;
		}
		row_open(d);
		cell(d, NULL, -1, "%s", when(at, 1));
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
			cell(d, NULL, -1, "%s", s ? s->what : "not observed");
		}
		row_close(d);
	}
	table_close(d);
}

static void outages_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Start", "End", "Duration", "What", "Why",
					     "Traffic carried by", "Note" };
	int i, shown = 0;

	section(d, "outages", "Outages of the period");
	if (!m->h) {
		no_history(d, m);
		section_end(d);
		return;
	}
	p_open(d, NULL);
	if (m->primary >= 0 && primary_down_ms(m) > 0) {
		t(d, "The primary link %s was down for ", up_name(m, m->primary));
		b(d, "%s", dur(primary_down_ms(m)));
		t(d, " in all. During %s of that, a backup link carried the traffic", dur(m->covered_ms));
		if (m->n_site_outages)
			t(d, "; the whole site was offline %d time%s, for %s in all.", m->n_site_outages,
			  m->n_site_outages == 1 ? "" : "s", dur(m->site.down_ms));
		else
			t(d, ", and the site never went offline.");
	} else if (m->primary >= 0) {
		t(d, "The primary link %s was not down while Bascule watched.", up_name(m, m->primary));
	}
	t(d, " Bascule watched for %s of the period.", dur(m->observed_ms));
	p_close(d);
	if (m->n_outages) {
		table_open(d, "outages", 7, heads);
		for (i = 0; i < m->n_outages && shown < MAX_OUTAGE_ROWS; i++, shown++) {
			const struct bsc_outage *o = &m->outages[i];
			int64_t e = outage_end(m, o);
			char what[64];

			row_open(d);
			cell(d, NULL, -1, "%s", when(o->start_ms, 1));
			if (o->end_ms >= 0)
				cell(d, NULL, -1, "%s", when(o->end_ms, 1));
			else
				cell(d, NULL, -1, "%s", m->tl.alive ? "still going on" : "not recorded");
			cell(d, "num", e - o->start_ms, "%s%s", o->end_ms < 0 ? "at least " : "",
			     dur(e - o->start_ms));
			cell(d, o->site ? "bad" : NULL, -1, "%s", outage_what(o, what, sizeof(what)));
			cell(d, NULL, -1, "%s", o->reason[0] ? o->reason : "-");
			cell(d, NULL, -1, "%s", o->site ? "nothing (offline)" :
			     !o->carried_by[0] ? "not recorded" :
			     !strcmp(o->carried_by, "none") ? "nothing (offline)" : o->carried_by);
			if (o->ended_by_restart)
				cell(d, NULL, -1, "the daemon stopped while it was open: the end is its last record, "
				     "not a recovery");
			else if (o->end_ms < 0)
				cell(d, NULL, -1, m->tl.alive ? "ongoing" :
				     "the records stop before its end");
			else
				cell(d, NULL, -1, "-");
			row_close(d);
		}
		table_close(d);
		if (shown < m->n_outages) {
			p_open(d, "note");
			t(d, "%d more outages are not listed.", m->n_outages - shown);
			p_close(d);
		}
	}
	h3(d, "Timeline: which link carried the traffic");
	if (m->x1 <= m->x0) {
		p_open(d, "note");
		t(d, "Bascule did not run during the period: nothing was observed.");
		p_close(d);
		section_end(d);
		return;
	}
	p_open(d, NULL);
	t(d, "From %s to %s. One line per link (green up, amber degraded, red down), and the line "
	  "\"carrying traffic\" coloured by the link new connections took (red: none, offline). "
	  "Hatched: Bascule was not running.", when(m->x0, 0), when(m->x1, 0));
	p_close(d);
	if (d->md) {
		text_timeline(d, m);
	} else {
		svg_timeline(d, m, m->x0, m->x1, "Links and the traffic over the period");
		closeups(d, m);
	}
	section_end(d);
}

static void availability_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "", "Available", "Down", "Degraded", "Not known yet",
					     "Outages", "Observed" };
	int k;

	section(d, "availability", "Availability");
	if (!m->h) {
		no_history(d, m);
		section_end(d);
		return;
	}
	p_open(d, NULL);
	t(d, "The site was online ");
	b(d, "%s", pct(m->site.pct));
	t(d, " of the time Bascule watched (%s). A link counts as available when it is up or degraded "
	  "(slow but usable); the site, when some link carries its traffic.", dur(m->observed_ms));
	p_close(d);
	table_open(d, "availability", 7, heads);
	row_open(d);
	cell(d, NULL, -1, "whole site");
	cell(d, "num", -1, "%s", pct(m->site.pct));
	cell(d, "num", m->site.down_ms, "%s", dur(m->site.down_ms));
	cell(d, "num", -1, "-");
	cell(d, "num", m->site.unknown_ms, "%s", dur(m->site.unknown_ms));
	cell(d, "num", -1, "%d", m->n_site_outages);
	cell(d, "num", m->observed_ms, "%s", dur(m->observed_ms));
	row_close(d);
	for (k = 0; k < m->cfg->n_uplinks; k++) {
		int i = m->order[k];
		const struct bsc_availability *a = &m->up[i];

		row_open(d);
		cell(d, NULL, -1, "%s", up_name(m, i));
		cell(d, "num", -1, "%s", pct(a->pct));
		cell(d, "num", a->down_ms, "%s", dur(a->down_ms));
		cell(d, "num", a->degraded_ms, "%s", dur(a->degraded_ms));
		cell(d, "num", a->unknown_ms, "%s", dur(a->unknown_ms));
		cell(d, "num", -1, "%d", m->n_up_outages[i]);
		cell(d, "num", a->observed_ms, "%s", dur(a->observed_ms));
		row_close(d);
	}
	table_close(d);
	section_end(d);
}

static void data_section(struct doc *d, const struct model *m)
{
	static const char *const heads[] = { "Link", "Sent", "Received", "Total", "Price per GB",
					     "Cost" };
	int k, any = 0;

	section(d, "data", "Data used on metered links");
	for (k = 0; k < m->cfg->n_uplinks; k++)
		any |= m->cfg->uplinks[k].health.metered;
	if (!any) {
		p_open(d, NULL);
		t(d, "No link is metered.");
		p_close(d);
		section_end(d);
		return;
	}
	if (!m->h) {
		no_history(d, m);
		section_end(d);
		return;
	}
	table_open(d, "data", 6, heads);
	for (k = 0; k < m->cfg->n_uplinks; k++) {
		int i = m->order[k];
		const struct bsc_uplink_cfg *u = &m->cfg->uplinks[i];
		uint64_t total = m->tx[i] + m->rx[i];

		if (!u->health.metered)
			continue;
		row_open(d);
		cell(d, NULL, -1, "%s", u->name);
		cell(d, "num", -1, "%s", bytes(m->tx[i]));
		cell(d, "num", -1, "%s", bytes(m->rx[i]));
		cell(d, "num", -1, "%s", bytes(total));
		if (u->cost_per_gb >= 0) {
			cell(d, "num", -1, "%s", money(u->cost_per_gb, m->cur));
			cell(d, "num", -1, "%s", money((double)total / 1e9 * u->cost_per_gb, m->cur));
		} else {
			cell(d, "num", -1, "not given");
			cell(d, "num", -1, "-");
		}
		row_close(d);
	}
	table_close(d);
	p_open(d, NULL);
	t(d, "Counted by the data plane (IP packets, both ways), sampled every minute and summed by the "
	  "hour: the first and last hour of the period may count a little outside it. 1 GB = 10^9 bytes.");
	p_close(d);
	section_end(d);
}

static void cost_section(struct doc *d, const struct model *m)
{
	const struct bsc_cfg *c = m->cfg;
	double yearly = 0, per_hour = c->site.downtime_cost_per_hour, data_cost = 0;
	int k, missing = 0, backups = 0;

	section(d, "cost", "Cost of the backups against the cost of downtime");
	for (k = 0; k < c->n_uplinks; k++) {
		const struct bsc_uplink_cfg *u = &c->uplinks[k];

		if (u->health.metered && u->cost_per_gb > 0)
			data_cost += (double)(m->tx[k] + m->rx[k]) / 1e9 * u->cost_per_gb;
		if (!is_backup(m, k))
			continue;
		backups++;
		if (u->monthly_cost >= 0)
			yearly += 12 * u->monthly_cost;
		else
			missing++;
	}
	if (!backups) {
		p_open(d, "note");
		t(d, "There is no backup link: an outage of the only link takes the site offline.");
		p_close(d);
		section_end(d);
		return;
	}
	list_open(d, 0);
	item_open(d);
	t(d, "The backup link%s cost ", backups == 1 ? "" : "s");
	b(d, "%s a year", money(yearly, m->cur));
	t(d, " (12 times the monthly cost%s).", missing ? "; some backups have no monthly_cost given and "
	  "count as 0" : "");
	item_close(d);
	if (per_hour < 0) {
		item_open(d);
		t(d, "The cost of an hour offline is not given (downtime_cost_per_hour in [site]): the "
		  "comparison needs it.");
		item_close(d);
		list_close(d);
		section_end(d);
		return;
	}
	item_open(d);
	t(d, "An hour offline costs the business %s (the figure in the configuration). ",
	  money(per_hour, m->cur));
	t(d, "A working day of 8 hours without Internet would cost %s.", money(8 * per_hour, m->cur));
	item_close(d);
	if (per_hour > 0) {
		item_open(d);
		t(d, "So the backups pay for themselves if they keep the site online for ");
		b(d, "%.1f hours a year", yearly / per_hour);
		t(d, " while the primary link is down.");
		item_close(d);
	}
	if (m->h && m->observed_ms > 0) {
		double hours = (double)m->covered_ms / 3600000.0;
		double scale = YEAR_MS / (double)m->observed_ms;
		int enough = m->observed_ms >= MIN_SCALE_MS;

		item_open(d);
		t(d, "In this period the backups carried the traffic for %s while the primary link was down: ",
		  dur(m->covered_ms));
		b(d, "%s of downtime avoided", money(hours * per_hour, m->cur));
		if (enough)
			t(d, ". At the same rate over a year (the %s observed, scaled up): about %s, worth %s.",
			  dur(m->observed_ms), dur((int64_t)((double)m->covered_ms * scale)),
			  money(hours * scale * per_hour, m->cur));
		else
			t(d, ". Bascule watched for %s only: too short to scale up to a year (that takes "
			  "7 days at least).", dur(m->observed_ms));
		item_close(d);
		if (data_cost > 0) {
			item_open(d);
			t(d, "Data on metered backups cost %s in the period", money(data_cost, m->cur));
			if (enough)
				t(d, " (about %s a year at that rate)", money(data_cost * scale, m->cur));
			t(d, ".");
			item_close(d);
		}
	}
	list_close(d);
	p_open(d, "note");
	t(d, "Assumptions: an outage costs the same every hour, whatever the time of day; the backups "
	  "avoid all of it while they carry the traffic; the observed period stands for a whole year. "
	  "Fibre outages are rare and uneven, so a short period says little: the break-even figure "
	  "above is the one to weigh.");
	p_close(d);
	section_end(d);
}

static void notes_section(struct doc *d, const struct model *m)
{
	section(d, "notes", "How these figures are made (for the IT provider)");
	list_open(d, 0);
	item_open(d);
	t(d, "Observed time: while the Bascule daemon ran (a run that ended without a clean stop counts "
	  "until its last record; the daemon records at least every minute). Time it did not run is "
	  "not counted anywhere.");
	item_close(d);
	item_open(d);
	t(d, "An outage of a link runs from its transition to down until it leaves down (health "
	  "transitions, to the millisecond). A site outage runs while no link is active. An outage "
	  "still open when the daemon stopped is closed at that moment and marked so.");
	item_close(d);
	item_open(d);
	t(d, "Availability = (up + degraded) / (up + degraded + down) for a link, and online / "
	  "(online + offline) for the site; \"not known yet\" (just after a start, before the first "
	  "probes) counts in neither.");
	item_close(d);
	item_open(d);
	t(d, "Downtime avoided = time the primary link was down while another link was active.");
	item_close(d);
	item_open(d);
	t(d, "Times are the box's local time. Configuration: %s. History: %s.", m->cfg->path,
	  m->o->history_path ? m->o->history_path : "none");
	item_close(d);
	list_close(d);
	section_end(d);
}

/* ================================================================ entry */

int bsc_report_write(const struct bsc_cfg *cfg, struct bsc_history *h,
		     const struct bsc_report_opts *o, FILE *out)
{
	struct doc d = { .f = out, .md = o->format == BSC_REPORT_MD };
	struct model m = { .cfg = cfg, .o = o, .h = h, .cur = cfg->site.currency };
	int rc = 0;

	m.primary = bsc_config_primary(cfg);
	sort_uplinks(&m);
	if (h && load(&m)) {
		fprintf(stderr, "bascule report: cannot read the history %s (see above)\n",
			o->history_path ? o->history_path : "");
		rc = -1;
		goto out;
	}
	head(&d, &m);
	summary(&d, &m);
	site_section(&d, &m);
	automatic_section(&d, &m);
	staff_section(&d, &m);
	contacts_section(&d, &m);
	drills_section(&d, &m);
	outages_section(&d, &m);
	availability_section(&d, &m);
	data_section(&d, &m);
	cost_section(&d, &m);
	notes_section(&d, &m);
	if (d.md) {
		fputs("---\n\nGenerated by `bascule report`.\n", out);
	} else {
		fputs("<footer>Generated by bascule report from ", out);
		esc(&d, cfg->path);
		fputs(".</footer>\n</main>\n</body>\n</html>\n", out);
	}
	if (ferror(out)) {
		fprintf(stderr, "bascule report: write error\n");
		rc = -1;
	}
out:
	bsc_timeline_free(&m.tl);
	free(m.outages);
	free(m.drills);
	return rc;
}

/* ================================================================ CLI */

static const char report_usage[] =
	"usage: bascule report -c FILE [--db PATH] [--days N | --from YYYY-MM-DD [--to YYYY-MM-DD]]\n"
	"                      [--format html|md] [-o OUTPUT]\n"
	"  the site's continuity plan, with the history of the last N days (30) or of the dates\n"
	"  given (both included); --db defaults to the configuration's history; to stdout\n";

static int report_bad(const char *msg)
{
	fprintf(stderr, "bascule report: %s\n%s", msg, report_usage);
	return 2;
}

/* Local midnight of a YYYY-MM-DD date, in ms. */
static int parse_day(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	time_t t;

	if (!end || *end)
		return -1;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

static int64_t next_day(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Open the history for the report; *h stays NULL, with a note, when there
 * is none to read.  -1 only for a file that is there and cannot be read. */
static int open_history(const char *path, const char *cfg_path, struct bsc_history **h,
			char *note, size_t len)
{
	char err[512];
	struct stat st;

	*h = NULL;
	if (!path || !*path) {
		snprintf(note, len, "history is off in %s (history = off).", cfg_path);
		return 0;
	}
	if (stat(path, &st)) {
		snprintf(note, len, "%s: %s (has the daemon run with this configuration?).", path,
			 strerror(errno));
		fprintf(stderr, "bascule report: warning: no history: %s\n", note);
		return 0;
	}
	if (bsc_history_open_ro(path, h, err, sizeof(err))) {
		fprintf(stderr, "bascule report: %s\n", err);
		return -1;
	}
	return 0;
}

int bsc_report_cli(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "days", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	const char *file = NULL, *db = NULL, *from = NULL, *to = NULL, *output = NULL;
	struct bsc_report_opts o = { .format = BSC_REPORT_HTML };
	struct bsc_history *h = NULL;
	char err[4096], note[512] = "", *tmp = NULL;
	struct bsc_cfg *cfg;
	long days = 30;
	FILE *out = stdout;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'c': file = optarg; break;
		case 'd': db = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'o': output = optarg; break;
		case 'n':
			days = strtol(optarg, &end, 10);
			if (*end || days < 1 || days > 3660)
				return report_bad("--days needs a number of days from 1 to 3660");
			break;
		case 'F':
			if (!strcmp(optarg, "html"))
				o.format = BSC_REPORT_HTML;
			else if (!strcmp(optarg, "md") || !strcmp(optarg, "markdown"))
				o.format = BSC_REPORT_MD;
			else
				return report_bad("--format is html or md");
			break;
		default:
			return report_bad("unknown option");
		}
	}
	if (optind < argc)
		return report_bad("unexpected argument");
	if (!file)
		return report_bad("report needs -c FILE (the configuration: site, links, contacts)");
	o.now_ms = wall_ms();
	o.to_ms = o.now_ms;
	if (to) {
		if (parse_day(to, &o.to_ms))
			return report_bad("--to needs a date YYYY-MM-DD");
		o.to_ms = next_day(o.to_ms); /* the day is included */
	}
	o.from_ms = o.to_ms - days * DAY_MS;
	if (from && parse_day(from, &o.from_ms))
		return report_bad("--from needs a date YYYY-MM-DD");
	if (o.from_ms >= o.to_ms)
		return report_bad("--from must come before --to");
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 1;
	if (bsc_config_load(file, cfg, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		free(cfg);
		return 2;
	}
	o.history_path = db ? db : cfg->history[0] ? cfg->history : NULL;
	if (open_history(o.history_path, cfg->path, &h, note, sizeof(note)))
		goto out;
	o.history_note = note;
	if (output) {
		int fd;

		/* Written aside and renamed: a reader never sees half a page.
		 * The page holds phone numbers and addresses: the file aside is
		 * a new one of ours (mkstemp: O_EXCL, so no symlink planted at a
		 * guessable name is followed), 0640 whatever the umask. */
		if (asprintf(&tmp, "%s.XXXXXX", output) < 0) {
			tmp = NULL;
			goto out;
		}
		fd = mkstemp(tmp);
		if (fd < 0 || fchmod(fd, 0640) || !(out = fdopen(fd, "w"))) {
			fprintf(stderr, "bascule report: cannot write %s: %s\n", tmp, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			out = stdout;
			goto out;
		}
	}
	rc = bsc_report_write(cfg, h, &o, out) ? 1 : 0;
	if (output) {
		if (fclose(out)) {
			fprintf(stderr, "bascule report: cannot write %s: %s\n", tmp, strerror(errno));
			rc = 1;
		}
		out = stdout;
		if (!rc && rename(tmp, output)) {
			fprintf(stderr, "bascule report: cannot rename %s to %s: %s\n", tmp, output,
				strerror(errno));
			rc = 1;
		}
		if (rc)
			unlink(tmp);
	} else if (fflush(stdout)) {
		fprintf(stderr, "bascule report: cannot write to stdout: %s\n", strerror(errno));
		rc = 1;
	}
out:
	if (out != stdout)
		fclose(out);
	free(tmp);
	bsc_history_close(h);
	free(cfg);
	return rc;
}
