// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/record.c - what the controller tells about itself: every event
 * (the log or the journal, `bascule events`, the hooks) and what goes into
 * the history (transitions, the active uplink, a minute's sample, the
 * start-up grace).
 */
#include <systemd/sd-journal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/state.h"
#include "dataplane/flows.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"


void daemon_record(struct daemon *d, const char *kind, const char *uplink, const char *old,
		   const char *new, const char *reason)
{
	struct bsc_event ev = { .realtime_ns = bsc_real_ns(), .mono_ns = bsc_now_ns() };

	snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
	snprintf(ev.uplink, sizeof(ev.uplink), "%s", uplink);
	snprintf(ev.old_state, sizeof(ev.old_state), "%s", old);
	snprintf(ev.new_state, sizeof(ev.new_state), "%s", new);
	snprintf(ev.reason, sizeof(ev.reason), "%s", reason);
	bsc_events_add(&d->events, &ev);
	if (d->hist && !strcmp(kind, "uplink"))
		bsc_history_transition(d->hist, (int64_t)(ev.realtime_ns / 1000000), uplink, old, new,
				       reason);
	else if (d->hist && !strcmp(kind, "class"))
		bsc_history_class(d->hist, (int64_t)(ev.realtime_ns / 1000000), uplink, old, new, reason);
	else if (d->hist && !strcmp(kind, "active")) {
		daemon_history_settle(d);
		/* during the start-up grace, only the first usable uplink */
		if (!d->hist_start_ms || d->active < (uint32_t)d->n) {
			bsc_history_active(d->hist, (int64_t)(ev.realtime_ns / 1000000),
					   d->active < (uint32_t)d->n ? new : NULL, reason);
			d->hist_start_ms = 0;
		}
	}
	if (getenv("JOURNAL_STREAM"))
		/* under systemd: one journal entry with fields to filter on
		 * (journalctl BASCULE_UPLINK=fiber) instead of a plain line */
		sd_journal_send("MESSAGE=%s %s: %s -> %s (%s)", kind, uplink, old, new, reason,
				"PRIORITY=%d", LOG_NOTICE, "SYSLOG_IDENTIFIER=bascule",
				"BASCULE_EVENT=%s", kind, "BASCULE_UPLINK=%s", uplink,
				"BASCULE_OLD_STATE=%s", old, "BASCULE_NEW_STATE=%s", new,
				"BASCULE_REASON=%s", reason, NULL);
	else
		bsc_log(LOG_NOTICE, "%s %s: %s -> %s (%s)", kind, uplink, old, new, reason);
	if (d->hooks)
		bsc_hooks_run(d->hooks, &ev, daemon_active_name(d), d->cfg->hooks, d->cfg->n_hooks);
}

/* No uplink usable BSC_STARTUP_GRACE_MS after the start: the site has been
 * offline since then, and the history says so from the start. */
void daemon_history_settle(struct daemon *d)
{
	if (d->hist && d->hist_start_ms &&
	    bsc_now_ns() - d->hist_start_mono >= BSC_STARTUP_GRACE_MS * 1000000ull) {
		bsc_history_active(d->hist, d->hist_start_ms, NULL,
				   "daemon started, no uplink usable");
		d->hist_start_ms = 0;
	}
}

/* Data used on metered uplinks, and a heartbeat, once a minute; the
 * retention once a day. */
void daemon_history_sample(struct daemon *d)
{
	int64_t ms = (int64_t)(bsc_real_ns() / 1000000);
	struct bsc_uplink_stats st;
	int i;

	for (i = 0; i < d->n; i++)
		if (d->up[i].cfg->health.metered && !bsc_uplink_stats_sum(&d->dp.maps, d->up[i].idx, &st))
			bsc_history_usage(d->hist, ms, d->up[i].cfg->name, st.tx_bytes, st.rx_bytes);
	bsc_history_heartbeat(d->hist, ms);
	if (++d->hist_ticks % 1440 == 0)
		bsc_history_prune(d->hist, ms);
}
