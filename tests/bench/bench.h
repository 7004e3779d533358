/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bench.h - what the bench's BPF programs and its driver share. */
#ifndef BSC_BENCH_H
#define BSC_BENCH_H
#include <linux/types.h>

/* Flow i of the generator (i = first + packet counter % nflows):
 *   group g = i / BENCH_GROUP, r = i % BENCH_GROUP
 *   saddr = saddr0 + g, sport = sport0 + r, dport = dport0 + g
 * so every LAN address talks to a remote endpoint of its own, and a NAT
 * keeps each LAN port: no NAT port collisions, no random ports.  The LAN
 * ports, 16384..32767, lie within the NAT's port range (the default
 * nat_ports range, which a port outside is translated into). */
#define BENCH_GROUP 16384
/* The LAN is a /24 from 10.77.0.10: groups 0..244 (saddr up to .254). */
#define BENCH_MAX_FLOWS (245 * BENCH_GROUP)

/* Flow 0's numbers, and where the bench's flows are bound (gcsweep, the
 * lookup limit's table): the uplink's address, the LAN port kept. */
#define BENCH_SADDR0 0x0a4d000a /* 10.77.0.10 */
#define BENCH_DADDR  0xcb00710b /* 203.0.113.11, the template's remote */
#define BENCH_SPORT0 16384
#define BENCH_DPORT0 5000
#define BENCH_NAT    0xc0000202 /* 192.0.2.2 */

struct gen_cfg {
	__u32 nflows;
	__u32 first;    /* flows first .. first + nflows - 1 */
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

/* Per-CPU value of the generator's counter: the next flow, and the frames
 * it offered (pinned with gen -p: `bench rate -g` reads the offered rate). */
struct gen_cnt {
	__u32 idx;
	__u32 pad;
	__u64 sent;
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
