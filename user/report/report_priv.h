/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report/report_priv.h - what the files of the report share (report.h is the
 * public API):
 *
 *   writer.c             the writer: struct doc and the rpt_* primitives
 *                        (text escaped where it is written, headings,
 *                        paragraphs, lists, tables), one set of calls for
 *                        HTML and Markdown
 *   model.c              the model: the history read into the figures the
 *                        report shows, and the figures as text
 *   svg.c                the timeline chart (HTML only)
 *   sections_plan.c      the head and the sections the configuration gives
 *   sections_measured.c  the sections the history measured
 *   report.c             bsc_report_write: the sections in order
 */
#ifndef BSC_REPORT_PRIV_H
#define BSC_REPORT_PRIV_H

#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "history/history.h"
#include "report/report.h"

#define DAY_MS 86400000ll

/* ---- writer.c: the output */

struct doc {
	FILE *f;
	int md;
	int in_head;            /* Markdown: the header row is being written */
	int cols;
};

void rpt_esc(struct doc *d, const char *s);
/* Text, formatted then escaped as a whole. */
void __attribute__((format(printf, 2, 3))) rpt_t(struct doc *d, const char *fmt, ...);
/* A command the reader may type. */
void rpt_code(struct doc *d, const char *s);
/* Bold text, formatted then escaped. */
void __attribute__((format(printf, 2, 3))) rpt_b(struct doc *d, const char *fmt, ...);
/* Markup that only one of the formats has. */
void rpt_html(struct doc *d, const char *s);
void rpt_md(struct doc *d, const char *s);
void rpt_section(struct doc *d, const char *id, const char *title);
void rpt_section_end(struct doc *d);
void rpt_h3(struct doc *d, const char *title);
void rpt_p_open(struct doc *d, const char *cls);
void rpt_p_close(struct doc *d);
void rpt_list_open(struct doc *d, int ordered);
void rpt_item_open(struct doc *d);
void rpt_item_close(struct doc *d);
void rpt_list_close(struct doc *d);
void rpt_table_open(struct doc *d, const char *cls, int n, const char *const *heads);
void rpt_row_open(struct doc *d);
void rpt_row_close(struct doc *d);
/* A cell: cls styles it (num, ok, bad), ms >= 0 gives it the exact
 * duration in milliseconds (data-ms) for machines. */
void __attribute__((format(printf, 4, 5))) rpt_cell(struct doc *d, const char *cls, int64_t ms,
						   const char *fmt, ...);
void rpt_table_close(struct doc *d);

/* ---- model.c: the figures */

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

/* Read the period's history into m (m->h is not NULL): 0, or -1. */
int rpt_model_load(struct model *m);
/* m->order: the uplinks by priority, config order on ties. */
void rpt_sort_uplinks(struct model *m);
const char *rpt_up_name(const struct model *m, int i);
int rpt_is_backup(const struct model *m, int i);
/* How long an outage lasted, as far as the period and the records go. */
int64_t rpt_outage_end(const struct model *m, const struct bsc_outage *o);
int64_t rpt_primary_down_ms(const struct model *m);

/* The figures as text, each in a static buffer (a ring of 8), for use as
 * printf arguments: a few per call at most. */
const char *rpt_dur(int64_t ms);
const char *rpt_when(int64_t ms, int with_ms);
const char *rpt_day(int64_t ms);
const char *rpt_money(double x, const char *cur);
const char *rpt_bytes(uint64_t n);
const char *rpt_pct(double p);

/* ---- svg.c: the chart */

/* The lanes, the "carrying traffic" line, the axis and the legend of
 * [x0, x1), as an inline <svg> in a <figure>. */
void rpt_svg_timeline(struct doc *d, const struct model *m, int64_t x0, int64_t x1,
		      const char *title);

/* ---- sections_plan.c: from the configuration */

void rpt_head(struct doc *d, const struct model *m);
void rpt_summary(struct doc *d, const struct model *m);
void rpt_site_section(struct doc *d, const struct model *m);
void rpt_automatic_section(struct doc *d, const struct model *m);
void rpt_staff_section(struct doc *d, const struct model *m);
void rpt_contacts_section(struct doc *d, const struct model *m);

/* ---- sections_measured.c: from the history */

void rpt_drills_section(struct doc *d, const struct model *m);
void rpt_outages_section(struct doc *d, const struct model *m);
void rpt_availability_section(struct doc *d, const struct model *m);
void rpt_data_section(struct doc *d, const struct model *m);
void rpt_cost_section(struct doc *d, const struct model *m);
void rpt_notes_section(struct doc *d, const struct model *m);

#endif
