// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gen.bpf.c - the bench's packet generator.  Run with BPF_PROG_TEST_RUN in
 * live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): every repetition's XDP_TX
 * sends the frame out of the device named by the ctx's ingress_ifindex.
 * Pages are recycled with whatever the path wrote into them (the kernel's
 * forwarding and the XDP programs rewrite MACs, TTL and addresses in place),
 * so the whole Ethernet/IPv4/UDP header is written from a template every
 * time, then the flow's source address and ports, the IPv4 checksum
 * recomputed, the UDP checksum zero.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gen_ctr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cfg);
} gen_conf SEC(".maps");

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);
	struct gen_cfg *c;
	__u32 zero = 0, i, g, r, sum = 0;
	__u16 *w;
	__u32 *n;
	int k;

	if ((void *)(uh + 1) > end)
		return XDP_ABORTED;
	c = bpf_map_lookup_elem(&gen_conf, &zero);
	n = bpf_map_lookup_elem(&gen_ctr, &zero);
	if (!c || !n || !c->nflows)
		return XDP_ABORTED;
	__builtin_memcpy(data, c->hdr, 42);
	i = *n;
	*n = i + 1 >= c->nflows ? 0 : i + 1;
	g = i / BENCH_GROUP;
	r = i - g * BENCH_GROUP;

	ip->saddr = bpf_htonl(c->saddr0 + g);
	uh->source = bpf_htons(c->sport0 + r);
	uh->dest = bpf_htons(c->dport0 + g);
	uh->check = 0;
	ip->check = 0;
	w = (__u16 *)ip;
#pragma unroll
	for (k = 0; k < 10; k++)
		sum += w[k];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	return XDP_TX;
}
