// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tests/dataplane/rows_drill.c - an uplink a drill plays dead (its replies
 * dropped until the drill's deadline, ARP still passing), the box's own
 * echo (the drill's synthetic flow, a frame with the drill's metadata) out
 * via fiber and its reply to the box's kernel; and, on an uplink, tagged
 * frames (802.1Q, QinQ) to the kernel, never translated to the LAN.
 */
#include <time.h>

#include "common.h"

/* setups */
/* A drill plays fiber dead until `until_ns` (CLOCK_MONOTONIC). */
static void drill_fiber(uint64_t until_ns)
{
	struct bsc_uplink u;

	assert_int_equal(bsc_uplink_read(&E.m, 0, &u), 0);
	u.drill_until_ns = until_ns;
	assert_int_equal(bsc_uplink_write(&E.m, 0, &u), 0);
}
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static void s_udp_drill(void)
{
	bind_flow(&udp_q);
	drill_fiber(mono_ns() + 60000000000ull);
}
static void s_drill(void) { drill_fiber(mono_ns() + 60000000000ull); }
static void s_udp_drill_over(void)
{
	bind_flow(&udp_q);
	drill_fiber(mono_ns() - 1000000000ull); /* passed (the BPF clock is coarse) */
}
static void s_box_frame(void) { box_frame = 1; }

/* uplink: drills */
const struct dp_case wan_drills[] = {
	{ .name = "wan reply on an uplink a drill plays dead is dropped",
	  .prog = WAN,
	  .setup = s_udp_drill,
	  .in = { AT_FIBER, UDP_A },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_DRILL },
	{ .name = "wan arp on an uplink a drill plays dead still passes",
	  .prog = WAN,
	  .setup = s_drill,
	  .in = { .smac = FIBER_GW, .dmac = "ff:ff:ff:ff:ff:ff", .eth_proto = 0x0806 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NON_IP },
	{ .name = "wan reply after the drill's deadline returns to the host",
	  .prog = WAN,
	  .setup = s_udp_drill_over,
	  .in = { AT_FIBER, UDP_A },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, UDP_A } },
	{ .name = "lan echo from the edge itself (drill flow) leaves via fiber",
	  .prog = LAN,
	  .setup = s_box_frame,
	  .in = { FROM_EDGE, PING },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, PING } },
	{ .name = "wan echo reply to the edge's own flow goes to its kernel, translated",
	  .prog = WAN,
	  .setup = s_edge_ping,
	  .in = { AT_FIBER, PONG },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_LOCAL,
	  .out = { AT_FIBER, PONG, .dst = EDGE_LAN, .ttl = 63 } },
	{ .name = "wan 802.1q tagged reply to a binding goes to the kernel, never translated to the lan",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .vlan_proto = 0x8100 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_VLAN },
	{ .name = "wan 802.1ad double tagged reply to a binding goes to the kernel",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, UDP_A, .vlan_proto = 0x88a8, .vlan_proto2 = 0x8100 },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_VLAN },
	{ .name = "wan frame cut inside its vlan tag is dropped",
	  .prog = WAN,
	  .in = { AT_FIBER, UDP_A, .vlan_proto = 0x8100 },
	  .mutate = m_cut_tag,
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_MALFORMED },
};
const size_t wan_drills_n = ARRAY_SIZE(wan_drills);
