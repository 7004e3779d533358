// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dataplane_unit.c - unit tests of the data plane's userspace side
 * (user/dataplane/), cmocka; the BPF programs themselves are
 * test_dataplane.c's.
 *
 *   select      which uplink new flows take (bsc_select_uplink)
 *   timeouts    how long an idle flow lives
 *   kick        the out-of-window ACK sent to stranded TCP hosts
 *   names       the reasons' and states' names shown to the operator
 *   gen         on maps made by hand (root, else skipped), as below: the
 *               flow generation's bump against the data plane's
 *   sweep       against a rebind between its look and its delete
 *
 * Table-driven groups register one cmocka test per row, named after the
 * row, so a failure names the case that broke.  Everything runs in one group
 * so that CMOCKA_MESSAGE_OUTPUT=TAP prints a single plan.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "bascule.h"
#include "dataplane/balance.h"
#include "dataplane/flows.h"
#include "dataplane/move.h"
#include "dataplane/maps.h"
#include "lib/clock.h"
#include "lib/csumref.h"
#include "lib/handmaps.h"
#include "lib/runner.h"
#include "lib/unit.h"

/* ------------------------------------------------------------------ */
/* uplink selection                                                   */
/* ------------------------------------------------------------------ */

struct slot {
	uint32_t ifindex, state, priority;
};

#define UP       BSC_UPLINK_UP
#define DOWN     BSC_UPLINK_DOWN
#define DRAINED  BSC_UPLINK_DRAINED
#define UNKNOWN  BSC_UPLINK_UNKNOWN

struct select_case {
	const char *what;
	int n;
	struct slot s[BSC_MAX_UPLINKS];
	uint32_t preferred;
	uint32_t want;
};

static struct select_case select_cases[] = {
	{ "lowest priority value wins", 3,
	  { { 2, UP, 30 }, { 3, UP, 10 }, { 4, UP, 20 } }, BSC_NO_UPLINK, 1 },
	{ "priority 0 beats everything", 3,
	  { { 2, UP, 1 }, { 3, UP, 1000000 }, { 4, UP, 0 } }, BSC_NO_UPLINK, 2 },
	{ "tie goes to the lowest index", 4,
	  { { 2, DOWN, 5 }, { 3, UP, 10 }, { 4, UP, 10 }, { 5, UP, 10 } }, BSC_NO_UPLINK, 1 },
	{ "DOWN is skipped", 2,
	  { { 2, DOWN, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "DRAINED is skipped", 2,
	  { { 2, DRAINED, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "UNKNOWN is skipped", 2,
	  { { 2, UNKNOWN, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "out-of-range state is skipped", 2,
	  { { 2, 7, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "preferred UP uplink beats a better priority", 3,
	  { { 2, UP, 10 }, { 3, UP, 20 }, { 4, UP, 30 } }, 2, 2 },
	{ "preferred DOWN falls back to priority", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, DOWN, 1 } }, 2, 1 },
	{ "preferred DRAINED falls back to priority", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, DRAINED, 1 } }, 2, 1 },
	{ "preferred UNKNOWN falls back to priority", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, UNKNOWN, 1 } }, 2, 1 },
	{ "preferred empty slot is ignored", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 0, UP, 1 } }, 2, 1 },
	{ "preferred == n is out of range", 2,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, UP, 1 } }, 2, 1 },
	{ "preferred far out of range", 2,
	  { { 2, UP, 20 }, { 3, UP, 10 } }, 1000, 1 },
	{ "BSC_NO_UPLINK means priority order", 2,
	  { { 2, UP, 20 }, { 3, UP, 10 } }, BSC_NO_UPLINK, 1 },
	{ "empty slots are skipped", 4,
	  { { 0, UP, 0 }, { 0, UP, 0 }, { 7, UP, 40 }, { 0, UP, 0 } }, BSC_NO_UPLINK, 2 },
	{ "slots beyond n are not looked at", 2,
	  { { 2, DOWN, 1 }, { 3, DOWN, 1 }, { 4, UP, 1 } }, BSC_NO_UPLINK, BSC_NO_UPLINK },
	{ "none up gives BSC_NO_UPLINK", 4,
	  { { 2, DOWN, 1 }, { 3, DRAINED, 1 }, { 4, UNKNOWN, 1 }, { 0, UP, 1 } }, 0,
	  BSC_NO_UPLINK },
	{ "no uplinks at all", 0, { { 0 } }, BSC_NO_UPLINK, BSC_NO_UPLINK },
	{ "only the last of eight is up", 8,
	  { { 1, DOWN, 1 }, { 2, DOWN, 1 }, { 3, DOWN, 1 }, { 4, DOWN, 1 },
	    { 5, DOWN, 1 }, { 6, DOWN, 1 }, { 7, DOWN, 1 }, { 8, UP, 999 } }, BSC_NO_UPLINK, 7 },
};

static void test_select_uplink(void **state)
{
	const struct select_case *c = *state;
	struct bsc_uplink u[BSC_MAX_UPLINKS];
	int i;

	memset(u, 0, sizeof(u));
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		snprintf(u[i].name, sizeof(u[i].name), "up%d", i);
		u[i].ifindex = c->s[i].ifindex;
		u[i].state = c->s[i].state;
		u[i].priority = c->s[i].priority;
	}
	assert_int_equal(bsc_select_uplink(u, c->n, c->preferred), c->want);
}

/* ------------------------------------------------------------------ */
/* flow timeouts                                                      */
/* ------------------------------------------------------------------ */

struct timeout_case {
	const char *what;
	uint8_t proto, tcp;
	uint32_t want;
};

/* distinctive values, so a mix-up of two timeouts shows */
#define T_EST   7001
#define T_TRANS 301
#define T_CLOSE 17
#define T_UDP   181
#define T_ICMP  43

static struct timeout_case timeout_cases[] = {
	{ "TCP established", IPPROTO_TCP, BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB, T_EST },
	{ "TCP reply seen without SYN (picked up mid-stream)", IPPROTO_TCP, BSC_TCP_ESTAB, T_EST },
	{ "TCP SYN only", IPPROTO_TCP, BSC_TCP_SYN_SEEN, T_TRANS },
	{ "TCP nothing seen", IPPROTO_TCP, 0, T_TRANS },
	{ "TCP FIN from the LAN", IPPROTO_TCP,
	  BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_FIN_LAN, T_TRANS },
	{ "TCP FIN from the remote", IPPROTO_TCP,
	  BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_FIN_WAN, T_TRANS },
	{ "TCP both FINs", IPPROTO_TCP,
	  BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_FIN_LAN | BSC_TCP_FIN_WAN, T_CLOSE },
	{ "TCP RST", IPPROTO_TCP, BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_RST, T_CLOSE },
	{ "TCP RST on a SYN", IPPROTO_TCP, BSC_TCP_SYN_SEEN | BSC_TCP_RST, T_CLOSE },
	{ "UDP", IPPROTO_UDP, 0, T_UDP },
	{ "UDP ignores TCP bits", IPPROTO_UDP, BSC_TCP_RST | BSC_TCP_ESTAB, T_UDP },
	{ "ICMP", IPPROTO_ICMP, 0, T_ICMP },
};

static void test_flow_timeout(void **state)
{
	const struct timeout_case *c = *state;
	struct bsc_timeouts t;
	struct bsc_cfg cfg;

	parse_ok("[bascule]\nlan = lan0\n"
		 "tcp_established_timeout = 7001\n"
		 "tcp_transitory_timeout = 301\n"
		 "tcp_closed_timeout = 17\n"
		 "udp_timeout = 181\n"
		 "icmp_timeout = 43\n" UPA, &cfg);
	memset(&t, 0, sizeof(t));
	bsc_timeouts_from_cfg(&t, &cfg);
	assert_int_equal(bsc_flow_timeout(&t, c->proto, c->tcp), c->want);
}

/* Idleness from a tick stamp: counted from the end of the tick, so a flow
 * is never older than it is; at most one tick younger. */
static void test_flow_idle_from_tick(void **state)
{
	const uint64_t T = 1ull << BSC_TICK_SHIFT;

	(void)state;
	assert_int_equal(bsc_flow_idle_ns(10, 10 * T), 0);          /* start of the tick */
	assert_int_equal(bsc_flow_idle_ns(10, 11 * T - 1), 0);      /* its last ns */
	assert_int_equal(bsc_flow_idle_ns(10, 11 * T), 0);
	assert_int_equal(bsc_flow_idle_ns(10, 11 * T + 5), 5);
	assert_int_equal(bsc_flow_idle_ns(10, 21 * T), 10 * T);
	assert_int_equal(bsc_flow_idle_ns(10, 3 * T), 0);           /* a stamp ahead of now */
	/* a packet at any instant t of tick 10: idle at t + d is at most d */
	assert_true(bsc_flow_idle_ns(10, 10 * T + 12345 + 7000000000ull) <= 7000000000ull);
	/* the largest stamp does not overflow */
	assert_int_equal(bsc_flow_idle_ns(UINT32_MAX, ((uint64_t)UINT32_MAX + 1) * T + 9), 9);
}

/* ------------------------------------------------------------------ */
/* TCP kick frame                                                     */
/* ------------------------------------------------------------------ */

struct kick_case {
	const char *what;
	const char *lan_host, *remote;
	uint16_t lan_port, remote_port;
	uint32_t seq;
};

static struct kick_case kick_cases[] = {
	{ "https download", "10.1.2.3", "203.0.113.7", 40000, 443, 0x12345678 },
	{ "seq 0", "192.168.1.20", "198.51.100.200", 1024, 80, 0 },
	{ "seq all ones, high ports", "172.16.255.254", "8.8.4.4", 65535, 65534, 0xffffffffu },
	{ "seq with the top bit set", "10.0.0.1", "1.1.1.1", 5555, 22, 0x80000001u },
};

static void test_kick_frame(void **state)
{
	const struct kick_case *c = *state;
	static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc };
	static const uint8_t edge_mac[6] = { 0x02, 0x00, 0x00, 0x11, 0x22, 0x33 };
	struct bsc_config cfg;
	struct bsc_flow_key k;
	struct bsc_flow f;
	uint8_t frame[64];
	const uint8_t *iph = frame + 14, *th = frame + 34;
	uint32_t lan = ip(c->lan_host), remote = ip(c->remote);
	size_t len, i;

	memset(&cfg, 0, sizeof(cfg));
	memset(&k, 0, sizeof(k));
	memset(&f, 0, sizeof(f));
	memcpy(cfg.lan_mac, edge_mac, 6);
	cfg.lan_ifindex = 3;
	cfg.lan_addr = ip("10.1.2.1");
	k.saddr = lan;
	k.daddr = remote;
	k.sport = htons(c->lan_port);
	k.dport = htons(c->remote_port);
	k.proto = IPPROTO_TCP;
	memcpy(f.lan_mac, host_mac, 6);
	f.nat_addr = ip("192.0.2.2");
	f.nat_port = htons(50000);
	f.tcp = BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB;

	memset(frame, 0xa5, sizeof(frame));
	len = bsc_kick_frame(frame, &cfg, &k, &f, c->seq);
	assert_int_equal(len, 54);
	for (i = 54; i < sizeof(frame); i++)
		assert_int_equal(frame[i], 0xa5); /* nothing past the frame */

	/* Ethernet: to the LAN host, from the edge's LAN side */
	assert_memory_equal(frame, host_mac, 6);
	assert_memory_equal(frame + 6, edge_mac, 6);
	assert_int_equal(get_be16(frame + 12), 0x0800);

	/* IPv4: from the remote end to the LAN host */
	assert_int_equal(iph[0], 0x45);
	assert_int_equal(iph[1], 0);                  /* tos */
	assert_int_equal(get_be16(iph + 2), 40);      /* total length */
	assert_int_equal(get_be16(iph + 6) & 0x3fff, 0); /* not a fragment */
	assert_int_equal(iph[8], 64);
	assert_int_equal(iph[9], IPPROTO_TCP);
	assert_memory_equal(iph + 12, &remote, 4);
	assert_memory_equal(iph + 16, &lan, 4);
	assert_int_equal(ref_fold(ref_add(0, iph, 20)), 0xffff);

	/* TCP: ports swapped, a bare ACK carrying seq */
	assert_int_equal(get_be16(th), c->remote_port);
	assert_int_equal(get_be16(th + 2), c->lan_port);
	assert_int_equal(get_be32(th + 4), c->seq);
	assert_int_equal(th[12], 0x50);               /* data offset 5, no options */
	assert_int_equal(th[13], 0x10);               /* ACK and nothing else */
	assert_true(get_be16(th + 14) > 0);           /* a window */
	assert_int_equal(get_be16(th + 18), 0);       /* urgent pointer */
	assert_int_equal(ref_fold(ref_add(ref_pseudo(iph + 12, iph + 16, IPPROTO_TCP, 20), th, 20)),
			 0xffff);
}

static void test_kick_frame_checksums_random(void **state)
{
	struct bsc_config cfg;
	struct bsc_flow_key k;
	struct bsc_flow f;
	uint8_t frame[64];
	int iter;

	rng_seed(7);
	for (iter = 0; iter < 2000; iter++) {
		memset(&cfg, 0, sizeof(cfg));
		memset(&k, 0, sizeof(k));
		memset(&f, 0, sizeof(f));
		rng_fill(cfg.lan_mac, 6);
		rng_fill(f.lan_mac, 6);
		k.saddr = rng32();
		k.daddr = rng32();
		k.sport = (uint16_t)rng32();
		k.dport = (uint16_t)rng32();
		k.proto = IPPROTO_TCP;
		assert_int_equal(bsc_kick_frame(frame, &cfg, &k, &f, rng32()), 54);
		if (ref_fold(ref_add(0, frame + 14, 20)) != 0xffff)
			fail_msg("iteration %d: IPv4 checksum does not verify", iter);
		if (ref_fold(ref_add(ref_pseudo(frame + 26, frame + 30, IPPROTO_TCP, 20),
				     frame + 34, 20)) != 0xffff)
			fail_msg("iteration %d: TCP checksum does not verify", iter);
	}
}

/* ------------------------------------------------------------------ */
/* names shown to the operator                                        */
/* ------------------------------------------------------------------ */

static void test_reason_names_complete_and_unique(void **state)
{
	int i, j;

	for (i = 0; i < BSC_R_MAX; i++) {
		if (!bsc_reason_names[i] || !*bsc_reason_names[i])
			fail_msg("reason %d has no name (bsc_reason_names out of step with enum bsc_reason)", i);
		for (j = 0; j < i; j++)
			if (!strcmp(bsc_reason_names[i], bsc_reason_names[j]))
				fail_msg("reasons %d and %d are both called %s", j, i, bsc_reason_names[i]);
	}
}

static void test_state_names_match_enum(void **state)
{
	assert_string_equal(bsc_state_names[BSC_UPLINK_UNKNOWN], "unknown");
	assert_string_equal(bsc_state_names[BSC_UPLINK_UP], "up");
	assert_string_equal(bsc_state_names[BSC_UPLINK_DOWN], "down");
	assert_string_equal(bsc_state_names[BSC_UPLINK_DRAINED], "drained");
}

/* ------------------------------------------------------------------ */
/* on maps made by hand: the flow generation, the sweep               */
/* ------------------------------------------------------------------ */

/* maps_make() and REAL(): lib/handmaps.h.  bpf_map_lookup_elem and the
 * deletions below take the place of libbpf's for the controller's objects. */

/* The flow generation: the data plane bumps it (an atomic add, on another
 * CPU) right after each read of the controller, as it may at any time. */
static struct {
	const struct bsc_maps *m;       /* watched: NULL, none */
	uint32_t *gen, dp_bumps;        /* flow_gen, mapped; the data plane's bumps */
} gen_spy;

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	int ret = REAL(bpf_map_lookup_elem)(fd, key, value);

	if (gen_spy.m && fd == gen_spy.m->flow_gen) {
		__atomic_fetch_add(gen_spy.gen, 1, __ATOMIC_SEQ_CST); /* the data plane's */
		gen_spy.dp_bumps++;
	}
	return ret;
}

/* Neither the controller's bumps nor the data plane's are lost.
 * (Deterministic: two threads on this machine's two CPUs turned out to take
 * turns more often than run together, and then no race shows.) */
static void test_flow_gen_bump_loses_nothing(void **state)
{
	struct bsc_maps m;
	uint32_t *gen, i;

	maps_make(&m);
	gen = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m.flow_gen, 0);
	assert_true(gen != MAP_FAILED);
	*gen = 41;
	gen_spy.gen = gen;
	gen_spy.dp_bumps = 0;
	gen_spy.m = &m;
	for (i = 0; i < 100; i++)
		bsc_flows_invalidate(&m);
	gen_spy.m = NULL;
	assert_int_equal(*gen, 41 + 100 + gen_spy.dp_bumps);
	munmap(gen, 4096);
	bsc_maps_close(&m);
}

/* The sweep judges a flow idle; before it deletes it, the data plane
 * rebinds it (the flow_bind of a UDP flow off a failed uplink: a reverse
 * entry on the new uplink, with the same port where it is free, the flow
 * moved, the old reverse entry released).  The flow, live again, stays
 * with its new reverse entry, and no reverse entry is left without its
 * flow. */
static struct {
	const struct bsc_maps *m;       /* watched: NULL, none */
	struct bsc_flow_key k;
	struct bsc_flow f;              /* as rebound */
	struct bsc_rev_key old_rk, new_rk;
	int rebound;
} rb;

static void rebind_now(int fd)
{
	struct bsc_rev rv = { .lan_addr = rb.k.saddr, .lan_port = rb.k.sport };

	if (!rb.m || fd != rb.m->flows || rb.rebound++)
		return; /* once, before the first deletion from flows */
	rb.f.last = (uint32_t)(bsc_now_ns() >> BSC_TICK_SHIFT);
	assert_int_equal(bpf_map_update_elem(rb.m->rev, &rb.new_rk, &rv, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(rb.m->flows, &rb.k, &rb.f, BPF_EXIST), 0);
	assert_int_equal(REAL(bpf_map_delete_elem)(rb.m->rev, &rb.old_rk), 0);
}

int bpf_map_delete_elem(int fd, const void *key)
{
	rebind_now(fd);
	return REAL(bpf_map_delete_elem)(fd, key);
}

int bpf_map_delete_batch(int fd, const void *keys, __u32 *count,
			 const struct bpf_map_batch_opts *opts)
{
	rebind_now(fd);
	return REAL(bpf_map_delete_batch)(fd, keys, count, opts);
}

int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value)
{
	rebind_now(fd);
	return REAL(bpf_map_lookup_and_delete_elem)(fd, key, value);
}

static void test_sweep_spares_a_flow_rebound_meanwhile(void **state)
{
	struct bsc_timeouts to = { 7440, 240, 10, 30, 30 };
	struct bsc_rev_key rk, next, *prev = NULL;
	struct bsc_rev rv = { 0 };
	struct bsc_flow f = { 0 };
	struct bsc_maps m;
	int orphans = 0;

	maps_make(&m);
	memset(&rb, 0, sizeof(rb));
	rb.k.saddr = htonl(0x0a000005);
	rb.k.daddr = htonl(0x08080808);
	rb.k.sport = htons(5060);
	rb.k.dport = htons(5060);
	rb.k.proto = IPPROTO_UDP;
	f.nat_addr = htonl(0xc6336401);
	f.nat_port = htons(20000);
	f.uplink = 0;
	f.created = f.last = 1; /* idle for ages */
	rb.old_rk = (struct bsc_rev_key){ .raddr = rb.k.daddr, .rport = rb.k.dport,
					  .nat_port = f.nat_port, .proto = IPPROTO_UDP,
					  .uplink = 0 };
	rv.lan_addr = rb.k.saddr;
	rv.lan_port = rb.k.sport;
	assert_int_equal(bpf_map_update_elem(m.flows, &rb.k, &f, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(m.rev, &rb.old_rk, &rv, BPF_NOEXIST), 0);
	rb.f = f;
	rb.f.uplink = 1;
	rb.f.nat_addr = htonl(0xc6336501);
	rb.new_rk = rb.old_rk;
	rb.new_rk.uplink = 1; /* the same port, on the new uplink */

	rb.m = &m;
	assert_int_equal(bsc_flows_gc(&m, &to, bsc_now_ns()), 0);
	rb.m = NULL;
	assert_int_equal(rb.rebound, 1); /* the rebind did come in between */

	assert_int_equal(bpf_map_lookup_elem(m.flows, &rb.k, &f), 0);
	assert_int_equal(f.uplink, 1);
	assert_int_equal(f.nat_port, rb.f.nat_port);
	assert_int_equal(bpf_map_lookup_elem(m.rev, &rb.new_rk, &rv), 0);
	/* every reverse entry left leads to its flow */
	while (!bpf_map_get_next_key(m.rev, prev, &next)) {
		struct bsc_flow_key fk = { .daddr = next.raddr, .dport = next.rport,
					   .proto = next.proto };

		rk = next;
		prev = &rk;
		assert_int_equal(bpf_map_lookup_elem(m.rev, &rk, &rv), 0);
		fk.saddr = rv.lan_addr;
		fk.sport = rv.lan_port;
		if (bpf_map_lookup_elem(m.flows, &fk, &f) || f.uplink != rk.uplink ||
		    f.nat_port != rk.nat_port)
			orphans++;
	}
	assert_int_equal(orphans, 0);
	bsc_maps_close(&m);
}

/* ---- balance tables (dataplane/balance.c) ---------------------------- */

static int slots_of(const struct bsc_balance *b, uint8_t u)
{
	int i, n = 0;

	for (i = 0; i < BSC_BALANCE_SLOTS; i++)
		n += b->slot[i] == u;
	return n;
}

/* Weights 3:1:2 give each member its share of the slots to within 1.5 %
 * of the table; every slot has a member; none without members. */
static void test_balance_shares_by_weight(void **state)
{
	struct bsc_balance_member m[3] = {
		{ .idx = 0, .name = "fiber", .weight = 3 },
		{ .idx = 2, .name = "sat", .weight = 1 },
		{ .idx = 5, .name = "cell", .weight = 2 },
	};
	static struct bsc_balance b;
	int f, s, c;

	bsc_balance_fill(&b, m, 3);
	f = slots_of(&b, 0);
	s = slots_of(&b, 2);
	c = slots_of(&b, 5);
	print_message("# slots: fiber %d (want %d), sat %d (%d), cell %d (%d)\n", f,
		      BSC_BALANCE_SLOTS / 2, s, BSC_BALANCE_SLOTS / 6, c, BSC_BALANCE_SLOTS / 3);
	assert_int_equal(f + s + c, BSC_BALANCE_SLOTS);
	assert_true(abs(f - BSC_BALANCE_SLOTS / 2) < BSC_BALANCE_SLOTS * 15 / 1000);
	assert_true(abs(s - BSC_BALANCE_SLOTS / 6) < BSC_BALANCE_SLOTS * 15 / 1000);
	assert_true(abs(c - BSC_BALANCE_SLOTS / 3) < BSC_BALANCE_SLOTS * 15 / 1000);
	bsc_balance_fill(&b, m, 0);
	assert_int_equal(slots_of(&b, BSC_BALANCE_NONE), BSC_BALANCE_SLOTS);
}

/* A member that leaves moves only its own slots, each to a member that
 * stays; back, it takes exactly those slots again.  The order of the
 * members does not matter (the hash is keyed on the names). */
static void test_balance_moves_only_the_leavers_slots(void **state)
{
	struct bsc_balance_member all[3] = {
		{ .idx = 0, .name = "fiber", .weight = 3 },
		{ .idx = 1, .name = "cell", .weight = 1 },
		{ .idx = 2, .name = "sat", .weight = 2 },
	};
	struct bsc_balance_member left[2] = { all[2], all[0] };
	static struct bsc_balance before, after, back;
	int i, moved = 0;

	bsc_balance_fill(&before, all, 3);
	bsc_balance_fill(&after, left, 2);
	bsc_balance_fill(&back, all, 3);
	for (i = 0; i < BSC_BALANCE_SLOTS; i++) {
		if (before.slot[i] != 1)
			assert_int_equal(after.slot[i], before.slot[i]);
		else
			assert_true(after.slot[i] == 0 || after.slot[i] == 2);
		moved += after.slot[i] != before.slot[i];
	}
	assert_int_equal(moved, slots_of(&before, 1));
	assert_memory_equal(back.slot, before.slot, sizeof(back.slot));
}

int main(void)
{
	T_ADD_ROWS("select uplink", select_cases, test_select_uplink);
	T_ADD_ROWS("flow timeout", timeout_cases, test_flow_timeout);
	T_ADD(test_flow_idle_from_tick);
	T_ADD_ROWS("kick frame", kick_cases, test_kick_frame);
	T_ADD(test_kick_frame_checksums_random);
	T_ADD(test_reason_names_complete_and_unique);
	T_ADD(test_state_names_match_enum);
	T_ADD(test_flow_gen_bump_loses_nothing);
	T_ADD(test_sweep_spares_a_flow_rebound_meanwhile);
	T_ADD(test_balance_shares_by_weight);
	T_ADD(test_balance_moves_only_the_leavers_slots);

	return t_run("bascule_dataplane_unit", NULL, NULL) ? 1 : 0;
}
