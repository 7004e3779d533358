/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bench.h - what the bench's BPF programs and its driver share. */
#ifndef BSC_BENCH_H
#define BSC_BENCH_H
#include <linux/types.h>

/* Flow i of the generator (i = packet counter % nflows):
 *   group g = i / BENCH_GROUP, r = i % BENCH_GROUP
 *   saddr = saddr0 + g, sport = sport0 + r, dport = dport0 + g
 * so every LAN address talks to a remote endpoint of its own and a NAT
 * keeps each LAN port (no NAT port collisions, up to 64 K flows per group). */
#define BENCH_GROUP 50000

struct gen_cfg {
	__u32 nflows;
	__u32 saddr0;   /* host byte order */
	__u16 sport0;   /* host byte order */
	__u16 dport0;
	/* A skewed popularity, as real traffic has (0 = off): of every 128
	 * packets, hot_of_128 go to flows 0..nhot-1 (flow i % nhot), the rest
	 * to flow i itself, spread over the whole table. */
	__u16 nhot;
	__u16 hot_of_128;
	/* Ethernet + IPv4 + UDP headers written whole into every frame: in
	 * live-frames mode a page comes back to the generator's pool with what
	 * the path wrote into it (MACs, TTL, NAT address). */
	__u8 hdr[44];
};

/* Per-CPU value of the sink's counter. */
struct sink_cnt {
	__u64 pkts;
	__u64 first_ns; /* bpf_ktime_get_ns() of the first counted packet */
};

struct limit_cfg {
	__u8 smac[6];
	__u8 dmac[6];
};
#endif
