/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli/status.h - `bascule status` from the pinned maps, with the daemon's
 * "health" answer merged in when it runs (health NULL: the daemon is not
 * running, and it says so).
 */
#ifndef BSC_CLI_STATUS_H
#define BSC_CLI_STATUS_H

#include <stdio.h>
#include "dataplane/maps.h"

struct json_object;
int bsc_status_print(const struct bsc_maps *m, const char *pin_root, struct json_object *health,
		     FILE *out);
int bsc_status_json(const struct bsc_maps *m, const char *pin_root, struct json_object *health,
		    FILE *out);

#endif
