// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lib/log.c - leveled logging to stderr (journald picks it up under systemd). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "lib/log.h"

int bsc_log_level = LOG_INFO;

void bsc_log(int level, const char *fmt, ...)
{
	static const char *const tag[] = { "emerg", "alert", "crit", "error",
					   "warning", "notice", "info", "debug" };
	struct timespec ts;
	va_list ap;

	if (level > bsc_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%lld.%03ld bascule %s: ", (long long)ts.tv_sec, ts.tv_nsec / 1000000,
		tag[level & 7]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
