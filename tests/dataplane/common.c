// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tests/dataplane/common.c - see common.h. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/flows.h"
#include "lib/clock.h"
#include "common.h"

struct env E;
int box_frame;

/* ------------------------------------------------------------ state */

static void fill_uplink(uint32_t i, const char *name, const char *addr, const char *mac,
			const char *gw, const char *gwmac, uint32_t prio)
{
	struct bsc_uplink u = { 0 };

	snprintf(u.name, sizeof(u.name), "%s", name);
	u.ifindex = E.ifidx[i];
	u.addr = ip4(addr);
	u.gateway = ip4(gw);
	u.state = BSC_UPLINK_UP;
	u.priority = prio;
	/* The rows' LAN ports (40000, 40001) and echo id lie in this range, so
	 * a flow keeps its port unless a case says otherwise; the default
	 * range has cases of its own (s_default_range). */
	u.nat_port_min = FIX_NAT_MIN;
	u.nat_port_max = FIX_NAT_MAX;
	mac_parse(mac, u.mac);
	mac_parse(gwmac, u.gw_mac);
	assert_int_equal(bsc_uplink_write(&E.m, i, &u), 0);
	assert_int_equal(bpf_map_update_elem(E.m.tx_ports, &i, &u.ifindex, BPF_ANY), 0);
}

void clear_hash(int fd, size_t ksz)
{
	uint8_t key[64], next[64];

	(void)ksz;
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, sizeof(next));
		bpf_map_delete_elem(fd, key);
	}
}

static void zero_percpu(int fd, uint32_t n, size_t vsz)
{
	int ncpu = libbpf_num_possible_cpus();
	void *z = calloc((size_t)ncpu, vsz);
	uint32_t i;

	for (i = 0; i < n; i++)
		bpf_map_update_elem(fd, &i, z, BPF_ANY);
	free(z);
}

void set_policy(uint32_t active)
{
	struct bsc_policy p = { .active = active, .preferred = BSC_NO_UPLINK };
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(E.m.policy, &zero, &p, BPF_ANY), 0);
}

void reset_state(void)
{
	struct bsc_config c = { 0 };
	uint32_t zero = 0, slot = BSC_LAN_SLOT, i;

	box_frame = 0;
	clear_hash(E.m.flows, sizeof(struct bsc_flow_key));
	clear_hash(E.m.rev, sizeof(struct bsc_rev_key));
	clear_hash(E.m.hosts, sizeof(uint32_t));
	clear_hash(E.m.host_macs, sizeof(uint64_t));
	clear_hash(E.m.frags, sizeof(struct bsc_frag_key));
	bsc_flows_invalidate(&E.m); /* bindings deleted: as the controller does */
	zero_percpu(E.m.uplink_stats, BSC_STATS_ENTRIES, sizeof(struct bsc_uplink_stats));
	zero_percpu(E.m.reasons, BSC_R_MAX, sizeof(uint64_t));
	c.lan_ifindex = E.ifidx[3];
	c.lan_addr = ip4(EDGE_LAN);
	c.lan_mask = htonl(0xffffff00);
	c.lan_net = ip4("10.77.0.0");
	mac_parse(EDGE_MAC, c.lan_mac);
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &c, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(E.m.tx_ports, &slot, &E.ifidx[3], BPF_ANY), 0);
	fill_uplink(0, "fiber", FIBER_ADDR, FIBER_MAC, "192.0.2.1", FIBER_GW, 10);
	fill_uplink(1, "cell", CELL_ADDR, CELL_MAC, "198.51.100.1", CELL_GW, 20);
	fill_uplink(2, "sat", "100.64.0.2", "02:00:00:00:01:12", "100.64.0.1",
		    "02:00:00:00:04:00", 30);
	set_policy(0);
	/* no class but the default: the other policies as a daemon leaves
	 * them, without an uplink */
	for (i = 1; i < BSC_MAX_CLASSES; i++) {
		struct bsc_policy p = { .active = BSC_NO_UPLINK, .preferred = BSC_NO_UPLINK };

		assert_int_equal(bpf_map_update_elem(E.m.policy, &i, &p, BPF_ANY), 0);
	}
}

void set_uplink_state(uint32_t i, uint32_t state)
{
	struct bsc_uplink u;

	assert_int_equal(bsc_uplink_read(&E.m, i, &u), 0);
	u.state = state;
	assert_int_equal(bsc_uplink_write(&E.m, i, &u), 0);
}

/* ------------------------------------------------------------ running */

void run_prog(int which, uint32_t uplink, const uint8_t *in, size_t len, struct run *r)
{
	uint8_t buf[2048 + BOX_META] = { 0 };
	uint32_t meta = which == LAN && box_frame ? BOX_META : 0;
	struct xdp_md ctx = { .data = meta, .data_end = (uint32_t)(len + meta) };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)(len + meta),
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	uint64_t before[BSC_R_MAX];
	int i;

	assert_true(len <= 2048);
	memcpy(buf + meta, in, len);
	if (which == WAN)
		ctx.ingress_ifindex = E.ifidx[uplink];
	else
		ctx.ingress_ifindex = E.ifidx[3];
	assert_int_equal(bsc_reasons_sum(&E.m, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(E.prog[which], &o), 0);
	r->verdict = (int)o.retval;
	r->out_len = o.data_size_out;
	/* the output starts at the metadata */
	if (meta) {
		assert_true(r->out_len >= meta);
		r->out_len -= meta;
		memmove(r->out, r->out + meta, r->out_len);
	}
	assert_int_equal(bsc_reasons_sum(&E.m, r->reasons), 0);
	for (i = 0; i < BSC_R_MAX; i++)
		r->reasons[i] -= before[i];
}

void run_spec(int which, uint32_t uplink, const struct pspec *s, struct run *r)
{
	uint8_t in[2048];
	size_t len = pkt_build(s, in, sizeof(in));

	assert_true(len > 0);
	run_prog(which, uplink, in, len, r);
}

const struct pspec udp_q = { FROM_HOST, UDP_Q };
const struct pspec tcp_syn = { FROM_HOST, TCP_SYN };
const struct pspec ping = { FROM_HOST, PING };

void bind_flow(const struct pspec *s)
{
	struct run r;

	run_spec(LAN, 0, s, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
}

int flow_get(const struct pspec *s, struct bsc_flow *f)
{
	struct bsc_flow_key k = { 0 };

	k.saddr = ip4(s->src);
	k.daddr = ip4(s->dst);
	k.sport = htons(s->sport);
	k.dport = s->proto == 1 ? 0 : htons(s->dport);
	k.proto = s->proto;
	return bpf_map_lookup_elem(E.m.flows, &k, f);
}

int rev_has(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
	    uint16_t nat_port)
{
	struct bsc_rev_key k = { 0 };
	struct bsc_rev v;

	k.raddr = ip4(raddr);
	k.rport = htons(rport);
	k.nat_port = htons(nat_port);
	k.proto = proto;
	k.uplink = (uint8_t)uplink;
	return bpf_map_lookup_elem(E.m.rev, &k, &v) == 0;
}

int rev_get(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
	    uint16_t nat_port, struct bsc_rev *v)
{
	struct bsc_rev_key k = { 0 };

	k.raddr = ip4(raddr);
	k.rport = htons(rport);
	k.nat_port = htons(nat_port);
	k.proto = proto;
	k.uplink = (uint8_t)uplink;
	return bpf_map_lookup_elem(E.m.rev, &k, v);
}

int rev_put(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
	    uint16_t nat_port, const struct bsc_rev *v)
{
	struct bsc_rev_key k = { 0 };

	k.raddr = ip4(raddr);
	k.rport = htons(rport);
	k.nat_port = htons(nat_port);
	k.proto = proto;
	k.uplink = (uint8_t)uplink;
	return bpf_map_update_elem(E.m.rev, &k, v, BPF_EXIST);
}

void flow_put(const struct pspec *s, const struct bsc_flow *f)
{
	struct bsc_flow_key k = { 0 };

	k.saddr = ip4(s->src);
	k.daddr = ip4(s->dst);
	k.sport = htons(s->sport);
	k.dport = s->proto == 1 ? 0 : htons(s->dport);
	k.proto = s->proto;
	assert_int_equal(bpf_map_update_elem(E.m.flows, &k, f, BPF_EXIST), 0);
	bsc_flows_invalidate(&E.m);
}

void flow_del(const struct pspec *s)
{
	struct bsc_flow_key k = { 0 };

	k.saddr = ip4(s->src);
	k.daddr = ip4(s->dst);
	k.sport = htons(s->sport);
	k.dport = s->proto == 1 ? 0 : htons(s->dport);
	k.proto = s->proto;
	assert_int_equal(bpf_map_delete_elem(E.m.flows, &k), 0);
	bsc_flows_invalidate(&E.m);
}

int flows_count(void)
{
	struct bsc_flow_key k, next;
	int n = 0, r = bpf_map_get_next_key(E.m.flows, NULL, &next);

	while (!r) {
		n++;
		k = next;
		r = bpf_map_get_next_key(E.m.flows, &k, &next);
	}
	return n;
}

uint32_t tick_now(void)
{
	return (uint32_t)(bsc_now_ns() >> BSC_TICK_SHIFT);
}

void assert_recent_tick(uint32_t t)
{
	uint32_t now = tick_now();

	if (t != now && t + 1 != now)
		fail_msg("stamp %u is not the tick now (%u)", t, now);
}

struct bsc_uplink_stats stats_of(uint32_t i)
{
	struct bsc_uplink_stats st;

	assert_int_equal(bsc_uplink_stats_sum(&E.m, i, &st), 0);
	return st;
}

/* ------------------------------------------------------------ the cases */

/* Was an output frame given? (every frame has a source MAC or is IP) */
static int has_out(const struct dp_case *c)
{
	return c->out.smac || c->out.proto || c->out.no_eth;
}

/* setups */
void s_udp(void) { bind_flow(&udp_q); }
void s_tcp(void) { bind_flow(&tcp_syn); }
void s_ping(void) { bind_flow(&ping); }
void s_udp_fiber_down(void)
{
	bind_flow(&udp_q);
	set_uplink_state(0, BSC_UPLINK_DOWN);
	set_policy(1);
}
/* The edge's own echo (a drill's synthetic flow) bound on fiber. */
static const struct pspec edge_ping = { FROM_EDGE, PING };
void s_edge_ping(void)
{
	box_frame = 1;
	bind_flow(&edge_ping);
	box_frame = 0;
}

/* mutations */
void m_cut_tag(uint8_t *b, size_t *len) { (void)b; *len = 14 + 2; }

/* ------------------------------------------------------------ ICMP quotes */

/* ICMP error quotes.  `q_*` are the quoted packets as the remote side saw
 * them (after NAT), `o_*` as the LAN host sent them; an error translated
 * correctly quotes exactly the latter.  Quotes are cut as routers do. */
uint8_t q_udp[256], o_udp[256], q_tcp[256], o_tcp[256], q_ping[256], o_ping[256];
uint8_t q_udp_to_host[256], o_udp_from_remote[256];
uint8_t q_udp_to_host2[256]; /* another host's flow, for forged quotes */
uint8_t q_udp_opt[256], o_udp_opt[256]; /* the quote has IP options */
uint8_t q_udp0[256], o_udp0[256];       /* ... a zero UDP checksum */
uint8_t q_udp_cell[256];                /* ... was sent from cell */
uint8_t o_ping_edge[256];               /* the box's own echo */
/* what a LAN host quotes about a TCP segment or an echo reply it got, and
 * that quote as the remote sent it (to fiber's address) */
uint8_t q_tcp_to_host[256], o_tcp_from_remote[256];
uint8_t q_pong_to_host[256], o_pong_from_remote[256];

void build_quotes(void)
{
	struct pspec s;

	s = (struct pspec){ .no_eth = 1, .src = FIBER_ADDR, .dst = REMOTE, .ttl = 1, UDP_Q };
	assert_true(pkt_build(&s, q_udp, sizeof(q_udp)));
	s.src = LAN_HOST;
	pkt_build(&s, o_udp, sizeof(o_udp));
	s = (struct pspec){ .no_eth = 1, .src = FIBER_ADDR, .dst = REMOTE, .ttl = 1, TCP_DATA };
	assert_true(pkt_build(&s, q_tcp, sizeof(q_tcp)));
	s.src = LAN_HOST;
	assert_true(pkt_build(&s, o_tcp, sizeof(o_tcp)));
	s = (struct pspec){ .no_eth = 1, .src = FIBER_ADDR, .dst = REMOTE, .ttl = 1, PING };
	pkt_build(&s, q_ping, sizeof(q_ping));
	s.src = LAN_HOST;
	pkt_build(&s, o_ping, sizeof(o_ping));
	s = (struct pspec){ .no_eth = 1, .src = FIBER_ADDR, .dst = REMOTE, .ttl = 1, UDP_Q, .opt_len = 4 };
	assert_true(pkt_build(&s, q_udp_opt, sizeof(q_udp_opt)));
	s.src = LAN_HOST;
	assert_true(pkt_build(&s, o_udp_opt, sizeof(o_udp_opt)));
	s = (struct pspec){ .no_eth = 1, .src = FIBER_ADDR, .dst = REMOTE, .ttl = 1, UDP_Q, .udp_csum_zero = 1 };
	assert_true(pkt_build(&s, q_udp0, sizeof(q_udp0)));
	s.src = LAN_HOST;
	assert_true(pkt_build(&s, o_udp0, sizeof(o_udp0)));
	s = (struct pspec){ .no_eth = 1, .src = CELL_ADDR, .dst = REMOTE, .ttl = 1, UDP_Q };
	assert_true(pkt_build(&s, q_udp_cell, sizeof(q_udp_cell)));
	s = (struct pspec){ .no_eth = 1, .src = EDGE_LAN, .dst = REMOTE, .ttl = 1, PING };
	assert_true(pkt_build(&s, o_ping_edge, sizeof(o_ping_edge)));
	s = (struct pspec){ .no_eth = 1, .src = REMOTE, .dst = LAN_HOST, .ttl = 63, TCP_SYNACK };
	assert_true(pkt_build(&s, q_tcp_to_host, sizeof(q_tcp_to_host)));
	s.dst = FIBER_ADDR;
	assert_true(pkt_build(&s, o_tcp_from_remote, sizeof(o_tcp_from_remote)));
	s = (struct pspec){ .no_eth = 1, .src = REMOTE, .dst = LAN_HOST, .ttl = 63, PONG };
	assert_true(pkt_build(&s, q_pong_to_host, sizeof(q_pong_to_host)));
	s.dst = FIBER_ADDR;
	assert_true(pkt_build(&s, o_pong_from_remote, sizeof(o_pong_from_remote)));
	/* another host's flow, quoted by a host that did not get it */
	s = (struct pspec){ .no_eth = 1, .src = REMOTE, .dst = LAN_HOST2, .ttl = 63, UDP_A };
	pkt_build(&s, q_udp_to_host2, sizeof(q_udp_to_host2));
	/* what a LAN host quotes in its port unreachable: the reply it got */
	s = (struct pspec){ .no_eth = 1, .src = REMOTE, .dst = LAN_HOST, .ttl = 63, UDP_A };
	pkt_build(&s, q_udp_to_host, sizeof(q_udp_to_host));
	s.dst = FIBER_ADDR;
	s.ttl = 64;
	pkt_build(&s, o_udp_from_remote, sizeof(o_udp_from_remote));
	/* the remote saw it with TTL 64 before the edge; the host quotes TTL
	 * 63 after it: put the quotes on the same TTL, Bascule does not touch
	 * a quoted TTL */
	o_udp_from_remote[8] = 63;
	o_udp_from_remote[10] = 0;
	o_udp_from_remote[11] = 0;
	{
		uint16_t c = (uint16_t)~sum16(o_udp_from_remote, 20, 0);

		o_udp_from_remote[10] = (uint8_t)(c >> 8);
		o_udp_from_remote[11] = (uint8_t)c;
	}
}

/* Does a frame built from s carry an L4 checksum l4_csum_ok can verify?
 * (untagged, unfragmented TCP, UDP with a checksum, or ICMP) */
static int has_l4_csum(const struct pspec *s)
{
	if (s->vlan_proto || s->eth_proto || s->no_eth || (s->frag & 0x3fff))
		return 0;
	if (s->proto == 17)
		return !s->udp_csum_zero;
	return s->proto == 6 || s->proto == 1;
}

static void run_case(void **state)
{
	const struct dp_case *c = *state;
	uint8_t in[2048], want[2048];
	size_t len, wlen;
	struct run r;
	int i;

	reset_state();
	if (c->setup)
		c->setup();
	len = pkt_build(&c->in, in, sizeof(in));
	assert_true(len > 0);
	if (c->mutate)
		c->mutate(in, &len);
	run_prog(c->prog, c->uplink, in, len, &r);

	if (r.verdict != c->verdict)
		for (i = 0; i < BSC_R_MAX; i++)
			if (r.reasons[i])
				print_error("verdict %d, counted as %s\n", r.verdict,
					    bsc_reason_names[i]);
	assert_int_equal(r.verdict, c->verdict);
	if (c->reason >= 0) {
		if (r.reasons[c->reason] != 1)
			print_error("reason %s moved by %llu\n", bsc_reason_names[c->reason],
				    (unsigned long long)r.reasons[c->reason]);
		assert_int_equal(r.reasons[c->reason], 1);
	}
	/* Nothing is silent: every packet lands in some reason counter. */
	for (i = 0, len = 0; i < BSC_R_MAX; i++)
		len += r.reasons[i];
	assert_true(len >= 1);

	if (has_out(c)) {
		wlen = pkt_build(&c->out, want, sizeof(want));
		assert_true(ip_csum_ok(r.out, r.out_len, 1));
		/* verified on its own (and then byte for byte): a frame that
		 * should carry an L4 checksum carries one that verifies */
		if (has_l4_csum(&c->out))
			assert_true(l4_csum_ok(r.out, r.out_len, 1));
		assert_int_equal(r.out_len, wlen);
		assert_memory_equal(r.out, want, wlen);
	}
	if (c->maps)
		c->maps(&r);
}

void add_rows(const struct dp_case *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		t_add(rows[i].name, run_case, (void *)&rows[i]);
}
