// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report/writer.c - the report's output: the primitives every section writes with
 * (text, bold, code, headings, paragraphs, lists, tables, cells), each
 * writing HTML or Markdown as struct doc says, so that both formats come
 * from the same calls and say the same thing.  Every string is escaped
 * where it is written: the configuration's text may hold anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_priv.h"

void rpt_esc(struct doc *d, const char *s)
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
	rpt_esc(d, s);
	free(s);
}

/* Text, formatted then escaped as a whole. */
void __attribute__((format(printf, 2, 3))) rpt_t(struct doc *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(d, fmt, ap);
	va_end(ap);
}

/* A command the reader may type. */
void rpt_code(struct doc *d, const char *s)
{
	fputs(d->md ? "`" : "<code>", d->f);
	if (d->md)
		fputs(s, d->f); /* trusted: the report's own words */
	else
		rpt_esc(d, s);
	fputs(d->md ? "`" : "</code>", d->f);
}

void __attribute__((format(printf, 2, 3))) rpt_b(struct doc *d, const char *fmt, ...)
{
	va_list ap;

	fputs(d->md ? "**" : "<strong>", d->f);
	va_start(ap, fmt);
	vtext(d, fmt, ap);
	va_end(ap);
	fputs(d->md ? "**" : "</strong>", d->f);
}

/* Markup that only one of the formats has. */
void rpt_html(struct doc *d, const char *s)
{
	if (!d->md)
		fputs(s, d->f);
}

void rpt_md(struct doc *d, const char *s)
{
	if (d->md)
		fputs(s, d->f);
}

void rpt_section(struct doc *d, const char *id, const char *title)
{
	if (d->md) {
		fprintf(d->f, "## %s\n\n", title);
		return;
	}
	fprintf(d->f, "<section id=\"%s\">\n<h2>", id);
	rpt_esc(d, title);
	fputs("</h2>\n", d->f);
}

void rpt_section_end(struct doc *d)
{
	rpt_html(d, "</section>\n");
}

void rpt_h3(struct doc *d, const char *title)
{
	if (d->md) {
		fputs("### ", d->f);
		rpt_esc(d, title);
		fputs("\n\n", d->f);
		return;
	}
	fputs("<h3>", d->f);
	rpt_esc(d, title);
	fputs("</h3>\n", d->f);
}

void rpt_p_open(struct doc *d, const char *cls)
{
	if (!d->md)
		fprintf(d->f, cls ? "<p class=\"%s\">" : "<p>", cls);
	else if (cls && !strcmp(cls, "note"))
		fputs("> ", d->f);
}

void rpt_p_close(struct doc *d)
{
	fputs(d->md ? "\n\n" : "</p>\n", d->f);
}

void rpt_list_open(struct doc *d, int ordered)
{
	d->cols = ordered;
	rpt_html(d, ordered ? "<ol>\n" : "<ul>\n");
}

void rpt_item_open(struct doc *d)
{
	fputs(d->md ? (d->cols ? "1. " : "- ") : "<li>", d->f);
}

void rpt_item_close(struct doc *d)
{
	fputs(d->md ? "\n" : "</li>\n", d->f);
}

void rpt_list_close(struct doc *d)
{
	fputs(d->md ? "\n" : (d->cols ? "</ol>\n" : "</ul>\n"), d->f);
}

void rpt_table_open(struct doc *d, const char *cls, int n, const char *const *heads)
{
	int i;

	d->cols = n;
	if (d->md) {
		fputs("|", d->f);
		for (i = 0; i < n; i++) {
			fputc(' ', d->f);
			rpt_esc(d, heads[i]);
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
		rpt_esc(d, heads[i]);
		fputs("</th>", d->f);
	}
	fputs("</tr></thead>\n<tbody>\n", d->f);
}

void rpt_row_open(struct doc *d)
{
	fputs(d->md ? "|" : "<tr>", d->f);
}

void rpt_row_close(struct doc *d)
{
	fputs(d->md ? "\n" : "</tr>\n", d->f);
}

/* A cell: cls styles it (num, ok, bad), ms >= 0 gives it the exact
 * duration in milliseconds (data-ms) for machines. */
void __attribute__((format(printf, 4, 5))) rpt_cell(struct doc *d, const char *cls, int64_t ms,
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

void rpt_table_close(struct doc *d)
{
	fputs(d->md ? "\n" : "</tbody>\n</table>\n", d->f);
}
