// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/drill_flow.c - the drill's synthetic flow: an ICMP echo from the
 * edge's LAN address, run through bascule_lan (BPF_PROG_RUN, live frames)
 * so that it is forwarded and translated like a LAN host's, and its replies
 * read off the LAN side, telling which uplink each came back through.
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


size_t bsc_drill_build_echo(uint8_t *buf, size_t cap, const uint8_t mac[6], uint32_t src,
			    uint32_t dst, uint16_t id, uint16_t seq)
{
	size_t len = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct icmphdr) + PAYLOAD_LEN;
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct icmphdr *ic = (struct icmphdr *)(ip + 1);

	if (cap < len)
		return 0;
	memset(buf, 0, len);
	/* As if sent to the box by a host on the LAN: the box itself. */
	memcpy(eth->h_dest, mac, 6);
	memcpy(eth->h_source, mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(len - ETH_HLEN));
	ip->id = htons(seq);
	ip->frag_off = htons(0x4000);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = bsc_csum(ip, sizeof(*ip), 0);
	ic->type = ICMP_ECHO;
	ic->un.echo.id = htons(id);
	ic->un.echo.sequence = htons(seq);
	memcpy(ic + 1, PAYLOAD, PAYLOAD_LEN);
	ic->checksum = bsc_csum(ic, sizeof(*ic) + PAYLOAD_LEN, 0);
	return len;
}

void bsc_drill_send_echo(struct bsc_drill *x)
{
	/* 4 bytes of metadata in front of the frame: what tells the data
	 * plane that the box itself, not a LAN host, sends from its own LAN
	 * address (no frame from the wire has any). */
	enum { META = 4 };
	uint8_t frame[128 + META] = { 0 };
	uint16_t id = x->ph == VERIFY ? x->verify_id : x->id;
	size_t len = bsc_drill_build_echo(frame + META, sizeof(frame) - META, x->lan_mac,
					  x->lan_addr, x->target, id, x->seq);
	struct xdp_md ctx = { .data = META, .data_end = (uint32_t)(len + META),
			      .ingress_ifindex = x->lan_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)(len + META),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	/* Into bascule_lan as a frame received on the LAN: the data plane
	 * binds it, translates it and sends it out of an uplink for real. */
	x->sent_at[x->seq % SEQ_RING] = bsc_now_ns();
	x->seq++;
	if (bpf_prog_test_run_opts(x->prog_fd, &o))
		x->send_errors++;
	else
		x->sent++;
}

static int on_send_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct bsc_drill *x = data;

	if (x->ph != DONE)
		bsc_drill_send_echo(x);
	sd_event_source_set_time_relative(s, (uint64_t)x->dc.interval_ms * 1000);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct bsc_drill *x = data;
	uint8_t buf[256], cbuf[128];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	uint32_t ifindex = 0;
	uint64_t now;
	ssize_t n;

	while ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) > 0) {
		const struct iphdr *ip = (const struct iphdr *)buf;
		const struct icmphdr *ic;
		uint16_t id, seq;

		now = bsc_now_ns();
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
				ifindex = (uint32_t)((struct in_pktinfo *)CMSG_DATA(cm))->ipi_ifindex;
		mh.msg_controllen = sizeof(cbuf);
		if ((size_t)n < sizeof(*ip) || (size_t)n < (size_t)ip->ihl * 4 + sizeof(*ic))
			continue;
		ic = (const struct icmphdr *)(buf + ip->ihl * 4);
		id = ntohs(ic->un.echo.id);
		seq = ntohs(ic->un.echo.sequence);
		if (ic->type != ICMP_ECHOREPLY || ip->saddr != x->target || ip->daddr != x->lan_addr ||
		    (id != x->id && id != x->verify_id))
			continue;
		x->answered++;
		if (ifindex && ifindex == x->d->up[x->primary].ifindex) {
			x->via_primary++;
			if (x->ph == VERIFY && id == x->verify_id && !x->t_verified)
				x->t_verified = now;
		} else if (ifindex && x->backup < (uint32_t)x->d->n &&
			   ifindex == x->d->up[x->backup].ifindex) {
			x->via_backup++;
			if (!x->t_cut && x->t_fault) {
				x->t_cut = now;
				x->rtt_backup_ms = bsc_drill_ms_between(x->sent_at[seq % SEQ_RING], now);
			}
		}
	}
	return 0;
}

int bsc_drill_flow_open(struct bsc_drill *x, char *why, size_t len)
{
	uint32_t filter = ~(1u << ICMP_ECHOREPLY);
	int one = 1, r;

	x->raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (x->raw < 0 || setsockopt(x->raw, SOL_RAW, 1 /* ICMP_FILTER */, &filter, sizeof(filter)) ||
	    setsockopt(x->raw, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))) {
		snprintf(why, len, "raw ICMP socket: %s", strerror(errno));
		return -1;
	}
	r = sd_event_add_io(x->d->ev, &x->raw_io, x->raw, EPOLLIN, on_reply, x);
	if (r >= 0)
		r = sd_event_add_time_relative(x->d->ev, &x->send_timer, CLOCK_MONOTONIC, 0, 100,
					       on_send_timer, x);
	if (r < 0) {
		snprintf(why, len, "event loop: %s", strerror(-r));
		return -1;
	}
	return 0;
}
