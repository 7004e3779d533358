// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bascule.bpf.c - the data plane: two XDP programs sharing one set of maps.
 *
 *  bascule_lan  on the LAN device: parse -> look the flow up -> (new flow:
 *               pick the policy's active uplink, bind a NAT port) -> (flow on
 *               a failed uplink: move it, or reset it if TCP) -> rewrite
 *               source, TTL, checksums, MACs -> redirect to the uplink.
 *  bascule_wan  on every uplink: parse -> reverse lookup -> rewrite
 *               destination back to the LAN host -> redirect to the LAN.
 *
 * Whatever the fast path does not handle goes to the kernel (XDP_PASS) or is
 * dropped, and always with a counted reason (enum bsc_reason).  Traffic from
 * an uplink never creates state.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bascule.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/nat.h"
#include "lib/icmp.h"
#include "lib/tcp_reset.h"
#include "lib/mtu.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int count(__u32 reason, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&reasons, &reason);

	if (c)
		*c += 1;
	return verdict;
}

static __always_inline int verdict_of(__u32 reason)
{
	return reason >= BSC_R_DROP_MALFORMED && reason <= BSC_R_DROP_CLASS_NO_UPLINK ?
		       XDP_DROP : XDP_PASS;
}

static __always_inline int finish(__u32 reason)
{
	return count(reason, verdict_of(reason));
}

static __always_inline struct bsc_config *config_get(void)
{
	__u32 zero = 0;
	struct bsc_config *cfg = bpf_map_lookup_elem(&config, &zero);

	return cfg && cfg->lan_ifindex ? cfg : NULL;
}

static __always_inline int is_bcast_or_mcast(__u32 daddr)
{
	return daddr == 0xffffffff || (bpf_ntohl(daddr) >> 28) == 0xe;
}

/* The uplink whose device is ifindex (its index in *idx), or NULL.  A scan of
 * the 8 slots (a few loads from one array) costs less than a hash lookup;
 * the controller publishes an uplink's ifindex before attaching to it. */
static __always_inline struct bsc_uplink *uplink_of_ifindex(__u32 ifindex, __u32 *idx)
{
	__u32 i;

#pragma unroll
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		struct bsc_uplink *up = uplink_get(i);

		if (up && up->ifindex == ifindex) {
			*idx = i;
			return up;
		}
	}
	return NULL;
}

/* True when daddr is one of the box's own uplink addresses.  Only asked on a
 * flow miss, so the loop costs nothing on established traffic. */
static __always_inline int is_uplink_addr(__u32 daddr)
{
	__u32 i;

#pragma unroll
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		struct bsc_uplink *up = uplink_get(i);

		if (up && up->addr && up->addr == daddr)
			return 1;
	}
	return 0;
}

static __always_inline int redirect_to(__u32 slot, __u32 reason)
{
	int rc = bpf_redirect_map(&tx_ports, slot, 0);

	if (rc != XDP_REDIRECT)
		return count(BSC_R_DROP_REDIRECT, XDP_DROP);
	/* Forwarded packets are counted once, per uplink (uplink_stats);
	 * the fwd_* reasons are derived from those, not counted again. */
	if (reason == BSC_R_FWD_LAN || reason == BSC_R_FWD_WAN)
		return rc;
	return count(reason, rc);
}

/* MAC addresses byte by byte: a frame's start has no alignment the
 * program may count on, so no wider load or store touches it. */
static __always_inline void mac_copy(void *to, const void *from)
{
	__builtin_memcpy(to, from, 6);
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) |
		 (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5]));
}

static __always_inline void set_macs(struct ethhdr *eth, const __u8 *src, const __u8 *dst)
{
	mac_copy(eth->h_dest, dst);
	mac_copy(eth->h_source, src);
}

static __always_inline void stats_tx(__u32 uplink, __u32 cls, __u32 len, int to_wan)
{
	__u32 row = stats_row(uplink, cls);
	struct bsc_uplink_stats *st = bpf_map_lookup_elem(&uplink_stats, &row);

	if (!st)
		return;
	if (to_wan) {
		st->tx_packets++;
		st->tx_bytes += len;
	} else {
		st->rx_packets++;
		st->rx_bytes += len;
	}
}

/* The last steps of both directions: MACs, counters, redirect (the TTL is
 * the caller's: nat_rewrite or ip_ttl_dec). */
static __always_inline int send_to_uplink(struct pkt *p, __u32 uplink, __u32 cls,
					  const struct bsc_uplink *up)
{
	set_macs(p->eth, up->mac, up->gw_mac);
	stats_tx(uplink, cls, p->len, 1);
	return redirect_to(uplink, BSC_R_FWD_LAN);
}

static __always_inline int send_to_lan(struct pkt *p, __u32 uplink, __u32 cls,
				       const struct bsc_config *cfg, const __u8 *lan_mac)
{
	set_macs(p->eth, cfg->lan_mac, lan_mac);
	stats_tx(uplink, cls, p->len, 0);
	return redirect_to(BSC_LAN_SLOT, BSC_R_FWD_WAN);
}

/* Answer the LAN host's segment with a RST.  Sent back through the devmap
 * rather than XDP_TX: a redirect also wakes a veth peer that runs no XDP
 * program (containers, the lab), where an XDP_TX frame would wait for the
 * next unrelated packet. */
static __always_inline int reset_to_lan(struct xdp_md *ctx, struct pkt *p, __u32 reason)
{
	if (tcp_reset_reply(ctx, p, &reason) != XDP_TX)
		return count(reason, XDP_DROP);
	return redirect_to(BSC_LAN_SLOT, reason);
}

/* A frame larger than its uplink's MTU: the LAN host is told, with the MTU,
 * instead of the frame vanishing in the devmap. */
static __always_inline int too_big_to_lan(struct xdp_md *ctx, struct pkt *p, __u32 mtu,
					  const struct bsc_config *cfg)
{
	int r = bsc_frag_needed(ctx, mtu);

	if (r)
		return finish(r);
	return redirect_to(BSC_LAN_SLOT, BSC_R_TX_FRAG_NEEDED);
}

/* The MSS that fits the device (its MTU less 40 bytes of IP and TCP). */
static __always_inline __u16 mss_of(struct xdp_md *ctx, __u32 ifindex)
{
	__u32 m = 0;

	bpf_check_mtu(ctx, ifindex, &m, 0, 0);
	return m > 576 ? (__u16)(m - 40) : 536;
}

/* ---------------------------------------------------------------- LAN side */

/* The flow cache slot of a key (bascule.h): a multiplicative hash of its
 * four words, a few cycles where the table's jhash takes a dozen ns. */
static __always_inline struct bsc_flow_cache *flow_cache_slot(const struct bsc_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 slot = ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u) >> (32 - BSC_FLOW_CACHE_BITS);

	_Static_assert(sizeof(struct bsc_flow_cache) == 32, "a cache slot is 32 bytes");
	return bpf_map_lookup_elem(&flow_cache, &slot);
}

/* A cached key (its pad[0] holding the uplink) against a packet's (padding
 * zeroed); both 8-byte aligned.  Byte 13 of the key is pad[0]: masked. */
static __always_inline int flow_key_eq(const struct bsc_flow_key *cached,
				       const struct bsc_flow_key *k)
{
	const __u64 *x = (const void *)cached, *y = (const void *)k;
	const __u64 mask = bpf_cpu_to_be64(0xffffffffff0000ffULL);

	_Static_assert(__builtin_offsetof(struct bsc_flow_key, pad) == 13, "pad[0..1] are bytes 13, 14");
	return x[0] == y[0] && (x[1] & mask) == y[1];
}

static __always_inline int cache_mac_eq(const struct bsc_flow_cache *fc, const __u8 *mac)
{
	return !((fc->mac_lo[0] ^ mac[2]) | (fc->mac_lo[1] ^ mac[3]) |
		 (fc->mac_lo[2] ^ mac[4]) | (fc->mac_lo[3] ^ mac[5]));
}

static __always_inline int uplink_keeps_flows(const struct bsc_uplink *up)
{
	return up && (up->state == BSC_UPLINK_UP || up->state == BSC_UPLINK_DRAINED);
}

/* An ICMP error sent by a LAN host about a packet that came in through NAT:
 * the quote is {remote -> lan_addr:lan_port}; send it out of that flow's
 * uplink with the quote translated back to what the remote sent. */
static __always_inline int lan_icmp_error(struct pkt *p)
{
	struct bsc_flow_key k = {};
	struct bsc_uplink *up;
	struct bsc_flow *f;
	struct inner in;
	int r;

	r = icmp_inner_parse(p, &in);
	if (r != BSC_PARSE_OK)
		return finish(r);
	k.saddr = in.ip->daddr;
	k.daddr = in.ip->saddr;
	k.sport = in.proto == IPPROTO_ICMP ? in.sport : in.dport;
	k.dport = in.proto == IPPROTO_ICMP ? 0 : in.sport;
	k.proto = in.proto;
	/* A host's error is about its own flow and goes to the remote that
	 * flow talks to: anything else would carry a forged quote out. */
	if (k.saddr != p->ip->saddr || k.daddr != p->ip->daddr)
		return finish(BSC_R_DROP_ICMP_QUOTE);
	f = bpf_map_lookup_elem(&flows, &k);
	if (!f)
		return finish(BSC_R_PASS_ICMP);
	if (!mac_eq(f->lan_mac, p->eth->h_source))
		return finish(BSC_R_DROP_MAC_MISMATCH);
	up = uplink_get(f->uplink);
	if (!uplink_keeps_flow(up, f))
		return finish(BSC_R_PASS_ICMP);

	icmp_err_xlate(p, &in, 0, f->nat_addr, f->nat_port);
	ip_ttl_dec(p->ip);
	count(BSC_R_ICMP_ERR_XLATED, 0);
	return send_to_uplink(p, f->uplink, f->policy, up);
}

/* A frame the box itself put in through BPF_PROG_TEST_RUN (the drill's
 * synthetic flow) carries metadata in front of its data; no frame from
 * the wire does, so no LAN host can pass for the box. */
static __always_inline int from_the_box(const struct xdp_md *ctx)
{
	return ctx->data_meta < ctx->data;
}

/* Addresses that no packet to the Internet may carry as its destination
 * (RFC 6890): "this network", loopback, link-local, reserved.  Multicast
 * and broadcast went to the kernel before. */
static __always_inline int is_bogon(__u32 daddr)
{
	__u32 a = bpf_ntohl(daddr);

	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xa9fe || (a >> 28) == 0xf;
}

/* BCP 38: a new flow's source must be a host of the LAN prefix (not its
 * network or broadcast address, not the box's own address). */
static __always_inline int lan_source_ok(__u32 saddr, const struct bsc_config *cfg)
{
	__u32 host = saddr & ~cfg->lan_mask;

	return (saddr & cfg->lan_mask) == cfg->lan_net && saddr != cfg->lan_addr &&
	       host != 0 && host != ~cfg->lan_mask;
}

/* IP source guard, once per new flow: a source address that the kernel's
 * neighbour table (bpf_fib_lookup towards it on the LAN device) puts at
 * another MAC is someone else's.  An address the kernel does not know yet
 * passes. */
static __always_inline int source_guard_ok(struct xdp_md *ctx, const struct pkt *p,
					   const struct bsc_config *cfg)
{
	struct bpf_fib_lookup fib = {};

	if (!(cfg->flags & BSC_CFG_SOURCE_GUARD))
		return 1;
	fib.family = 2; /* AF_INET */
	fib.ipv4_src = cfg->lan_addr;
	fib.ipv4_dst = p->ip->saddr;
	fib.ifindex = cfg->lan_ifindex;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT) !=
		    BPF_FIB_LKUP_RET_SUCCESS ||
	    fib.ifindex != cfg->lan_ifindex)
		return 1;
	return mac_eq(fib.dmac, p->eth->h_source);
}

static long classify_one(__u64 i, void *data)
{
	struct bsc_class_probe *c = data;
	struct bsc_class_rule *r;
	__u32 key = (__u32)i;

	if (i >= c->n)
		return 1;
	r = bpf_map_lookup_elem(&class_rules, &key);
	if (!r)
		return 1;
	if (!bsc_rule_matches(r, c))
		return 0;
	c->cls = r->cls;
	return 1;
}

/* The class of a new flow: the first rule of class_rules that it matches
 * (bascule.h, struct bsc_class_rule), 0 when none does.  On the new-flow
 * path only: the binding keeps the class.  bpf_loop: the verifier checks
 * one round, whatever the number of rules. */
static __always_inline __u32 classify(const struct pkt *p, const struct bsc_flow_key *k,
				      const struct bsc_config *cfg)
{
	struct bsc_class_probe c = {
		.saddr = k->saddr, .daddr = k->daddr,
		.sport = bpf_ntohs(k->sport), .dport = bpf_ntohs(k->dport),
		.proto = k->proto, .dscp = p->ip->tos >> 2,
		.ports = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP,
		.n = cfg->n_class_rules,
	};

	if (!c.n)
		return 0;
	mac_copy(c.mac, p->eth->h_source);
	bpf_loop(BSC_MAX_CLASS_RULES, classify_one, &c, 0);
	return c.cls;
}

/* No uplink for a new flow (or a moved one) of class cls: the default
 * class has none at all; another class, none of its own. */
static __always_inline __u32 no_uplink_reason(__u32 cls, __u32 via)
{
	return cls && via == BSC_NO_UPLINK ? BSC_R_DROP_CLASS_NO_UPLINK : BSC_R_DROP_NO_UPLINK;
}

/* The kernel's routes, once per new flow (the binding then keeps the
 * answer): 0 to translate the flow out of an uplink, or the reason to hand
 * it to the kernel (a route to a VPN or another LAN behind the box, a
 * blackhole or unreachable route).  A destination on an uplink's own subnet
 * (its router's page, say) leaves by that uplink: *via is its index, else
 * BSC_NO_UPLINK and the policy decides.  No route at all, or forwarding off
 * on the LAN device: no opinion, the policy decides. */
static __always_inline int route_of(struct xdp_md *ctx, const struct pkt *p, __u32 *via)
{
	struct bpf_fib_lookup fib = {};
	__u32 i;

	*via = BSC_NO_UPLINK;
	fib.family = 2; /* AF_INET */
	fib.tos = p->ip->tos;
	fib.l4_protocol = p->proto;
	fib.sport = p->sport;
	fib.dport = p->dport;
	fib.tot_len = bpf_ntohs(p->ip->tot_len);
	fib.ipv4_src = p->ip->saddr;
	fib.ipv4_dst = p->ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	switch (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0)) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		break;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return BSC_R_PASS_ROUTE;
	default:
		return 0;
	}
	if (!uplink_of_ifindex(fib.ifindex, &i))
		return BSC_R_PASS_ROUTE;
	if (fib.ipv4_dst == p->ip->daddr)
		*via = i;
	return 0;
}

/* A later fragment of a datagram whose first fragment was translated: the
 * source address it took, out of the same uplink. */
static __always_inline int lan_later_fragment(struct pkt *p)
{
	struct bsc_frag *v = frag_find(p, 0, bsc_tick());
	struct bsc_uplink *up;

	if (!v)
		return finish(BSC_R_DROP_FRAG_UNKNOWN);
	if (!mac_eq(v->mac, p->eth->h_source))
		return finish(BSC_R_DROP_MAC_MISMATCH);
	up = uplink_get(v->uplink);
	if (!uplink_keeps_addr(up, v->addr))
		return finish(BSC_R_DROP_NO_UPLINK);
	ip_rewrite(p->ip, 1, v->addr);
	return send_to_uplink(p, v->uplink, v->cls, up);
}

SEC("xdp")
int bascule_lan(struct xdp_md *ctx)
{
	struct bsc_flow_key k __attribute__((aligned(8))) = {};
	struct bsc_flow_cache *fc;
	struct bsc_flow fl, *f;
	struct bsc_config *cfg;
	struct bsc_uplink *up;
	struct pkt p = {};
	__u32 idx, via, now, gen, mtu, cls;
	__u64 now_ns;
	int r;

	r = parse_packet(ctx, &p);
	if (r != BSC_PARSE_OK)
		return finish(r);
	cfg = config_get();
	if (!cfg)
		return finish(BSC_R_PASS_NOT_READY);
	/* Frames for another router's MAC (a promiscuous port, a flooding
	 * switch) are not ours to route: the kernel drops them. */
	if (!mac_eq(p.eth->h_dest, cfg->lan_mac))
		return finish(BSC_R_PASS_NOT_FOR_US);

	/* The box itself, the LAN itself, broadcast and multicast: kernel. */
	if (p.ip->daddr == cfg->lan_addr ||
	    (p.ip->daddr & cfg->lan_mask) == cfg->lan_net)
		return finish(BSC_R_PASS_LOCAL);
	if (is_bcast_or_mcast(p.ip->daddr))
		return finish(BSC_R_PASS_BCAST);
	/* TTL expiry is the kernel's: it sends time exceeded, traceroute works. */
	if (p.ip->ttl <= 1)
		return finish(BSC_R_PASS_TTL);
	if (p.frag == BSC_FRAG_LATER)
		return lan_later_fragment(&p);

	if (p.proto == IPPROTO_ICMP) {
		if (is_icmp_error(p.icmp_type))
			return lan_icmp_error(&p);
		if (p.icmp_type != ICMP_ECHO)
			return finish(BSC_R_PASS_ICMP);
	}

	k.saddr = p.ip->saddr;
	k.daddr = p.ip->daddr;
	k.sport = p.sport;
	k.dport = p.dport;
	k.proto = p.proto;
	/* the coarse clock: jiffies resolution is plenty, and it is cheaper */
	now_ns = bpf_ktime_get_coarse_ns();
	now = now_ns >> BSC_TICK_SHIFT;

	/* A flow already seen in this tick, under this generation: its
	 * binding from the cache (bascule.h), unless its uplink no longer
	 * keeps it or the segment changes its TCP state. */
	gen = flow_gen_get();
	fc = flow_cache_slot(&k);
	if (fc && !p.frag && fc->tick == now && fc->gen == gen && flow_key_eq(&fc->key, &k) &&
	    cache_mac_eq(fc, p.eth->h_source) &&
	    !(p.proto == IPPROTO_TCP && (((__u8 *)p.l4)[13] & BSC_TCP_FLAGS_STATE))) {
		idx = fc->key.pad[0];
		up = uplink_get(idx);
		if (uplink_keeps_flows(up) && (__u16)(up->addr >> 16) == fc->addr_lo) {
			if (frame_too_big(ctx, &p, up->ifindex, &mtu))
				return too_big_to_lan(ctx, &p, mtu, cfg);
			nat_rewrite(&p, 1, up->addr, fc->nat_port);
			return send_to_uplink(&p, idx, fc->key.pad[1], up);
		}
	}

	f = bpf_map_lookup_elem(&flows, &k);
	if (!f) {
		if (is_uplink_addr(k.daddr))
			return finish(BSC_R_PASS_LOCAL);
		if (!lan_source_ok(k.saddr, cfg) && !from_the_box(ctx))
			return finish(BSC_R_DROP_SPOOFED_SRC);
		if (is_bogon(k.daddr))
			return finish(BSC_R_DROP_BOGON);
		if (!from_the_box(ctx) && !source_guard_ok(ctx, &p, cfg))
			return finish(BSC_R_DROP_SOURCE_GUARD);
		/* Before any answer of ours: a LAN server's SYN|ACK to a VPN
		 * client is the kernel's to route, not ours to reset. */
		r = route_of(ctx, &p, &via);
		if (r)
			return finish(r);
		if (p.proto == IPPROTO_TCP) {
			struct tcphdr *th = p.l4;

			if (th->syn && (th->fin || th->rst))
				return finish(BSC_R_DROP_TCP_FLAGS);
			/* Only a SYN opens a TCP binding; anything else has lost
			 * its state (or never had one) and is told so. */
			if (!th->syn || th->ack)
				return reset_to_lan(ctx, &p, BSC_R_TX_RST_NO_FLOW);
		}
		/* once per flow: the binding keeps the class */
		cls = classify(&p, &k, cfg);
		if (via != BSC_NO_UPLINK) {
			idx = via;
			up = uplink_get(idx);
			if (!up || up->state != BSC_UPLINK_UP || !up->addr)
				up = NULL;
		} else {
			up = policy_uplink(cls, &k, &idx);
		}
		if (!up)
			return finish(no_uplink_reason(cls, via));
		r = host_may_open(k.saddr, p.eth->h_source, cfg, now_ns);
		if (r)
			return finish(r);
		r = flow_bind(&k, idx, up, NULL, cls, p.eth->h_source, now, &fl);
		if (r)
			return finish(r);
		f = &fl;
	} else {
		/* A binding belongs to the MAC that made it: another host
		 * cannot move it, or take its replies, by sending as it. */
		if (!mac_eq(f->lan_mac, p.eth->h_source))
			return finish(BSC_R_DROP_MAC_MISMATCH);
		up = uplink_get(f->uplink);
		if (!uplink_keeps_flow(up, f)) {
			/* The uplink failed under this flow, or the controller
			 * moved it off (its class's failback: nat_addr 0 on a
			 * healthy uplink).  TCP cannot keep its address: reset
			 * it now.  UDP and ICMP move to the class's uplink
			 * (VoIP, QUIC, WireGuard cope). */
			if (p.proto == IPPROTO_TCP) {
				int moved = !f->nat_addr && up && bsc_uplink_keeps(up, up->addr);

				nat_port_release(&k, f->uplink, f->nat_port);
				bpf_map_delete_elem(&flows, &k);
				flow_gen_bump();
				return reset_to_lan(ctx, &p, moved ? BSC_R_TX_RST_MOVED :
								     BSC_R_TX_RST_UPLINK_DOWN);
			}
			up = policy_uplink(f->policy, &k, &idx);
			if (!up)
				return finish(no_uplink_reason(f->policy, BSC_NO_UPLINK));
			fl = *f;
			r = flow_bind(&k, idx, up, &fl, 0, p.eth->h_source, now, &fl);
			if (r)
				return finish(r);
			count(BSC_R_REBOUND, 0);
			f = &fl;
		} else if (f->last != now) {
			struct bsc_rev_key rk;

			f->last = now;
			if (++f->touches % BSC_REV_CHECK_EVERY)
				goto touched;
			/* Keep the reply direction warm in its LRU too, and
			 * heal it if it was evicted alone. */
			rev_key_of(&rk, &k, f->uplink, f->nat_port);
			if (!bpf_map_lookup_elem(&rev, &rk)) {
				struct bsc_rev rv = { .lan_addr = k.saddr,
						      .lan_port = k.sport,
						      .checked = now,
						      .cls = f->policy };

				__builtin_memcpy(rv.lan_mac, f->lan_mac, 6);
				bpf_map_update_elem(&rev, &rk, &rv, BPF_NOEXIST);
			}
		}
	}
touched:
	if (!up)
		return finish(BSC_R_DROP_NO_UPLINK);
	if (frame_too_big(ctx, &p, up->ifindex, &mtu))
		return too_big_to_lan(ctx, &p, mtu, cfg);
	if (p.proto == IPPROTO_TCP) {
		flow_track_tcp(f, &p, 1, 1);
		/* so that the remote never sends more than the uplink takes */
		if (((struct tcphdr *)p.l4)->syn)
			bsc_mss_clamp(ctx, (__u32)(p.l4 - (void *)p.eth), mss_of(ctx, up->ifindex));
	}
	if (p.frag)
		frag_remember(&p, 0, f->nat_addr, p.eth->h_source, f->uplink, f->policy, now);

	if (fc) {
		fc->key = k;
		fc->key.pad[0] = f->uplink;
		fc->key.pad[1] = f->policy;
		fc->nat_port = f->nat_port;
		__builtin_memcpy(fc->mac_lo, f->lan_mac + 2, 4);
		fc->addr_lo = (__u16)(f->nat_addr >> 16);
		fc->tick = now;
		fc->gen = gen;
	}
	nat_rewrite(&p, 1, f->nat_addr, f->nat_port);
	return send_to_uplink(&p, f->uplink, f->policy, up);
}

/* ------------------------------------------------------------- uplink side */

/* The reverse entry of what a reply on `uplink` carries, or NULL. */
static __always_inline struct bsc_rev *
reply_rev(__u32 uplink, __u8 proto, __u32 raddr, __u16 rport, __u16 nat_port)
{
	struct bsc_rev_key rk = {
		.raddr = raddr, .rport = rport, .nat_port = nat_port,
		.proto = proto, .uplink = uplink,
	};

	return bpf_map_lookup_elem(&rev, &rk);
}

/* The binding a reverse entry leads to (its key in *k); NULL when there is
 * none or the entry is stale (the flow has since moved to another uplink). */
static __always_inline struct bsc_flow *
rev_flow(const struct bsc_rev *rv, __u32 uplink, __u8 proto, __u32 raddr, __u16 rport,
	 __u16 nat_port, struct bsc_flow_key *k)
{
	struct bsc_flow *f;

	k->saddr = rv->lan_addr;
	k->daddr = raddr;
	k->sport = rv->lan_port;
	k->dport = rport;
	k->proto = proto;
	f = bpf_map_lookup_elem(&flows, k);
	if (!f || f->uplink != uplink || f->nat_port != nat_port)
		return NULL;
	return f;
}

/* Look up the binding a reply belongs to: both tables. */
static __always_inline struct bsc_flow *
reply_flow(__u32 uplink, __u8 proto, __u32 raddr, __u16 rport, __u16 nat_port,
	   struct bsc_flow_key *k)
{
	struct bsc_rev *rv = reply_rev(uplink, proto, raddr, rport, nat_port);

	return rv ? rev_flow(rv, uplink, proto, raddr, rport, nat_port, k) : NULL;
}

static __always_inline int wan_icmp_error(struct pkt *p, __u32 uplink,
					  const struct bsc_uplink *up,
					  const struct bsc_config *cfg)
{
	struct bsc_flow_key k = {};
	struct bsc_flow *f;
	struct inner in;
	int r;

	r = icmp_inner_parse(p, &in);
	if (r != BSC_PARSE_OK)
		return finish(r);
	/* About the box's own packet (not sent from the uplink's address, or
	 * from a port outside the NAT's): the kernel's. */
	if (in.ip->saddr != up->addr || !nat_port_ours(up, in.sport))
		return finish(BSC_R_PASS_ICMP);
	/* No binding: the kernel's (it never answers an ICMP error, and the
	 * box's own pings take identifiers from anywhere). */
	f = reply_flow(uplink, in.proto, in.ip->daddr,
		       in.proto == IPPROTO_ICMP ? 0 : in.dport, in.sport, &k);
	if (!f)
		return finish(BSC_R_PASS_NO_BINDING);
	if (p->ip->ttl <= 1)
		return finish(BSC_R_DROP_WAN_TTL);

	icmp_err_xlate(p, &in, 1, k.saddr, k.sport);
	ip_ttl_dec(p->ip);
	count(BSC_R_ICMP_ERR_XLATED, 0);
	if (k.saddr == cfg->lan_addr)
		return finish(BSC_R_PASS_LOCAL);
	return send_to_lan(p, uplink, f->policy, cfg, f->lan_mac);
}

/* A later fragment of a reply whose first fragment was translated: to the
 * LAN host it went to. */
static __always_inline int wan_later_fragment(struct pkt *p, __u32 uplink,
					      const struct bsc_config *cfg)
{
	struct bsc_frag *v = frag_find(p, 1 + uplink, bsc_tick());

	if (!v)
		return finish(BSC_R_DROP_FRAG_UNKNOWN);
	if (p->ip->ttl <= 1)
		return finish(BSC_R_DROP_WAN_TTL);
	ip_rewrite(p->ip, 0, v->addr);
	if (v->addr == cfg->lan_addr)
		return finish(BSC_R_PASS_LOCAL);
	return send_to_lan(p, uplink, v->cls, cfg, v->mac);
}

SEC("xdp")
int bascule_wan(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex, uplink;
	struct bsc_flow_key k = {};
	struct bsc_config *cfg;
	struct bsc_uplink *up;
	__u16 rport, nat_port;
	struct bsc_flow *f;
	struct bsc_rev *rv;
	struct pkt p = {};
	__u32 now;
	__u32 nxt;
	int r;

	r = parse_packet(ctx, &p);
	if (r != BSC_PARSE_OK)
		return finish(r);
	cfg = config_get();
	if (!cfg)
		return finish(BSC_R_PASS_NOT_READY);
	up = uplink_of_ifindex(ifindex, &uplink);
	if (!up)
		return finish(BSC_R_PASS_NOT_READY);
	/* A drill plays this line dead: nothing comes back, to the LAN or
	 * to the probes, until its deadline. */
	if (up->drill_until_ns && bpf_ktime_get_coarse_ns() < up->drill_until_ns)
		return finish(BSC_R_DROP_DRILL);

	/* Only what is addressed to the uplink may be translated; anything
	 * else is unsolicited and must never reach the LAN, not even through
	 * the kernel's forwarding. */
	if (p.ip->daddr != up->addr) {
		if (is_bcast_or_mcast(p.ip->daddr))
			return finish(BSC_R_PASS_BCAST);
		return finish(BSC_R_DROP_WAN_UNSOLICITED);
	}

	if (p.frag == BSC_FRAG_LATER)
		return wan_later_fragment(&p, uplink, cfg);
	if (p.proto == IPPROTO_ICMP) {
		if (is_icmp_error(p.icmp_type))
			return wan_icmp_error(&p, uplink, up, cfg);
		if (p.icmp_type != ICMP_ECHOREPLY)
			return finish(BSC_R_PASS_ICMP);
	}

	/* An echo reply carries our identifier where a port reply carries
	 * our port. */
	if (p.proto == IPPROTO_ICMP) {
		rport = 0;
		nat_port = p.sport;
	} else {
		rport = p.sport;
		nat_port = p.dport;
	}
	/* Ports outside the NAT's range are the box's own (its VPN, its
	 * probes, its ephemeral ports): the kernel's, never a LAN host's. */
	if (!nat_port_ours(up, nat_port))
		return finish(BSC_R_PASS_NO_BINDING);
	/* A NAT port without a binding is nobody's: dropped here, so the
	 * kernel does not answer it for a LAN host (RST, port unreachable).
	 * An echo reply the kernel never answers: its (the box's own pings,
	 * from ping sockets, take identifiers from the whole 16 bits). */
	rv = reply_rev(uplink, p.proto, p.ip->saddr, rport, nat_port);
	if (!rv)
		return finish(p.proto == IPPROTO_ICMP ? BSC_R_PASS_NO_BINDING : BSC_R_DROP_WAN_NO_BINDING);
	if (p.ip->ttl <= 1)
		return finish(BSC_R_DROP_WAN_TTL);

	/* The binding itself is looked at once per tick: that refreshes its
	 * `last` (a flow that only receives stays alive) and finds a reverse
	 * entry whose flow has gone or moved.  TCP segments that change the
	 * flow's state (SYN, FIN, RST) always go to it. */
	now = bsc_tick();
	nxt = p.proto == IPPROTO_TCP ? wan_seq_advance(rv, &p) : 0;
	if (rv->checked != now ||
	    (p.proto == IPPROTO_TCP && (((__u8 *)p.l4)[13] & BSC_TCP_FLAGS_STATE))) {
		f = rev_flow(rv, uplink, p.proto, p.ip->saddr, rport, nat_port, &k);
		if (!f)
			return finish(BSC_R_DROP_WAN_NO_BINDING);
		if (f->last != now)
			f->last = now;
		if (p.proto == IPPROTO_TCP) {
			struct tcphdr *th = p.l4;
			int close_ok = wan_close_ok(f, &p, nxt);

			if ((th->rst || th->fin) && !close_ok)
				count(BSC_R_TCP_CLOSE_UNVERIFIED, 0);
			flow_track_tcp(f, &p, 0, close_ok);
			/* so that the LAN host never sends more than the
			 * uplink takes */
			if (((struct tcphdr *)p.l4)->syn)
				bsc_mss_clamp(ctx, (__u32)(p.l4 - (void *)p.eth), mss_of(ctx, ifindex));
		}
		rv->checked = now;
	}

	if (p.frag)
		frag_remember(&p, 1 + uplink, rv->lan_addr, rv->lan_mac, uplink, rv->cls, now);
	nat_rewrite(&p, 0, rv->lan_addr, rv->lan_port);
	/* The box's own flow through the data path (a drill's synthetic
	 * flow, sent from the LAN address): the kernel delivers the reply. */
	if (rv->lan_addr == cfg->lan_addr)
		return finish(BSC_R_PASS_LOCAL);
	return send_to_lan(&p, uplink, rv->cls, cfg, rv->lan_mac);
}
