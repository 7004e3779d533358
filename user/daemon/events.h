/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon/events.h - what happened to the uplinks, kept in memory for
 * `bascule events`, logged, and handed to the operator's hook scripts.
 */
#ifndef BSC_EVENTS_H
#define BSC_EVENTS_H

#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#define BSC_EVENTS_MAX 256

struct bsc_event {
	uint64_t realtime_ns;
	uint64_t mono_ns;
	char kind[16];          /* "uplink", "active" or "class" */
	char uplink[16];
	char old_state[16];
	char new_state[16];
	char reason[112];
};

struct bsc_events {
	struct bsc_event ring[BSC_EVENTS_MAX];
	unsigned head, count;
};

void bsc_events_add(struct bsc_events *e, const struct bsc_event *ev);
/* Oldest first. */
const struct bsc_event *bsc_events_get(const struct bsc_events *e, unsigned i);
void bsc_events_json(const struct bsc_events *e, FILE *out);

/* The hook runner: each hook with the event in its environment
 * (BASCULE_EVENT, BASCULE_UPLINK, BASCULE_OLD_STATE, BASCULE_NEW_STATE,
 * BASCULE_REASON, BASCULE_ACTIVE, BASCULE_TIME), its signals as a fresh
 * process has them, no descriptor of the daemon's but 0-2, in a process
 * group of its own.  At most max_running at once; each killed (its group)
 * after timeout_ms (0 = never).  Exits are watched on the loop `ev`. */
struct bsc_hooks;
struct bsc_hook_stats {
	uint64_t started, ok, failed, killed, skipped;
	unsigned running;
};
struct bsc_hooks *bsc_hooks_new(sd_event *ev, unsigned max_running, uint64_t timeout_ms);
void bsc_hooks_run(struct bsc_hooks *h, const struct bsc_event *ev, const char *active,
		   const char hooks[][256], int n);
void bsc_hooks_stats(const struct bsc_hooks *h, struct bsc_hook_stats *s);
void bsc_hooks_free(struct bsc_hooks *h);

#endif
