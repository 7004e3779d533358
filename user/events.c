// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * events.c - the event ring and the hook runner.
 *
 * Hooks are fire-and-forget: a slow alerting script must never hold up a
 * failover, so the daemon forks, execs and does not wait (SIGCHLD is
 * ignored, the kernel reaps).
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "log.h"

void bsc_events_add(struct bsc_events *e, const struct bsc_event *ev)
{
	e->ring[e->head] = *ev;
	e->head = (e->head + 1) % BSC_EVENTS_MAX;
	if (e->count < BSC_EVENTS_MAX)
		e->count++;
}

const struct bsc_event *bsc_events_get(const struct bsc_events *e, unsigned i)
{
	if (i >= e->count)
		return NULL;
	return &e->ring[(e->head + BSC_EVENTS_MAX - e->count + i) % BSC_EVENTS_MAX];
}

void bsc_events_json(const struct bsc_events *e, FILE *out)
{
	struct json_object *arr = json_object_new_array();
	unsigned i;

	for (i = 0; i < e->count; i++) {
		const struct bsc_event *ev = bsc_events_get(e, i);
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "time", json_object_new_double((double)ev->realtime_ns / 1e9));
		json_object_object_add(o, "kind", json_object_new_string(ev->kind));
		json_object_object_add(o, "uplink", json_object_new_string(ev->uplink));
		json_object_object_add(o, "old", json_object_new_string(ev->old_state));
		json_object_object_add(o, "new", json_object_new_string(ev->new_state));
		json_object_object_add(o, "reason", json_object_new_string(ev->reason));
		json_object_array_add(arr, o);
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
}

void bsc_events_run_hooks(const struct bsc_event *ev, const char *active, const char hooks[][256],
			  int n)
{
	char when[32];
	int i;

	snprintf(when, sizeof(when), "%.3f", (double)ev->realtime_ns / 1e9);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			bsc_log(LOG_WARNING, "hook %s: fork: %s", hooks[i], strerror(errno));
			continue;
		}
		if (pid > 0)
			continue;
		setenv("BASCULE_EVENT", ev->kind, 1);
		setenv("BASCULE_UPLINK", ev->uplink, 1);
		setenv("BASCULE_OLD_STATE", ev->old_state, 1);
		setenv("BASCULE_NEW_STATE", ev->new_state, 1);
		setenv("BASCULE_REASON", ev->reason, 1);
		setenv("BASCULE_ACTIVE", active, 1);
		setenv("BASCULE_TIME", when, 1);
		signal(SIGCHLD, SIG_DFL);
		execl(hooks[i], hooks[i], (char *)NULL);
		_exit(127);
	}
}
