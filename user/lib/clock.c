// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lib/clock.c - see clock.h. */
#include <time.h>

#include "lib/clock.h"

static uint64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bsc_now_ns(void)
{
	return ns_of(CLOCK_MONOTONIC);
}

uint64_t bsc_real_ns(void)
{
	return ns_of(CLOCK_REALTIME);
}
