// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/icmp.c - the ICMP echo engine.  ICMP probes share their prober's raw
 * socket (opened on the first one, re-opened on a new source address or a
 * re-created device) and are told apart by echo identifier (per prober)
 * and sequence (per probe); an ICMP error quoting one of our echoes fails
 * its probe at once.  Also the names of ICMP errors, which the TCP engine
 * reports too.
 */
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/checksum.h"
#include "probe/probe_priv.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* SOL_RAW option, from linux/icmp.h (which clashes with glibc's) */
#endif

#define ICMP_PAYLOAD "bascule-probe"

static struct probe *find_echo(struct bsc_prober *p, uint32_t target, uint16_t seq)
{
	struct probe *pr;

	for (pr = p->probes; pr; pr = pr->next)
		if (pr->t.kind == BSC_PROBE_ICMP && !pr->posted && pr->seq == seq &&
		    pr->t.addr == target)
			return pr;
	return NULL;
}

const char *bsc_probe_icmp_error_name(uint8_t type, uint8_t code)
{
	static const char *const unreach[] = {
		"network unreachable", "host unreachable", "protocol unreachable",
		"port unreachable", "fragmentation needed", "source route failed",
		"network unknown", "host unknown", "source host isolated",
		"network prohibited", "host prohibited", "network unreachable for TOS",
		"host unreachable for TOS", "administratively prohibited",
	};

	if (type == ICMP_TIME_EXCEEDED)
		return "time exceeded";
	if (code < sizeof(unreach) / sizeof(unreach[0]))
		return unreach[code];
	return "destination unreachable";
}

/* An ICMP error quoting one of our echo requests: the probe fails at once
 * with what the router said. */
static void icmp_handle_error(struct bsc_prober *p, const uint8_t *pkt, size_t len,
			      uint32_t reporter)
{
	const struct icmphdr *icmp = (const void *)pkt;
	const struct iphdr *inner = (const void *)(pkt + 8);
	const struct icmphdr *echo;
	size_t ihl;
	struct probe *pr;
	char a[INET_ADDRSTRLEN];

	if (len < 8 + sizeof(*inner))
		return;
	ihl = inner->ihl * 4u;
	if (ihl < sizeof(*inner) || len < 8 + ihl + 8 || inner->protocol != IPPROTO_ICMP ||
	    inner->saddr != p->src)
		return;
	echo = (const void *)(pkt + 8 + ihl);
	if (echo->type != ICMP_ECHO || echo->un.echo.id != htons(p->echo_id))
		return;
	pr = find_echo(p, inner->daddr, ntohs(echo->un.echo.sequence));
	if (!pr)
		return;
	bsc_probe_set_why(pr, "icmp: %s (from %s)", bsc_probe_icmp_error_name(icmp->type, icmp->code),
		bsc_probe_addr_str(reporter, a));
	bsc_probe_finish(pr, 0, 0, pr->why);
}

/* One datagram per call: a callback may free the prober, so nothing of it
 * may be touched after a probe finishes.  The source is level-triggered and
 * comes back for the rest. */
static int on_icmp_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct bsc_prober *p = userdata;
	uint8_t buf[1024];
	const struct iphdr *ip = (const void *)buf;
	const struct icmphdr *icmp;
	struct probe *pr;
	ssize_t n;
	size_t ihl;
	uint64_t t = bsc_probe_now_ns();

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*ip))
		return 0; /* EAGAIN, or a runt; a raw socket has no error to report */
	ihl = ip->ihl * 4u;
	if (ihl < sizeof(*ip) || (size_t)n < ihl + 8 || ip->protocol != IPPROTO_ICMP)
		return 0;
	icmp = (const void *)(buf + ihl);
	if (icmp->type == ICMP_DEST_UNREACH || icmp->type == ICMP_TIME_EXCEEDED) {
		icmp_handle_error(p, buf + ihl, (size_t)n - ihl, ip->saddr);
		return 0;
	}
	/* The raw socket sees all ICMP to our address on our device: other
	 * pingers' replies carry another identifier. */
	if (icmp->type != ICMP_ECHOREPLY || icmp->un.echo.id != htons(p->echo_id))
		return 0;
	pr = find_echo(p, ip->saddr, ntohs(icmp->un.echo.sequence));
	if (pr)
		bsc_probe_finish(pr, 1, t - pr->start_ns, NULL);
	return 0;
}

void bsc_probe_icmp_close(struct bsc_prober *p)
{
	p->icmp_io = sd_event_source_disable_unref(p->icmp_io);
	if (p->icmp_fd >= 0)
		close(p->icmp_fd);
	p->icmp_fd = -1;
}

static int icmp_open(struct bsc_prober *p, char *why)
{
	/* Wake up only for what can answer a probe. */
	uint32_t filter = ~(1u << ICMP_ECHOREPLY | 1u << ICMP_DEST_UNREACH |
			    1u << ICMP_TIME_EXCEEDED);
	int fd, r;

	if (p->icmp_fd >= 0)
		return 0;
	fd = bsc_probe_open_bound_socket(p, SOCK_RAW, IPPROTO_ICMP, why);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter))) {
		r = -errno;
		snprintf(why, WHY_LEN, "ICMP_FILTER: %s", strerror(-r));
		close(fd);
		return r;
	}
	r = sd_event_add_io(p->ev, &p->icmp_io, fd, EPOLLIN, on_icmp_readable, p);
	if (r < 0) {
		snprintf(why, WHY_LEN, "sd_event_add_io: %s", strerror(-r));
		close(fd);
		return r;
	}
	p->icmp_fd = fd;
	return 0;
}

static ssize_t icmp_sendto(struct bsc_prober *p, const void *pkt, size_t len,
			   const struct sockaddr_in *dst)
{
	return sendto(p->icmp_fd, pkt, len, 0, (const struct sockaddr *)dst, sizeof(*dst));
}

int bsc_probe_icmp_start(struct probe *pr)
{
	struct bsc_prober *p = pr->p;
	struct sockaddr_in dst = bsc_probe_target_sockaddr(&pr->t);
	char a[INET_ADDRSTRLEN];
	struct {
		struct icmphdr h;
		uint64_t sent_ns;       /* for whoever reads a capture */
		char tag[sizeof(ICMP_PAYLOAD)];
	} __attribute__((packed)) pkt = { 0 };
	ssize_t n;
	int r;

	r = icmp_open(p, pr->why);
	if (r < 0)
		return r;
	pr->seq = p->echo_seq++;
	pkt.h.type = ICMP_ECHO;
	pkt.h.un.echo.id = htons(p->echo_id);
	pkt.h.un.echo.sequence = htons(pr->seq);
	memcpy(pkt.tag, ICMP_PAYLOAD, sizeof(pkt.tag));
	pr->start_ns = bsc_probe_now_ns();
	pkt.sent_ns = pr->start_ns;
	pkt.h.checksum = bsc_csum(&pkt, sizeof(pkt), 0);
	n = icmp_sendto(p, &pkt, sizeof(pkt), &dst);
	if (n < 0 && errno == ENODEV) {
		/* The socket is bound to the ifindex of a device that was deleted,
		 * maybe re-created since under the same name (PPP, USB modems):
		 * a new socket binds to the current one. */
		bsc_probe_icmp_close(p);
		r = icmp_open(p, pr->why);
		if (r < 0)
			return r;
		pr->start_ns = bsc_probe_now_ns();
		n = icmp_sendto(p, &pkt, sizeof(pkt), &dst);
	}
	if (n < 0) {
		r = errno;
		bsc_probe_set_why(pr, "icmp %s: %s", bsc_probe_addr_str(pr->t.addr, a), strerror(r));
		return -r;
	}
	return 0;
}
