// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tests/dataplane/rows_forward.c - forwarding and NAT both ways: new flows
 * from the LAN (their ports, exhaustion, a full table, no uplink), what
 * goes to the kernel (TTL, fragments, other protocols, VLANs, the box's own
 * traffic), malformed frames, RSTs for TCP without state, flows on a failed
 * or drained uplink and a new address; replies from the uplinks to the
 * hosts; the counters of a round trip, a policy flip, two hosts on one port.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <string.h>

#include "common.h"

/* setups */
static void s_no_uplink(void) { set_policy(BSC_NO_UPLINK); }
static void s_active_down(void) { set_uplink_state(0, BSC_UPLINK_DOWN); }
static void s_ping_fiber_down(void)
{
	bind_flow(&ping);
	set_uplink_state(0, BSC_UPLINK_DOWN);
	set_policy(1);
}
static void s_tcp_fiber_down(void)
{
	bind_flow(&tcp_syn);
	set_uplink_state(0, BSC_UPLINK_DOWN);
	set_policy(1);
}
static void s_tcp_moved_off_fiber(void)
{
	struct bsc_move mv = { .uplink = 0, .cls = 0, .tcp = 1 };

	bind_flow(&tcp_syn);
	set_policy(1);
	assert_int_equal(bsc_flows_move(&E.m, &mv, 1), 1); /* failback = reset-tcp */
}
static void s_udp_fiber_drained(void)
{
	bind_flow(&udp_q);
	set_uplink_state(0, BSC_UPLINK_DRAINED);
	set_policy(1);
}
static void s_udp_fiber_readdressed(void)
{
	struct bsc_uplink u;

	bind_flow(&udp_q);
	assert_int_equal(bsc_uplink_read(&E.m, 0, &u), 0);
	u.addr = ip4("192.0.2.77"); /* DHCP gave fiber a new address */
	assert_int_equal(bsc_uplink_write(&E.m, 0, &u), 0);
}
static void s_udp_moved_to_cell(void)
{
	s_udp_fiber_down();
	bind_flow(&udp_q); /* moves it */
	set_uplink_state(0, BSC_UPLINK_UP);
}
/* Another LAN host holds port 40000 towards the same remote endpoint. */
static void s_port_taken(void)
{
	struct pspec other = udp_q;

	other.src = LAN_HOST2;
	other.smac = HOST2_MAC;
	bind_flow(&other);
}
/* Every port towards 203.0.113.10:53 on fiber is taken. */
static void s_ports_exhausted(void)
{
	struct bsc_rev_key k = { 0 };
	struct bsc_rev v = { .lan_addr = ip4("10.77.0.99"), .lan_port = htons(1) };
	uint32_t p;

	k.raddr = ip4(REMOTE);
	k.rport = htons(53);
	k.proto = 17;
	k.uplink = 0;
	for (p = 0; p < 65536; p++) {
		k.nat_port = htons((uint16_t)p);
		assert_int_equal(bpf_map_update_elem(E.m.rev, &k, &v, BPF_ANY), 0);
	}
}

/* The flow table full of other hosts' bindings (the test object's
 * 16384): a new flow must be refused, not make room by evicting one. */
#define FLOWS_CAP 16384
static struct bsc_flow_key filler_key(uint32_t i)
{
	struct bsc_flow_key k = { 0 };

	k.saddr = ip4("10.77.0.50");
	k.daddr = htonl(0xcb007100u + (i >> 16)); /* 203.0.113.x */
	k.sport = htons((uint16_t)i);
	k.dport = htons(443);
	k.proto = 6;
	return k;
}

static void s_flows_full(void)
{
	struct bsc_flow f = { .nat_addr = ip4(FIBER_ADDR), .uplink = 0 };
	struct bsc_flow_key k;
	uint32_t i;

	for (i = 0; i < FLOWS_CAP; i++) {
		k = filler_key(i);
		f.nat_port = k.sport;
		f.last = tick_now();
		assert_int_equal(bpf_map_update_elem(E.m.flows, &k, &f, BPF_NOEXIST), 0);
	}
}

static void c_flows_full_kept(const struct run *r)
{
	struct bsc_flow_key k = filler_key(0);
	struct bsc_flow f;

	(void)r;
	assert_int_equal(flows_count(), FLOWS_CAP);
	assert_int_equal(bpf_map_lookup_elem(E.m.flows, &k, &f), 0); /* the oldest is still there */
	assert_false(rev_has(0, 17, REMOTE, 53, 40000));             /* its reservation undone */
}

/* mutations */
static void m_eth_only(uint8_t *b, size_t *len) { (void)b; *len = 14; }
static void m_trunc_ip(uint8_t *b, size_t *len) { (void)b; *len = 14 + 12; }
static void m_ihl4(uint8_t *b, size_t *len) { (void)len; b[14] = 0x44; }
static void m_version6(uint8_t *b, size_t *len) { (void)len; b[14] = 0x65; }
static void m_totlen_long(uint8_t *b, size_t *len) { (void)len; b[16] = 0x05; b[17] = 0xdc; }
static void m_trunc_l4_10(uint8_t *b, size_t *len) { (void)b; *len = 14 + 20 + 10; b[17] = 30; }
static void m_tcp_doff4(uint8_t *b, size_t *len) { (void)len; b[14 + 20 + 12] = 0x40; }
static void m_udp_len4(uint8_t *b, size_t *len) { (void)len; b[14 + 20 + 4] = 0; b[14 + 20 + 5] = 4; }

/* checks */
static void c_udp_bound_fiber(const struct run *r)
{
	struct bsc_flow f;

	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.uplink, 0);
	assert_int_equal(f.nat_addr, ip4(FIBER_ADDR));
	assert_int_equal(ntohs(f.nat_port), 40000);
	assert_true(rev_has(0, 17, REMOTE, 53, 40000));
	assert_int_equal(stats_of(0).new_flows, 1);
	assert_int_equal(stats_of(0).tx_packets, 1);
	assert_int_equal(stats_of(0).tx_bytes, r->out_len);
}

static void c_tcp_estab(const struct run *r)
{
	struct bsc_flow f;

	(void)r;
	assert_int_equal(flow_get(&tcp_syn, &f), 0);
	assert_true(f.tcp & BSC_TCP_SYN_SEEN);
	assert_true(f.tcp & BSC_TCP_ESTAB);
	assert_int_equal(stats_of(0).rx_packets, 1);
}

static void c_no_flow(const struct run *r)
{
	struct bsc_flow f;

	(void)r;
	assert_int_not_equal(flow_get(&udp_q, &f), 0);
	assert_int_not_equal(flow_get(&tcp_syn, &f), 0);
}

/* A later fragment: no ports, offset 1480 (185 units of 8). */
#define LATER_FRAG .proto = 17, .payload_len = 40, .frag = 0x00b9
static void s_first_frag(void)
{
	static const struct pspec first = { FROM_HOST, UDP_Q, .frag = 0x2000 };

	bind_flow(&first);
}
static void s_wan_first_frag(void)
{
	static const struct pspec first = { AT_FIBER, UDP_A, .frag = 0x2000 };
	struct run r;

	bind_flow(&udp_q);
	run_spec(WAN, 0, &first, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
}

/* The later fragment as it came in but for the one address (and TTL and
 * MACs): its bytes past the IP header untouched. */
static void expect_later_frag(const struct run *r, struct pspec in, const char *smac,
			      const char *dmac, const char *src, const char *dst)
{
	uint8_t orig[2048], mac[6];
	size_t n = pkt_build(&in, orig, sizeof(orig));

	assert_int_equal(r->out_len, n);
	mac_parse(dmac, mac);
	assert_memory_equal(r->out, mac, 6);
	mac_parse(smac, mac);
	assert_memory_equal(r->out + 6, mac, 6);
	assert_memory_equal(r->out + 26, &(uint32_t){ ip4(src) }, 4);
	assert_memory_equal(r->out + 30, &(uint32_t){ ip4(dst) }, 4);
	assert_int_equal(r->out[22], orig[22] - 1);
	assert_true(ip_csum_ok(r->out, r->out_len, 1));
	assert_memory_equal(r->out + 34, orig + 34, n - 34);
}
static void c_later_frag_fiber(const struct run *r)
{
	expect_later_frag(r, (struct pspec){ FROM_HOST, LATER_FRAG }, FIBER_MAC, FIBER_GW,
			  FIBER_ADDR, REMOTE);
}
static void c_later_frag_host(const struct run *r)
{
	expect_later_frag(r, (struct pspec){ AT_FIBER, LATER_FRAG }, EDGE_MAC, HOST_MAC, REMOTE,
			  LAN_HOST);
}

static void c_rebound_to_cell(const struct run *r)
{
	struct bsc_flow f;

	(void)r;
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.uplink, 1);
	assert_int_equal(f.nat_addr, ip4(CELL_ADDR));
	assert_true(rev_has(1, 17, REMOTE, 53, 40000));
	assert_false(rev_has(0, 17, REMOTE, 53, 40000));
	assert_int_equal(stats_of(1).rebound, 1);
}

static void c_ping_rebound(const struct run *r)
{
	struct bsc_flow f;

	(void)r;
	assert_int_equal(flow_get(&ping, &f), 0);
	assert_int_equal(f.uplink, 1);
	assert_true(rev_has(1, 1, REMOTE, 0, 0x4242));
	assert_false(rev_has(0, 1, REMOTE, 0, 0x4242));
}

/* A RST built in place: towards the host, from the remote, checksums right. */
static void check_rst(const struct run *r, uint32_t want_seq, uint32_t want_ack, uint8_t flags)
{
	const uint8_t *o = r->out, *th;
	uint8_t mac[6];

	assert_int_equal(r->out_len, 14 + 20 + 20);
	mac_parse(HOST_MAC, mac);
	assert_memory_equal(o, mac, 6);
	mac_parse(EDGE_MAC, mac);
	assert_memory_equal(o + 6, mac, 6);
	assert_int_equal(o[14 + 9], 6);
	assert_memory_equal(o + 14 + 12, &(uint32_t){ ip4(REMOTE) }, 4);
	assert_memory_equal(o + 14 + 16, &(uint32_t){ ip4(LAN_HOST) }, 4);
	th = o + 34;
	assert_int_equal(th[0] << 8 | th[1], 80);
	assert_int_equal(th[2] << 8 | th[3], 40001);
	assert_int_equal((uint32_t)th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7], want_seq);
	assert_int_equal((uint32_t)th[8] << 24 | th[9] << 16 | th[10] << 8 | th[11], want_ack);
	assert_int_equal(th[13], flags);
	assert_int_equal(th[12] >> 4, 5);
	assert_true(ip_csum_ok(o, r->out_len, 1));
	assert_true(l4_csum_ok(o, r->out_len, 1));
}

static void c_rst_for_data(const struct run *r)
{
	struct bsc_flow f;

	check_rst(r, 5001, 0, TH_RST);
	assert_int_not_equal(flow_get(&tcp_syn, &f), 0); /* binding gone */
	assert_false(rev_has(0, 6, REMOTE, 80, 40001));
}

static void c_rst_for_fin(const struct run *r)
{
	/* no ACK on the segment: RST|ACK acknowledging seq + data + FIN */
	check_rst(r, 0, 1001 + 10 + 1, TH_RST | TH_ACK);
}

static void c_port_moved(const struct run *r)
{
	struct bsc_flow f;
	uint16_t port;

	assert_int_equal(flow_get(&udp_q, &f), 0);
	port = ntohs(f.nat_port);
	assert_int_not_equal(port, 40000);
	assert_true(port >= FIX_NAT_MIN);
	assert_true(rev_has(0, 17, REMOTE, 53, port));
	/* the packet left with that port, checksums right */
	assert_int_equal(r->out[34] << 8 | r->out[35], port);
	assert_true(ip_csum_ok(r->out, r->out_len, 1));
	assert_true(l4_csum_ok(r->out, r->out_len, 1));
}

static void c_exhausted(const struct run *r)
{
	struct bsc_flow f;

	(void)r;
	assert_int_not_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(stats_of(0).nat_exhausted, 1);
}

static void c_drained_stays(const struct run *r)
{
	struct bsc_flow f;

	(void)r;
	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.uplink, 0);
}

static void c_readdressed(const struct run *r)
{
	struct bsc_flow f;

	assert_int_equal(flow_get(&udp_q, &f), 0);
	assert_int_equal(f.nat_addr, ip4("192.0.2.77"));
	assert_memory_equal(r->out + 26, &(uint32_t){ ip4("192.0.2.77") }, 4);
	assert_true(ip_csum_ok(r->out, r->out_len, 1));
	assert_true(l4_csum_ok(r->out, r->out_len, 1));
}

/* LAN -> uplink, new flows */
const struct dp_case lan_new_flows[] = {
	{ .name = "lan udp new flow leaves via fiber with its own port",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_udp_bound_fiber },
	{ .name = "lan udp with zero checksum keeps it zero",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .udp_csum_zero = 1 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q, .udp_csum_zero = 1 } },
	{ .name = "lan tcp syn opens a binding",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, TCP_SYN } },
	{ .name = "lan tcp syn with options",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN, .tcp_opt_len = 12 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, TCP_SYN, .tcp_opt_len = 12 } },
	{ .name = "lan tcp data on a bound flow",
	  .prog = LAN,
	  .setup = s_tcp,
	  .in = { FROM_HOST, TCP_DATA },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, TCP_DATA } },
	{ .name = "lan icmp echo keeps its identifier",
	  .prog = LAN,
	  .in = { FROM_HOST, PING },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, PING } },
	{ .name = "lan ipv4 options are carried, l4 found behind them",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .opt_len = 8 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q, .opt_len = 8 } },
	{ .name = "lan ttl 2 leaves with ttl 1",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .ttl = 2 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q, .ttl = 1 } },
	{ .name = "lan udp to a port held by another host gets another port",
	  .prog = LAN,
	  .setup = s_port_taken,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_port_moved },
	{ .name = "lan new flow with every port taken is dropped and counted",
	  .prog = LAN,
	  .setup = s_ports_exhausted,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_NAT_EXHAUSTED,
	  .maps = c_exhausted },
	{ .name = "lan new flow with the flow table full is refused and counted, nothing evicted",
	  .prog = LAN,
	  .setup = s_flows_full,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MAP_FULL,
	  .maps = c_flows_full_kept },
	{ .name = "lan new flow without an active uplink is dropped",
	  .prog = LAN,
	  .setup = s_no_uplink,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_NO_UPLINK,
	  .maps = c_no_flow },
	{ .name = "lan new flow while the active uplink is down is dropped",
	  .prog = LAN,
	  .setup = s_active_down,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_NO_UPLINK,
	  .maps = c_no_flow },
};
const size_t lan_new_flows_n = ARRAY_SIZE(lan_new_flows);

/* LAN: handed to the kernel */
const struct dp_case lan_to_kernel[] = {
	{ .name = "lan ttl 1 goes to the kernel (time exceeded)",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .ttl = 1 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_TTL,
	  .maps = c_no_flow },
	{ .name = "lan ttl 0 goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .ttl_zero = 1 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_TTL },
	{ .name = "lan first fragment is translated with its flow",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .frag = 0x2000 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q, .frag = 0x2000 },
	  .maps = c_udp_bound_fiber },
	{ .name = "lan later fragment follows its first: the same address, out of fiber",
	  .prog = LAN,
	  .setup = s_first_frag,
	  .in = { FROM_HOST, LATER_FRAG },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_later_frag_fiber },
	{ .name = "lan later fragment whose first was never seen is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, LATER_FRAG },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_FRAG_UNKNOWN },
	{ .name = "lan later fragment from another mac than its first's is dropped",
	  .prog = LAN,
	  .setup = s_first_frag,
	  .in = { FROM_HOST, LATER_FRAG, .smac = HOST2_MAC },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MAC_MISMATCH },
	{ .name = "lan fragment of another protocol goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, .proto = 47, .payload_len = 40, .frag = 0x2000 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_FRAGMENT },
	{ .name = "lan gre goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, .proto = 47, .payload_len = 24 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_PROTO },
	{ .name = "lan arp goes to the kernel",
	  .prog = LAN,
	  .in = { .smac = HOST_MAC, .dmac = "ff:ff:ff:ff:ff:ff", .eth_proto = 0x0806 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NON_IP },
	{ .name = "lan ipv6 goes to the kernel",
	  .prog = LAN,
	  .in = { .smac = HOST_MAC, .dmac = EDGE_MAC, .eth_proto = 0x86dd },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NON_IP },
	{ .name = "lan 802.1q tagged frame goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .vlan_proto = 0x8100 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_VLAN },
	{ .name = "lan 802.1ad double tagged frame goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .vlan_proto = 0x88a8, .vlan_proto2 = 0x8100 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_VLAN },
	{ .name = "lan frame cut inside its vlan tag is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .vlan_proto = 0x8100 },
	  .mutate = m_cut_tag,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
	{ .name = "lan broadcast frame goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dmac = "ff:ff:ff:ff:ff:ff" },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_BCAST },
	{ .name = "lan multicast address goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = "224.0.0.251" },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_BCAST },
	{ .name = "lan traffic for the box goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = EDGE_LAN },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_LOCAL },
	{ .name = "lan traffic within the lan goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = "10.77.0.20" },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_LOCAL },
	{ .name = "lan traffic to an uplink address goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q, .dst = CELL_ADDR },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_LOCAL,
	  .maps = c_no_flow },
	{ .name = "lan icmp timestamp request goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, .proto = 1, .icmp_type = 13, .payload_len = 12 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ICMP },
};
const size_t lan_to_kernel_n = ARRAY_SIZE(lan_to_kernel);

/* LAN: malformed */
const struct dp_case lan_malformed[] = {
	{ .name = "lan ipv4 frame with nothing behind ethernet is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_eth_only,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
	{ .name = "lan truncated ipv4 header is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_trunc_ip,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
	{ .name = "lan ipv4 ihl below 5 is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_ihl4,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
	{ .name = "lan ipv4 ethertype with version 6 is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_version6,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
	{ .name = "lan total length beyond the frame is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_totlen_long,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED,
	  .maps = c_no_flow },
	{ .name = "lan truncated tcp header is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN },
	  .mutate = m_trunc_l4_10,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED,
	  .maps = c_no_flow },
	{ .name = "lan tcp data offset below 5 is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_SYN },
	  .mutate = m_tcp_doff4,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED,
	  .maps = c_no_flow },
	{ .name = "lan udp length below 8 is dropped",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_udp_len4,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED,
	  .maps = c_no_flow },
};
const size_t lan_malformed_n = ARRAY_SIZE(lan_malformed);

/* LAN: TCP without state */
const struct dp_case lan_tcp_stateless[] = {
	{ .name = "lan tcp data without a binding is answered with rst",
	  .prog = LAN,
	  .in = { FROM_HOST, TCP_DATA },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TX_RST_NO_FLOW,
	  .maps = c_rst_for_data },
	{ .name = "lan tcp fin without ack and binding gets rst|ack",
	  .prog = LAN,
	  .in = { FROM_HOST, .proto = 6, .sport = 40001, .dport = 80, .tcp_flags = TH_FIN, .seq = 1001,
	    .payload_len = 10 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TX_RST_NO_FLOW,
	  .maps = c_rst_for_fin },
	{ .name = "lan tcp rst without a binding is dropped, never answered",
	  .prog = LAN,
	  .in = { FROM_HOST, .proto = 6, .sport = 40001, .dport = 80, .tcp_flags = TH_RST, .seq = 1 },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_TCP_NO_FLOW,
	  .maps = c_no_flow },
};
const size_t lan_tcp_stateless_n = ARRAY_SIZE(lan_tcp_stateless);

/* LAN: the uplink failed */
const struct dp_case lan_uplink_failed[] = {
	{ .name = "lan udp flow on a failed uplink moves to cell",
	  .prog = LAN,
	  .setup = s_udp_fiber_down,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_REBOUND,
	  .out = { VIA_CELL, UDP_Q },
	  .maps = c_rebound_to_cell },
	{ .name = "lan ping flow on a failed uplink moves to cell",
	  .prog = LAN,
	  .setup = s_ping_fiber_down,
	  .in = { FROM_HOST, PING },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_REBOUND,
	  .out = { VIA_CELL, PING },
	  .maps = c_ping_rebound },
	{ .name = "lan tcp flow on a failed uplink is reset at the host",
	  .prog = LAN,
	  .setup = s_tcp_fiber_down,
	  .in = { FROM_HOST, TCP_DATA },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TX_RST_UPLINK_DOWN,
	  .maps = c_rst_for_data },
	{ .name = "lan tcp flow its class moved off a healthy uplink is reset at the host",
	  .prog = LAN,
	  .setup = s_tcp_moved_off_fiber,
	  .in = { FROM_HOST, TCP_DATA },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_TX_RST_MOVED,
	  .maps = c_rst_for_data },
	{ .name = "lan flow on a drained uplink stays there",
	  .prog = LAN,
	  .setup = s_udp_fiber_drained,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_drained_stays },
	{ .name = "lan flow follows a new uplink address (dhcp)",
	  .prog = LAN,
	  .setup = s_udp_fiber_readdressed,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_REBOUND,
	  .maps = c_readdressed },
};
const size_t lan_uplink_failed_n = ARRAY_SIZE(lan_uplink_failed);

/* uplink -> LAN */
const struct dp_case wan_to_lan[] = {
	{ .name = "wan udp reply returns to the host",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, UDP_A } },
	{ .name = "wan udp reply with zero checksum",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .udp_csum_zero = 1 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, UDP_A, .udp_csum_zero = 1 } },
	{ .name = "wan tcp syn-ack returns and marks the flow established",
	  .prog = WAN,
	  .setup = s_tcp,
	  .in = { AT_FIBER, TCP_SYNACK },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, TCP_SYNACK },
	  .maps = c_tcp_estab },
	{ .name = "wan echo reply returns with the identifier",
	  .prog = WAN,
	  .setup = s_ping,
	  .in = { AT_FIBER, PONG },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, PONG } },
	{ .name = "wan reply with ip options returns",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .opt_len = 4 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, UDP_A, .opt_len = 4 } },
	{ .name = "wan packet to a nat port without binding is dropped, not the kernel's to answer",
	  .prog = WAN,
	  .in = { AT_FIBER, UDP_A },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_NO_BINDING,
	  .maps = c_no_flow },
	{ .name = "wan syn from outside creates nothing",
	  .prog = WAN,
	  .in = { AT_FIBER, .proto = 6, .sport = 5555, .dport = 22, .tcp_flags = TH_SYN },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NO_BINDING,
	  .maps = c_no_flow },
	{ .name = "wan packet addressed to a lan host is dropped",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .dst = LAN_HOST },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_UNSOLICITED },
	{ .name = "wan packet for another address is dropped",
	  .prog = WAN,
	  .in = { AT_FIBER, UDP_A, .dst = "192.0.2.99" },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_UNSOLICITED },
	{ .name = "wan reply from another remote port has no binding",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .sport = 54 },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_NO_BINDING },
	{ .name = "wan packet on a device that is no uplink is not translated",
	  .prog = WAN, .uplink = 3,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NOT_READY },
	{ .name = "wan reply on the wrong uplink has no binding",
	  .prog = WAN, .uplink = 1,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .dst = CELL_ADDR },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_NO_BINDING },
	{ .name = "wan reply for a flow that moved away has no binding",
	  .prog = WAN,
	  .setup = s_udp_moved_to_cell,
	  .in = { AT_FIBER, UDP_A },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_NO_BINDING },
	{ .name = "wan reply with ttl 1 is dropped (the kernel would answer for the host)",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .ttl = 1 },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_TTL },
	{ .name = "wan reply with ttl 0 is dropped, never sent on with ttl 255",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .ttl_zero = 1 },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_WAN_TTL },
	{ .name = "wan first fragment of a reply (edns, ike) is translated to the host",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .frag = 0x2000 },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, UDP_A, .frag = 0x2000 } },
	{ .name = "wan later fragment follows its first to the host",
	  .prog = WAN,
	  .setup = s_wan_first_frag,
	  .in = { AT_FIBER, LATER_FRAG },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .maps = c_later_frag_host },
	{ .name = "wan later fragment whose first was never seen is dropped, not the kernel's",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, LATER_FRAG },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_FRAG_UNKNOWN },
	{ .name = "wan echo request to the uplink goes to the kernel",
	  .prog = WAN,
	  .in = { AT_FIBER, PING },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ICMP },
	{ .name = "wan truncated udp header is dropped",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A },
	  .mutate = m_trunc_l4_10,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
};
const size_t wan_to_lan_n = ARRAY_SIZE(wan_to_lan);

/* ------------------------------------------------------------ other tests */

static void test_not_configured_passes(void **state)
{
	struct bsc_config c = { 0 };
	uint32_t zero = 0;
	struct run r;

	(void)state;
	reset_state();
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
	run_spec(LAN, 0, &udp_q, &r);
	assert_int_equal(r.verdict, XDP_PASS);
	assert_int_equal(r.reasons[BSC_R_PASS_NOT_READY], 1);
}

static void test_round_trip_counters(void **state)
{
	struct pspec a = { AT_FIBER, UDP_A };
	struct run r;
	int i;

	(void)state;
	reset_state();
	for (i = 0; i < 5; i++) {
		run_spec(LAN, 0, &udp_q, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
		run_spec(WAN, 0, &a, &r);
		assert_int_equal(r.verdict, XDP_REDIRECT);
	}
	assert_int_equal(stats_of(0).tx_packets, 5);
	assert_int_equal(stats_of(0).rx_packets, 5);
	assert_int_equal(stats_of(0).new_flows, 1);
	assert_int_equal(stats_of(1).tx_packets, 0);
}

static void test_policy_flip_moves_new_flows_only(void **state)
{
	struct pspec other = { FROM_HOST, UDP_Q, .sport = 40100 };
	struct bsc_flow f;
	struct run r;

	(void)state;
	reset_state();
	run_spec(LAN, 0, &udp_q, &r);
	set_policy(1); /* the controller's flip: one map write */
	run_spec(LAN, 0, &other, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_memory_equal(r.out + 26, &(uint32_t){ ip4(CELL_ADDR) }, 4);
	assert_int_equal(flow_get(&other, &f), 0);
	assert_int_equal(f.uplink, 1);
	/* the first flow's uplink is healthy: it stays */
	run_spec(LAN, 0, &udp_q, &r);
	assert_memory_equal(r.out + 26, &(uint32_t){ ip4(FIBER_ADDR) }, 4);
}

static void test_two_hosts_same_port(void **state)
{
	struct pspec h2 = { FROM_HOST, UDP_Q, .src = LAN_HOST2, .smac = HOST2_MAC };
	struct pspec back = { AT_FIBER, UDP_A };
	struct bsc_flow f1, f2;
	uint8_t mac[6];
	struct run r;

	(void)state;
	reset_state();
	run_spec(LAN, 0, &udp_q, &r);
	run_spec(LAN, 0, &h2, &r);
	assert_int_equal(flow_get(&udp_q, &f1), 0);
	assert_int_equal(flow_get(&h2, &f2), 0);
	assert_int_not_equal(f1.nat_port, f2.nat_port);
	/* a reply to the second port reaches the second host, at its MAC */
	back.dport = ntohs(f2.nat_port);
	run_spec(WAN, 0, &back, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
	assert_memory_equal(r.out + 30, &(uint32_t){ ip4(LAN_HOST2) }, 4);
	assert_int_equal(r.out[36] << 8 | r.out[37], 40000);
	mac_parse(HOST2_MAC, mac);
	assert_memory_equal(r.out, mac, 6);
	assert_true(l4_csum_ok(r.out, r.out_len, 1));
}

void add_forward_tests(void)
{
	T_ADD(test_not_configured_passes);
	T_ADD(test_round_trip_counters);
	T_ADD(test_policy_flip_moves_new_flows_only);
	T_ADD(test_two_hosts_same_port);
}
