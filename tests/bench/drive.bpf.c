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
#include "flowpkt.h"

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
	__u32 zero = 0;
	struct drive_cfg *c = bpf_map_lookup_elem(&drive_conf, &zero);
	__u32 *n = bpf_map_lookup_elem(&drive_ctr, &zero);

	if (!c || !n || bench_flow_frame(ctx, &c->g, n, c->dir, c->daddr))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &drive_jmp, 0);
	return XDP_ABORTED;
}
