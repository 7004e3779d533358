/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tests/lib/unit.h - what the controller's unit tests share (test_config,
 * test_dataplane_unit, test_control, test_daemon): a configuration parsed
 * from text, its messages kept; an IPv4 address from its dotted quad; the
 * monotonic clock.
 */
#ifndef BSC_TEST_UNIT_H
#define BSC_TEST_UNIT_H

#include <stdint.h>

#include "config/config.h"

/* The file name a configuration parsed from text goes by in its messages. */
#define CONF_NAME "t.conf"
/* The one uplink of a minimal file. */
#define UPA "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n"        /* 3 lines */

/* The messages of the last parse(). */
extern char errbuf[8192];

/* TEXT parsed as the file CONF_NAME into CFG: 0, or -1 with the messages
 * in errbuf. */
int parse(const char *text, struct bsc_cfg *cfg);
/* The same, and the test fails unless TEXT is accepted without a word. */
void parse_ok(const char *text, struct bsc_cfg *cfg);
/* A dotted quad as it sits in a packet (a bad one fails the test). */
uint32_t ip(const char *s);
/* CLOCK_MONOTONIC, in ns. */
uint64_t now_ns(void);

#endif
