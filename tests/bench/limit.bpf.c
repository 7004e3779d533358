// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limit.bpf.c - the ceiling of XDP forwarding on these interfaces: swap in
 * the uplink's MAC and its gateway's, redirect through a devmap.  No parse
 * beyond Ethernet, no lookup, no rewrite of IP.  Also bench_nop, the empty
 * program whose BPF_PROG_TEST_RUN time is the harness's own overhead.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} limit_tx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct limit_cfg);
} limit_conf SEC(".maps");

SEC("xdp")
int bench_limit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct limit_cfg *c;
	__u32 zero = 0;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	c = bpf_map_lookup_elem(&limit_conf, &zero);
	if (!c)
		return XDP_DROP;
	__builtin_memcpy(eth->h_source, c->smac, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, c->dmac, ETH_ALEN);
	return bpf_redirect_map(&limit_tx, 0, 0);
}

SEC("xdp")
int bench_nop(struct xdp_md *ctx)
{
	return XDP_PASS;
}
