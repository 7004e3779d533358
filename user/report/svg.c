// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report/svg.c - the report's chart: the timeline as inline SVG (one lane per
 * uplink, the line of the uplink carrying traffic, a time axis aligned on
 * local time, a legend), for the period and for close-ups of outages.
 * HTML only; the Markdown has the timeline as a table (sections_measured.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/report_priv.h"

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
	rpt_t(d, "%s: %s from %s to %s (%s)", lane, s->what, rpt_when(s->start_ms, 1),
	      rpt_when(s->end_ms, 1), rpt_dur(s->end_ms - s->start_ms));
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
		rpt_esc(d, l->name);
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
	rpt_esc(d, label);
	fputs("</text>\n", d->f);
	*x += 24 + 7 * (int)strlen(label);
}

void rpt_svg_timeline(struct doc *d, const struct model *m, int64_t x0, int64_t x1,
		      const char *title)
{
	int n = m->tl.n_lanes + 1, height = 20 + n * (LANE_H + LANE_GAP) + 70, i, y, x;

	if (x1 <= x0)
		return;
	fprintf(d->f, "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n<title>",
		SVG_W, height, SVG_W, height);
	rpt_esc(d, title);
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
	rpt_esc(d, title);
	fputs("</figcaption>\n</figure>\n", d->f);
}
