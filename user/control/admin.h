/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control/admin.h - what the operator can do to an uplink (mark it down,
 * drained or back in service; prefer it, or go back to priority order),
 * named in one table read by the CLI and the daemon.
 *
 * One owner per decision: with a daemon running, `bascule uplink` sends the
 * verb over the control socket ("uplink VERB NAME") and the daemon applies
 * it and decides the active uplink with everything it knows (health,
 * hold-down).  The bsc_ctl_uplink_* functions below are for when no daemon
 * runs: they apply the verb to the pinned maps and reselect with the same
 * chooser (maps.c's bsc_policy_reselect -> health's bsc_choose_active)
 * from what the maps hold.
 */
#ifndef BSC_CONTROL_ADMIN_H
#define BSC_CONTROL_ADMIN_H

#include <stdio.h>
#include "dataplane/maps.h"

enum bsc_verb_kind {
	BSC_VERB_ADMIN,         /* sets the uplink's admin word */
	BSC_VERB_PREFER,        /* sets policy 0's preferred uplink */
};

struct bsc_uplink_verb {
	const char *name;
	enum bsc_verb_kind kind;
	uint32_t admin;         /* BSC_VERB_ADMIN: the word it sets */
	int needs_name;         /* takes an uplink NAME */
};

extern const struct bsc_uplink_verb bsc_uplink_verbs[]; /* ends with a NULL name */
const struct bsc_uplink_verb *bsc_uplink_verb_find(const char *verb);
/* "up", "down", ... for a data-plane state (BSC_UPLINK_*) */
const char *bsc_uplink_state_name(uint32_t s);

/* Operational state of an uplink from what is known of it. Pure. */
uint32_t bsc_uplink_oper_state(uint32_t admin, int carrier, uint32_t addr, const uint8_t gw_mac[6]);

/* No daemon: set the operator's word on an uplink, apply it at once,
 * reselect the active uplink and, if the uplink stopped carrying flows,
 * reset its TCP flows.  Message on out. */
int bsc_ctl_uplink_admin(const struct bsc_maps *m, const char *name, uint32_t admin, FILE *out);
/* No daemon: prefer an uplink for policy 0 (name NULL: back to priority
 * order). */
int bsc_ctl_uplink_activate(const struct bsc_maps *m, const char *name, FILE *out);

#endif
