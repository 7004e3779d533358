// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/report_cmd.c - `bascule report`: its arguments (the configuration, the
 * history, the period, the format, the output), opening the history
 * read-only (none is not an error: the plan is written without it), and
 * where the page goes: stdout, or a file written aside and renamed.  The
 * report itself is bsc_report_write (report/).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/report_cmd.h"
#include "config/config.h"
#include "history/history.h"
#include "report/report.h"

#define DAY_MS 86400000ll

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
