// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tests/dataplane/rows_classes.c - traffic classes: a new flow classified
 * once by the first rule that matches it (each condition: source and
 * destination prefixes, protocol, port ranges, DSCP, the host's MAC; all
 * of a rule's; ports on TCP and UDP only), through its class's uplink, or
 * dropped when the class has none; an established flow keeps its class,
 * also when it moves; its counters (both ways, new flows, moves) in its
 * class's row of uplink_stats.  A balance class: the uplink of the flow's
 * slot (by 5-tuple or source), sticky.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <string.h>

#include "common.h"

#define SAT_ADDR "100.64.0.2"
#define SAT_MAC  "02:00:00:00:01:12"
#define SAT_GW   "02:00:00:00:04:00"
#define VIA_SAT  .smac = SAT_MAC, .dmac = SAT_GW, .src = SAT_ADDR, .dst = REMOTE, .ttl = 63

/* a rule that matches anything, fields then overridden */
#define ANY .sport_hi = 0xffff, .dport_hi = 0xffff, .dscp = BSC_DSCP_ANY

/* rules 0..n-1 in class_rules, n_classes classes in use */
static void set_rules(const struct bsc_class_rule *r, uint32_t n, uint32_t n_classes)
{
	struct bsc_config c;
	uint32_t zero = 0, i;

	for (i = 0; i < n; i++)
		assert_int_equal(bpf_map_update_elem(E.m.class_rules, &i, &r[i], BPF_ANY), 0);
	assert_int_equal(bpf_map_lookup_elem(E.m.config, &zero, &c), 0);
	c.n_class_rules = (uint16_t)n;
	c.n_classes = n_classes;
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
}

static void set_class(uint32_t cls, uint32_t active)
{
	struct bsc_policy p = { .active = active, .preferred = BSC_NO_UPLINK };

	assert_int_equal(bpf_map_update_elem(E.m.policy, &cls, &p, BPF_ANY), 0);
}

static struct bsc_uplink_stats row_of(uint32_t uplink, uint32_t cls)
{
	struct bsc_uplink_stats st;

	assert_int_equal(bsc_class_stats_sum(&E.m, uplink, cls, &st), 0);
	return st;
}

/* the binding of udp_q: in class cls, on uplink */
static void binding_is(const struct pspec *s, uint32_t cls, uint32_t uplink)
{
	struct bsc_flow f;

	assert_int_equal(flow_get(s, &f), 0);
	assert_int_equal(f.policy, cls);
	assert_int_equal(f.uplink, uplink);
}

/* setups: class 1 goes through cell, class 2 through sat */
static void classes_12(void)
{
	set_class(1, 1);
	set_class(2, 2);
}

static void s_dns_rule(void)
{
	static const struct bsc_class_rule r[] = { { ANY, .proto = 17, .dport_lo = 53, .dport_hi = 53, .cls = 1 } };

	classes_12();
	set_rules(r, 1, 2);
}

static void s_first_match(void)
{
	static const struct bsc_class_rule r[] = {
		{ ANY, .dport_lo = 53, .dport_hi = 53, .cls = 2 },
		{ ANY, .proto = 17, .cls = 1 },
	};

	classes_12();
	set_rules(r, 2, 3);
}

static void s_src_in(void)
{
	static struct bsc_class_rule r[] = { { ANY, .cls = 1 } };

	r[0].src = ip4("10.77.0.0");
	r[0].src_mask = htonl(0xfffffff0); /* /28: .0-.15, the host .10 in it */
	classes_12();
	set_rules(r, 1, 2);
}

static void s_src_out(void)
{
	static struct bsc_class_rule r[] = { { ANY, .cls = 1 } };

	r[0].src = ip4("10.77.0.16");
	r[0].src_mask = htonl(0xfffffff0);
	classes_12();
	set_rules(r, 1, 2);
}

static void s_dst_in(void)
{
	static struct bsc_class_rule r[] = { { ANY, .cls = 1 } };

	r[0].dst = ip4("203.0.113.0");
	r[0].dst_mask = htonl(0xffffff00);
	classes_12();
	set_rules(r, 1, 2);
}

static void s_dscp_ef(void)
{
	static const struct bsc_class_rule r[] = { { ANY, .dscp = 46, .cls = 1 } };

	classes_12();
	set_rules(r, 1, 2);
}

static void s_mac_host(void)
{
	static struct bsc_class_rule r[] = { { ANY, .has_mac = 1, .cls = 1 } };

	mac_parse(HOST_MAC, r[0].mac);
	classes_12();
	set_rules(r, 1, 2);
}

static void s_mac_other(void)
{
	static struct bsc_class_rule r[] = { { ANY, .has_mac = 1, .cls = 1 } };

	mac_parse(HOST2_MAC, r[0].mac);
	classes_12();
	set_rules(r, 1, 2);
}

static void s_sport_range(void)
{
	static const struct bsc_class_rule r[] = { { ANY, .sport_lo = 40000, .sport_hi = 40010, .cls = 1 } };

	classes_12();
	set_rules(r, 1, 2);
}

static void s_tcp_dns_rule(void)
{
	static const struct bsc_class_rule r[] = { { ANY, .proto = 6, .dport_lo = 53, .dport_hi = 53, .cls = 1 } };

	classes_12();
	set_rules(r, 1, 2);
}

/* a rule with ports and no protocol: TCP and UDP only */
static void s_ports_only(void)
{
	static const struct bsc_class_rule r[] = { { ANY, .dport_lo = 0, .dport_hi = 1000, .sport_lo = 1, .cls = 1 } };

	classes_12();
	set_rules(r, 1, 2);
}

static void s_class_no_uplink(void)
{
	s_dns_rule();
	set_class(1, BSC_NO_UPLINK);
}

static void s_rules_not_in_use(void)
{
	s_dns_rule();
	set_rules(NULL, 0, 2); /* the rule stays in the map, not counted */
}

static void s_bound_then_rules_gone(void)
{
	s_dns_rule();
	bind_flow(&udp_q);
	set_rules(NULL, 0, 2);
}

static void s_class_flow_cell_down(void)
{
	s_dns_rule();
	bind_flow(&udp_q); /* class 1, on cell */
	set_uplink_state(1, BSC_UPLINK_DOWN);
	set_class(1, 2);
}

static void s_class_flow_on_cell(void)
{
	s_dns_rule();
	bind_flow(&udp_q);
}

/* balance (class 1, dport 53): every slot of its table on `rest`, the
 * slot of udp_q (by its 5-tuple, or its source alone) on `mine` */
static uint32_t udp_q_slot(int persist_source)
{
	return bsc_balance_slot(ip4(LAN_HOST), ip4(REMOTE), htons(40000), htons(53), 17,
				persist_source);
}

static void set_balance(int persist_source, uint8_t mine, uint8_t rest)
{
	struct bsc_policy p = { .active = rest, .preferred = BSC_NO_UPLINK, .balance = 1,
				.persist_source = (uint8_t)persist_source };
	static struct bsc_balance b;
	uint32_t one = 1;

	memset(b.slot, rest, sizeof(b.slot));
	b.slot[udp_q_slot(persist_source)] = mine;
	assert_int_equal(bpf_map_update_elem(E.m.balance, &one, &b, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(E.m.policy, &one, &p, BPF_ANY), 0);
}

static void s_balance(void)
{
	s_dns_rule();
	set_balance(0, 1, 2);
}

static void s_balance_source(void)
{
	s_dns_rule();
	set_balance(1, 1, 2);
}

static void s_balance_sticky(void)
{
	s_balance();
	bind_flow(&udp_q); /* on cell */
	set_balance(0, 2, 1);
}

static void s_balance_cell_down(void)
{
	s_balance();
	bind_flow(&udp_q);
	set_uplink_state(1, BSC_UPLINK_DOWN);
	set_balance(0, 2, 1);
}

static void s_balance_none(void)
{
	s_dns_rule();
	set_balance(0, BSC_BALANCE_NONE, 2);
}

/* DSCP EF (46) in the frame's TOS, the header checksum made again */
static void m_dscp_ef(uint8_t *b, size_t *len)
{
	uint16_t c;

	b[14 + 1] = 46 << 2;
	b[14 + 10] = b[14 + 11] = 0;
	c = (uint16_t)~sum16(b + 14, 20, 0);
	b[14 + 10] = (uint8_t)(c >> 8);
	b[14 + 11] = (uint8_t)c;
}

/* map checks */
static void c_default(const struct run *r) { binding_is(&udp_q, 0, 0); }
static void c_class1_cell(const struct run *r)
{
	struct bsc_uplink_stats in1 = row_of(1, 1), in0 = row_of(1, 0), all;

	binding_is(&udp_q, 1, 1);
	assert_int_equal(in1.tx_packets, 1);
	assert_int_equal(in1.new_flows, 1);
	assert_int_equal(in0.tx_packets, 0); /* not in the default class's row */
	assert_int_equal(bsc_uplink_stats_sum(&E.m, 1, &all), 0);
	assert_int_equal(all.tx_packets, 1); /* cell's own figure: the sum */
	assert_int_equal(all.new_flows, 1);
}
static void c_class2_sat(const struct run *r) { binding_is(&udp_q, 2, 2); }
static void c_ping_default(const struct run *r) { binding_is(&ping, 0, 0); }
static void c_no_binding(const struct run *r)
{
	struct bsc_flow f;

	assert_int_not_equal(flow_get(&udp_q, &f), 0);
}
static void c_kept_class(const struct run *r)
{
	binding_is(&udp_q, 1, 1);
	assert_int_equal(row_of(1, 1).tx_packets, 2); /* the bind's and this one */
}
static void c_moved_in_class(const struct run *r)
{
	binding_is(&udp_q, 1, 2);
	assert_int_equal(row_of(2, 1).rebound, 1);
	assert_int_equal(row_of(2, 0).rebound, 0);
}
static void c_reply_in_class(const struct run *r)
{
	assert_int_equal(row_of(1, 1).rx_packets, 1);
	assert_int_equal(row_of(1, 0).rx_packets, 0);
}

const struct dp_case classes[] = {
	{ .name = "class: no rule, a new flow is in the default class",
	  .prog = LAN,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_default },
	{ .name = "class: udp dport 53 puts a new flow in class 1, out through its uplink (cell), counted in its row",
	  .prog = LAN,
	  .setup = s_dns_rule,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q },
	  .maps = c_class1_cell },
	{ .name = "class: the first rule that matches wins (port 53 -> class 2 before udp -> class 1)",
	  .prog = LAN,
	  .setup = s_first_match,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_SAT, UDP_Q },
	  .maps = c_class2_sat },
	{ .name = "class: a source in the rule's prefix matches",
	  .prog = LAN,
	  .setup = s_src_in,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q } },
	{ .name = "class: a source outside the rule's prefix does not",
	  .prog = LAN,
	  .setup = s_src_out,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_default },
	{ .name = "class: a destination in the rule's prefix matches",
	  .prog = LAN,
	  .setup = s_dst_in,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q } },
	{ .name = "class: dscp ef matches a frame marked ef",
	  .prog = LAN,
	  .setup = s_dscp_ef,
	  .in = { FROM_HOST, UDP_Q },
	  .mutate = m_dscp_ef,
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .maps = c_class1_cell },
	{ .name = "class: dscp ef does not match an unmarked frame",
	  .prog = LAN,
	  .setup = s_dscp_ef,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_default },
	{ .name = "class: the host's MAC matches",
	  .prog = LAN,
	  .setup = s_mac_host,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q } },
	{ .name = "class: another host's MAC does not",
	  .prog = LAN,
	  .setup = s_mac_other,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_default },
	{ .name = "class: a source port in the rule's range matches",
	  .prog = LAN,
	  .setup = s_sport_range,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q } },
	{ .name = "class: every condition of a rule must hold (tcp port 53 does not take udp port 53)",
	  .prog = LAN,
	  .setup = s_tcp_dns_rule,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_default },
	{ .name = "class: a rule with ports takes tcp and udp only, not an echo",
	  .prog = LAN,
	  .setup = s_ports_only,
	  .in = { FROM_HOST, PING },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, PING },
	  .maps = c_ping_default },
	{ .name = "class: a class without a usable uplink drops its new flow, counted, no binding",
	  .prog = LAN,
	  .setup = s_class_no_uplink,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_CLASS_NO_UPLINK,
	  .maps = c_no_binding },
	{ .name = "class: rules in the map beyond config's count are not applied",
	  .prog = LAN,
	  .setup = s_rules_not_in_use,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_FIBER, UDP_Q },
	  .maps = c_default },
	{ .name = "class: an established flow keeps its class when the rules change",
	  .prog = LAN,
	  .setup = s_bound_then_rules_gone,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q },
	  .maps = c_kept_class },
	{ .name = "class: a flow whose uplink failed moves to its class's uplink, and stays in its class",
	  .prog = LAN,
	  .setup = s_class_flow_cell_down,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_REBOUND,
	  .out = { VIA_SAT, UDP_Q },
	  .maps = c_moved_in_class },
	{ .name = "class: a reply is counted in its flow's class",
	  .prog = WAN, .uplink = 1,
	  .setup = s_class_flow_on_cell,
	  .in = { AT_CELL, UDP_A },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_WAN,
	  .out = { TO_HOST, UDP_A },
	  .maps = c_reply_in_class },
	{ .name = "balance: a new flow takes the uplink of its slot of the class's table (cell; every other slot sat)",
	  .prog = LAN,
	  .setup = s_balance,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q },
	  .maps = c_class1_cell },
	{ .name = "balance: persist = source, the slot is the host's address's alone",
	  .prog = LAN,
	  .setup = s_balance_source,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q },
	  .maps = c_class1_cell },
	{ .name = "balance: a bound flow stays on its uplink when its slot goes to another (sticky)",
	  .prog = LAN,
	  .setup = s_balance_sticky,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_FWD_LAN,
	  .out = { VIA_CELL, UDP_Q },
	  .maps = c_kept_class },
	{ .name = "balance: a flow whose uplink failed moves to its slot's new uplink, in its class",
	  .prog = LAN,
	  .setup = s_balance_cell_down,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_REBOUND,
	  .out = { VIA_SAT, UDP_Q },
	  .maps = c_moved_in_class },
	{ .name = "balance: a slot with no uplink drops the new flow, counted, no binding",
	  .prog = LAN,
	  .setup = s_balance_none,
	  .in = { FROM_HOST, UDP_Q },
	  .verdict = XDP_DROP, .reason = BSC_R_DROP_CLASS_NO_UPLINK,
	  .maps = c_no_binding },
};
const size_t classes_n = ARRAY_SIZE(classes);
