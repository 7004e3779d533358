/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tests/dataplane/common.h - what the data-plane tests' files share
 * (test_dataplane.c and the files of tests/dataplane/): the lab's
 * addresses, the programs and maps loaded once, the state every case starts
 * from, a program run on a frame, the frames the rows are made of, the maps
 * looked at, the ICMP errors' quotes, and the row itself (struct dp_case)
 * with its runner.
 */
#ifndef BSC_TEST_DATAPLANE_COMMON_H
#define BSC_TEST_DATAPLANE_COMMON_H

#include <linux/bpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bascule.h"
#include "dataplane/maps.h"
#include "dataplane/move.h"
#include "../lib/runner.h"
#include "../pktbuild.h"

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
extern struct env E;

/* Frames the box itself puts into bascule_lan (the drill's) carry 4 bytes
 * of metadata in front of the data, as user/daemon/drill.c sends them; a setup
 * sets this for its case, reset_state clears it. */
extern int box_frame;
#define BOX_META 4

/* ------------------------------------------------------------ state */

/* Every case's start: three uplinks up (fiber active), empty flow
 * tables, zero counters. */
void reset_state(void);
void clear_hash(int fd, size_t ksz);
void set_policy(uint32_t active);
void set_uplink_state(uint32_t i, uint32_t state);

/* ------------------------------------------------------------ running */

struct run {
	int verdict;
	uint8_t out[2048];
	uint32_t out_len;
	uint64_t reasons[BSC_R_MAX];
};

void run_prog(int which, uint32_t uplink, const uint8_t *in, size_t len, struct run *r);
void run_spec(int which, uint32_t uplink, const struct pspec *s, struct run *r);

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
/* The edge's own echo (a drill's synthetic flow). */
#define FROM_EDGE .smac = EDGE_MAC, .dmac = EDGE_MAC, .src = EDGE_LAN, .dst = REMOTE

extern const struct pspec udp_q, tcp_syn, ping;

/* Send a LAN packet that must create a binding (precondition of a case). */
void bind_flow(const struct pspec *s);
/* The maps looked at: the binding of the flow `s` opens, the reverse
 * entries, the number of bindings. */
int flow_get(const struct pspec *s, struct bsc_flow *f);
int rev_has(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
	    uint16_t nat_port);
int rev_get(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
	    uint16_t nat_port, struct bsc_rev *v);
int rev_put(uint32_t uplink, uint8_t proto, const char *raddr, uint16_t rport,
	    uint16_t nat_port, const struct bsc_rev *v);
void flow_put(const struct pspec *s, const struct bsc_flow *f);
void flow_del(const struct pspec *s);
int flows_count(void);
/* The data plane's clock (bascule.h): the tick now.  The data plane reads
 * the coarse clock, a few ms behind: a stamp it wrote is this or the one
 * before. */
uint32_t tick_now(void);
void assert_recent_tick(uint32_t t);
struct bsc_uplink_stats stats_of(uint32_t i);

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

/* Register every row of TABLE, each a test named after its row. */
void add_rows(const struct dp_case *rows, size_t n);
#define T_ADD_CASES(table) add_rows(table, table##_n)

/* setups, mutations, checks of more than one topic */
void s_udp(void);
void s_tcp(void);
void s_ping(void);
void s_udp_fiber_down(void);
void s_edge_ping(void);
void m_cut_tag(uint8_t *b, size_t *len);

/* ------------------------------------------------------------ ICMP quotes */

/* ICMP error quotes.  `q_*` are the quoted packets as the remote side saw
 * them (after NAT), `o_*` as the LAN host sent them; an error translated
 * correctly quotes exactly the latter.  Quotes are cut as routers do. */
extern uint8_t q_udp[256], o_udp[256], q_tcp[256], o_tcp[256], q_ping[256], o_ping[256];
extern uint8_t q_udp_to_host[256], o_udp_from_remote[256];
extern uint8_t q_udp_to_host2[256]; /* another host's flow, for forged quotes */
extern uint8_t q_udp_opt[256], o_udp_opt[256]; /* the quote has IP options */
extern uint8_t q_udp0[256], o_udp0[256];       /* ... a zero UDP checksum */
extern uint8_t q_udp_cell[256];                /* ... was sent from cell */
extern uint8_t o_ping_edge[256];               /* the box's own echo */
/* what a LAN host quotes about a TCP segment or an echo reply it got, and
 * that quote as the remote sent it (to fiber's address) */
extern uint8_t q_tcp_to_host[256], o_tcp_from_remote[256];
extern uint8_t q_pong_to_host[256], o_pong_from_remote[256];
#define QTCPA_LEN (20 + 20)
#define QPONG_LEN (20 + 8 + 56)
#define QUDPOPT_LEN (24 + 8 + 32)
#define QUDP_LEN (20 + 8 + 32)  /* whole datagram */
#define QTCP8_LEN (20 + 8)      /* RFC 792 minimum: no TCP checksum inside */
#define QTCP_LEN (20 + 20 + 100)
#define QPING_LEN (20 + 8 + 56)
#define ICMP_ERR(t, c, q, l) .proto = 1, .icmp_type = t, .icmp_code = c, .inner = q, .inner_len = l
/* Build the quotes (once, at the group's setup). */
void build_quotes(void);

/* ------------------------------------------------------------ the tables */

/* Each a table of rows (const struct dp_case NAME[], size_t NAME_n), one
 * per section, in the file of its topic; main (test_dataplane.c) registers
 * them table by table. */
#define DP_TABLE(name) \
	extern const struct dp_case name[]; \
	extern const size_t name##_n
/* rows_forward.c: forwarding and NAT both ways */
DP_TABLE(lan_new_flows);
DP_TABLE(lan_to_kernel);
DP_TABLE(lan_malformed);
DP_TABLE(lan_tcp_stateless);
DP_TABLE(lan_uplink_failed);
DP_TABLE(wan_to_lan);
/* rows_icmp.c: ICMP errors both ways */
DP_TABLE(lan_icmp_errors);
DP_TABLE(wan_icmp_errors);
/* rows_drill.c: uplinks a drill plays dead, the box's own flow */
DP_TABLE(wan_drills);
/* rows_hardening.c: a hostile LAN host, a blind WAN attacker */
DP_TABLE(box_ports);
DP_TABLE(lan_identity);
DP_TABLE(kernel_routes);
DP_TABLE(too_big);
DP_TABLE(wan_cannot_turn);
/* rows_classes.c: traffic classes */
DP_TABLE(classes);

/* The tests that are no row, by topic. */
void add_forward_tests(void);           /* rows_forward.c */
void add_hardening_tests(void);         /* rows_hardening.c */
void add_flows_tests(void);             /* flows.c: the tables as stored, the sweep, the cache */

#endif
