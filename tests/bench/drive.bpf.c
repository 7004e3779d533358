// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * drive.bpf.c - runs bascule_lan or bascule_wan many times in one
 * BPF_PROG_TEST_RUN (a large repeat), on a new packet every time.
 *
 * A repeat runs on the buffer the previous repeat rewrote, so bench_drive
 * first writes the whole Ethernet/IPv4/UDP header of flow i (i = a per-CPU
 * counter % nflows, the generator's flow numbering, bench.h) from a
 * template, then tail-calls slot 0 of drive_jmp: bascule_lan, bascule_wan,
 * or bench_nop (which gives the driver's own share, subtracted).  With
 * dir = 1 it writes the reply that flow i's remote end sends to the uplink
 * (addresses and ports swapped, destination = the uplink's address, port
 * kept: the generator's flows never collide on a NAT port).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct drive_cfg {
	struct gen_cfg g;
	__u32 dir;      /* 0: LAN -> remote; 1: remote -> uplink */
	__u32 daddr;    /* network order: the remote (dir 0) / the uplink (dir 1) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} drive_ctr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct drive_cfg);
} drive_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} drive_jmp SEC(".maps");

SEC("xdp")
int bench_drive(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);
	struct drive_cfg *c;
	__u32 zero = 0, i, g, r, sum = 0;
	__u16 *w;
	__u32 *n;
	int k;

	if ((void *)(uh + 1) > end)
		return XDP_ABORTED;
	c = bpf_map_lookup_elem(&drive_conf, &zero);
	n = bpf_map_lookup_elem(&drive_ctr, &zero);
	if (!c || !n || !c->g.nflows)
		return XDP_ABORTED;
	__builtin_memcpy(data, c->g.hdr, 42);
	i = *n;
	*n = i + 1 >= c->g.nflows ? 0 : i + 1;
	g = i / BENCH_GROUP;
	r = i - g * BENCH_GROUP;

	if (c->dir) {
		ip->saddr = ip->daddr; /* the template's: the remote */
		ip->daddr = c->daddr;
		uh->source = bpf_htons(c->g.dport0 + g);
		uh->dest = bpf_htons(c->g.sport0 + r);
	} else {
		ip->saddr = bpf_htonl(c->g.saddr0 + g);
		uh->source = bpf_htons(c->g.sport0 + r);
		uh->dest = bpf_htons(c->g.dport0 + g);
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
	bpf_tail_call(ctx, &drive_jmp, 0);
	return XDP_ABORTED;
}
