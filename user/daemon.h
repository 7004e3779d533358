/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon.h - `bascule run`: bring the data plane up from a configuration,
 * keep the maps in step with the kernel's view of the uplinks, expire flows.
 */
#ifndef BSC_DAEMON_H
#define BSC_DAEMON_H

#include "config.h"

struct bsc_run_opts {
	int keep;               /* leave the data plane running on exit */
	int foreground_log;     /* log to stderr (always, for now) */
};

int bsc_daemon_run(const struct bsc_cfg *cfg, const struct bsc_run_opts *o);

#endif
