// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * limit.bpf.c - the ceiling of XDP forwarding on these interfaces: swap in
 * the uplink's MAC and its gateway's, redirect through a devmap.  No parse
 * beyond Ethernet, no lookup, no rewrite of IP.
 *
 * bench_limit_lookup, the lookup limit: the same, plus what no NAT can do
 * without, one hash lookup of the packet's 5-tuple in a table laid out as
 * Bascule's `flows` (struct bsc_flow_key -> struct bsc_flow, bpf/lib/maps.h;
 * the loader gives it the type, flags and size of the flows map it stands
 * beside, and fills it with the generator's flows).  The redirect's devmap slot is the
 * entry's uplink, so the packet waits for the entry as Bascule's does.  A
 * packet not in the table is dropped and counted (limit_miss): the figure
 * is of packets found.
 *
 * Also bench_nop, the empty program whose BPF_PROG_TEST_RUN time is the
 * harness's own overhead.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bascule.h"
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

/* Typed and sized by the loader as Bascule's flows (bench.c limit_load). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct bsc_flow_key);
	__type(value, struct bsc_flow);
} limit_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} limit_miss SEC(".maps");

static __always_inline int limit_fwd(struct ethhdr *eth, __u32 slot)
{
	struct limit_cfg *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&limit_conf, &zero);
	if (!c)
		return XDP_DROP;
	__builtin_memcpy(eth->h_source, c->smac, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, c->dmac, ETH_ALEN);
	return bpf_redirect_map(&limit_tx, slot, 0);
}

SEC("xdp")
int bench_limit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	return limit_fwd(eth, 0);
}

SEC("xdp")
int bench_limit_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1); /* the generator sends no IP options */
	struct bsc_flow_key k = { 0 };
	struct bsc_flow *f;
	__u32 zero = 0;
	__u64 *miss;

	if ((void *)(uh + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	k.saddr = ip->saddr;
	k.daddr = ip->daddr;
	k.sport = uh->source;
	k.dport = uh->dest;
	k.proto = ip->protocol;
	f = bpf_map_lookup_elem(&limit_flows, &k);
	if (!f) {
		miss = bpf_map_lookup_elem(&limit_miss, &zero);
		if (miss)
			(*miss)++;
		return XDP_DROP;
	}
	return limit_fwd(eth, f->uplink);
}

SEC("xdp")
int bench_nop(struct xdp_md *ctx)
{
	return XDP_PASS;
}
