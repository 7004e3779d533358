/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control.h - what the operator can do to a running data plane, shared by
 * the CLI and the daemon: mark uplinks down/up/drained, choose the active
 * uplink by hand, and report status.
 */
#ifndef BSC_CONTROL_H
#define BSC_CONTROL_H

#include <stdio.h>
#include "dataplane/maps.h"

/* Operational state of an uplink from what is known of it. Pure. */
uint32_t bsc_uplink_oper_state(uint32_t admin, int carrier, uint32_t addr, const uint8_t gw_mac[6]);

/* Set the operator's word on an uplink, apply it at once, reselect the
 * active uplink and, if the uplink stopped carrying flows, reset its TCP
 * flows.  Message on out. */
int bsc_ctl_uplink_admin(const struct bsc_maps *m, const char *name, uint32_t admin, FILE *out);
/* Prefer an uplink for policy 0 (name NULL: back to priority order). */
int bsc_ctl_uplink_activate(const struct bsc_maps *m, const char *name, FILE *out);

/* Status from the pinned maps, with the daemon's "health" answer merged in
 * when it runs (health NULL: the daemon is not running, and it says so). */
struct json_object;
int bsc_status_print(const struct bsc_maps *m, const char *pin_root, struct json_object *health,
		     FILE *out);
int bsc_status_json(const struct bsc_maps *m, const char *pin_root, struct json_object *health,
		    FILE *out);

#endif
