/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flowpkt.h - the generator's and the loop driver's frame of flow i: the
 * Ethernet/IPv4/UDP header written whole from the template (a recycled page
 * or a previous repeat left rewritten bytes in it), then the flow's
 * addresses and ports (bench.h numbering), the IPv4 checksum recomputed and
 * the UDP checksum zero.  BPF programs only. */
#ifndef BSC_BENCH_FLOWPKT_H
#define BSC_BENCH_FLOWPKT_H
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

/* Write the next flow's frame (flow c->first + *ctr) and advance *ctr (mod
 * c->nflows).  reply = 0:
 * from LAN host saddr0 + g, port sport0 + r, to the template's remote on
 * dport0 + g; reply = 1: that flow's remote answering to `daddr` (network
 * order) on the same port.  -1 if the frame is too short or nflows is 0. */
static __always_inline int bench_flow_frame(struct xdp_md *ctx, const struct gen_cfg *c,
					    __u32 *ctr, __u32 reply, __u32 daddr)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);
	__u32 i, g, r, sum = 0;
	__u16 *w;
	int k;

	if ((void *)(uh + 1) > end || !c->nflows)
		return -1;
	__builtin_memcpy(data, c->hdr, 42);
	i = *ctr;
	*ctr = i + 1 >= c->nflows ? 0 : i + 1;
	if (c->nhot && (i & 127) < c->hot_of_128)
		i %= c->nhot;
	i += c->first;
	g = i / BENCH_GROUP;
	r = i - g * BENCH_GROUP;

	if (reply) {
		ip->saddr = ip->daddr; /* the template's: the remote */
		ip->daddr = daddr;
		uh->source = bpf_htons(c->dport0 + g);
		uh->dest = bpf_htons(c->sport0 + r);
	} else {
		ip->saddr = bpf_htonl(c->saddr0 + g);
		uh->source = bpf_htons(c->sport0 + r);
		uh->dest = bpf_htons(c->dport0 + g);
	}
	uh->check = 0;
	ip->check = 0;
	w = (__u16 *)ip;
#pragma unroll
	for (k = 0; k < 10; k++)
		sum += w[k];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	return 0;
}
#endif
