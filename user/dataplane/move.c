// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dataplane/move.c - moving flows off an uplink: datagram flows marked to
 * rebind (failback), TCP flows marked to be reset, and the kick that makes
 * a LAN host's stranded TCP connection meet its reset at once.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/balance.h"
#include "dataplane/move.h"
#include "lib/checksum.h"
#include "lib/clock.h"

size_t bsc_kick_frame(uint8_t *buf, const struct bsc_config *cfg,
		      const struct bsc_flow_key *k, const struct bsc_flow *f, uint32_t seq)
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct tcphdr *th = (struct tcphdr *)(ip + 1);
	uint8_t pseudo[12];
	uint32_t sum = 0;
	size_t i;

	memset(buf, 0, sizeof(*eth) + sizeof(*ip) + sizeof(*th));
	memcpy(eth->h_dest, f->lan_mac, ETH_ALEN);
	memcpy(eth->h_source, cfg->lan_mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*th));
	ip->saddr = k->daddr; /* from the remote end ... */
	ip->daddr = k->saddr; /* ... to the LAN host */
	ip->check = bsc_csum(ip, sizeof(*ip), 0);

	th->source = k->dport;
	th->dest = k->sport;
	th->seq = htonl(seq);
	th->ack_seq = 0;
	th->doff = 5;
	th->ack = 1;
	th->window = htons(1024);

	memcpy(pseudo, &ip->saddr, 4);
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = sizeof(*th);
	for (i = 0; i < sizeof(pseudo); i += 2)
		sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	th->check = bsc_csum(th, sizeof(*th), sum);
	return sizeof(*eth) + sizeof(*ip) + sizeof(*th);
}

static int tcp_live(const struct bsc_flow_key *k, const struct bsc_flow *f)
{
	return k->proto == IPPROTO_TCP && !(f->tcp & BSC_TCP_RST) &&
	       !((f->tcp & BSC_TCP_FIN_LAN) && (f->tcp & BSC_TCP_FIN_WAN));
}

/* The move (of n) that takes this flow, or NULL. */
static struct bsc_move *move_of(const struct bsc_flow_key *k, const struct bsc_flow *f,
				struct bsc_move *mv, int n)
{
	int i;

	if (!f->nat_addr)
		return NULL; /* marked already */
	for (i = 0; i < n; i++) {
		const struct bsc_move *x = &mv[i];

		if (f->uplink != x->uplink || (x->cls >= 0 && f->policy != x->cls) ||
		    (k->proto == IPPROTO_TCP && !(x->tcp && tcp_live(k, f))))
			continue;
		if (x->bal && x->bal->slot[bsc_balance_slot(k->saddr, k->daddr, k->sport, k->dport,
							    k->proto, x->persist_source)] == x->uplink)
			continue; /* its slot still maps to its uplink */
		return &mv[i];
	}
	return NULL;
}

struct moves {
	struct bsc_move *mv;
	int n;
};

static int move_cb(const struct bsc_flow_key *k, const struct bsc_flow *f, void *arg)
{
	struct moves *a = arg;

	return move_of(k, f, a->mv, a->n) != NULL;
}

/* The flows a move takes are marked (nat_addr 0, which no uplink has): the
 * data plane rebinds a datagram flow on its next packet from the LAN as it
 * does when an uplink fails (to its class's uplink now, the old port
 * released then), which spends none of the host's new-flow budget, and
 * answers a TCP one's next segment with a RST.  Deleting datagram flows
 * made each a new flow, and a host with more datagram flows than its burst
 * lost the rest until its bucket refilled.  Meanwhile a reply still on its
 * way over the old uplink reaches the host.  The data plane may move or
 * close a flow between the walk and the write: each is read again just
 * before, so a race costs at most one flow rebound twice.  One walk for
 * all the moves of a decision. */
int bsc_flows_move(const struct bsc_maps *m, struct bsc_move *mv, int n)
{
	struct moves a = { .mv = mv, .n = n };
	struct bsc_flow_key *keys = NULL;
	struct bsc_flow f;
	size_t nk = 0, i;
	int moved = 0, ret;

	for (i = 0; i < (size_t)n; i++)
		mv[i].datagrams = mv[i].tcp_marked = 0;
	ret = bsc_flows_walk(m, move_cb, &a, &keys, &nk);
	if (ret < 0) {
		free(keys);
		return ret;
	}
	for (i = 0; i < nk; i++) {
		struct bsc_move *x;

		if (bpf_map_lookup_elem(m->flows, &keys[i], &f) || !(x = move_of(&keys[i], &f, mv, n)))
			continue;
		f.nat_addr = 0;
		if (bpf_map_update_elem(m->flows, &keys[i], &f, BPF_EXIST))
			continue;
		moved++;
		if (keys[i].proto == IPPROTO_TCP)
			x->tcp_marked++;
		else
			x->datagrams++;
	}
	if (moved)
		bsc_flows_invalidate(m); /* no cached copy of them serves */
	free(keys);
	return moved;
}

int bsc_flows_unbind_datagrams(const struct bsc_maps *m, uint32_t uplink)
{
	struct bsc_move mv = { .uplink = uplink, .cls = -1 };

	return bsc_flows_move(m, &mv, 1);
}

struct kick_arg {
	uint32_t uplink;
	struct bsc_uplink up; /* its entry as the slice began */
	int have_up;
};

/* Live TCP flows the data plane answers with a RST: those of an uplink that
 * no longer keeps them (failed, or marked by a move).  A connection that
 * already closed needs no reset. */
static int kick_cb(const struct bsc_flow_key *k, const struct bsc_flow *f, void *arg)
{
	const struct kick_arg *a = arg;

	return tcp_live(k, f) && f->uplink == a->uplink &&
	       !(a->have_up && bsc_uplink_keeps(&a->up, f->nat_addr));
}

int bsc_flows_kick_tcp_step(const struct bsc_maps *m, uint32_t uplink, struct bsc_walk *w,
			    uint32_t max)
{
	struct kick_arg a = { .uplink = uplink };
	struct bsc_flow_key *keys = NULL;
	struct sockaddr_ll sll = { 0 };
	struct bsc_config cfg;
	uint32_t zero = 0;
	size_t n = 0, i;
	int fd, sent = 0;

	if (bpf_map_lookup_elem(m->config, &zero, &cfg) || !cfg.lan_ifindex)
		return -ENODEV;
	a.have_up = !bsc_uplink_read(m, uplink, &a.up);
	/* as the sweep's slices: at most BSC_SLICE_ACTS kicks, a send each */
	bsc_flows_walk_part(m, kick_cb, &a, &keys, &n, w, max, max ? BSC_SLICE_ACTS : 0);
	if (!n) {
		free(keys);
		return 0;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(keys);
		return -errno;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)cfg.lan_ifindex;
	sll.sll_halen = ETH_ALEN;
	for (i = 0; i < n; i++) {
		uint8_t frame[64];
		struct bsc_flow f;
		uint32_t seq;
		size_t len;

		if (bpf_map_lookup_elem(m->flows, &keys[i], &f) || !kick_cb(&keys[i], &f, &a))
			continue;
		/* Any sequence number far from the host's window draws a
		 * duplicate ACK (RFC 793 3.9, RFC 5961 for an old ACK). */
		if (getrandom(&seq, sizeof(seq), 0) != sizeof(seq))
			seq = (uint32_t)bsc_now_ns();
		len = bsc_kick_frame(frame, &cfg, &keys[i], &f, seq);
		memcpy(sll.sll_addr, f.lan_mac, ETH_ALEN);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len)
			sent++;
	}
	close(fd);
	free(keys);
	return sent;
}

int bsc_flows_kick_tcp(const struct bsc_maps *m, uint32_t uplink)
{
	struct bsc_walk w = { 0 };

	return bsc_flows_kick_tcp_step(m, uplink, &w, 0);
}
