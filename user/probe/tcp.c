// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/tcp.c - the TCP connect engine: a SYN-ACK or the target's RST means
 * "alive", a refusal by an ICMP error on the way does not.  HTTP probes
 * start here too, and go on in http.c once connected.
 */
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe/probe_priv.h"

/* A refused connect is the target's RST, or an ICMP port or protocol
 * unreachable from any hop on the way (a walled garden, a firewall), which
 * the kernel reports with the same errno.  With IP_RECVERR, the ICMP one is
 * also queued on the socket's error queue with its sender; a RST queues
 * nothing.  1 (and `why` set) when the refusal was an ICMP error. */
static int refused_by_icmp(struct probe *pr)
{
	char cbuf[512], from[INET_ADDRSTRLEN];
	struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(pr->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
		const struct sockaddr_in *off;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR ||
		    ee->ee_origin != SO_EE_ORIGIN_ICMP)
			continue;
		off = (const struct sockaddr_in *)SO_EE_OFFENDER(ee);
		inet_ntop(AF_INET, &off->sin_addr, from, sizeof(from));
		bsc_probe_set_why(pr, "tcp: %s (from %s): an ICMP error, not the target's RST",
			bsc_probe_icmp_error_name(ee->ee_type, ee->ee_code), from);
		return 1;
	}
	return 0;
}

/* Connected (or refused): a TCP probe is over, an HTTP probe starts talking. */
static void tcp_connected(struct probe *pr)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (pr->t.kind == BSC_PROBE_TCP && err == ECONNREFUSED && refused_by_icmp(pr)) {
		bsc_probe_finish(pr, 0, 0, pr->why);
		return;
	}
	if (pr->t.kind == BSC_PROBE_TCP && (!err || err == ECONNREFUSED)) {
		/* SYN-ACK or the target's RST: the path to the host works. */
		bsc_probe_finish(pr, 1, bsc_probe_now_ns() - pr->start_ns, NULL);
		return;
	}
	if (err) {
		bsc_probe_set_why_errno(pr, "connect", err);
		bsc_probe_finish(pr, 0, 0, pr->why);
		return;
	}
	pr->phase = HTTP_SENDING;
	bsc_probe_http_send(pr);
}

static int on_tcp_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *pr = userdata;

	switch (pr->phase) {
	case HTTP_CONNECTING:
		tcp_connected(pr);
		break;
	case HTTP_SENDING:
		bsc_probe_http_send(pr);
		break;
	case HTTP_READING:
		bsc_probe_http_read(pr);
		break;
	}
	return 0;
}

int bsc_probe_tcp_start(struct probe *pr)
{
	struct sockaddr_in dst = bsc_probe_target_sockaddr(&pr->t);
	int r;

	if (!dst.sin_port) {
		bsc_probe_set_why(pr, "tcp: no port");
		return -EINVAL;
	}
	if (pr->t.kind == BSC_PROBE_HTTP) {
		pr->req_len = bsc_probe_http_build_request(&pr->t, pr->req, sizeof(pr->req));
		if (!pr->req_len) {
			bsc_probe_set_why(pr, "http: request too long");
			return -EINVAL;
		}
	}
	pr->fd = bsc_probe_open_bound_socket(pr->p, SOCK_STREAM, 0, pr->why);
	if (pr->fd < 0)
		return pr->fd;
	if (pr->t.kind == BSC_PROBE_TCP &&
	    setsockopt(pr->fd, IPPROTO_IP, IP_RECVERR, &(int){ 1 }, sizeof(int)))
		return bsc_probe_set_why_errno(pr, "IP_RECVERR", errno);
	pr->start_ns = bsc_probe_now_ns();
	if (connect(pr->fd, (struct sockaddr *)&dst, sizeof(dst)) && errno != EINPROGRESS) {
		r = errno;
		if (r == ECONNREFUSED && pr->t.kind == BSC_PROBE_TCP) {
			if (refused_by_icmp(pr)) {
				bsc_probe_post(pr, 0);
				return 0;
			}
			bsc_probe_post(pr, 1); /* refused at once is still an answer */
			return 0;
		}
		return bsc_probe_set_why_errno(pr, "connect", r);
	}
	pr->phase = HTTP_CONNECTING;
	r = sd_event_add_io(pr->p->ev, &pr->io, pr->fd, EPOLLOUT, on_tcp_io, pr);
	if (r < 0) {
		bsc_probe_set_why(pr, "sd_event_add_io: %s", strerror(-r));
		return r;
	}
	return 0;
}
