/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon/daemon.h - `bascule run`: bring the data plane up from a configuration,
 * keep the maps in step with the kernel's view of the uplinks, expire flows.
 */
#ifndef BSC_DAEMON_H
#define BSC_DAEMON_H

#include "config/config.h"

struct bsc_run_opts {
	int keep;               /* leave the data plane running on exit */
	int foreground_log;     /* log to stderr (always, for now) */
};

int bsc_daemon_run(const struct bsc_cfg *cfg, const struct bsc_run_opts *o);

#define BSC_PORT_RANGE_SYSCTL "/proc/sys/net/ipv4/ip_local_port_range"
int bsc_nat_ranges_check(const struct bsc_cfg *cfg, const char *range_file,
			 char *err, size_t errlen);

#endif
