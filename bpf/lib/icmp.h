/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * icmp.h - translation of ICMP errors that quote a translated flow
 * (destination unreachable including fragmentation needed, time exceeded,
 * parameter problem), so that path-MTU discovery and traceroute replies
 * reach the LAN host, and a LAN host's own errors reach the remote.
 *
 * The quoted packet travelled the other way: an error arriving on an uplink
 * quotes {nat_addr:nat_port -> remote}; one sent by a LAN host quotes
 * {remote -> lan_addr:lan_port}.  The outer address, the quoted address, the
 * quoted port (or echo identifier), the quoted IPv4 checksum and the quoted
 * L4 checksum (when it is inside the frame) all change, and every change is
 * folded into the outer ICMP checksum, which covers the whole quote.
 */
#ifndef BSC_ICMP_H
#define BSC_ICMP_H

#include "parse.h"
#include "csum.h"

struct inner {
	struct iphdr *ip;
	void *l4;       /* 8 bytes in bounds */
	__u16 sport;    /* quoted ports, or the echo identifier in sport */
	__u16 dport;
	__u8 proto;
};

/* Parse the packet quoted by an ICMP error.  Returns BSC_PARSE_OK or a
 * reason. */
static __always_inline int icmp_inner_parse(const struct pkt *p, struct inner *in)
{
	struct iphdr *iip = p->l4 + sizeof(struct icmphdr);
	__u32 hlen;

	/* Bounded by the datagram, not the frame: bytes past tot_len are
	 * padding, not quote, and must not be rewritten. */
	if ((void *)(iip + 1) > p->data_end || (void *)(iip + 1) > p->l3_end)
		return BSC_R_DROP_MALFORMED;
	hlen = iip->ihl * 4;
	if (iip->version != 4 || hlen < sizeof(*iip))
		return BSC_R_DROP_MALFORMED;
	in->ip = iip;
	in->l4 = (void *)iip + hlen;
	if (in->l4 + 8 > p->data_end || in->l4 + 8 > p->l3_end)
		return BSC_R_DROP_MALFORMED;
	in->proto = iip->protocol;
	switch (in->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		in->sport = ((__u16 *)in->l4)[0];
		in->dport = ((__u16 *)in->l4)[1];
		return BSC_PARSE_OK;
	case IPPROTO_ICMP:
		if (!is_icmp_echo(((struct icmphdr *)in->l4)->type))
			return BSC_R_PASS_ICMP;
		in->sport = ((struct icmphdr *)in->l4)->un.echo.id;
		in->dport = 0;
		return BSC_PARSE_OK;
	default:
		return BSC_R_PASS_ICMP;
	}
}

/* Rewrite an ICMP error.  inner_src: the quoted source (error arriving on an
 * uplink) or the quoted destination (error sent by a LAN host) is the
 * translated end; the outer address on the other side changes with it. */
static __always_inline void icmp_err_xlate(struct pkt *p, struct inner *in,
					   int inner_src, __u32 addr, __u16 port)
{
	struct icmphdr *ih = p->l4;
	struct iphdr *iip = in->ip;
	__u32 *oa = inner_src ? &p->ip->daddr : &p->ip->saddr;
	__u32 *ia = inner_src ? &iip->saddr : &iip->daddr;
	__u32 old_a = *ia;
	__u16 old_c = iip->check;
	__u16 *pp, *l4c = NULL, old;

	csum_replace4(&p->ip->check, *oa, addr);
	*oa = addr;

	csum_replace4(&iip->check, old_a, addr);
	*ia = addr;
	csum_replace4(&ih->checksum, old_a, addr);
	csum_replace2(&ih->checksum, old_c, iip->check);

	if (in->proto == IPPROTO_ICMP) {
		struct icmphdr *eh = in->l4;

		old = eh->checksum;
		csum_replace2(&eh->checksum, eh->un.echo.id, port);
		csum_replace2(&ih->checksum, old, eh->checksum);
		csum_replace2(&ih->checksum, eh->un.echo.id, port);
		eh->un.echo.id = port;
		return;
	}

	pp = (__u16 *)in->l4 + (inner_src ? 0 : 1);
	if (in->proto == IPPROTO_UDP) {
		l4c = &((struct udphdr *)in->l4)->check;
	} else if (in->l4 + 18 <= p->data_end && in->l4 + 18 <= p->l3_end) {
		/* A quoted TCP header often stops after 8 bytes (RFC 792). */
		l4c = (__u16 *)in->l4 + 8;
	}
	if (l4c) {
		old = *l4c;
		if (in->proto == IPPROTO_UDP) {
			udp_csum_replace4(l4c, old_a, addr);
			udp_csum_replace2(l4c, *pp, port);
		} else {
			csum_replace4(l4c, old_a, addr);
			csum_replace2(l4c, *pp, port);
		}
		csum_replace2(&ih->checksum, old, *l4c);
	}
	csum_replace2(&ih->checksum, *pp, port);
	*pp = port;
}

#endif /* BSC_ICMP_H */
