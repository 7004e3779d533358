/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bascule.h - every struct and constant that crosses the kernel/user line.
 *
 * Included by the BPF programs (bpf/) and by the controller (user/, tests/).
 * Map keys and values are laid out with explicit padding so that both sides
 * agree byte for byte and `bpftool map dump` shows them with their BTF names.
 * Addresses and ports are kept in network byte order, as on the wire.
 */
#ifndef BASCULE_H
#define BASCULE_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stdint.h>
#endif

#define BSC_MAX_UPLINKS   8
/* Traffic classes: class 0 is the default (what no rule matches); a class
 * is also the index of its policy (its active uplink) and of its row of
 * uplink_stats.  Rules are the classes' `match` lines, in file order. */
#define BSC_MAX_CLASSES   64
#define BSC_MAX_POLICIES  BSC_MAX_CLASSES
#define BSC_MAX_CLASS_RULES 128
#define BSC_LAN_SLOT      BSC_MAX_UPLINKS   /* tx_ports slot of the LAN device */
#define BSC_TX_SLOTS      (BSC_MAX_UPLINKS + 1)
#define BSC_NAME_LEN      16
#define BSC_NO_UPLINK     0xffffffffu

/* Default map sizes; `flows` and `rev` are resized by the loader from the
 * config (flow_table_size) before the object is loaded. */
#define BSC_DEFAULT_FLOWS 262144

/* NAT ports (and ICMP echo identifiers) come from a range of the uplink's
 * own, [nat_port_min, nat_port_max] of struct bsc_uplink: the LAN host's
 * port is kept when it lies in the range and is free towards that remote,
 * else a random one of the range is tried, a bounded number of times so a
 * full table costs a known, small amount per packet.  Ports outside the
 * range are the box's own (its VPN, its probes, the kernel's ephemeral
 * ports): the NAT never hands them out, and a reply to one is never
 * translated.  The default keeps clear of the well-known ports, of the
 * kernel's default ephemeral range (32768-60999) and of the usual VPN ports
 * (500, 4500, 1194, 51820). */
#define BSC_NAT_PORT_MIN_DEFAULT 16384
#define BSC_NAT_PORT_MAX_DEFAULT 32767
#define BSC_NAT_PORT_FLOOR       1024  /* no range reaches below this */
#define BSC_NAT_RETRIES   8

/* Uplink states as seen by the data plane.  Only UP takes new flows; a flow
 * bound to an uplink that is no longer UP is moved (UDP, ICMP) or reset (TCP)
 * on its next packet. */
enum bsc_uplink_state {
	BSC_UPLINK_UNKNOWN = 0,
	BSC_UPLINK_UP      = 1,
	BSC_UPLINK_DOWN    = 2,
	BSC_UPLINK_DRAINED = 3, /* no new flows, existing flows stay */
};

/* One entry of the `uplinks` array map, written by the controller. */
struct bsc_uplink {
	char     name[BSC_NAME_LEN];
	__u32    ifindex;
	__u32    addr;          /* uplink's own IPv4 address (NAT source) */
	__u32    gateway;       /* next hop IPv4 address (for the operator) */
	__u32    state;         /* enum bsc_uplink_state */
	__u8     mac[6];        /* uplink's own MAC */
	__u8     gw_mac[6];     /* gateway's MAC */
	__u32    priority;      /* lower is preferred */
	__u32    admin;         /* BSC_ADMIN_*: the operator's word, kept by the
				 * controller when it recomputes state */
	__u16    nat_port_min;  /* the NAT's ports, host byte order; 0 = the */
	__u16    nat_port_max;  /* BSC_NAT_PORT_*_DEFAULT range */
	/* A continuity drill (`bascule drill`): until this CLOCK_MONOTONIC
	 * instant every IPv4 packet arriving on the uplink is dropped
	 * (BSC_R_DROP_DRILL), as if the line had gone silent; ARP still
	 * passes.  0 = no drill.  A deadline rather than a flag: the daemon
	 * pushes it forward while the drill runs, so a daemon that dies in
	 * the middle of one gives the uplink back within seconds. */
	__u64    drill_until_ns;
};

enum bsc_admin {
	BSC_ADMIN_AUTO  = 0,
	BSC_ADMIN_DOWN  = 1,    /* `bascule uplink down` */
	BSC_ADMIN_DRAIN = 2,    /* no new flows */
};

/* One entry of the `policy` array map: which uplink new flows of that
 * policy (that traffic class) leave through.  Policy 0 is the default
 * class's. */
struct bsc_policy {
	__u32 active;           /* uplink index, or BSC_NO_UPLINK */
	__u32 preferred;        /* operator's choice (`bascule uplink activate`),
				 * or BSC_NO_UPLINK: best priority wins */
	char  name[BSC_NAME_LEN]; /* the class's, for the operator (bpftool,
				 * status); "" for a policy no class uses */
	__u8  balance;          /* 1: a new flow takes the uplink of its slot of
				 * balance[class] (active: one of them, for
				 * the operator; BSC_NO_UPLINK when none) */
	__u8  persist_source;   /* balance by the LAN host's address alone */
	__u8  pad[2];
};

/* A balance class's table (`balance` array map, one entry per class):
 * slot i holds the uplink a new flow whose bsc_balance_slot() is i takes,
 * or BSC_BALANCE_NONE.  The controller fills it by weighted rendezvous
 * hashing over the usable uplinks of the class's list, so an uplink that
 * leaves moves only its own slots, and one that comes back takes back
 * exactly those; one table, one map write per decision. */
#define BSC_BALANCE_SLOTS 4096 /* a power of two: 1 slot is 0.025 % of the weight */
#define BSC_BALANCE_NONE  0xff
struct bsc_balance {
	__u8 slot[BSC_BALANCE_SLOTS];
};

/* The slot of a new flow (addresses and ports as on the wire, network
 * order): by its 5-tuple, or by its source address alone (persist_source).
 * Shared by the data plane, the controller (which flows a failback moves)
 * and `bascule explain`.  murmur3's finaliser over the words. */
static inline __u32 bsc_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static inline __u32 bsc_balance_slot(__u32 saddr, __u32 daddr, __u16 sport, __u16 dport,
				     __u8 proto, int persist_source)
{
	__u32 h = bsc_mix32(saddr ^ 0x9e3779b9u);

	if (!persist_source) {
		h = bsc_mix32(h ^ daddr);
		h = bsc_mix32(h ^ (((__u32)sport << 16) | dport) ^ ((__u32)proto << 8));
	}
	return h & (BSC_BALANCE_SLOTS - 1);
}

/* Existing flows may stay on an uplink that is UP or DRAINED and still has
 * the address the binding was made with (a DHCP renewal may change it; a
 * move marks a flow with address 0, which no uplink has).  The data plane's
 * test, and the kick's (which flows it would reset). */
static inline int bsc_uplink_keeps(const struct bsc_uplink *up, __u32 nat_addr)
{
	return up && (up->state == BSC_UPLINK_UP || up->state == BSC_UPLINK_DRAINED) &&
	       up->addr == nat_addr;
}

/* Global configuration, `config` array map entry 0. */
struct bsc_config {
	__u32 lan_ifindex;
	__u32 lan_addr;         /* edge's LAN address */
	__u32 lan_net;          /* LAN prefix, network byte order */
	__u32 lan_mask;         /* LAN netmask, network byte order */
	__u8  lan_mac[6];
	__u16 n_class_rules;    /* entries of class_rules in use */
	/* Budget of new flows per LAN host (token bucket): rate per second and
	 * burst.  0 = unlimited.  Keeps one host from filling or churning the
	 * shared tables alone. */
	__u32 host_flow_rate;
	__u32 host_flow_burst;
	__u32 flags;            /* BSC_CFG_* */
	__u32 n_classes;        /* classes in use (at least 1: the default):
				 * the rows of uplink_stats worth summing */
};

/* bsc_config.flags */
#define BSC_CFG_SOURCE_GUARD 0x1 /* a new flow's source address must not be one
				  * the kernel's neighbour table puts at
				  * another MAC (IP source guard) */

/* Value of the `hosts` map (key: LAN host address) and of `host_macs`
 * (key: the host's MAC in the low 6 bytes of a __u64): the same budget is
 * charged to both, so a host that rotates its address still meets its MAC's
 * and one that rotates its MAC still meets its address's. */
struct bsc_host {
	__u64 last_ns;
	__u32 tokens_milli;     /* new-flow tokens x 1000 */
	__u32 denied;           /* new flows refused so far */
};

/* Flow key, always in the LAN host's orientation (LAN -> remote).  For ICMP
 * echo, sport carries the echo identifier and dport is zero. */
struct bsc_flow_key {
	__u32 saddr;            /* LAN host */
	__u32 daddr;            /* remote */
	__u16 sport;
	__u16 dport;
	__u8  proto;
	__u8  pad[3];
};

/* TCP tracking bits kept in bsc_flow.tcp: enough to expire closed flows
 * early, not a full state machine. */
#define BSC_TCP_SYN_SEEN  0x01
#define BSC_TCP_ESTAB     0x02  /* a reply from the remote was seen */
#define BSC_TCP_FIN_LAN   0x04
#define BSC_TCP_FIN_WAN   0x08
#define BSC_TCP_RST       0x10

/* Timestamps in the flow tables are ticks of 2^30 ns (about 1.07 s) of
 * CLOCK_MONOTONIC (the data plane reads its coarse variant), in 32 bits: no
 * wrap in a century, and enough for timeouts of 10 s and more.  A stamp t
 * covers [t << 30, (t + 1) << 30) ns; the controller counts idleness from
 * the end of that interval, so a flow never expires early. */
#define BSC_TICK_SHIFT 30

/* The LAN side looks at a flow's reverse entry on every 8th refresh of its
 * `last` only (keeping it warm in its LRU, re-creating it if it was evicted
 * alone): a second cold lookup per packet is what a table of a million
 * flows cannot afford. */
#define BSC_REV_CHECK_EVERY 8

/* Value of the `flows` map: the NAT binding of a flow (24 bytes: the value
 * a lookup touches shares its cache line with the key more often). */
struct bsc_flow {
	__u32 nat_addr;         /* translated source address */
	__u16 nat_port;         /* translated source port / echo id */
	__u8  uplink;
	__u8  tcp;              /* BSC_TCP_* */
	__u8  lan_mac[6];       /* where replies go on the LAN */
	__u8  policy;
	__u8  touches;          /* refreshes of last, to pace the rev check */
	__u32 created;          /* tick of the binding (BSC_TICK_SHIFT) */
	__u32 last;             /* tick of the last packet, either way */
};

/* One entry of `class_rules` (array, BSC_MAX_CLASS_RULES): a `match` line
 * of a [class NAME] section.  A new flow takes the class of the first rule
 * that matches it, in order; class 0 when none does.  The class is kept in
 * the binding (bsc_flow.policy): an established flow is never classified
 * again.  Every condition must hold: source and destination under their
 * masks (0: any), the protocol (0: any), the ports (host order, inclusive;
 * 0-65535: any; a rule with ports matches TCP and UDP only), the DSCP
 * (BSC_DSCP_ANY: any) and the LAN host's MAC (has_mac). */
#define BSC_DSCP_ANY 0xff
struct bsc_class_rule {
	__u32 src, src_mask;
	__u32 dst, dst_mask;
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u8  proto;
	__u8  dscp;
	__u8  cls;
	__u8  has_mac;
	__u8  mac[6];
	__u16 pad;
};

/* What a rule is matched against: a new flow's, in the data plane
 * (classify, by value: the loop's callback sees the caller's stack, not its
 * packet pointers), or the operator's question (`bascule explain`). */
struct bsc_class_probe {
	__u32 saddr, daddr;
	__u16 sport, dport;     /* host order */
	__u8  proto, dscp, ports, pad; /* ports: TCP or UDP */
	__u8  mac[6];
	__u16 n;                /* rules in use */
	__u32 cls;              /* the answer: 0 until a rule matches */
};

/* Does rule r take the flow c? (struct bsc_class_rule says how.) */
static inline int bsc_rule_matches(const struct bsc_class_rule *r, const struct bsc_class_probe *c)
{
	int i;

	if ((c->saddr & r->src_mask) != r->src || (c->daddr & r->dst_mask) != r->dst)
		return 0;
	if (r->proto && r->proto != c->proto)
		return 0;
	if (r->dscp != BSC_DSCP_ANY && r->dscp != c->dscp)
		return 0;
	if (r->sport_lo > 0 || r->sport_hi < 0xffff || r->dport_lo > 0 || r->dport_hi < 0xffff) {
		if (!c->ports || c->sport < r->sport_lo || c->sport > r->sport_hi ||
		    c->dport < r->dport_lo || c->dport > r->dport_hi)
			return 0;
	}
	for (i = 0; r->has_mac && i < 6; i++)
		if (r->mac[i] != c->mac[i])
			return 0;
	return 1;
}

/* Key of the `rev` map: what a reply on an uplink carries. */
struct bsc_rev_key {
	__u32 raddr;            /* remote address */
	__u16 rport;            /* remote port (0 for ICMP echo) */
	__u16 nat_port;         /* our translated port / echo id */
	__u8  proto;
	__u8  uplink;
	__u8  pad[2];
};

/* Value of the `rev` map: the LAN end of the flow, from which the flow key is
 * rebuilt, and what a reply needs to reach it.  The binding itself lives in
 * `flows`: a reply looks it up (and refreshes its `last`) once per tick, and
 * for TCP segments with SYN, FIN or RST; the replies in between go on what
 * this entry holds.  `checked` is the tick of that last look-up. */
struct bsc_rev {
	__u32 lan_addr;
	__u16 lan_port;
	__u8  lan_mac[6];       /* the flow's lan_mac */
	__u32 checked;          /* tick the flow was last found through this entry */
	__u32 wan_nxt;          /* TCP: the remote's next sequence number as seen
				 * here (host order; 0 before its SYN|ACK).  A
				 * RST or FIN from the WAN closes the binding only
				 * at exactly this number (RFC 5961): a blind one
				 * is passed to the host, which judges it by its
				 * own window, and the binding stays. */
	__u8  cls;              /* the flow's class: its replies are counted there */
	__u8  pad[3];
};

/* The LAN side's flow cache (`flow_cache`, per CPU, not pinned): the
 * bindings of recently seen flows, answered without the hash lookup in
 * `flows` (a third of a packet's cost on a hot flow).  An entry serves only
 * in the tick it was filled in (the first packet of a flow in each tick
 * goes to `flows`, and refreshes `last` there), under the generation it was
 * filled with (`flow_gen`, bumped whenever bindings are deleted or moved),
 * for a frame from the binding's own MAC, and while its uplink keeps
 * flows (UP or DRAINED, with the binding's address); TCP segments with SYN,
 * FIN or RST always go to `flows`. */
#define BSC_FLOW_CACHE_BITS  12  /* 4096 slots of 32 bytes: 128 KiB a CPU, in L2 */
#define BSC_FLOW_CACHE_SLOTS (1u << BSC_FLOW_CACHE_BITS)

struct bsc_flow_cache {
	struct bsc_flow_key key; /* key.pad[0] holds the binding's uplink and
				  * key.pad[1] its class (the compare masks
				  * them out), so the slot keeps 32 bytes with
				  * the MAC in it */
	__u16 nat_port;
	__u8  mac_lo[4];        /* the binding's MAC, its last 4 bytes: a hit
				 * needs the same (a frame from another NIC
				 * goes to `flows`, which checks all 6) */
	__u16 addr_lo;          /* the binding's nat_addr, its last 2 bytes: a
				 * hit needs the uplink's address to match */
	__u32 tick;             /* tick it was filled in */
	__u32 gen;              /* flow_gen when it was filled */
};

/* IPv4 fragments of a translated datagram (`frags`, LRU): the first one
 * carries the ports and is translated with its flow; it leaves here what the
 * later ones (same addresses, protocol and IP id, no ports) need.  dir 0:
 * LAN -> uplink, key in the LAN host's orientation, value the NAT address
 * and uplink; dir 1 + uplink: uplink -> LAN, key as it arrives, value the
 * LAN host's address and MAC. */
struct bsc_frag_key {
	__u32 saddr;
	__u32 daddr;
	__u16 id;
	__u8  proto;
	__u8  dir;
};

struct bsc_frag {
	__u32 addr;             /* the address the later fragments take */
	__u8  mac[6];           /* LAN -> uplink: the host's, which must send them;
				 * uplink -> LAN: where they go */
	__u8  uplink;
	__u8  cls;              /* the flow's class, for its counters */
	__u32 tick;             /* of the first fragment: reassembly gives up
				 * after BSC_FRAG_TICKS */
};
#define BSC_FRAG_TICKS 30

/* Per-class, per-uplink, per-CPU traffic counters (`uplink_stats`): entry
 * cls * BSC_MAX_UPLINKS + uplink, so that class 0's are the uplinks' own
 * entries 0..7 and one look-up a packet counts both ways of seeing it; an
 * uplink's figures are the sum over the classes (bsc_uplink_stats_sum). */
#define BSC_STATS_ENTRIES (BSC_MAX_CLASSES * BSC_MAX_UPLINKS)
struct bsc_uplink_stats {
	__u64 tx_packets;       /* LAN -> uplink */
	__u64 tx_bytes;
	__u64 rx_packets;       /* uplink -> LAN */
	__u64 rx_bytes;
	__u64 new_flows;        /* bindings created on this uplink */
	__u64 rebound;          /* flows moved here from a failed uplink */
	__u64 nat_exhausted;    /* no free port after the bounded retries */
	__u64 pad;
};

/* Why a packet was not forwarded by XDP (or what special thing happened to
 * it).  Every XDP_PASS and XDP_DROP of the programs carries one of these, and
 * `reasons` (per-CPU) counts them.  Keep bsc_reason_names in user/ in step. */
enum bsc_reason {
	/* The two forward reasons are not counted in `reasons` (one lookup
	 * less per packet): userspace reports them as the sums of
	 * uplink_stats' tx_packets and rx_packets. */
	BSC_R_FWD_LAN = 0,        /* forwarded LAN -> uplink (not a pass/drop) */
	BSC_R_FWD_WAN,            /* forwarded uplink -> LAN */
	BSC_R_PASS_NON_IP,        /* ARP, IPv6, LLDP ... : kernel */
	BSC_R_PASS_VLAN,          /* tagged frames: kernel */
	BSC_R_PASS_BCAST,         /* broadcast / multicast */
	BSC_R_PASS_LOCAL,         /* for the box itself or within the LAN */
	BSC_R_PASS_FRAGMENT,      /* IPv4 fragment of nothing the data plane
				   * translates (another protocol) */
	BSC_R_PASS_PROTO,         /* protocol the data plane does not NAT */
	BSC_R_PASS_TTL,           /* TTL <= 1: kernel sends time exceeded */
	BSC_R_PASS_NO_BINDING,    /* uplink traffic with no NAT binding, for us */
	BSC_R_PASS_ICMP,          /* ICMP we do not translate */
	BSC_R_PASS_NOT_READY,     /* not configured yet */
	BSC_R_PASS_NOT_FOR_US,    /* frame for another MAC than the LAN device's */
	BSC_R_PASS_ROUTE,         /* the kernel's routes send it elsewhere than an
				   * uplink (a VPN, another LAN) or refuse it */
	BSC_R_DROP_MALFORMED,     /* truncated / bad header */
	BSC_R_DROP_NO_UPLINK,     /* no usable uplink for a new flow */
	BSC_R_DROP_NAT_EXHAUSTED, /* no free NAT port */
	BSC_R_DROP_WAN_UNSOLICITED, /* uplink traffic not for us: never to the LAN */
	BSC_R_DROP_TCP_NO_FLOW,   /* TCP RST / unanswerable segment, no binding */
	BSC_R_DROP_REDIRECT,      /* tx_ports slot empty */
	BSC_R_DROP_MAP_FULL,      /* binding insert failed */
	BSC_R_DROP_HOST_LIMIT,    /* the LAN host is over its new-flow budget */
	BSC_R_DROP_WAN_NO_BINDING, /* uplink traffic to a NAT port with no binding:
				   * not the box's, and the kernel must not answer
				   * for a LAN host (RST, port unreachable) */
	BSC_R_DROP_WAN_TTL,       /* uplink traffic for a binding that would leave
				   * with TTL 0 */
	BSC_R_DROP_SPOOFED_SRC,   /* LAN source outside the LAN prefix, or the
				   * box's own address (BCP 38) */
	BSC_R_DROP_MAC_MISMATCH,  /* a binding's packet from another MAC than the
				   * one that created it */
	BSC_R_DROP_TCP_FLAGS,     /* SYN with FIN or RST: opens nothing */
	BSC_R_DROP_ICMP_QUOTE,    /* LAN ICMP error sent elsewhere than to the
				   * remote its quote names */
	BSC_R_DROP_BOGON,         /* destination never routed on the Internet */
	BSC_R_DROP_FRAG_UNKNOWN,  /* a later fragment whose first one was not seen
				   * (reordered, lost, or never sent) */
	BSC_R_DROP_SOURCE_GUARD,  /* source address the neighbour table puts at
				   * another MAC */
	BSC_R_DROP_MAC_LIMIT,     /* the LAN MAC is over its new-flow budget */
	BSC_R_DROP_DRILL,         /* arrived on an uplink a drill plays dead */
	BSC_R_DROP_CLASS_NO_UPLINK, /* a new flow of a class none of whose
				   * uplinks is usable (`uplinks = ...` all down,
				   * or only metered ones for `metered = no`) */
	BSC_R_TX_RST_UPLINK_DOWN, /* RST to the LAN host: its uplink failed */
	BSC_R_TX_RST_NO_FLOW,     /* RST to the LAN host: non-SYN, no binding */
	BSC_R_TX_FRAG_NEEDED,     /* ICMP fragmentation-needed to the LAN host:
				   * its frame is larger than the uplink's MTU */
	BSC_R_REBOUND,            /* flow moved to another uplink */
	BSC_R_ICMP_ERR_XLATED,    /* ICMP error translated */
	BSC_R_TCP_CLOSE_UNVERIFIED, /* RST or FIN from the WAN off the expected
				   * sequence number: passed to the host, the
				   * binding kept (not a verdict) */
	BSC_R_TX_RST_MOVED,       /* RST to the LAN host: its class moved its TCP
				   * flows off a healthy uplink (failback =
				   * reset-tcp) */
	BSC_R_MAX,
};

#endif /* BASCULE_H */
