// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tests/dataplane/rows_hardening.c - a hostile LAN host and a blind WAN
 * attacker (issue 13): the box's own ports and the probes' echo ids never
 * given to a LAN host; a LAN host is who it says (BCP 38, bogons, its MAC,
 * the source guard, forged ICMP errors); the kernel's routes (a VPN behind
 * the box, blackholes); what does not fit (frag-needed, MSS clamping); RSTs
 * and FINs from the WAN that cannot close a binding (RFC 5961), ICMP errors
 * that cannot turn it; the per-host new-flow budget, by address and MAC.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <string.h>

#include "common.h"

/* ------------------------------------------------ hardening (issue 13) */

#define UDP_WG    .proto = 17, .sport = 51820, .dport = 51820, .payload_len = 32
#define UDP_WG_A  .proto = 17, .sport = 51820, .dport = 51820, .payload_len = 48
#define PROBE_ID  0x0100 /* below the default NAT range: the box's probes' side */

static const struct pspec udp_wg = { FROM_HOST, UDP_WG };
static const struct pspec probe_ping = { FROM_HOST, PING, .sport = PROBE_ID };

static void set_nat_range(uint32_t i, uint16_t lo, uint16_t hi)
{
	struct bsc_uplink u;

	assert_int_equal(bsc_uplink_read(&E.m, i, &u), 0);
	u.nat_port_min = lo;
	u.nat_port_max = hi;
	assert_int_equal(bsc_uplink_write(&E.m, i, &u), 0);
}

/* Every uplink on the shipped range (0 = BSC_NAT_PORT_*_DEFAULT). */
static void s_default_range(void)
{
	uint32_t i;

	for (i = 0; i < 3; i++)
		set_nat_range(i, 0, 0);
}
static void s_wg_bound(void) { s_default_range(); bind_flow(&udp_wg); }
static void s_probe_id_bound(void) { s_default_range(); bind_flow(&probe_ping); }

static void s_guard(void)
{
	struct bsc_config c;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(E.m.config, &zero, &c), 0);
	c.flags |= BSC_CFG_SOURCE_GUARD;
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
}
static void s_cell_active(void) { set_policy(1); }

static void c_via_fiber_router(const struct run *r)
{
	struct pspec s = { FROM_HOST, UDP_Q, .dst = "192.0.2.1" };
	struct bsc_flow f;

	(void)r;
	assert_int_equal(flow_get(&s, &f), 0);
	assert_int_equal(f.uplink, 0);
	assert_int_equal(f.nat_addr, ip4(FIBER_ADDR));
}

/* A flow that moves keeps its external port where the new uplink has it
 * free: the remote sees the same flow go on from a new address. */
static uint16_t port_before_move;
static void s_udp_default_range_fiber_down(void)
{
	struct bsc_flow f;

	s_default_range();
	bind_flow(&udp_q);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	port_before_move = f.nat_port;
	set_uplink_state(0, BSC_UPLINK_DOWN);
	set_policy(1);
}

static void c_moved_same_port(const struct run *r)
{
	struct bsc_flow f;

	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.uplink, 1);
	assert_int_equal(f.nat_port, port_before_move);
	assert_memory_equal(r->out + 34, &port_before_move, 2);
	assert_true(rev_has(1, 17, REMOTE, 53, ntohs(port_before_move)));
	assert_false(rev_has(0, 17, REMOTE, 53, ntohs(port_before_move)));
}

/* 1500 bytes of IP with DF: too big for cell's 1420 */
#define BIG_DF    .proto = 17, .sport = 40000, .dport = 53, .payload_len = 1472, .frag = 0x4000
static const struct pspec tcp_syn_cell = { FROM_HOST, TCP_SYN };
static void s_udp_cell(void)
{
	set_policy(1);
	bind_flow(&udp_q);
}
static void s_tcp_cell(void)
{
	set_policy(1);
	bind_flow(&tcp_syn_cell);
}

/* An ICMP fragmentation-needed from the edge's LAN address to the host,
 * with cell's MTU, quoting the host's IP header and 8 bytes as it sent
 * them; checksums verified from scratch. */
static void expect_frag_needed(const struct run *r, uint64_t cell_tx_before)
{
	struct pspec big = { FROM_HOST, BIG_DF };
	uint8_t orig[2048], mac[6];
	const uint8_t *o = r->out, *ih = o + 34;

	pkt_build(&big, orig, sizeof(orig));
	assert_int_equal(r->out_len, 14 + 20 + 8 + 28);
	mac_parse(HOST_MAC, mac);
	assert_memory_equal(o, mac, 6);
	mac_parse(EDGE_MAC, mac);
	assert_memory_equal(o + 6, mac, 6);
	assert_int_equal(o[14], 0x45);
	assert_int_equal(o[16] << 8 | o[17], 20 + 8 + 28);
	assert_int_equal(o[23], 1);
	assert_memory_equal(o + 26, &(uint32_t){ ip4(EDGE_LAN) }, 4);
	assert_memory_equal(o + 30, &(uint32_t){ ip4(LAN_HOST) }, 4);
	assert_int_equal(ih[0], 3);
	assert_int_equal(ih[1], 4);
	assert_int_equal(ih[6] << 8 | ih[7], CELL_MTU);
	assert_memory_equal(ih + 8, orig + 14, 28);
	assert_true(ip_csum_ok(o, r->out_len, 1));
	assert_true(l4_csum_ok(o, r->out_len, 1));
	assert_int_equal(sum16(ih, 8 + 28, 0), 0xffff);
	assert_int_equal(stats_of(1).tx_packets, cell_tx_before); /* nothing more went to cell */
}
static void c_frag_needed(const struct run *r) { expect_frag_needed(r, 0); }
static void c_frag_needed_bound(const struct run *r) { expect_frag_needed(r, 1); }

/* A TCP binding with the remote's SYN|ACK seen: its next number is 5001. */
static const struct pspec synack_fiber = { AT_FIBER, TCP_SYNACK };
static void s_tcp_estab(void)
{
	struct run r;

	bind_flow(&tcp_syn);
	run_spec(WAN, 0, &synack_fiber, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
}
#define WAN_TCP(f, s) .proto = 6, .sport = 80, .dport = 40001, .tcp_flags = (f), .seq = (s), .ack = 1001

static void expect_tcp_bits(uint8_t set, uint8_t clear)
{
	struct bsc_flow f;

	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_int_equal(f.tcp & set, set);
	assert_int_equal(f.tcp & clear, 0);
}
/* ... and the remote's FIN at 5001 went by: its next number is 5002 */
static void s_tcp_fin_wan(void)
{
	struct pspec fin = { AT_FIBER, WAN_TCP(TH_FIN | TH_ACK, 5001) };
	struct run r;

	s_tcp_estab();
	run_spec(WAN, 0, &fin, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
}
static void c_still_estab(const struct run *r)
{
	(void)r;
	expect_tcp_bits(BSC_TCP_ESTAB, BSC_TCP_RST | BSC_TCP_FIN_WAN);
}
static void c_rst_tracked(const struct run *r) { (void)r; expect_tcp_bits(BSC_TCP_RST, 0); }
static void c_fin_tracked(const struct run *r) { (void)r; expect_tcp_bits(BSC_TCP_FIN_WAN, 0); }

static void c_flows_empty(const struct run *r)
{
	(void)r;
	assert_int_equal(flows_count(), 0);
}

/* The packet left via fiber as `s` would with the NAT port of its binding,
 * which lies in the default range; the bytes are compared with that packet
 * built from scratch. */
static void expect_in_default_range(const struct run *r, struct pspec s, uint16_t dport)
{
	struct pspec via = s;
	uint8_t want[2048];
	struct bsc_flow f;
	size_t n;
	uint16_t port;

	assert_int_equal(flow_get(&s, &f), 0);
	port = ntohs(f.nat_port);
	assert_true(port >= BSC_NAT_PORT_MIN_DEFAULT && port <= BSC_NAT_PORT_MAX_DEFAULT);
	assert_true(rev_has(0, s.proto, REMOTE, dport, port));
	via.smac = FIBER_MAC;
	via.dmac = FIBER_GW;
	via.src = FIBER_ADDR;
	via.ttl = 63;
	via.sport = port;
	n = pkt_build(&via, want, sizeof(want));
	assert_int_equal(r->out_len, n);
	assert_memory_equal(r->out, want, n);
}

static void c_udp_q_in_range(const struct run *r) { expect_in_default_range(r, udp_q, 53); }
static void c_wg_in_range(const struct run *r) { expect_in_default_range(r, udp_wg, 51820); }
static void c_probe_id_in_range(const struct run *r) { expect_in_default_range(r, probe_ping, 0); }

/* The binding keeps the MAC that made it, and its uplink. */
static void expect_udp_kept(uint32_t uplink)
{
	uint8_t mac[6];
	struct bsc_flow f;

	mac_parse(HOST_MAC, mac);
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_memory_equal(f.lan_mac, mac, 6);
	assert_int_equal(f.uplink, uplink);
	assert_true(rev_has(uplink, 17, REMOTE, 53, 40000));
}
static void c_udp_kept_fiber(const struct run *r) { (void)r; expect_udp_kept(0); }

static void c_udp_not_moved(const struct run *r)
{
	(void)r;
	expect_udp_kept(0);
	assert_int_equal(stats_of(1).rebound, 0);
}

/* mutations */
static void m_trunc_icmp_inner(uint8_t *b, size_t *len)
{
	/* an ICMP error whose quote stops inside the quoted IPv4 header */
	*len = 14 + 20 + 8 + 12;
	b[16] = 0;
	b[17] = 20 + 8 + 12;
}

/* Padding after the datagram (Ethernet's minimum, a sloppy driver): the
 * frame is longer than tot_len says. */
#define PAD_LEN 20
static void m_pad(uint8_t *b, size_t *len)
{
	memset(b + *len, 0xaa, PAD_LEN);
	*len += PAD_LEN;
}

/* The translated error as expected, its padding untouched. */
static void c_padded_quote(const struct run *r)
{
	struct pspec o = { TO_HOST, .src = ROUTER, ICMP_ERR(11, 0, o_tcp, QTCP8_LEN) };
	uint8_t want[2048];
	size_t n = pkt_build(&o, want, sizeof(want));
	size_t i;

	assert_int_equal(r->out_len, n + PAD_LEN);
	assert_memory_equal(r->out, want, n);
	for (i = n; i < n + PAD_LEN; i++)
		assert_int_equal(r->out[i], 0xaa);
}

/* the box's own ports */
const struct dp_case box_ports[] = {
	{ .name = "lan udp from a port outside the nat range is translated into the range",
	  .prog = LAN,
	  .setup = s_default_range,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_udp_q_in_range },
	{ .name = "lan udp from the box's wireguard port 51820 is given a nat port, never 51820",
	  .prog = LAN,
	  .setup = s_default_range,
	  .in = { FROM_HOST, UDP_WG },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_wg_in_range },
	{ .name = "wan datagram to the box's port 51820 is the kernel's, a lan host on 51820 gets none",
	  .prog = WAN,
	  .setup = s_wg_bound,
	  .in = { AT_FIBER, UDP_WG_A },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NO_BINDING,
	  .out = { AT_FIBER, UDP_WG_A } },
	{ .name = "lan ping with an id below the nat range (the probes') is given an id in the range",
	  .prog = LAN,
	  .setup = s_default_range,
	  .in = { FROM_HOST, PING, .sport = PROBE_ID },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_probe_id_in_range },
	{ .name = "wan echo reply with the probes' id goes to the kernel, not to the lan host that pinged",
	  .prog = WAN,
	  .setup = s_probe_id_bound,
	  .in = { AT_FIBER, PONG, .sport = PROBE_ID },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NO_BINDING,
	  .out = { AT_FIBER, PONG, .sport = PROBE_ID } },
	{ .name = "lan udp flow moving to cell keeps the nat port it had on fiber",
	  .prog = LAN,
	  .setup = s_udp_default_range_fiber_down,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_moved_same_port },
};
const size_t box_ports_n = ARRAY_SIZE(box_ports);

/* a LAN host is who it says */
const struct dp_case lan_identity[] = {
	{ .name = "lan source outside the lan prefix is dropped (bcp 38)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .src = "10.78.0.10" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_SPOOFED_SRC,
	  .maps = c_flows_empty },
	{ .name = "lan source of a public address is dropped (bcp 38)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .src = "198.51.100.7" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_SPOOFED_SRC,
	  .maps = c_flows_empty },
	{ .name = "lan source the edge's own lan address, from the wire, is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, PING, .src = EDGE_LAN },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_SPOOFED_SRC,
	  .maps = c_flows_empty },
	{ .name = "lan source the lan's network address is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .src = "10.77.0.0" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_SPOOFED_SRC,
	  .maps = c_flows_empty },
	{ .name = "lan source the lan's broadcast address is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .src = "10.77.0.255" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_SPOOFED_SRC,
	  .maps = c_flows_empty },
	{ .name = "lan packet of a bound flow from another mac is dropped; the binding keeps its mac",
	  .prog = LAN,
	  .setup = s_udp,
	  .in = { FROM_HOST, UDP_Q, .smac = HOST2_MAC },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MAC_MISMATCH,
	  .maps = c_udp_kept_fiber },
	{ .name = "lan packet from another mac after a failover does not move the flow",
	  .prog = LAN,
	  .setup = s_udp_fiber_down,
	  .in = { FROM_HOST, UDP_Q, .smac = HOST2_MAC },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MAC_MISMATCH,
	  .maps = c_udp_not_moved },
	{ .name = "lan frame for another router's mac is passed untouched",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dmac = "02:00:00:00:09:99" },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NOT_FOR_US,
	  .out = { FROM_HOST, UDP_Q, .dmac = "02:00:00:00:09:99" },
	  .maps = c_flows_empty },
	{ .name = "lan syn|fin opens no binding",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN, .tcp_flags = TH_SYN | TH_FIN },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_TCP_FLAGS,
	  .maps = c_flows_empty },
	{ .name = "lan syn|rst opens no binding",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN, .tcp_flags = TH_SYN | TH_RST },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_TCP_FLAGS,
	  .maps = c_flows_empty },
	{ .name = "lan packet to loopback 127.0.0.1 is dropped (bogon)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = "127.0.0.1" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_BOGON,
	  .maps = c_flows_empty },
	{ .name = "lan packet to link-local 169.254.1.1 is dropped (bogon)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = "169.254.1.1" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_BOGON,
	  .maps = c_flows_empty },
	{ .name = "lan packet to 0.1.2.3 is dropped (bogon)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = "0.1.2.3" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_BOGON,
	  .maps = c_flows_empty },
	{ .name = "lan packet to reserved 240.0.0.1 is dropped (bogon)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = "240.0.0.1" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_BOGON,
	  .maps = c_flows_empty },
	{ .name = "lan icmp error quoting another host's flow is dropped",
	  .prog = LAN,
	  .setup = s_udp,
	  .in = { FROM_HOST, ICMP_ERR(3, 3, q_udp_to_host2, QUDP_LEN) },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_ICMP_QUOTE },
	{ .name = "lan icmp error sent elsewhere than to the remote its quote names is dropped",
	  .prog = LAN,
	  .setup = s_udp,
	  .in = { FROM_HOST, .dst = "203.0.113.99", ICMP_ERR(3, 3, q_udp_to_host, QUDP_LEN) },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_ICMP_QUOTE },
	{ .name = "lan source the neighbour table puts at another mac is dropped (source guard)",
	  .prog = LAN,
	  .setup = s_guard,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_SOURCE_GUARD,
	  .maps = c_flows_empty },
	{ .name = "lan source at the neighbour table's own mac passes the source guard",
	  .prog = LAN,
	  .setup = s_guard,
	  .in = { FROM_HOST, UDP_Q, .src = LAN_HOST2, .smac = HOST2_MAC },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q } },
	{ .name = "lan source the neighbour table does not know yet passes the source guard",
	  .prog = LAN,
	  .setup = s_guard,
	  .in = { FROM_HOST, UDP_Q, .src = "10.77.0.12" },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q } },
};
const size_t lan_identity_n = ARRAY_SIZE(lan_identity);

/* the kernel's routes */
const struct dp_case kernel_routes[] = {
	{ .name = "lan new flow to a vpn client routed behind the box goes to the kernel, untranslated",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = VPN_CLIENT },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ROUTE,
	  .out = { FROM_HOST, UDP_Q, .dst = VPN_CLIENT },
	  .maps = c_flows_empty },
	{ .name = "lan server's syn|ack to a vpn client is the kernel's to route, not reset",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYNACK, .dst = VPN_CLIENT },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ROUTE,
	  .out = { FROM_HOST, TCP_SYNACK, .dst = VPN_CLIENT },
	  .maps = c_flows_empty },
	{ .name = "lan new flow to a blackholed destination goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = BLACKHOLED },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ROUTE,
	  .maps = c_flows_empty },
	{ .name = "lan new flow to an unreachable destination goes to the kernel (it answers unreachable)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = UNREACHABLE },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ROUTE,
	  .maps = c_flows_empty },
	{ .name = "lan new flow to the fiber router's own subnet leaves by fiber while cell is active",
	  .prog = LAN,
	  .setup = s_cell_active,
	  .in = { FROM_HOST, UDP_Q, .dst = "192.0.2.1" },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q, .dst = "192.0.2.1" },
	  .maps = c_via_fiber_router },
};
const size_t kernel_routes_n = ARRAY_SIZE(kernel_routes);

/* what does not fit */
const struct dp_case too_big[] = {
	{ .name = "lan 1500-byte frame with df to cell's 1420-byte uplink gets frag-needed, mtu 1420",
	  .prog = LAN,
	  .setup = s_cell_active,
	  .in = { FROM_HOST, BIG_DF },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TX_FRAG_NEEDED,
	  .maps = c_frag_needed },
	{ .name = "lan 1500-byte frame with df to fiber's 1500-byte uplink is forwarded",
	  .prog = LAN,
	  .in = { FROM_HOST, BIG_DF },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, BIG_DF } },
	{ .name = "lan 1500-byte frame on a bound flow (cached) to cell gets frag-needed too",
	  .prog = LAN,
	  .setup = s_udp_cell,
	  .in = { FROM_HOST, BIG_DF },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TX_FRAG_NEEDED,
	  .maps = c_frag_needed_bound },
	{ .name = "lan syn with mss 1460 leaves by cell's 1420-byte uplink with mss 1380",
	  .prog = LAN,
	  .setup = s_cell_active,
	  .in = { FROM_HOST, TCP_SYN, .tcp_opt_len = 8, .tcp_mss = 1460 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, TCP_SYN, .tcp_opt_len = 8, .tcp_mss = 1380 } },
	{ .name = "lan syn with its mss at an odd offset is clamped, checksum right",
	  .prog = LAN,
	  .setup = s_cell_active,
	  .in = { FROM_HOST, TCP_SYN, .tcp_opt_len = 8, .tcp_mss = 1460, .tcp_mss_off = 1 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, TCP_SYN, .tcp_opt_len = 8, .tcp_mss = 1380, .tcp_mss_off = 1 } },
	{ .name = "lan syn with mss 1300 is left alone",
	  .prog = LAN,
	  .setup = s_cell_active,
	  .in = { FROM_HOST, TCP_SYN, .tcp_opt_len = 4, .tcp_mss = 1300 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, TCP_SYN, .tcp_opt_len = 4, .tcp_mss = 1300 } },
	{ .name = "lan syn with mss 1460 by fiber (1500) keeps 1460",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN, .tcp_opt_len = 4, .tcp_mss = 1460 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, TCP_SYN, .tcp_opt_len = 4, .tcp_mss = 1460 } },
	{ .name = "wan syn|ack with mss 1460 on cell reaches the lan host with mss 1380",
	  .prog = WAN, .uplink = 1,
	  .setup = s_tcp_cell,
	  .in = { AT_CELL, TCP_SYNACK, .tcp_opt_len = 4, .tcp_mss = 1460 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, TCP_SYNACK, .tcp_opt_len = 4, .tcp_mss = 1380 } },
};
const size_t too_big_n = ARRAY_SIZE(too_big);

/* the WAN cannot turn it */
const struct dp_case wan_cannot_turn[] = {
	{ .name = "wan rst with a guessed sequence number goes to the host, the binding stays (rfc 5961)",
	  .prog = WAN,
	  .setup = s_tcp_estab,
	  .in = { AT_FIBER, WAN_TCP(TH_RST, 123456) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TCP_CLOSE_UNVERIFIED,
	  .out = { TO_HOST, WAN_TCP(TH_RST, 123456) },
	  .maps = c_still_estab },
	{ .name = "wan rst one below the next sequence number does not close the binding",
	  .prog = WAN,
	  .setup = s_tcp_estab,
	  .in = { AT_FIBER, WAN_TCP(TH_RST, 5000) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TCP_CLOSE_UNVERIFIED,
	  .maps = c_still_estab },
	{ .name = "wan rst at exactly the next sequence number closes the binding",
	  .prog = WAN,
	  .setup = s_tcp_estab,
	  .in = { AT_FIBER, WAN_TCP(TH_RST, 5001) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, WAN_TCP(TH_RST, 5001) },
	  .maps = c_rst_tracked },
	{ .name = "wan rst of a closed socket after its fin (seq one below, the host's ack) closes the binding",
	  .prog = WAN,
	  .setup = s_tcp_fin_wan,
	  .in = { AT_FIBER, WAN_TCP(TH_RST, 5001) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .maps = c_rst_tracked },
	{ .name = "wan fin with a guessed sequence number leaves the binding established",
	  .prog = WAN,
	  .setup = s_tcp_estab,
	  .in = { AT_FIBER, WAN_TCP(TH_FIN | TH_ACK, 77777) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TCP_CLOSE_UNVERIFIED,
	  .maps = c_still_estab },
	{ .name = "wan fin in sequence half-closes the binding",
	  .prog = WAN,
	  .setup = s_tcp_estab,
	  .in = { AT_FIBER, WAN_TCP(TH_FIN | TH_ACK, 5001) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .maps = c_fin_tracked },
	{ .name = "wan rst on a binding whose syn|ack was never seen is not trusted",
	  .prog = WAN,
	  .setup = s_tcp,
	  .in = { AT_FIBER, WAN_TCP(TH_RST, 5001) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TCP_CLOSE_UNVERIFIED },
	{ .name = "wan icmp error with ttl 1 about a flow is dropped, never sent on with ttl 0",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, .ttl = 1, ICMP_ERR(3, 4, q_udp, QUDP_LEN) },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_TTL },
	{ .name = "wan icmp error with padding past tot_len: the padding is not rewritten",
	  .prog = WAN,
	  .setup = s_tcp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(11, 0, q_tcp, QTCP8_LEN) },
	  .mutate = m_pad,
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .maps = c_padded_quote },
	{ .name = "wan icmp error with a truncated quote is dropped",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp, QUDP_LEN) },
	  .mutate = m_trunc_icmp_inner,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
};
const size_t wan_cannot_turn_n = ARRAY_SIZE(wan_cannot_turn);

/* ------------------------------------------------------------ other tests */

/* One host over its new-flow budget is refused; another host is not. */
static void test_host_flow_budget(void **state)
{
	struct bsc_config c;
	struct bsc_host h;
	uint32_t zero = 0, host = ip4(LAN_HOST);
	struct pspec s = { FROM_HOST, UDP_Q };
	struct pspec other = { FROM_HOST, UDP_Q, .src = LAN_HOST2, .smac = HOST2_MAC };
	struct run r;
	int i;

	(void)state;
	reset_state();
	clear_hash(E.m.hosts, 4);
	assert_int_equal(bpf_map_lookup_elem(E.m.config, &zero, &c), 0);
	c.host_flow_rate = 1; /* one per second: no refill within the test */
	c.host_flow_burst = 3;
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
	for (i = 0; i < 3; i++) {
		s.sport = (uint16_t)(41000 + i);
		run_spec(LAN, 0, &s, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
	}
	s.sport = 41003;
	run_spec(LAN, 0, &s, &r);
	assert_int_equal(r.verdict, XDP_DROP);
	assert_int_equal(r.reasons[BSC_R_DROP_HOST_LIMIT], 1);
	/* its existing flows still pass */
	s.sport = 41000;
	run_spec(LAN, 0, &s, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	/* and another host is not affected */
	run_spec(LAN, 0, &other, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_int_equal(bpf_map_lookup_elem(E.m.hosts, &host, &h), 0);
	assert_int_equal(h.denied, 1);
}

/* A host that rotates its source address (inside the LAN prefix) still
 * meets its MAC's budget; one that rotates its MAC still meets its
 * address's; and neither spends a third host's. */
static void test_budget_by_address_and_mac(void **state)
{
	static const char *const macs[] = { "02:00:00:00:00:20", "02:00:00:00:00:21",
					    "02:00:00:00:00:22", "02:00:00:00:00:23" };
	static const char *const addrs[] = { "10.77.0.30", "10.77.0.31", "10.77.0.32", "10.77.0.33" };
	struct pspec s = { FROM_HOST, UDP_Q };
	struct pspec third = { FROM_HOST, UDP_Q, .src = LAN_HOST2, .smac = HOST2_MAC };
	struct bsc_config c;
	uint32_t zero = 0;
	struct run r;
	int i;

	(void)state;
	reset_state();
	assert_int_equal(bpf_map_lookup_elem(E.m.config, &zero, &c), 0);
	c.host_flow_rate = 1;
	c.host_flow_burst = 3;
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
	/* one MAC, a new address for each flow */
	for (i = 0; i < 4; i++) {
		s.src = addrs[i];
		run_spec(LAN, 0, &s, &r);
		assert_int_equal(r.verdict, i < 3 ? XDP_REDIRECT : XDP_DROP);
	}
	assert_int_equal(r.reasons[BSC_R_DROP_MAC_LIMIT], 1);
	/* one address, a new MAC for each flow */
	s.src = "10.77.0.40";
	for (i = 0; i < 4; i++) {
		s.smac = macs[i];
		s.sport = (uint16_t)(42000 + i);
		run_spec(LAN, 0, &s, &r);
		assert_int_equal(r.verdict, i < 3 ? XDP_REDIRECT : XDP_DROP);
	}
	assert_int_equal(r.reasons[BSC_R_DROP_HOST_LIMIT], 1);
	/* the third host's budget is its own */
	run_spec(LAN, 0, &third, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
}

/* The remote's data moves the next sequence number on: a RST at the old
 * number is now off by the data and does not close, one at the new does. */
static void test_wan_rst_follows_the_data(void **state)
{
	struct pspec data = { AT_FIBER, WAN_TCP(TH_ACK | TH_PSH, 5001), .payload_len = 10 };
	struct pspec rst_old = { AT_FIBER, WAN_TCP(TH_RST, 5001) };
	struct pspec rst_new = { AT_FIBER, WAN_TCP(TH_RST, 5011) };
	struct run r;

	(void)state;
	reset_state();
	s_tcp_estab();
	run_spec(WAN, 0, &data, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	run_spec(WAN, 0, &rst_old, &r);
	assert_int_equal(r.reasons[BSC_R_TCP_CLOSE_UNVERIFIED], 1);
	expect_tcp_bits(BSC_TCP_ESTAB, BSC_TCP_RST);
	run_spec(WAN, 0, &rst_new, &r);
	assert_int_equal(r.reasons[BSC_R_TCP_CLOSE_UNVERIFIED], 0);
	expect_tcp_bits(BSC_TCP_RST, 0);
}

void add_hardening_tests(void)
{
	T_ADD(test_wan_rst_follows_the_data);
	T_ADD(test_host_flow_budget);
	T_ADD(test_budget_by_address_and_mac);
}
