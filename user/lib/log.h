/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/log.h - one logging call for the controller: stderr with a level tag. */
#ifndef BSC_LOG_H
#define BSC_LOG_H

#include <syslog.h>

extern int bsc_log_level;
void bsc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
