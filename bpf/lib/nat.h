/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat.h - NAT bindings: choosing the uplink of a new flow, allocating the
 * translated port, creating both directions, moving a flow to another uplink,
 * and rewriting addresses and ports with incremental checksum updates.
 *
 * A binding lives in `flows` (LAN orientation); `rev` maps what a reply
 * carries (uplink, proto, remote address/port, NAT port) back to the LAN end.
 * Both are created with BPF_NOEXIST, and a failure on the second rolls back
 * the first, so two CPUs racing on one flow, or two flows racing on one port,
 * never overwrite each other.
 */
#ifndef BSC_NAT_H
#define BSC_NAT_H

#include "maps.h"
#include "parse.h"
#include "csum.h"

/* The clock of the flow tables (bascule.h): ticks of 2^30 ns.  A flow's
 * `last` is written once per tick at most: the write dirties the flow's
 * cache line, and the shortest expiry timeout is 10 s. */
static __always_inline __u32 bsc_tick(void)
{
	/* the coarse clock: jiffies resolution is plenty, and it is cheaper */
	return bpf_ktime_get_coarse_ns() >> BSC_TICK_SHIFT;
}

static __always_inline struct bsc_uplink *uplink_get(__u32 idx)
{
	return bpf_map_lookup_elem(&uplinks, &idx);
}

/* The row of uplink_stats that counts class cls on uplink (bascule.h). */
static __always_inline __u32 stats_row(__u32 uplink, __u32 cls)
{
	return (cls & (BSC_MAX_CLASSES - 1)) * BSC_MAX_UPLINKS + (uplink & (BSC_MAX_UPLINKS - 1));
}

/* The uplink that new flows of a policy take, or NULL when it cannot take
 * any (none chosen, or the chosen one is not UP). */
/* The uplink a new (or moved) flow k of class pol takes: its policy's
 * active uplink, or for a balance class the uplink of the flow's slot.
 * NULL when that uplink cannot take new flows. */
static __always_inline struct bsc_uplink *policy_uplink(__u32 pol, const struct bsc_flow_key *k,
							__u32 *idx)
{
	struct bsc_policy *pp = bpf_map_lookup_elem(&policy, &pol);
	struct bsc_uplink *up;
	__u32 u;

	if (!pp)
		return NULL;
	u = pp->active;
	if (pp->balance) {
		struct bsc_balance *b = bpf_map_lookup_elem(&balance, &pol);

		if (!b)
			return NULL;
		u = b->slot[bsc_balance_slot(k->saddr, k->daddr, k->sport, k->dport, k->proto,
					     pp->persist_source)];
	}
	if (u >= BSC_MAX_UPLINKS)
		return NULL;
	up = uplink_get(u);
	if (!up || up->state != BSC_UPLINK_UP || !up->addr)
		return NULL;
	*idx = u;
	return up;
}

/* bascule.h, bsc_uplink_keeps */
static __always_inline int uplink_keeps_addr(const struct bsc_uplink *up, __u32 nat_addr)
{
	return bsc_uplink_keeps(up, nat_addr);
}

static __always_inline int uplink_keeps_flow(const struct bsc_uplink *up,
					     const struct bsc_flow *f)
{
	return uplink_keeps_addr(up, f->nat_addr);
}

/* The generation of the bindings (struct bsc_flow_cache): read per packet,
 * bumped after bindings are deleted or moved, so that no cached copy of
 * them serves again. */
static __always_inline __u32 flow_gen_get(void)
{
	__u32 zero = 0, *g = bpf_map_lookup_elem(&flow_gen, &zero);

	return g ? *g : 0;
}

static __always_inline void flow_gen_bump(void)
{
	__u32 zero = 0, *g = bpf_map_lookup_elem(&flow_gen, &zero);

	if (g)
		__sync_fetch_and_add(g, 1);
}

static __always_inline void rev_key_of(struct bsc_rev_key *rk,
				       const struct bsc_flow_key *k,
				       __u32 uplink, __u16 nat_port)
{
	rk->raddr = k->daddr;
	rk->rport = k->dport;
	rk->nat_port = nat_port;
	rk->proto = k->proto;
	rk->uplink = uplink;
	rk->pad[0] = 0;
	rk->pad[1] = 0;
}

/* The uplink's NAT port range (bascule.h), host byte order. */
static __always_inline void nat_range(const struct bsc_uplink *up, __u32 *lo, __u32 *hi)
{
	*lo = up->nat_port_min ? up->nat_port_min : BSC_NAT_PORT_MIN_DEFAULT;
	*hi = up->nat_port_max ? up->nat_port_max : BSC_NAT_PORT_MAX_DEFAULT;
}

/* Is port (network byte order) one the NAT may hand out on this uplink?
 * Anything else is the box's own. */
static __always_inline int nat_port_ours(const struct bsc_uplink *up, __u16 port)
{
	__u32 lo, hi, p = bpf_ntohs(port);

	nat_range(up, &lo, &hi);
	return p >= lo && p <= hi;
}

/* Reserve a NAT port on an uplink for flow k: `want` (the LAN host's own
 * port, or the port a moving flow had on its old uplink, so that the remote
 * sees one flow go on from a new address) when it lies in the uplink's range
 * and is free towards that remote endpoint, else a bounded number of random
 * ports of the range.  The reverse entry made holds what replies need
 * (lan_mac).  Returns 0 and the port in *port, or -1 when all tries
 * collided. */
static __always_inline int nat_port_reserve(const struct bsc_flow_key *k, __u16 want,
					    __u32 uplink, const struct bsc_uplink *up, __u32 cls,
					    const __u8 *lan_mac, __u32 now, __u16 *port)
{
	struct bsc_rev rv = { .lan_addr = k->saddr, .lan_port = k->sport, .checked = now,
			      .cls = (__u8)cls };
	struct bsc_rev_key rk;
	__u16 cand = want;
	__u32 lo, hi;
	int i;

	nat_range(up, &lo, &hi);
	if (hi < lo)
		return -1;
	__builtin_memcpy(rv.lan_mac, lan_mac, 6);
	for (i = 0; i < BSC_NAT_RETRIES; i++) {
		if (i || !nat_port_ours(up, cand))
			cand = bpf_htons(lo + bpf_get_prandom_u32() % (hi - lo + 1));
		rev_key_of(&rk, k, uplink, cand);
		if (bpf_map_update_elem(&rev, &rk, &rv, BPF_NOEXIST) == 0) {
			*port = cand;
			return 0;
		}
	}
	return -1;
}

static __always_inline void nat_port_release(const struct bsc_flow_key *k,
					     __u32 uplink, __u16 port)
{
	struct bsc_rev_key rk;

	rev_key_of(&rk, k, uplink, port);
	bpf_map_delete_elem(&rev, &rk);
}

static __always_inline void stats_add_flow(__u32 uplink, __u32 cls, int rebound, int exhausted)
{
	__u32 row = stats_row(uplink, cls);
	struct bsc_uplink_stats *st = bpf_map_lookup_elem(&uplink_stats, &row);

	if (!st)
		return;
	if (exhausted)
		st->nat_exhausted++;
	else if (rebound)
		st->rebound++;
	else
		st->new_flows++;
}

/* Bind flow k to uplink idx (creating it in class cls, or moving it
 * there when old is given: it keeps its class).  On success *out holds the
 * binding as stored.  Returns 0 or the reason the packet cannot be sent. */
static __always_inline int flow_bind(const struct bsc_flow_key *k, __u32 idx,
				     const struct bsc_uplink *up,
				     const struct bsc_flow *old, __u32 cls,
				     const __u8 *lan_mac, __u32 now,
				     struct bsc_flow *out)
{
	/* old may alias out: keep what must be released */
	__u32 old_uplink = old ? old->uplink : 0;
	__u16 old_port = old ? old->nat_port : 0;
	__u16 port;

	if (old)
		cls = old->policy;
	if (nat_port_reserve(k, old ? old_port : k->sport, idx, up, cls, lan_mac, now, &port)) {
		stats_add_flow(idx, cls, 0, 1);
		return BSC_R_DROP_NAT_EXHAUSTED;
	}
	if (old) {
		*out = *old;
	} else {
		__builtin_memset(out, 0, sizeof(*out));
		out->created = now;
		out->policy = (__u8)cls;
	}
	out->last = now;
	out->nat_addr = up->addr;
	out->nat_port = port;
	out->uplink = idx;
	__builtin_memcpy(out->lan_mac, lan_mac, 6);

	if (bpf_map_update_elem(&flows, k, out, old ? BPF_EXIST : BPF_NOEXIST)) {
		nat_port_release(k, idx, port);
		return BSC_R_DROP_MAP_FULL;
	}
	if (old) {
		nat_port_release(k, old_uplink, old_port);
		flow_gen_bump(); /* moved: no cached copy of the old binding */
	}
	stats_add_flow(idx, cls, !!old, 0);
	return 0;
}

/* May this LAN host open one more flow?  A token bucket per host: refilled
 * at host_flow_rate per second up to host_flow_burst.  Lock-free and
 * approximate under races between CPUs, which only matters by a token or
 * two. */
static __always_inline int bucket_take(void *map, const void *key,
				       const struct bsc_config *cfg, __u64 now)
{
	__u32 burst = cfg->host_flow_burst * 1000;
	struct bsc_host *h, nh = {};
	__u64 elapsed, tokens;

	if (!cfg->host_flow_rate)
		return 1;
	h = bpf_map_lookup_elem(map, key);
	if (!h) {
		nh.last_ns = now;
		nh.tokens_milli = burst > 1000 ? burst - 1000 : 0;
		bpf_map_update_elem(map, key, &nh, BPF_NOEXIST);
		return 1;
	}
	elapsed = now > h->last_ns ? now - h->last_ns : 0;
	if (elapsed > 100ULL * 1000 * 1000 * 1000)
		elapsed = 100ULL * 1000 * 1000 * 1000; /* a full bucket anyway */
	tokens = h->tokens_milli + elapsed * cfg->host_flow_rate / 1000000;
	if (tokens > burst)
		tokens = burst;
	h->last_ns = now;
	if (tokens < 1000) {
		h->tokens_milli = tokens;
		h->denied++;
		return 0;
	}
	h->tokens_milli = tokens - 1000;
	return 1;
}

/* The host's budget, by address and by MAC (bascule.h): the reason of the
 * refusal, or 0. */
static __always_inline int host_may_open(__u32 host, const __u8 *mac,
					 const struct bsc_config *cfg, __u64 now)
{
	__u64 mk = 0;

	__builtin_memcpy(&mk, mac, 6);
	if (!bucket_take(&hosts, &host, cfg, now))
		return BSC_R_DROP_HOST_LIMIT;
	if (!bucket_take(&host_macs, &mk, cfg, now))
		return BSC_R_DROP_MAC_LIMIT;
	return 0;
}

/* Rewrite the source (LAN -> uplink) or destination (uplink -> LAN) address
 * and port of a TCP/UDP/ICMP-echo packet and decrement its TTL, with the
 * IPv4 header checksum and the L4 checksum updated incrementally, each in
 * one go (address + TTL; address + port). */
static __always_inline void nat_rewrite(struct pkt *p, int src, __u32 addr, __u16 port)
{
	struct iphdr *ip = p->ip;
	__u32 *a = src ? &ip->saddr : &ip->daddr;
	__u16 *ttlw = (__u16 *)&ip->ttl; /* TTL shares a word with the protocol */
	__u32 da = csum_diff4(*a, addr);
	__u16 old_ttlw = *ttlw;

	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = p->l4;
		__u16 *pp = src ? &th->source : &th->dest;

		csum_apply(&th->check, da + csum_diff2(*pp, port));
		*pp = port;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = p->l4;
		__u16 *pp = src ? &uh->source : &uh->dest;

		udp_csum_apply(&uh->check, da + csum_diff2(*pp, port));
		*pp = port;
		break;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *ih = p->l4;

		/* No pseudo-header in ICMP: only the identifier counts. */
		csum_apply(&ih->checksum, csum_diff2(ih->un.echo.id, port));
		ih->un.echo.id = port;
		break;
	}
	}
	*a = addr;
	ip->ttl--;
	csum_apply(&ip->check, da + csum_diff2(old_ttlw, *ttlw));
}

/* The address of a later fragment (no ports in it): source (LAN -> uplink)
 * or destination (uplink -> LAN), with the TTL, and the IPv4 checksum. */
static __always_inline void ip_rewrite(struct iphdr *ip, int src, __u32 addr)
{
	__u32 *a = src ? &ip->saddr : &ip->daddr;
	__u16 *ttlw = (__u16 *)&ip->ttl;
	__u16 old_ttlw = *ttlw;
	__u32 da = csum_diff4(*a, addr);

	*a = addr;
	ip->ttl--;
	csum_apply(&ip->check, da + csum_diff2(old_ttlw, *ttlw));
}

/* A first fragment leaves what its datagram's later fragments need
 * (bascule.h, struct bsc_frag). */
static __always_inline void frag_remember(const struct pkt *p, __u8 dir, __u32 addr,
					  const __u8 *mac, __u32 uplink, __u32 cls, __u32 now)
{
	struct bsc_frag_key fk = { .saddr = p->ip->saddr, .daddr = p->ip->daddr,
				   .id = p->ip->id, .proto = p->proto, .dir = dir };
	struct bsc_frag v = { .addr = addr, .uplink = (__u8)uplink, .cls = (__u8)cls,
			      .tick = now };

	__builtin_memcpy(v.mac, mac, 6);
	bpf_map_update_elem(&frags, &fk, &v, BPF_ANY);
}

/* What the first fragment left for this later one, or NULL. */
static __always_inline struct bsc_frag *frag_find(const struct pkt *p, __u8 dir, __u32 now)
{
	struct bsc_frag_key fk = { .saddr = p->ip->saddr, .daddr = p->ip->daddr,
				   .id = p->ip->id, .proto = p->proto, .dir = dir };
	struct bsc_frag *v = bpf_map_lookup_elem(&frags, &fk);

	return v && now - v->tick <= BSC_FRAG_TICKS ? v : NULL;
}

/* Decrement TTL with the header checksum kept right (ICMP errors; the
 * translated flows get theirs in nat_rewrite). */
static __always_inline void ip_ttl_dec(struct iphdr *ip)
{
	__u16 *w = (__u16 *)&ip->ttl;
	__u16 old = *w;

	ip->ttl--;
	csum_replace2(&ip->check, old, *w);
}

/* TCP flags (byte 13 of the header) that change what is tracked: FIN, SYN,
 * RST.  A reply carrying one always goes to the binding. */
#define BSC_TCP_FLAGS_STATE 0x07

/* TCP tracking: only the bits that decide how long a flow is kept.
 * close_ok: a RST or FIN may close it (always from the LAN host that owns
 * the binding; from the WAN only in sequence, see struct bsc_rev). */
static __always_inline void flow_track_tcp(struct bsc_flow *f, const struct pkt *p,
					   int from_lan, int close_ok)
{
	const struct tcphdr *th = p->l4;
	__u8 t = f->tcp;

	if (th->rst && close_ok)
		t |= BSC_TCP_RST;
	if (th->fin && close_ok)
		t |= from_lan ? BSC_TCP_FIN_LAN : BSC_TCP_FIN_WAN;
	if (th->syn)
		t |= BSC_TCP_SYN_SEEN;
	if (!from_lan && th->ack)
		t |= BSC_TCP_ESTAB;
	if (t != f->tcp)
		f->tcp = t;
}

/* The remote's next sequence number (struct bsc_rev) moves past its
 * segment; a SYN|ACK starts it.  Returns what it was before. */
static __always_inline __u32 wan_seq_advance(struct bsc_rev *rv, const struct pkt *p)
{
	const struct tcphdr *th = p->l4;
	__u32 seq = bpf_ntohl(th->seq), nxt = rv->wan_nxt, len, end;

	len = bpf_ntohs(p->ip->tot_len) - p->ip->ihl * 4 - th->doff * 4;
	end = seq + len + th->syn + th->fin;
	if (th->syn && th->ack)
		rv->wan_nxt = end;
	else if (nxt && (__s32)(end - nxt) > 0 && !th->rst)
		rv->wan_nxt = end;
	return nxt;
}

/* Is the remote's RST or FIN the real one?  At exactly its next number
 * (nxt, before this segment); a RST also one below it once the remote's FIN
 * went by (a closed socket's RST carries the host's ACK, which may not
 * cover that FIN yet). */
static __always_inline int wan_close_ok(const struct bsc_flow *f, const struct pkt *p, __u32 nxt)
{
	const struct tcphdr *th = p->l4;
	__u32 seq = bpf_ntohl(th->seq);

	if (!nxt)
		return 0;
	return seq == nxt || (th->rst && (f->tcp & BSC_TCP_FIN_WAN) && seq == nxt - 1);
}

#endif /* BSC_NAT_H */
