// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/drill_checks.c - the drill's service checks ([drill] check = ...)
 * over the backup, each with up to CHECK_ATTEMPTS attempts, through a
 * prober bound to the backup's interface.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/drill.h"
#include "daemon/drill_priv.h"
#include "dataplane/dataplane.h"
#include "dataplane/flows.h"
#include "dataplane/maps.h"
#include "history/history.h"
#include "lib/checksum.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"


static void on_check(void *data, unsigned tag, int ok, uint64_t rtt_ns, const char *why)
{
	struct bsc_drill *x = data;
	const struct bsc_drill_cfg *dc = &x->dc;
	unsigned idx = tag % BSC_MAX_CHECKS;
	struct check_res *c;

	if (idx >= (unsigned)dc->n_checks || x->check[idx].done)
		return;
	c = &x->check[idx];
	c->attempt = (int)(tag / BSC_MAX_CHECKS) + 1;
	why = ok ? "" : why ? why : "?";
	/* a timeout with attempts still to come or in flight: wait for them */
	if (!ok && !strcmp(why, "timeout") && ++c->failed < CHECK_ATTEMPTS)
		return;
	c->done = 1;
	c->ok = ok;
	if (!ok)
		c->attempt = c->sent;
	c->ms = (double)rtt_ns / 1e6;
	snprintf(c->why, sizeof(c->why), "%s", why);
	x->checks_pending--;
	if (ok)
		bsc_drill_say(x, "check %s over %s: ok in %.1f ms%s", dc->checks[idx].name,
		    bsc_drill_uname(x, x->backup), c->ms,
		    c->attempt > 1 ? c->attempt == 2 ? " (2nd attempt)" : " (3rd attempt)" : "");
	else
		bsc_drill_say(x, "check %s over %s: FAILED (%s)", dc->checks[idx].name, bsc_drill_uname(x, x->backup),
		    c->why);
}

/* Send attempt c->sent of check i, to end with the check's time. */
static void check_send(struct bsc_drill *x, int i, uint64_t now)
{
	const struct bsc_drill_cfg *dc = &x->dc;
	struct check_res *c = &x->check[i];
	uint64_t end = c->t0 + (uint64_t)dc->check_timeout_ms * 1000000ull;

	if (bsc_prober_send(x->prober, (unsigned)(i + c->sent * BSC_MAX_CHECKS), &dc->checks[i].t,
			    end > now ? end - now : 1) == -ENOMEM) {
		/* no callback for this one: count it as timed out */
		if (++c->failed >= CHECK_ATTEMPTS && !c->done) {
			c->done = 1;
			c->attempt = CHECK_ATTEMPTS;
			snprintf(c->why, sizeof(c->why), "out of memory");
			x->checks_pending--;
		}
	}
	c->sent++;
}

int bsc_drill_checks_start(struct bsc_drill *x)
{
	const struct bsc_drill_cfg *dc = &x->dc;
	struct uplink_rt *b = &x->d->up[x->backup];
	uint64_t now = bsc_now_ns();
	int i;

	if (!dc->n_checks)
		return 0;
	x->prober = bsc_prober_new(x->d->ev, b->cfg->ifname, on_check, x);
	if (!x->prober)
		return -1;
	bsc_prober_set_source(x->prober, b->addr);
	x->checks_pending = dc->n_checks;
	for (i = 0; i < dc->n_checks; i++) {
		x->check[i].t0 = now;
		check_send(x, i, now);
	}
	return 0;
}

/* From the drill's tick: the next attempt of each check still unanswered. */
void bsc_drill_checks_retry(struct bsc_drill *x, uint64_t now)
{
	const struct bsc_drill_cfg *dc = &x->dc;
	uint64_t step = (uint64_t)dc->check_timeout_ms * 1000000ull / CHECK_ATTEMPTS;
	int i;

	for (i = 0; x->prober && i < dc->n_checks; i++) {
		struct check_res *c = &x->check[i];

		if (!c->done && c->sent < CHECK_ATTEMPTS && now >= c->t0 + (uint64_t)c->sent * step)
			check_send(x, i, now);
	}
}
