/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon/drill.h - `bascule drill`: a continuity drill run by the daemon on the
 * live site.  The active uplink is played dead inside Bascule (its replies
 * are dropped by the data plane until a deadline the daemon keeps pushing
 * forward), so the real detection and failover path runs; a synthetic flow
 * sent through the data path measures the cut-over as traffic sees it; the
 * site's service checks run over the backup; then the primary is given
 * back and the failback checked.
 *
 * Exit codes of the drill (in its JSON result, and of `bascule drill`):
 */
#ifndef BSC_DRILL_H
#define BSC_DRILL_H

#include <stdint.h>

enum bsc_drill_exit {
	BSC_DRILL_PASSED = 0,
	BSC_DRILL_FAILED = 1,   /* ran: cut-over over the RTO, a check or the failback failed */
	BSC_DRILL_USAGE = 2,
	BSC_DRILL_REFUSED = 3,  /* not started: it would take the site offline, or another runs */
	BSC_DRILL_ABORTED = 4,  /* stopped and restored: backup failed, Ctrl-C, daemon stopping */
};

struct daemon;

/* A client asked for a drill on the control connection fd.  Takes fd: the
 * drill writes progress lines ("# ...") and one final JSON line, then
 * closes it.  Refusals are answered at once. */
void bsc_drill_start(struct daemon *d, int fd);
/* From the daemon's tick: advance the drill, keep the deadline ahead. */
void bsc_drill_tick(struct daemon *d);
/* The daemon is stopping: give the uplink back at once, report aborted. */
void bsc_drill_stop(struct daemon *d, const char *why);
/* How long the running drill has run, in seconds; -1 when none runs. */
double bsc_drill_running_s(const struct daemon *d);

/* Exposed for the unit tests: the synthetic flow's frame (Ethernet, IPv4,
 * ICMP echo request), checksums filled in.  Returns its length. */
size_t bsc_drill_build_echo(uint8_t *buf, size_t cap, const uint8_t mac[6], uint32_t src,
			    uint32_t dst, uint16_t id, uint16_t seq);

#endif
