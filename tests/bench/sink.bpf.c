// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sink.bpf.c - the counting sink beyond an uplink (the ISP side of the edge's
 * wanX).  IPv4 UDP is counted per CPU and dropped; everything else (ARP, the
 * edge's own traffic, TCP for iperf3) goes on to the kernel.  Being an XDP
 * program, it also lets the veth accept XDP_REDIRECTed frames.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_cnt);
} sink_cnt SEC(".maps");

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct sink_cnt *c;
	__u32 zero = 0;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&sink_cnt, &zero);
	if (!c)
		return XDP_DROP;
	if (!c->first_ns)
		c->first_ns = bpf_ktime_get_ns();
	c->pkts++;
	return XDP_DROP;
}
