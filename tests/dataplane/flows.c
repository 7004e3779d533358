// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tests/dataplane/flows.c - the flow tables, no rows: bindings and reverse
 * entries as stored (tick stamps, the host's MAC in both), replies that look
 * at their binding once per tick, a FIN from the remote tracked within a
 * tick, a reverse entry re-created by the LAN side; the controller's sweep
 * against the real maps (idle flows go, 9000 flows in batches and in the
 * daemon's slices, datagram flows unbound on failback without spending the
 * host's budget); the flow cache (served, invalidated by the generation, a
 * failback unbind, a FIN, a flow moved by another CPU); the sweep racing the
 * data plane on another thread (replies in flight to the flows it expires,
 * flows re-bound while it takes them).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/flows.h"
#include "lib/clock.h"
#include "common.h"

/* A binding and its reverse entry as stored: stamps from the data plane's
 * clock, the host's MAC in both. */
static void test_binding_as_stored(void **state)
{
	struct bsc_flow f;
	struct bsc_rev v;
	uint8_t mac[6];
	struct run r;

	(void)state;
	reset_state();
	run_spec(LAN, 0, &udp_q, &r);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_recent_tick(f.created);
	assert_int_equal(f.last, f.created);
	assert_int_equal(rev_get(0, 17, REMOTE, 53, 40000, &v), 0);
	assert_int_equal(v.lan_addr, ip4(LAN_HOST));
	assert_int_equal(ntohs(v.lan_port), 40000);
	mac_parse(HOST_MAC, mac);
	assert_memory_equal(v.lan_mac, mac, 6);
	assert_memory_equal(f.lan_mac, mac, 6);
	assert_int_equal(v.checked, f.created);
}

/* A reply looks at its binding once per tick: an old `checked` sends it
 * there, and the binding's `last` is refreshed (a flow that only receives
 * stays alive). */
static void test_reply_refreshes_binding(void **state)
{
	struct pspec a = { AT_FIBER, UDP_A };
	struct bsc_flow f;
	struct bsc_rev v;
	struct run r;

	(void)state;
	reset_state();
	bind_flow(&udp_q);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	f.last = 5;
	flow_put(&udp_q, &f);
	assert_int_equal(rev_get(0, 17, REMOTE, 53, 40000, &v), 0);
	v.checked = 5;
	assert_int_equal(rev_put(0, 17, REMOTE, 53, 40000, &v), 0);
	run_spec(WAN, 0, &a, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_recent_tick(f.last);
	assert_int_equal(rev_get(0, 17, REMOTE, 53, 40000, &v), 0);
	assert_int_equal(v.checked, f.last);
}

/* A reverse entry whose binding has gone (evicted alone, say) forwards
 * nothing once its tick has passed. */
static void test_reply_binding_gone(void **state)
{
	struct pspec a = { AT_FIBER, UDP_A };
	struct bsc_flow f;
	struct bsc_rev v;
	struct run r;

	(void)state;
	reset_state();
	bind_flow(&udp_q);
	flow_del(&udp_q);
	assert_int_equal(rev_get(0, 17, REMOTE, 53, 40000, &v), 0);
	v.checked = tick_now() - 2;
	assert_int_equal(rev_put(0, 17, REMOTE, 53, 40000, &v), 0);
	run_spec(WAN, 0, &a, &r);
	assert_int_equal(r.verdict, XDP_DROP);
	assert_int_equal(r.reasons[BSC_R_DROP_WAN_NO_BINDING], 1);
	assert_int_not_equal(flow_get(&udp_q, &f), 0); /* nothing created */
}

/* The data plane's own tick: the `created` of a throwaway binding. */
static uint32_t dp_tick(void)
{
	struct pspec s = { FROM_HOST, UDP_Q, .sport = 39999, .dport = 9 };
	struct bsc_rev_key k = { 0 };
	struct bsc_flow f;

	bind_flow(&s);
	assert_int_equal(flow_get(&s, &f), 0);
	flow_del(&s);
	k.raddr = ip4(REMOTE);
	k.rport = htons(9);
	k.nat_port = f.nat_port;
	k.proto = 17;
	k.uplink = f.uplink;
	assert_int_equal(bpf_map_delete_elem(E.m.rev, &k), 0);
	return f.created;
}

/* Within a tick of a check, a reply goes on its reverse entry alone (the
 * binding's `last` is not written), except a TCP segment with FIN, SYN or
 * RST: that one reaches the binding's TCP bits. */
static void test_reply_fin_tracked_within_tick(void **state)
{
	struct pspec synack = { AT_FIBER, TCP_SYNACK };
	struct pspec ack = { AT_FIBER, .proto = 6, .sport = 80, .dport = 40001,
			     .tcp_flags = TH_ACK, .seq = 5001, .ack = 1001, .payload_len = 10 };
	struct pspec fin = { AT_FIBER, .proto = 6, .sport = 80, .dport = 40001,
			     .tcp_flags = TH_FIN | TH_ACK, .seq = 5011, .ack = 1001 };
	struct bsc_flow f;
	struct bsc_rev v;
	uint32_t t0, t1;
	struct run r;
	int tries;

	(void)state;
	for (tries = 0; tries < 3; tries++) {
		reset_state();
		bind_flow(&tcp_syn);
		run_spec(WAN, 0, &synack, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		assert_int_equal(flow_get(&tcp_syn, &f), 0);
		assert_true(f.tcp & BSC_TCP_ESTAB);
		f.last = 5;
		flow_put(&tcp_syn, &f);
		t0 = dp_tick();
		assert_int_equal(rev_get(0, 6, REMOTE, 80, 40001, &v), 0);
		v.checked = t0;
		assert_int_equal(rev_put(0, 6, REMOTE, 80, 40001, &v), 0);
		run_spec(WAN, 0, &ack, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		assert_int_equal(flow_get(&tcp_syn, &f), 0);
		t1 = dp_tick();
		if (t0 != t1)
			continue; /* a tick went by meanwhile: again */
		assert_int_equal(f.last, 5);
		assert_false(f.tcp & BSC_TCP_FIN_WAN);
		run_spec(WAN, 0, &fin, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		assert_int_equal(flow_get(&tcp_syn, &f), 0);
		assert_true(f.tcp & BSC_TCP_FIN_WAN);
		assert_int_not_equal(f.last, 5);
		return;
	}
	fail_msg("the tick kept changing");
}

/* The LAN side re-creates a reverse entry evicted alone, on every 8th
 * refresh of the binding, with what replies need. */
static void test_lan_heals_reverse_entry(void **state)
{
	struct pspec a = { AT_FIBER, UDP_A };
	struct bsc_rev_key k = { 0 };
	struct bsc_flow f;
	struct bsc_rev v;
	uint8_t mac[6];
	struct run r;

	(void)state;
	reset_state();
	bind_flow(&udp_q);
	k.raddr = ip4(REMOTE);
	k.rport = htons(53);
	k.nat_port = htons(40000);
	k.proto = 17;
	assert_int_equal(bpf_map_delete_elem(E.m.rev, &k), 0);
	run_spec(WAN, 0, &a, &r);
	assert_int_equal(r.verdict, XDP_DROP); /* no way back for now */
	assert_int_equal(flow_get(&udp_q, &f), 0);
	f.last = 5;
	f.touches = BSC_REV_CHECK_EVERY - 1;
	flow_put(&udp_q, &f);
	bind_flow(&udp_q);
	assert_int_equal(rev_get(0, 17, REMOTE, 53, 40000, &v), 0);
	assert_int_equal(v.lan_addr, ip4(LAN_HOST));
	mac_parse(HOST_MAC, mac);
	assert_memory_equal(v.lan_mac, mac, 6);
	assert_recent_tick(v.checked);
	run_spec(WAN, 0, &a, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_memory_equal(r.out, mac, 6);
}

/* A fresh table with a UDP, a TCP and an ICMP flow, from the LAN host,
 * bound on fiber. */
static void bind_the_three(void)
{
	reset_state();
	bind_flow(&udp_q);
	bind_flow(&tcp_syn);
	bind_flow(&ping);
}

/* The controller's sweep (user/dataplane/flows.c): an idle binding goes with its
 * reverse entry, a fresh one stays. */
static void test_gc_expires_idle_only(void **state)
{
	struct bsc_timeouts to = { .tcp_established = 7440, .tcp_transitory = 240,
				   .tcp_closed = 10, .udp = 120, .icmp = 30 };
	uint64_t now = bsc_now_ns();
	struct bsc_flow f;

	(void)state;
	bind_the_three();
	assert_int_equal(bsc_flows_gc(&E.m, &to, now), 0);
	/* the UDP binding idle for 121 s, the ping one for 29 s */
	assert_int_equal(flow_get(&udp_q, &f), 0);
	f.last = (uint32_t)((now - 121ull * 1000000000) >> BSC_TICK_SHIFT) - 1;
	flow_put(&udp_q, &f);
	assert_int_equal(flow_get(&ping, &f), 0);
	f.last = (uint32_t)((now - 29ull * 1000000000) >> BSC_TICK_SHIFT);
	flow_put(&ping, &f);
	assert_int_equal(bsc_flows_gc(&E.m, &to, now), 1);
	assert_int_not_equal(flow_get(&udp_q, &f), 0);
	assert_false(rev_has(0, 17, REMOTE, 53, 40000));
	assert_int_equal(flow_get(&ping, &f), 0);
	assert_true(rev_has(0, 1, REMOTE, 0, 0x4242));
	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_true(rev_has(0, 6, REMOTE, 80, 40001));
	assert_int_equal(bsc_flows_count(&E.m, NULL), 2);
}

/* More flows than one batch of the walk: all counted, per uplink, and all
 * expired with their reverse entries, even when some of those are gone,
 * in slices as the daemon sweeps. */
static void test_gc_walks_batches(void **state)
{
	struct bsc_timeouts to = { .tcp_established = 7440, .tcp_transitory = 240,
				   .tcp_closed = 10, .udp = 120, .icmp = 30 };
	const uint32_t n = 9000;
	long per[BSC_MAX_UPLINKS];
	struct bsc_rev_key rk;
	uint32_t i, t = tick_now();

	(void)state;
	reset_state();
	for (i = 0; i < n; i++) {
		struct bsc_flow_key k = { 0 };
		struct bsc_flow f = { 0 };
		struct bsc_rev v = { 0 };

		k.saddr = htonl(0x0a4d0000 + 10 + i / 1000);
		k.daddr = ip4(REMOTE);
		k.sport = htons((uint16_t)(20000 + i % 1000));
		k.dport = htons(53);
		k.proto = 17;
		f.uplink = (uint8_t)(i % 3);
		f.nat_port = htons((uint16_t)(20000 + i));
		f.last = f.created = t;
		assert_int_equal(bpf_map_update_elem(E.m.flows, &k, &f, BPF_NOEXIST), 0);
		memset(&rk, 0, sizeof(rk));
		rk.raddr = k.daddr;
		rk.rport = k.dport;
		rk.nat_port = f.nat_port;
		rk.proto = 17;
		rk.uplink = f.uplink;
		v.lan_addr = k.saddr;
		v.lan_port = k.sport;
		if (i % 10) /* every tenth reverse entry evicted alone */
			assert_int_equal(bpf_map_update_elem(E.m.rev, &rk, &v, BPF_NOEXIST), 0);
	}
	assert_int_equal(bsc_flows_count(&E.m, per), n);
	assert_int_equal(per[0], n / 3);
	assert_int_equal(per[1], n / 3);
	assert_int_equal(per[2], n / 3);
	assert_int_equal(bsc_flows_gc(&E.m, &to, bsc_now_ns()), 0);
	/* a pass that expires nothing counts the table, per uplink, as it
	 * goes (what the metrics show: a scrape does not walk the table) */
	{
		struct bsc_walk w = { 0 };
		int steps = 0;

		do {
			assert_int_equal(bsc_flows_gc_step(&E.m, &to, bsc_now_ns(), &w, 2000), 0);
			steps++;
		} while (!w.done && steps < 100);
		assert_true(w.done);
		assert_int_equal(w.kept, n);
		assert_int_equal(w.kept_per[0], n / 3);
		assert_int_equal(w.kept_per[1], n / 3);
		assert_int_equal(w.kept_per[2], n / 3);
		assert_int_equal(w.kept_per[3], 0);
	}
	/* the daemon's way: a pass in slices, each going on where the last
	 * one stopped */
	{
		struct bsc_walk w = { 0 };
		int steps = 0, sum = 0;

		do {
			sum += bsc_flows_gc_step(&E.m, &to, bsc_now_ns() + 200ull * 1000000000, &w,
						 2000);
			steps++;
		} while (!w.done && steps < 100);
		assert_true(w.done);
		assert_true(steps >= 4);
		assert_int_equal(sum, n);
		assert_int_equal(w.kept, 0); /* all expired: none counted */
		/* the next step starts a new pass: nothing left */
		assert_int_equal(bsc_flows_gc_step(&E.m, &to, bsc_now_ns(), &w, 2000), 0);
		assert_true(w.done);
	}
	assert_int_equal(bsc_flows_count(&E.m, NULL), 0);
	assert_int_not_equal(bpf_map_get_next_key(E.m.rev, NULL, &rk), 0);
}

/* Failback with failback_moves_flows: the datagram flows of the old uplink
 * are marked to move, TCP ones stay; until a marked flow's next packet, a
 * reply over the old uplink still reaches the host; that packet rebinds it
 * to the active uplink (its port kept) and releases the old reverse entry. */
static void test_unbind_datagrams(void **state)
{
	struct pspec reply = { AT_FIBER, UDP_A };
	struct bsc_flow f;
	struct run r;

	(void)state;
	bind_the_three();
	assert_int_equal(bsc_flows_unbind_datagrams(&E.m, 1), 0);
	assert_int_equal(bsc_flows_unbind_datagrams(&E.m, 0), 2);
	assert_int_equal(bsc_flows_unbind_datagrams(&E.m, 0), 0); /* marked once */
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.nat_addr, 0);
	assert_int_equal(f.uplink, 0);
	assert_int_equal(flow_get(&ping, &f), 0);
	assert_int_equal(f.nat_addr, 0);
	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_int_equal(f.nat_addr, ip4(FIBER_ADDR));
	assert_true(rev_has(0, 6, REMOTE, 80, 40001));
	/* a reply in flight over fiber still reaches the host */
	run_spec(WAN, 0, &reply, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_memory_equal(r.out + 30, &(uint32_t){ ip4(LAN_HOST) }, 4);
	/* the flow's next packet moves it to the active uplink */
	set_policy(1);
	run_spec(LAN, 0, &udp_q, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_int_equal(r.reasons[BSC_R_REBOUND], 1);
	assert_memory_equal(r.out + 26, &(uint32_t){ ip4(CELL_ADDR) }, 4);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.uplink, 1);
	assert_int_equal(f.nat_addr, ip4(CELL_ADDR));
	assert_false(rev_has(0, 17, REMOTE, 53, 40000));
	assert_true(rev_has(1, 17, REMOTE, 53, 40000));
}

/* A class's failback moves (bsc_flows_move): only its own flows on the
 * uplink it leaves, TCP ones only when it resets them (and only live
 * ones), a balance class's only where its slot now names another uplink;
 * each counted in the move that took it, once.  A marked TCP flow's next
 * segment is answered with a RST as tx_rst_moved (the row in
 * rows_forward.c), never forwarded. */
static void test_flows_move_by_class(void **state)
{
	struct bsc_move mv[2];
	struct bsc_balance bal;
	struct bsc_flow f;

	(void)state;
	bind_the_three();
	assert_int_equal(flow_get(&ping, &f), 0);
	f.policy = 2; /* the ping is of class 2 */
	flow_put(&ping, &f);
	mv[0] = (struct bsc_move){ .uplink = 0, .cls = 1, .tcp = 1 };
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 0); /* no flow of class 1 */
	mv[0] = (struct bsc_move){ .uplink = 1, .cls = 0, .tcp = 1 };
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 0); /* none on cell */
	mv[0] = (struct bsc_move){ .uplink = 0, .cls = 0 };
	mv[1] = (struct bsc_move){ .uplink = 0, .cls = 2 };
	assert_int_equal(bsc_flows_move(&E.m, mv, 2), 2);
	assert_int_equal(mv[0].datagrams, 1);
	assert_int_equal(mv[0].tcp_marked, 0);
	assert_int_equal(mv[1].datagrams, 1);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.nat_addr, 0);
	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_int_equal(f.nat_addr, ip4(FIBER_ADDR)); /* move-udp: TCP stays */
	/* reset-tcp: a closed connection needs no reset */
	f.tcp |= BSC_TCP_RST;
	flow_put(&tcp_syn, &f);
	mv[0] = (struct bsc_move){ .uplink = 0, .cls = 0, .tcp = 1 };
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 0);
	f.tcp &= (uint8_t)~BSC_TCP_RST;
	flow_put(&tcp_syn, &f);
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 1);
	assert_int_equal(mv[0].tcp_marked, 1);
	assert_int_equal(mv[0].datagrams, 0); /* the UDP one was marked already */
	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_int_equal(f.nat_addr, 0);

	/* balance: a flow whose slot still names its uplink stays */
	reset_state();
	bind_flow(&udp_q);
	memset(&bal, 0, sizeof(bal)); /* every slot: uplink 0, where it is */
	mv[0] = (struct bsc_move){ .uplink = 0, .cls = 0, .bal = &bal };
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 0);
	mv[0].persist_source = 1;
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 0);
	/* its slot (by source alone) to cell: it moves */
	bal.slot[bsc_balance_slot(ip4(LAN_HOST), 0, 0, 0, 0, 1)] = 1;
	assert_int_equal(bsc_flows_move(&E.m, mv, 1), 1);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.nat_addr, 0);
}

/* A host with its new-flow budget spent keeps all its datagram flows
 * across a failover and across a failback that moves them: moving a flow
 * is not opening one. (When the failback deleted them, each came back as
 * a new flow, and all three here were dropped by the budget.) */
static void test_moving_flows_spends_no_budget(void **state)
{
	struct pspec s = { FROM_HOST, UDP_Q };
	struct bsc_config c;
	uint32_t zero = 0;
	struct run r;
	int i;

	(void)state;
	reset_state();
	clear_hash(E.m.hosts, 4);
	assert_int_equal(bpf_map_lookup_elem(E.m.config, &zero, &c), 0);
	c.host_flow_rate = 1; /* one per second: no refill within the test */
	c.host_flow_burst = 3;
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
	set_policy(1); /* fiber is out: the host's three flows on cell */
	for (i = 0; i < 3; i++) {
		s.sport = (uint16_t)(41000 + i);
		run_spec(LAN, 0, &s, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
	}
	s.sport = 41003; /* the budget is spent */
	run_spec(LAN, 0, &s, &r);
	assert_int_equal(r.reasons[BSC_R_DROP_HOST_LIMIT], 1);
	/* failback with failback_moves_flows: cell's datagram flows move */
	set_policy(0);
	assert_int_equal(bsc_flows_unbind_datagrams(&E.m, 1), 3);
	for (i = 0; i < 3; i++) {
		s.sport = (uint16_t)(41000 + i);
		run_spec(LAN, 0, &s, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		assert_int_equal(r.reasons[BSC_R_REBOUND], 1);
		assert_memory_equal(r.out + 26, &(uint32_t){ ip4(FIBER_ADDR) }, 4);
	}
	/* and at a failover: fiber fails under them, they move to cell */
	set_uplink_state(0, BSC_UPLINK_DOWN);
	set_policy(1);
	for (i = 0; i < 3; i++) {
		s.sport = (uint16_t)(41000 + i);
		run_spec(LAN, 0, &s, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		assert_int_equal(r.reasons[BSC_R_REBOUND], 1);
	}
}

/* The flow cache (bascule.h): a second packet of a flow within the tick is
 * served from it, the same bytes out; a binding changed without bumping
 * the generation is not seen then, after a bump it is.  (The data plane
 * never changes a binding in place: this is how the test tells where a
 * packet's binding came from.  An attempt that straddles a tick finds the
 * cache expired and proves nothing: it is made again.) */
static void test_flow_cache_serves_and_invalidates(void **state)
{
	struct bsc_flow_key k = { 0 };
	struct bsc_flow f;
	struct run r1, r2;
	int tries;

	(void)state;
	for (tries = 0; tries < 20; tries++) {
		reset_state();
		run_spec(LAN, 0, &udp_q, &r1);
		assert_int_equal(r1.verdict, XDP_REDIRECT);
		run_spec(LAN, 0, &udp_q, &r2);
		assert_int_equal(r2.verdict, XDP_REDIRECT);
		assert_int_equal(r2.out_len, r1.out_len);
		assert_memory_equal(r2.out, r1.out, r1.out_len);
		assert_int_equal(stats_of(0).tx_packets, 2);
		/* the binding changed behind the cache's back */
		assert_int_equal(flow_get(&udp_q, &f), 0);
		f.nat_port = htons(40999);
		k.saddr = ip4(LAN_HOST);
		k.daddr = ip4(REMOTE);
		k.sport = htons(40000);
		k.dport = htons(53);
		k.proto = 17;
		assert_int_equal(bpf_map_update_elem(E.m.flows, &k, &f, BPF_EXIST), 0);
		run_spec(LAN, 0, &udp_q, &r2);
		if ((r2.out[34] << 8 | r2.out[35]) != 40000)
			continue; /* a tick went by: the cache was not asked */
		bsc_flows_invalidate(&E.m);
		run_spec(LAN, 0, &udp_q, &r2);
		assert_int_equal(r2.out[34] << 8 | r2.out[35], 40999); /* the table's */
		assert_true(l4_csum_ok(r2.out, r2.out_len, 1));
		return;
	}
	fail_msg("no packet was ever served from the cache");
}

/* Failback moving datagram flows: the sweep's deletion bumps the
 * generation, so the next packet binds again on the active uplink at once
 * rather than leaving on its cached binding. */
static void test_flow_cache_after_unbind(void **state)
{
	struct pspec via_cell = { VIA_CELL, UDP_Q };
	uint8_t want[256];
	size_t wlen;
	struct run r;

	(void)state;
	reset_state();
	bind_flow(&udp_q);
	bind_flow(&udp_q); /* cached now */
	set_policy(1);
	assert_int_equal(bsc_flows_unbind_datagrams(&E.m, 0), 1);
	run_spec(LAN, 0, &udp_q, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	wlen = pkt_build(&via_cell, want, sizeof(want));
	assert_int_equal(r.out_len, wlen);
	assert_memory_equal(r.out, want, wlen);
}

/* A FIN from the LAN host is never served from the cache: its TCP bits. */
static void test_flow_cache_not_for_fin(void **state)
{
	struct pspec fin = { FROM_HOST, .proto = 6, .sport = 40001, .dport = 80,
			     .tcp_flags = TH_FIN | TH_ACK, .seq = 1101, .ack = 5001 };
	struct pspec data = { FROM_HOST, TCP_DATA };
	struct bsc_flow f;
	struct run r;

	(void)state;
	reset_state();
	bind_flow(&tcp_syn);
	run_spec(LAN, 0, &data, &r);
	run_spec(LAN, 0, &data, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	run_spec(LAN, 0, &fin, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_true(f.tcp & BSC_TCP_FIN_LAN);
}

static int on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* A flow moved by one CPU is not sent on its old binding by another CPU
 * whose cache still holds it, even when the old uplink is back at once: a
 * rebind bumps the generation.  (Should a tick begin while the test moves
 * between CPUs, the cache has expired anyway and the attempt proves
 * nothing: it is made again, as is one where the cache was not in play.) */
/* The data plane's tick now: bpf_ktime_get_coarse_ns() is the kernel's
 * CLOCK_MONOTONIC_COARSE. */
static uint32_t coarse_tick(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)(((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) >> BSC_TICK_SHIFT);
}

static void test_flow_cache_rebind_on_another_cpu(void **state)
{
	struct pspec via_cell = { VIA_CELL, UDP_Q };
	struct bsc_flow_key k = { .proto = 17 };
	struct bsc_flow f;
	uint8_t want[256];
	size_t wlen;
	struct run r;
	cpu_set_t old;
	uint16_t port;
	uint32_t t0;
	int tries, cached;

	(void)state;
	if (libbpf_num_possible_cpus() < 2 || sched_getaffinity(0, sizeof(old), &old) ||
	    on_cpu(0) || on_cpu(1)) {
		skip();
		return;
	}
	k.saddr = ip4(LAN_HOST);
	k.daddr = ip4(REMOTE);
	k.sport = htons(40000);
	k.dport = htons(53);
	for (tries = 0; tries < 20; tries++) {
		reset_state();
		on_cpu(0);
		t0 = coarse_tick();
		bind_flow(&udp_q);
		bind_flow(&udp_q); /* CPU 0's cache: the fibre binding */
		/* Is it there? A port changed behind the cache's back is not
		 * seen by a packet that the cache serves. */
		assert_int_equal(flow_get(&udp_q, &f), 0);
		port = f.nat_port;
		f.nat_port = htons(40999);
		assert_int_equal(bpf_map_update_elem(E.m.flows, &k, &f, BPF_EXIST), 0);
		run_spec(LAN, 0, &udp_q, &r);
		cached = r.verdict == XDP_REDIRECT && (r.out[34] << 8 | r.out[35]) == ntohs(port);
		f.nat_port = port;
		assert_int_equal(bpf_map_update_elem(E.m.flows, &k, &f, BPF_EXIST), 0);

		on_cpu(1);
		set_uplink_state(0, BSC_UPLINK_DOWN);
		set_policy(1);
		bind_flow(&udp_q); /* moved to cell here */
		set_uplink_state(0, BSC_UPLINK_UP);
		on_cpu(0);
		run_spec(LAN, 0, &udp_q, &r);
		/* CPU 0's cache held the fibre binding, and its tick had not
		 * ended when the packet came: only the generation kept it from
		 * serving. Otherwise the attempt proved nothing: again. */
		if (!cached || coarse_tick() != t0)
			continue;
		sched_setaffinity(0, sizeof(old), &old);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		wlen = pkt_build(&via_cell, want, sizeof(want));
		assert_int_equal(r.out_len, wlen);
		assert_memory_equal(r.out, want, wlen);
		return;
	}
	sched_setaffinity(0, sizeof(old), &old);
	fail_msg("in 20 tries, CPU 0's cache never held the binding through a tick");
}


/* The sweep racing the data plane.  A thread plays the data plane: over and
 * over, a reply from the remote to every flow's NAT port (read from its
 * binding just before, so a reply is in flight when the sweep takes it),
 * a packet from the LAN for every odd flow (live: never idle), and, now and
 * then, one for an even flow (which re-binds it if the sweep took it).  The
 * main thread ages the even flows (idle for ten ticks), then sweeps the
 * table in small slices, as the daemon does, while the thread runs; the
 * thread is paused between rounds and the tables checked:
 *  - every binding has its reverse entry, and every reverse entry its
 *    binding (no NAT port leaked, no flow without its way back);
 *  - the live flows were never taken (same NAT port: their own);
 *  - every reply delivered went to its own flow's host and port, with good
 *    checksums, and every reply not delivered was counted as
 *    drop_wan_no_binding; no other drop; every LAN packet forwarded.
 * The race is proven to have happened: replies to flows the sweep took,
 * dropped, and flows re-bound on another port while their old reverse
 * entry was still there. */
#define RACE_FLOWS 1024
#define RACE_PORT0 20000
#define RACE_ROUNDS 30

static struct {
	int run, paused, stop;          /* __atomic */
	uint32_t iter;                  /* __atomic: the thread's rounds so far */
	uint64_t replies, delivered, dropped, misdelivered, bad_csum, odd_lost;
	uint64_t lan, lan_not_forwarded, other_verdict;
} race;

static uint16_t race_nat_port(int j, uint16_t last)
{
	struct pspec s = { FROM_HOST, UDP_Q, .sport = (uint16_t)(RACE_PORT0 + j) };
	struct bsc_flow f;

	return flow_get(&s, &f) ? last : ntohs(f.nat_port);
}

/* One packet through a program, no cmocka (not the test's thread). */
static int race_run(int which, const struct pspec *s, uint8_t *out, uint32_t *out_len)
{
	uint8_t in[256];
	struct xdp_md ctx = { 0 };
	size_t len = pkt_build(s, in, sizeof(in));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = 256, .repeat = 1, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	ctx.data_end = (uint32_t)len;
	ctx.ingress_ifindex = which == WAN ? E.ifidx[0] : E.ifidx[3];
	if (bpf_prog_test_run_opts(E.prog[which], &o))
		return -1;
	*out_len = o.data_size_out;
	return (int)o.retval;
}

static void *race_dataplane(void *arg)
{
	static uint16_t port[RACE_FLOWS];
	uint8_t out[256], host_mac[6];
	uint32_t host = ip4(LAN_HOST), n, iter = 0;
	int j, v;

	mac_parse(HOST_MAC, host_mac);
	for (j = 0; j < RACE_FLOWS; j++)
		port[j] = (uint16_t)(RACE_PORT0 + j);
	while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
		if (!__atomic_load_n(&race.run, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&race.paused, 1, __ATOMIC_RELEASE);
			usleep(100);
			continue;
		}
		__atomic_store_n(&race.paused, 0, __ATOMIC_RELEASE);
		iter++;
		__atomic_store_n(&race.iter, iter, __ATOMIC_RELEASE);
		for (j = 0; j < RACE_FLOWS && __atomic_load_n(&race.run, __ATOMIC_ACQUIRE); j++) {
			struct pspec a = { AT_FIBER, UDP_A, .dport = 0 };
			struct pspec q = { FROM_HOST, UDP_Q, .sport = (uint16_t)(RACE_PORT0 + j) };

			port[j] = race_nat_port(j, port[j]);
			a.dport = port[j];
			v = race_run(WAN, &a, out, &n);
			race.replies++;
			if (v == XDP_REDIRECT) {
				race.delivered++;
				if (n < 14 + 20 + 8 || memcmp(out, host_mac, 6) ||
				    memcmp(out + 14 + 16, &host, 4) ||
				    ((out[14 + 22] << 8) | out[14 + 23]) != RACE_PORT0 + j)
					race.misdelivered++;
				else if (!ip_csum_ok(out, n, 1) || !l4_csum_ok(out, n, 1))
					race.bad_csum++;
			} else if (v == XDP_DROP) {
				race.dropped++;
				race.odd_lost += j & 1; /* a live flow's reply */
			} else {
				race.other_verdict++;
			}
			if ((j & 1) || (iter + (uint32_t)j) % 4 == 0) {
				v = race_run(LAN, &q, out, &n);
				race.lan++;
				race.lan_not_forwarded += v != XDP_REDIRECT;
			}
		}
	}
	return arg;
}

static void race_pause(int run)
{
	__atomic_store_n(&race.run, run, __ATOMIC_RELEASE);
	if (!run)
		while (!__atomic_load_n(&race.paused, __ATOMIC_ACQUIRE))
			usleep(100);
}

/* Every binding has its reverse entry and every reverse entry its binding;
 * returns how many of either were missing, and counts in *moved the even
 * flows bound on another port than their own. */
static int race_tables_agree(int *moved)
{
	struct bsc_flow_key fk, *pf = NULL, nf;
	struct bsc_rev_key rk, *pr = NULL, nr;
	struct bsc_flow f;
	struct bsc_rev v;
	int bad = 0;

	while (!bpf_map_get_next_key(E.m.flows, pf, &nf)) {
		fk = nf;
		pf = &fk;
		if (bpf_map_lookup_elem(E.m.flows, &fk, &f))
			continue;
		memset(&rk, 0, sizeof(rk));
		rk.raddr = fk.daddr;
		rk.rport = fk.dport;
		rk.nat_port = f.nat_port;
		rk.proto = fk.proto;
		rk.uplink = f.uplink;
		if (bpf_map_lookup_elem(E.m.rev, &rk, &v) || v.lan_addr != fk.saddr ||
		    v.lan_port != fk.sport)
			bad++;
		*moved += f.nat_port != fk.sport;
	}
	while (!bpf_map_get_next_key(E.m.rev, pr, &nr)) {
		rk = nr;
		pr = &rk;
		if (bpf_map_lookup_elem(E.m.rev, &rk, &v))
			continue;
		memset(&fk, 0, sizeof(fk));
		fk.saddr = v.lan_addr;
		fk.daddr = rk.raddr;
		fk.sport = v.lan_port;
		fk.dport = rk.rport;
		fk.proto = rk.proto;
		if (bpf_map_lookup_elem(E.m.flows, &fk, &f) || f.uplink != rk.uplink ||
		    f.nat_port != rk.nat_port)
			bad++;
	}
	return bad;
}

static void test_sweep_races_the_dataplane(void **state)
{
	struct bsc_timeouts to = { .tcp_established = 7440, .tcp_transitory = 240,
				   .tcp_closed = 10, .udp = 5, .icmp = 30 };
	uint64_t reasons0[BSC_R_MAX], reasons1[BSC_R_MAX];
	int j, round, swept = 0, moved = 0, i, bad = 0, live_gone = 0;
	pthread_t th;
	struct bsc_flow f;

	(void)state;
	reset_state();
	memset(&race, 0, sizeof(race));
	for (j = 0; j < RACE_FLOWS; j++) {
		struct pspec q = { FROM_HOST, UDP_Q, .sport = (uint16_t)(RACE_PORT0 + j) };

		bind_flow(&q);
	}
	assert_int_equal(bsc_reasons_sum(&E.m, reasons0), 0);
	assert_int_equal(pthread_create(&th, NULL, race_dataplane, NULL), 0);
	for (round = 0; round < RACE_ROUNDS; round++) {
		struct bsc_walk w = { 0 };
		uint32_t old = tick_now() - 10, it;
		int m = 0;

		race_pause(0);
		/* the even flows idle for ten ticks, those the sweep took bound again */
		for (j = 0; j < RACE_FLOWS; j += 2) {
			struct pspec q = { FROM_HOST, UDP_Q, .sport = (uint16_t)(RACE_PORT0 + j) };

			if (flow_get(&q, &f)) {
				bind_flow(&q);
				assert_int_equal(flow_get(&q, &f), 0);
			}
			f.last = old;
			flow_put(&q, &f);
		}
		it = __atomic_load_n(&race.iter, __ATOMIC_ACQUIRE);
		race_pause(1);
		while (__atomic_load_n(&race.iter, __ATOMIC_ACQUIRE) == it)
			usleep(50); /* the thread is on its way through the flows */
		/* slices of 8, the loop's other work between them */
		do {
			swept += bsc_flows_gc_step(&E.m, &to, bsc_now_ns(), &w, 8);
			usleep(100);
		} while (!w.done);
		race_pause(0);
		bad = race_tables_agree(&m);
		moved += m;
		for (j = 1; j < RACE_FLOWS; j += 2) {
			struct pspec q = { FROM_HOST, UDP_Q, .sport = (uint16_t)(RACE_PORT0 + j) };

			/* a live flow stays, on its own port */
			live_gone += flow_get(&q, &f) || ntohs(f.nat_port) != RACE_PORT0 + j;
		}
		if (bad || live_gone)
			break;
	}
	/* the thread stopped before any verdict: a failure must not leave it
	 * running under the next test */
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (bad)
		fail_msg("round %d: %d binding(s) or reverse entries without the other", round, bad);
	if (live_gone)
		fail_msg("round %d: %d live flow(s) taken by the sweep", round, live_gone);
	assert_int_equal(bsc_reasons_sum(&E.m, reasons1), 0);
	print_message("# %d rounds: %d flows swept; %" PRIu64 " replies in flight, %" PRIu64
		      " delivered, %" PRIu64 " dropped; %" PRIu64 " LAN packets; %d bindings found on another port than their own\n",
		      RACE_ROUNDS, swept, race.replies, race.delivered, race.dropped, race.lan, moved);
	assert_int_equal(race.misdelivered, 0);
	assert_int_equal(race.bad_csum, 0);
	assert_int_equal(race.other_verdict, 0);
	assert_int_equal(race.odd_lost, 0);
	assert_int_equal(race.lan_not_forwarded, 0);
	assert_int_equal(race.delivered + race.dropped, race.replies);
	/* every reply not delivered is counted, as no binding, and nothing else dropped */
	for (i = 0; i < BSC_R_MAX; i++) {
		uint64_t d = reasons1[i] - reasons0[i];

		if (i == BSC_R_DROP_WAN_NO_BINDING)
			assert_int_equal(d, race.dropped);
		else if (d && !strncmp(bsc_reason_names[i], "drop_", 5))
			fail_msg("%s grew by %" PRIu64 " in the race", bsc_reason_names[i], d);
	}
	/* the race did happen: expired flows' replies dropped, flows re-bound
	 * while their old reverse entry was still there */
	assert_true(swept >= RACE_FLOWS / 2);
	assert_true(race.dropped > 0);
}

void add_flows_tests(void)
{
	T_ADD(test_binding_as_stored);
	T_ADD(test_reply_refreshes_binding);
	T_ADD(test_reply_binding_gone);
	T_ADD(test_reply_fin_tracked_within_tick);
	T_ADD(test_lan_heals_reverse_entry);
	T_ADD(test_gc_expires_idle_only);
	T_ADD(test_gc_walks_batches);
	T_ADD(test_unbind_datagrams);
	T_ADD(test_flows_move_by_class);
	T_ADD(test_moving_flows_spends_no_budget);
	T_ADD(test_flow_cache_serves_and_invalidates);
	T_ADD(test_flow_cache_after_unbind);
	T_ADD(test_flow_cache_not_for_fin);
	T_ADD(test_flow_cache_rebind_on_another_cpu);
	T_ADD(test_sweep_races_the_dataplane);
}
