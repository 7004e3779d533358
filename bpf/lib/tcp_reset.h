/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcp_reset.h - answer a LAN host's TCP segment with a RST, in place, sent
 * back out of the LAN interface.
 *
 * Used when the flow's uplink has failed: its NAT address is gone with the
 * uplink, so the connection cannot survive, and a RST now lets the
 * application reconnect at once instead of retransmitting into the void for
 * minutes.  The RST follows RFC 793's reset generation: if the segment
 * carries an ACK, the RST takes its sequence number from that ACK (which the
 * host then finds exactly at RCV.NXT); otherwise it ACKs the segment.
 */
#ifndef BSC_TCP_RESET_H
#define BSC_TCP_RESET_H

#include "parse.h"
#include "csum.h"

static __always_inline __u16 ip_csum_full(struct iphdr *ip, __u32 hlen, void *end)
{
	__u16 *w = (__u16 *)ip;
	__u32 s = 0;
	int i;

	ip->check = 0;
	for (i = 0; i < 30; i++) {
		if (i >= hlen / 2 || (void *)(w + i + 1) > end)
			break;
		s += w[i];
	}
	return (__u16)~csum_fold32(s);
}

static __always_inline __u16 tcp_csum_bare(struct iphdr *ip, struct tcphdr *th)
{
	__u16 *w = (__u16 *)th;
	__u32 s = 0;
	int i;

	th->check = 0;
	s += ip->saddr & 0xffff;
	s += ip->saddr >> 16;
	s += ip->daddr & 0xffff;
	s += ip->daddr >> 16;
	s += bpf_htons(IPPROTO_TCP);
	s += bpf_htons(sizeof(*th));
#pragma unroll
	for (i = 0; i < (int)(sizeof(*th) / 2); i++)
		s += w[i];
	return (__u16)~csum_fold32(s);
}

/* Turn the TCP segment in p into a RST towards its sender.  Returns XDP_TX,
 * or XDP_DROP (with *reason set) when it must not be answered. */
static __always_inline int tcp_reset_reply(struct xdp_md *ctx, struct pkt *p,
					   __u32 *reason)
{
	struct iphdr *ip = p->ip;
	struct tcphdr *th = p->l4;
	__u32 hlen = ip->ihl * 4, thlen = th->doff * 4;
	__u32 tot = bpf_ntohs(ip->tot_len);
	__u32 seq, ack, u32tmp, newlen;
	__u8 mac[ETH_ALEN];
	__u16 u16tmp;
	int has_ack = th->ack;
	void *data, *end;

	if (th->rst || hlen + thlen > tot) {
		*reason = BSC_R_DROP_TCP_NO_FLOW;
		return XDP_DROP;
	}
	if (has_ack) {
		seq = th->ack_seq;
		ack = 0;
	} else {
		seq = 0;
		ack = bpf_htonl(bpf_ntohl(th->seq) + (tot - hlen - thlen) +
				th->syn + th->fin);
	}

	__builtin_memcpy(mac, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p->eth->h_dest, mac, ETH_ALEN);

	u32tmp = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = u32tmp;
	ip->ttl = 64;
	ip->tos = 0;
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000); /* DF */
	ip->tot_len = bpf_htons(hlen + sizeof(*th));

	u16tmp = th->source;
	th->source = th->dest;
	th->dest = u16tmp;
	th->seq = seq;
	th->ack_seq = ack;
	/* doff=5, RST, and ACK only when answering a segment without one */
	((__u16 *)th)[6] = bpf_htons((5 << 12) | 0x04 | (has_ack ? 0 : 0x10));
	th->window = 0;
	th->urg_ptr = 0;

	newlen = sizeof(struct ethhdr) + hlen + sizeof(*th);
	if (bpf_xdp_adjust_tail(ctx, (int)newlen - (int)p->len)) {
		*reason = BSC_R_DROP_MALFORMED;
		return XDP_DROP;
	}

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	th = (void *)ip + (hlen & 0x3c);
	if ((void *)(th + 1) > end)
		return XDP_DROP;
	ip->check = ip_csum_full(ip, hlen, end);
	th->check = tcp_csum_bare(ip, th);
	return XDP_TX;
}

#endif /* BSC_TCP_RESET_H */
