// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tests/lib/unit.c - see unit.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "unit.h"

char errbuf[8192];

int parse(const char *text, struct bsc_cfg *cfg)
{
	memset(errbuf, 0, sizeof(errbuf));
	return bsc_config_parse_string(text, CONF_NAME, cfg, errbuf, sizeof(errbuf));
}

void parse_ok(const char *text, struct bsc_cfg *cfg)
{
	if (parse(text, cfg))
		fail_msg("config rejected:\n%s", errbuf);
	assert_string_equal(errbuf, "");
}

uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad address in test: %s", s);
	return a.s_addr;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
