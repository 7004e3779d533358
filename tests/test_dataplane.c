// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dataplane.c - the XDP programs run on crafted packets with
 * BPF_PROG_TEST_RUN: for every case, a packet in, the verdict, the packet
 * out (compared byte for byte with one built independently, checksums and
 * all), the reason counter that must move, and the map effects.
 *
 * Adding a case is adding a row to `cases`.  Each case starts from the same
 * state: three uplinks up (fiber active), empty flow tables, zero counters.
 * Runs in a private network namespace (the kernel wants real devices behind
 * the devmap and ingress ifindex, so a few veths are made there).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "bascule.h"
#include "lib/bpfload.h"
#include "lib/runner.h"
#include "dataplane/flows.h"
#include "lib/clock.h"
#include "dataplane/maps.h"
#include "pktbuild.h"

#define LAN_HOST    "10.77.0.10"
#define LAN_HOST2   "10.77.0.11"
#define EDGE_LAN    "10.77.0.1"
#define HOST_MAC    "02:00:00:00:00:10"
#define HOST2_MAC   "02:00:00:00:00:11"
#define EDGE_MAC    "02:00:00:00:01:00"
#define REMOTE      "203.0.113.10"
#define ROUTER      "198.18.1.1"
#define FIBER_ADDR  "192.0.2.2"
#define FIBER_MAC   "02:00:00:00:01:10"
#define FIBER_GW    "02:00:00:00:02:00"
#define CELL_ADDR   "198.51.100.2"
#define CELL_MAC    "02:00:00:00:01:11"
#define CELL_GW     "02:00:00:00:03:00"

enum { LAN, WAN };

#define VPN_NET     "10.8.0.0/24"   /* routed to a device that is no uplink */
#define VPN_CLIENT  "10.8.0.2"
#define BLACKHOLED  "203.0.113.66"
#define UNREACHABLE "203.0.113.67"
#define GUARD_MAC   "02:00:00:00:00:99" /* where the kernel's ARP puts LAN_HOST */
#define CELL_MTU    1420                /* a 5G router's */
#define CELL_MTU_S  "1420"

#define FIX_NAT_MIN 1024
#define FIX_NAT_MAX 65535

struct env {
	struct bascule_bpf *skel;
	struct bsc_maps m;
	int prog[2];
	uint32_t ifidx[4]; /* 0..2 uplinks, 3 LAN */
};
static struct env E;

/* Frames the box itself puts into bascule_lan (the drill's) carry 4 bytes
 * of metadata in front of the data, as user/daemon/drill.c sends them; a setup
 * sets this for its case, reset_state clears it. */
static int box_frame;
#define BOX_META 4

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

static void clear_hash(int fd, size_t ksz)
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

static void set_policy(uint32_t active)
{
	struct bsc_policy p = { .active = active, .preferred = BSC_NO_UPLINK };
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(E.m.policy, &zero, &p, BPF_ANY), 0);
}

static void reset_state(void)
{
	struct bsc_config c = { 0 };
	uint32_t zero = 0, slot = BSC_LAN_SLOT;

	box_frame = 0;
	clear_hash(E.m.flows, sizeof(struct bsc_flow_key));
	clear_hash(E.m.rev, sizeof(struct bsc_rev_key));
	clear_hash(E.m.hosts, sizeof(uint32_t));
	clear_hash(E.m.host_macs, sizeof(uint64_t));
	clear_hash(E.m.frags, sizeof(struct bsc_frag_key));
	bsc_flows_invalidate(&E.m); /* bindings deleted: as the controller does */
	zero_percpu(E.m.uplink_stats, BSC_MAX_UPLINKS, sizeof(struct bsc_uplink_stats));
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
}

static void set_uplink_state(uint32_t i, uint32_t state)
{
	struct bsc_uplink u;

	assert_int_equal(bsc_uplink_read(&E.m, i, &u), 0);
	u.state = state;
	assert_int_equal(bsc_uplink_write(&E.m, i, &u), 0);
}

/* ------------------------------------------------------------ running */

struct run {
	int verdict;
	uint8_t out[2048];
	uint32_t out_len;
	uint64_t reasons[BSC_R_MAX];
};


static void run_prog(int which, uint32_t uplink, const uint8_t *in, size_t len, struct run *r)
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

static void run_spec(int which, uint32_t uplink, const struct pspec *s, struct run *r)
{
	uint8_t in[2048];
	size_t len = pkt_build(s, in, sizeof(in));

	assert_true(len > 0);
	run_prog(which, uplink, in, len, r);
}

/* Packets the cases are made of. */
#define FROM_HOST .smac = HOST_MAC, .dmac = EDGE_MAC, .src = LAN_HOST, .dst = REMOTE
#define VIA_FIBER .smac = FIBER_MAC, .dmac = FIBER_GW, .src = FIBER_ADDR, .dst = REMOTE, .ttl = 63
#define VIA_CELL  .smac = CELL_MAC, .dmac = CELL_GW, .src = CELL_ADDR, .dst = REMOTE, .ttl = 63
#define AT_FIBER  .smac = FIBER_GW, .dmac = FIBER_MAC, .src = REMOTE, .dst = FIBER_ADDR
#define AT_CELL   .smac = CELL_GW, .dmac = CELL_MAC, .src = REMOTE, .dst = CELL_ADDR
#define TO_HOST   .smac = EDGE_MAC, .dmac = HOST_MAC, .src = REMOTE, .dst = LAN_HOST, .ttl = 63

#define UDP_Q     .proto = 17, .sport = 40000, .dport = 53, .payload_len = 32
#define UDP_A     .proto = 17, .sport = 53, .dport = 40000, .payload_len = 48
#define TCP_SYN   .proto = 6, .sport = 40001, .dport = 80, .tcp_flags = TH_SYN, .seq = 1000
#define TCP_DATA  .proto = 6, .sport = 40001, .dport = 80, .tcp_flags = TH_ACK | TH_PSH, \
		  .seq = 1001, .ack = 5001, .payload_len = 100
#define TCP_SYNACK .proto = 6, .sport = 80, .dport = 40001, .tcp_flags = TH_SYN | TH_ACK, \
		  .seq = 5000, .ack = 1001
#define PING      .proto = 1, .icmp_type = 8, .sport = 0x4242, .icmp_seq = 1, .payload_len = 56
#define PONG      .proto = 1, .icmp_type = 0, .sport = 0x4242, .icmp_seq = 1, .payload_len = 56

static const struct pspec udp_q = { FROM_HOST, UDP_Q };
static const struct pspec tcp_syn = { FROM_HOST, TCP_SYN };
static const struct pspec ping = { FROM_HOST, PING };

/* Send a LAN packet that must create a binding (precondition of a case). */
static void bind_flow(const struct pspec *s)
{
	struct run r;

	run_spec(LAN, 0, s, &r);
	assert_int_equal(r.verdict, XDP_REDIRECT);
}

static int flow_get(const struct pspec *s, struct bsc_flow *f)
{
	struct bsc_flow_key k = { 0 };

	k.saddr = ip4(s->src);
	k.daddr = ip4(s->dst);
	k.sport = htons(s->sport);
	k.dport = s->proto == 1 ? 0 : htons(s->dport);
	k.proto = s->proto;
	return bpf_map_lookup_elem(E.m.flows, &k, f);
}

static int rev_has(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
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

static int rev_get(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
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

static int rev_put(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
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

static void flow_put(const struct pspec *s, const struct bsc_flow *f)
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

static void flow_del(const struct pspec *s)
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

/* The data plane's clock (bascule.h): the tick now.  The data plane reads
 * the coarse clock, a few ms behind: a stamp it wrote is this or the one
 * before. */
static uint32_t tick_now(void)
{
	return (uint32_t)(bsc_now_ns() >> BSC_TICK_SHIFT);
}

static void assert_recent_tick(uint32_t t)
{
	uint32_t now = tick_now();

	if (t != now && t + 1 != now)
		fail_msg("stamp %u is not the tick now (%u)", t, now);
}

static struct bsc_uplink_stats stats_of(uint32_t i)
{
	struct bsc_uplink_stats st;

	assert_int_equal(bsc_uplink_stats_sum(&E.m, i, &st), 0);
	return st;
}

/* ------------------------------------------------------------ the cases */

/* A row of the table, by name: the program and the uplink a frame arrives
 * on, what is set up before, the frame (built from `in`, then mutated),
 * the verdict and the reason counter that must grow by one, the frame
 * that must come out (byte for byte; none when `out` is left empty), and
 * what the maps must hold after. */
struct dp_case {
	const char *name;
	int prog;                       /* LAN or WAN */
	uint32_t uplink;                /* WAN: arriving on */
	void (*setup)(void);
	struct pspec in;
	void (*mutate)(uint8_t *buf, size_t *len);
	int verdict;
	int reason;                     /* counter that must grow by one */
	struct pspec out;               /* compared byte for byte, if given */
	void (*maps)(const struct run *r);
};

/* Was an output frame given? (every frame has a source MAC or is IP) */
static int has_out(const struct dp_case *c)
{
	return c->out.smac || c->out.proto || c->out.no_eth;
}

/* setups */
static void s_udp(void) { bind_flow(&udp_q); }
static void s_tcp(void) { bind_flow(&tcp_syn); }
static void s_ping(void) { bind_flow(&ping); }
static void s_no_uplink(void) { set_policy(BSC_NO_UPLINK); }
static void s_active_down(void) { set_uplink_state(0, BSC_UPLINK_DOWN); }
static void s_udp_fiber_down(void)
{
	bind_flow(&udp_q);
	set_uplink_state(0, BSC_UPLINK_DOWN);
	set_policy(1);
}
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
/* The edge's own echo (a drill's synthetic flow) bound on fiber. */
#define FROM_EDGE .smac = EDGE_MAC, .dmac = EDGE_MAC, .src = EDGE_LAN, .dst = REMOTE
static const struct pspec edge_ping = { FROM_EDGE, PING };
static void s_box_frame(void) { box_frame = 1; }
static void s_edge_ping(void)
{
	box_frame = 1;
	bind_flow(&edge_ping);
	box_frame = 0;
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
static int flows_count(void);
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
static void m_cut_tag(uint8_t *b, size_t *len) { (void)b; *len = 14 + 2; }
static void m_ihl4(uint8_t *b, size_t *len) { (void)len; b[14] = 0x44; }
static void m_version6(uint8_t *b, size_t *len) { (void)len; b[14] = 0x65; }
static void m_totlen_long(uint8_t *b, size_t *len) { (void)len; b[16] = 0x05; b[17] = 0xdc; }
static void m_trunc_l4_10(uint8_t *b, size_t *len) { (void)b; *len = 14 + 20 + 10; b[17] = 30; }
static void m_tcp_doff4(uint8_t *b, size_t *len) { (void)len; b[14 + 20 + 12] = 0x40; }
static void m_udp_len4(uint8_t *b, size_t *len) { (void)len; b[14 + 20 + 4] = 0; b[14 + 20 + 5] = 4; }
static void m_trunc_icmp_inner(uint8_t *b, size_t *len)
{
	/* an ICMP error whose quote stops inside the quoted IPv4 header */
	*len = 14 + 20 + 8 + 12;
	b[16] = 0;
	b[17] = 20 + 8 + 12;
}

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

static int flows_count(void)
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

/* ICMP error quotes.  `q_*` are the quoted packets as the remote side saw
 * them (after NAT), `o_*` as the LAN host sent them; an error translated
 * correctly quotes exactly the latter.  Quotes are cut as routers do. */
static uint8_t q_udp[256], o_udp[256], q_tcp[256], o_tcp[256], q_ping[256], o_ping[256];
static uint8_t q_udp_to_host[256], o_udp_from_remote[256];
static uint8_t q_udp_to_host2[256]; /* another host's flow, for forged quotes */
static uint8_t q_udp_opt[256], o_udp_opt[256]; /* the quote has IP options */
static uint8_t q_udp0[256], o_udp0[256];       /* ... a zero UDP checksum */
static uint8_t q_udp_cell[256];                /* ... was sent from cell */
static uint8_t o_ping_edge[256];               /* the box's own echo */
/* what a LAN host quotes about a TCP segment or an echo reply it got, and
 * that quote as the remote sent it (to fiber's address) */
static uint8_t q_tcp_to_host[256], o_tcp_from_remote[256];
static uint8_t q_pong_to_host[256], o_pong_from_remote[256];
#define QTCPA_LEN (20 + 20)
#define QPONG_LEN (20 + 8 + 56)
#define QUDPOPT_LEN (24 + 8 + 32)
#define QUDP_LEN (20 + 8 + 32)  /* whole datagram */
#define QTCP8_LEN (20 + 8)      /* RFC 792 minimum: no TCP checksum inside */
#define QTCP_LEN (20 + 20 + 100)
#define QPING_LEN (20 + 8 + 56)

static void build_quotes(void)
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

#define ICMP_ERR(t, c, q, l) .proto = 1, .icmp_type = t, .icmp_code = c, .inner = q, .inner_len = l


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


static const struct dp_case cases[] = {
	/* ------------------------------------------ LAN -> uplink, new flows */
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
	/* ------------------------------------------ LAN: handed to the kernel */
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
	/* ------------------------------------------ LAN: malformed */
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
	/* ------------------------------------------ LAN: TCP without state */
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
	/* ------------------------------------------ LAN: the uplink failed */
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
	/* ------------------------------------------ LAN: ICMP errors from hosts */
	{ .name = "lan port unreachable about a reply is translated",
	  .prog = LAN,
	  .setup = s_udp,
	  .in = { FROM_HOST, ICMP_ERR(3, 3, q_udp_to_host, 20 + 8 + 48) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { VIA_FIBER, ICMP_ERR(3, 3, o_udp_from_remote, 20 + 8 + 48) } },
	{ .name = "lan port unreachable about a tcp segment is translated, its quoted tcp checksum too",
	  .prog = LAN,
	  .setup = s_tcp,
	  .in = { FROM_HOST, ICMP_ERR(3, 3, q_tcp_to_host, QTCPA_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { VIA_FIBER, ICMP_ERR(3, 3, o_tcp_from_remote, QTCPA_LEN) } },
	{ .name = "lan icmp error about an echo reply is translated",
	  .prog = LAN,
	  .setup = s_ping,
	  .in = { FROM_HOST, ICMP_ERR(3, 3, q_pong_to_host, QPONG_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { VIA_FIBER, ICMP_ERR(3, 3, o_pong_from_remote, QPONG_LEN) } },
	{ .name = "lan icmp error about an unknown flow goes to the kernel",
	  .prog = LAN,
	  .in = { FROM_HOST, ICMP_ERR(3, 3, q_udp_to_host, 20 + 8 + 48) },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ICMP },
	/* ------------------------------------------ uplink -> LAN */
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
	/* ------------------------------------------ uplink: drills */
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
	/* ------------------------------------------ uplink: ICMP errors */
	{ .name = "wan frag-needed about udp is translated with its quote",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp, QUDP_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(3, 4, o_udp, QUDP_LEN) } },
	{ .name = "wan time exceeded quoting 8 bytes of tcp is translated",
	  .prog = WAN,
	  .setup = s_tcp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(11, 0, q_tcp, QTCP8_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(11, 0, o_tcp, QTCP8_LEN) } },
	{ .name = "wan port unreachable quoting all of tcp fixes its checksum too",
	  .prog = WAN,
	  .setup = s_tcp,
	  .in = { AT_FIBER, ICMP_ERR(3, 3, q_tcp, QTCP_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, ICMP_ERR(3, 3, o_tcp, QTCP_LEN) } },
	{ .name = "wan time exceeded about a ping is translated",
	  .prog = WAN,
	  .setup = s_ping,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(11, 0, q_ping, QPING_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(11, 0, o_ping, QPING_LEN) } },
	{ .name = "wan parameter problem about udp is translated with its quote",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(12, 0, q_udp, QUDP_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(12, 0, o_udp, QUDP_LEN) } },
	{ .name = "wan frag-needed quoting 8 bytes of udp is translated",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp, 20 + 8) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(3, 4, o_udp, 20 + 8) } },
	{ .name = "wan frag-needed quoting udp with a zero checksum keeps it zero",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp0, QUDP_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(3, 4, o_udp0, QUDP_LEN) } },
	{ .name = "wan frag-needed quoting a packet with ip options is translated behind them",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp_opt, QUDPOPT_LEN) },
	  .verdict = XDP_REDIRECT, .reason = BSC_R_ICMP_ERR_XLATED,
	  .out = { TO_HOST, .src = ROUTER, ICMP_ERR(3, 4, o_udp_opt, QUDPOPT_LEN) } },
	{ .name = "wan icmp error on fiber quoting a packet sent from cell's address is the kernel's",
	  .prog = WAN,
	  .setup = s_udp,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp_cell, QUDP_LEN) },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ICMP },
	{ .name = "wan icmp error on cell about a flow bound on fiber is the kernel's",
	  .prog = WAN, .uplink = 1,
	  .setup = s_udp,
	  .in = { AT_CELL, .src = ROUTER, ICMP_ERR(3, 4, q_udp, QUDP_LEN) },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_ICMP },
	{ .name = "wan time exceeded about the box's own echo (the drill's flow) goes to its kernel, translated",
	  .prog = WAN,
	  .setup = s_edge_ping,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(11, 0, q_ping, QPING_LEN) },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_LOCAL,
	  .out = { AT_FIBER, .src = ROUTER, .dst = EDGE_LAN, .ttl = 63, ICMP_ERR(11, 0, o_ping_edge, QPING_LEN) } },
	{ .name = "wan icmp error about a nat port with no binding is the kernel's (it never answers one)",
	  .prog = WAN,
	  .in = { AT_FIBER, .src = ROUTER, ICMP_ERR(3, 4, q_udp, QUDP_LEN) },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NO_BINDING },
	{ .name = "wan echo reply with an id of the range and no binding is the kernel's (the box's own ping)",
	  .prog = WAN,
	  .in = { AT_FIBER, PONG },
	  .verdict = XDP_PASS, .reason = BSC_R_PASS_NO_BINDING,
	  .out = { AT_FIBER, PONG } },
	/* ------------------------------------------ the box's own ports */
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
	/* ------------------------------------------ a LAN host is who it says */
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
	/* ------------------------------------------ the kernel's routes */
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
	/* ------------------------------------------ what does not fit */
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
	/* ------------------------------------------ the WAN cannot turn it */
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

/* The controller's sweep (user/dataplane/flows.c): an idle binding goes with its
 * reverse entry, a fresh one stays. */
static void test_gc_expires_idle_only(void **state)
{
	struct bsc_timeouts to = { .tcp_established = 7440, .tcp_transitory = 240,
				   .tcp_closed = 10, .udp = 120, .icmp = 30 };
	uint64_t now = bsc_now_ns();
	struct bsc_flow f;

	(void)state;
	reset_state();
	bind_flow(&udp_q);
	bind_flow(&tcp_syn);
	bind_flow(&ping);
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
	reset_state();
	bind_flow(&udp_q);
	bind_flow(&tcp_syn);
	bind_flow(&ping);
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

/* ------------------------------------------------------------ setup */

static int group_setup(void **state)
{
	const char *devs[4] = { "bt0", "bt2", "bt4", "bt6" };
	int i;

	(void)state;
	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET) (the data-plane tests need root)");
		return -1;
	}
	/* The kernel's side as on the edge: addresses, forwarding, a default
	 * route via fiber, a VPN's prefix behind another device, routes that
	 * refuse, and the neighbour entries the source guard reads. */
	if (system("ip link set lo up && for i in 0 2 4 6; do ip link add bt$i type veth peer name bt$((i+1)) && ip link set bt$i up && ip link set bt$((i+1)) up; done"
		   " && sysctl -qw net.ipv4.ip_forward=1"
		   " && ip addr add 192.0.2.2/24 dev bt0 && ip addr add 198.51.100.2/24 dev bt2"
		   " && ip addr add 100.64.0.2/24 dev bt4 && ip addr add 10.77.0.1/24 dev bt6"
		   " && ip route add default via 192.0.2.1 dev bt0 && ip link set bt2 mtu " CELL_MTU_S
		   " && ip route add " VPN_NET " dev bt1"
		   " && ip route add blackhole " BLACKHOLED "/32 && ip route add unreachable " UNREACHABLE "/32"
		   " && ip neigh add " LAN_HOST " lladdr " GUARD_MAC " dev bt6 nud permanent"
		   " && ip neigh add " LAN_HOST2 " lladdr " HOST2_MAC " dev bt6 nud permanent")) {
		fprintf(stderr, "cannot create test veths\n");
		return -1;
	}
	for (i = 0; i < 4; i++)
		E.ifidx[i] = if_nametoindex(devs[i]);
	E.skel = t_bpf_load(&E.m, 16384, 131072);
	if (!E.skel)
		return -1;
	E.prog[LAN] = bpf_program__fd(E.skel->progs.bascule_lan);
	E.prog[WAN] = bpf_program__fd(E.skel->progs.bascule_wan);
	build_quotes();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bascule_bpf__destroy(E.skel);
	return 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		t_add(cases[i].name, run_case, (void *)&cases[i]);
	T_ADD(test_not_configured_passes);
	T_ADD(test_round_trip_counters);
	T_ADD(test_policy_flip_moves_new_flows_only);
	T_ADD(test_two_hosts_same_port);
	T_ADD(test_wan_rst_follows_the_data);
	T_ADD(test_host_flow_budget);
	T_ADD(test_budget_by_address_and_mac);
	T_ADD(test_binding_as_stored);
	T_ADD(test_reply_refreshes_binding);
	T_ADD(test_reply_binding_gone);
	T_ADD(test_reply_fin_tracked_within_tick);
	T_ADD(test_lan_heals_reverse_entry);
	T_ADD(test_gc_expires_idle_only);
	T_ADD(test_gc_walks_batches);
	T_ADD(test_unbind_datagrams);
	T_ADD(test_moving_flows_spends_no_budget);
	T_ADD(test_flow_cache_serves_and_invalidates);
	T_ADD(test_flow_cache_after_unbind);
	T_ADD(test_flow_cache_not_for_fin);
	T_ADD(test_flow_cache_rebind_on_another_cpu);
	return t_run("dataplane", group_setup, group_teardown);
}
