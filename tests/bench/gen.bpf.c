// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gen.bpf.c - the bench's packet generator.  Run with BPF_PROG_TEST_RUN in
 * live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): every repetition's XDP_TX
 * sends the frame out of the device named by the ctx's ingress_ifindex.
 * Pages are recycled with whatever the path wrote into them (the kernel's
 * forwarding and the XDP programs rewrite MACs, TTL and addresses in place),
 * so the whole Ethernet/IPv4/UDP header is written from a template every
 * time, then the flow's source address and ports, the IPv4 checksum
 * recomputed, the UDP checksum zero.  gen_ctr also counts the frames sent
 * (per CPU): the offered rate that `bench rate -g` reads beside the sink's.
 */
#include "flowpkt.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cnt);
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
	__u32 zero = 0;
	struct gen_cfg *c = bpf_map_lookup_elem(&gen_conf, &zero);
	struct gen_cnt *n = bpf_map_lookup_elem(&gen_ctr, &zero);

	if (!c || !n || bench_flow_frame(ctx, c, &n->idx, 0, 0))
		return XDP_ABORTED;
	n->sent++; /* offered: what the sink gets is the rest minus drops */
	return XDP_TX;
}
