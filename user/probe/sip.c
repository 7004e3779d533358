// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/sip.c - the SIP engine: one OPTIONS over UDP; the final reply carrying
 * our Call-ID decides (the status expected, or a 2xx or a server's own
 * 4xx).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "probe/probe_priv.h"

static int on_sip_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *pr = userdata;
	char buf[2048];
	ssize_t n;
	int status, want = pr->t.expect_status;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			bsc_probe_set_why_errno(pr, "sip", errno);
			bsc_probe_finish(pr, 0, 0, pr->why);
		}
		return 0;
	}
	status = bsc_sip_reply_status(buf, (size_t)n, pr->call_id);
	if (status < 200)
		return 0; /* not ours, or provisional (1xx): the final one follows */
	if (want ? status == want : bsc_sip_status_alive(status)) {
		bsc_probe_finish(pr, 1, bsc_probe_now_ns() - pr->start_ns, NULL);
		return 0;
	}
	if (want)
		bsc_probe_set_why(pr, "sip status %d, expected %d", status, want);
	else
		bsc_probe_set_why(pr, "sip status %d: not a 2xx, nor a 4xx of a server that judged the request",
			status);
	bsc_probe_finish(pr, 0, 0, pr->why);
	return 0;
}

int bsc_probe_sip_start(struct probe *pr)
{
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	char req[768], tag[12];
	size_t len;
	int r;

	r = bsc_probe_udp_open(pr, "sip");
	if (r)
		return r;
	if (getsockname(pr->fd, (struct sockaddr *)&me, &ml))
		return bsc_probe_set_why_errno(pr, "sip getsockname", errno);
	snprintf(pr->call_id, sizeof(pr->call_id), "%04x%04x%04x@bascule", bsc_probe_random16(),
		 bsc_probe_random16(), bsc_probe_random16());
	snprintf(tag, sizeof(tag), "%04x%04x", bsc_probe_random16(), bsc_probe_random16());
	len = bsc_sip_build_options(req, sizeof(req), pr->t.addr, bsc_probe_default_port(&pr->t),
				    me.sin_addr.s_addr, ntohs(me.sin_port), pr->call_id, tag);
	return bsc_probe_udp_send(pr, req, len, on_sip_readable, "sip");
}
