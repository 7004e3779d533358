// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/dns.c - the DNS engine: one A query over UDP to the resolver; NOERROR or
 * NXDOMAIN means it resolves, any other rcode that it answers but does not.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe/probe_priv.h"

static int on_dns_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *pr = userdata;
	uint8_t buf[512];
	ssize_t n;
	int rcode;

	/* The socket is connected: only the target's address and port get in. */
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			/* ECONNREFUSED: ICMP port unreachable, no resolver there. */
			bsc_probe_set_why_errno(pr, "dns", errno);
			bsc_probe_finish(pr, 0, 0, pr->why);
		}
		return 0;
	}
	rcode = bsc_dns_answer(buf, (size_t)n, pr->dns_id, pr->t.qname);
	if (rcode < 0)
		return 0; /* not an answer to our question: wait for one */
	/* NOERROR and NXDOMAIN: the resolver resolved, the path to the
	 * Internet behind it works.  SERVFAIL, REFUSED...: a resolver that
	 * answers but cannot resolve (a walled garden, a dead upstream). */
	if (rcode == 0 || rcode == 3) {
		bsc_probe_finish(pr, 1, bsc_probe_now_ns() - pr->start_ns, NULL);
		return 0;
	}
	bsc_probe_set_why(pr, "dns rcode %s: the resolver answers but does not resolve",
			  bsc_dns_rcode_name(rcode));
	bsc_probe_finish(pr, 0, 0, pr->why);
	return 0;
}

int bsc_probe_dns_start(struct probe *pr)
{
	uint8_t q[300];
	size_t qlen;
	int r;

	pr->dns_id = bsc_probe_random16();
	qlen = bsc_dns_build_query(q, sizeof(q), pr->dns_id, pr->t.qname);
	if (!qlen) {
		bsc_probe_set_why(pr, "dns: bad name '%s'", pr->t.qname);
		return -EINVAL;
	}
	r = bsc_probe_udp_open(pr, "dns");
	return r ? r : bsc_probe_udp_send(pr, q, qlen, on_dns_readable, "dns");
}
