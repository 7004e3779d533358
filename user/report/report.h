/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report/report.h - `bascule report`: the site's continuity plan, from the
 * configuration and the history, as one self-contained HTML page (inline
 * CSS and SVG, nothing fetched) or as Markdown.
 */
#ifndef BSC_REPORT_H
#define BSC_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "history/history.h"

enum bsc_report_format {
	BSC_REPORT_HTML,
	BSC_REPORT_MD,
};

struct bsc_report_opts {
	int64_t from_ms, to_ms;         /* the period, [from, to) */
	int64_t now_ms;                 /* when it is generated */
	enum bsc_report_format format;
	const char *history_path;       /* shown in the report; may be NULL */
	const char *history_note;       /* why there is no history, when h is NULL */
	int max_drills;                 /* rows of the drills table (0: 10) */
};

/* Write the report.  h may be NULL (history off or not there yet): the plan
 * is written without the measured parts, saying why.  0, or -1 with a
 * message on stderr. */
int bsc_report_write(const struct bsc_cfg *cfg, struct bsc_history *h,
		     const struct bsc_report_opts *o, FILE *out);

/* "3.212 s", "4 min 12.345 s", "2 h 03 min 07 s", "3 d 04 h 10 min". */
void bsc_report_duration(int64_t ms, char *buf, size_t len);

#endif
