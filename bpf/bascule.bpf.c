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
	return reason >= BSC_R_DROP_MALFORMED && reason <= BSC_R_DROP_DRILL ?
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

/* A MAC address in one 4-byte and one 2-byte move: struct ethhdr is packed,
 * so a memcpy of it is six byte moves.  The loads and stores may be
 * unaligned, which the verifier allows where the CPU handles them (x86-64,
 * arm64: the architectures this builds for). */
static __always_inline void mac_copy(void *to, const void *from)
{
	*(__u32 *)to = *(const __u32 *)from;
	*(__u16 *)(to + 4) = *(const __u16 *)(from + 4);
}

static __always_inline void set_macs(struct ethhdr *eth, const __u8 *src, const __u8 *dst)
{
	mac_copy(eth->h_dest, dst);
	mac_copy(eth->h_source, src);
}

static __always_inline void stats_tx(__u32 uplink, __u32 len, int to_wan)
{
	struct bsc_uplink_stats *st = bpf_map_lookup_elem(&uplink_stats, &uplink);

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
static __always_inline int send_to_uplink(struct pkt *p, __u32 uplink,
					  const struct bsc_uplink *up)
{
	set_macs(p->eth, up->mac, up->gw_mac);
	stats_tx(uplink, p->len, 1);
	return redirect_to(uplink, BSC_R_FWD_LAN);
}

static __always_inline int send_to_lan(struct pkt *p, __u32 uplink,
				       const struct bsc_config *cfg, const __u8 *lan_mac)
{
	set_macs(p->eth, cfg->lan_mac, lan_mac);
	stats_tx(uplink, p->len, 0);
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

/* Both keys 8-byte aligned, padding zeroed. */
static __always_inline int flow_key_eq(const struct bsc_flow_key *a, const struct bsc_flow_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1];
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
	f = bpf_map_lookup_elem(&flows, &k);
	if (!f || k.saddr != p->ip->saddr)
		return finish(BSC_R_PASS_ICMP);
	up = uplink_get(f->uplink);
	if (!uplink_keeps_flow(up, f))
		return finish(BSC_R_PASS_ICMP);

	icmp_err_xlate(p, &in, 0, f->nat_addr, f->nat_port);
	ip_ttl_dec(p->ip);
	count(BSC_R_ICMP_ERR_XLATED, 0);
	return send_to_uplink(p, f->uplink, up);
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
	__u32 idx, now, gen;
	__u64 now_ns;
	int r;

	r = parse_packet(ctx, &p);
	if (r != BSC_PARSE_OK)
		return finish(r);
	cfg = config_get();
	if (!cfg)
		return finish(BSC_R_PASS_NOT_READY);

	/* The box itself, the LAN itself, broadcast and multicast: kernel. */
	if (p.ip->daddr == cfg->lan_addr ||
	    (p.ip->daddr & cfg->lan_mask) == cfg->lan_net)
		return finish(BSC_R_PASS_LOCAL);
	if (is_bcast_or_mcast(p.ip->daddr))
		return finish(BSC_R_PASS_BCAST);
	/* TTL expiry is the kernel's: it sends time exceeded, traceroute works. */
	if (p.ip->ttl <= 1)
		return finish(BSC_R_PASS_TTL);

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
	if (fc && fc->tick == now && fc->gen == gen && flow_key_eq(&fc->key, &k) &&
	    !(p.proto == IPPROTO_TCP && (((__u8 *)p.l4)[13] & BSC_TCP_FLAGS_STATE))) {
		up = uplink_get(fc->uplink);
		if (uplink_keeps_addr(up, fc->nat_addr)) {
			nat_rewrite(&p, 1, fc->nat_addr, fc->nat_port);
			return send_to_uplink(&p, fc->uplink, up);
		}
	}

	f = bpf_map_lookup_elem(&flows, &k);
	if (!f) {
		if (is_uplink_addr(k.daddr))
			return finish(BSC_R_PASS_LOCAL);
		if (p.proto == IPPROTO_TCP) {
			struct tcphdr *th = p.l4;

			/* Only a SYN opens a TCP binding; anything else has lost
			 * its state (or never had one) and is told so. */
			if (!th->syn || th->ack)
				return reset_to_lan(ctx, &p, BSC_R_TX_RST_NO_FLOW);
		}
		up = policy_uplink(0, &idx);
		if (!up)
			return finish(BSC_R_DROP_NO_UPLINK);
		if (!host_may_open(k.saddr, cfg, now_ns))
			return finish(BSC_R_DROP_HOST_LIMIT);
		r = flow_bind(&k, idx, up, NULL, p.eth->h_source, now, &fl);
		if (r)
			return finish(r);
		f = &fl;
	} else {
		up = uplink_get(f->uplink);
		if (!uplink_keeps_flow(up, f)) {
			/* The uplink failed under this flow.  TCP cannot keep
			 * its address: reset it now.  UDP and ICMP move to the
			 * active uplink (VoIP, QUIC, WireGuard cope). */
			if (p.proto == IPPROTO_TCP) {
				nat_port_release(&k, f->uplink, f->nat_port);
				bpf_map_delete_elem(&flows, &k);
				flow_gen_bump();
				return reset_to_lan(ctx, &p, BSC_R_TX_RST_UPLINK_DOWN);
			}
			up = policy_uplink(f->policy, &idx);
			if (!up)
				return finish(BSC_R_DROP_NO_UPLINK);
			fl = *f;
			r = flow_bind(&k, idx, up, &fl, p.eth->h_source, now, &fl);
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
						      .checked = now };

				__builtin_memcpy(rv.lan_mac, f->lan_mac, 6);
				bpf_map_update_elem(&rev, &rk, &rv, BPF_NOEXIST);
			}
		}
	}
touched:
	if (!up)
		return finish(BSC_R_DROP_NO_UPLINK);
	if (p.proto == IPPROTO_TCP)
		flow_track_tcp(f, &p, 1);

	if (fc) {
		fc->key = k;
		fc->nat_addr = f->nat_addr;
		fc->nat_port = f->nat_port;
		fc->uplink = f->uplink;
		fc->tick = now;
		fc->gen = gen;
	}
	nat_rewrite(&p, 1, f->nat_addr, f->nat_port);
	return send_to_uplink(&p, f->uplink, up);
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
	if (in.ip->saddr != up->addr)
		return finish(BSC_R_PASS_ICMP);
	f = reply_flow(uplink, in.proto, in.ip->daddr,
		       in.proto == IPPROTO_ICMP ? 0 : in.dport, in.sport, &k);
	if (!f)
		return finish(BSC_R_PASS_NO_BINDING);

	icmp_err_xlate(p, &in, 1, k.saddr, k.sport);
	ip_ttl_dec(p->ip);
	count(BSC_R_ICMP_ERR_XLATED, 0);
	if (k.saddr == cfg->lan_addr)
		return finish(BSC_R_PASS_LOCAL);
	return send_to_lan(p, uplink, cfg, f->lan_mac);
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
	rv = reply_rev(uplink, p.proto, p.ip->saddr, rport, nat_port);
	if (!rv)
		return finish(BSC_R_PASS_NO_BINDING);

	/* The binding itself is looked at once per tick: that refreshes its
	 * `last` (a flow that only receives stays alive) and finds a reverse
	 * entry whose flow has gone or moved.  TCP segments that change the
	 * flow's state (SYN, FIN, RST) always go to it. */
	now = bsc_tick();
	if (rv->checked != now ||
	    (p.proto == IPPROTO_TCP && (((__u8 *)p.l4)[13] & BSC_TCP_FLAGS_STATE))) {
		f = rev_flow(rv, uplink, p.proto, p.ip->saddr, rport, nat_port, &k);
		if (!f)
			return finish(BSC_R_PASS_NO_BINDING);
		if (p.ip->ttl <= 1)
			return finish(BSC_R_PASS_TTL);
		if (f->last != now)
			f->last = now;
		if (p.proto == IPPROTO_TCP)
			flow_track_tcp(f, &p, 0);
		rv->checked = now;
	} else if (p.ip->ttl <= 1) {
		return finish(BSC_R_PASS_TTL);
	}

	nat_rewrite(&p, 0, rv->lan_addr, rv->lan_port);
	/* The box's own flow through the data path (a drill's synthetic
	 * flow, sent from the LAN address): the kernel delivers the reply. */
	if (rv->lan_addr == cfg->lan_addr)
		return finish(BSC_R_PASS_LOCAL);
	return send_to_lan(&p, uplink, cfg, rv->lan_mac);
}
