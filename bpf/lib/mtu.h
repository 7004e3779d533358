/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mtu.h - what does not fit an uplink: the MTU check of a frame against the
 * uplink's device (bpf_check_mtu reads the device's MTU as it is now, so a
 * PPPoE or 5G uplink at 1492 or 1420 is known without a copy of ours), the
 * ICMP fragmentation-needed answered to the LAN host in place of a frame
 * that would be dropped in the devmap, and TCP MSS clamping on SYNs, so that
 * TCP never needs the ICMP at all.
 *
 * Only frames above BSC_MTU_FLOOR are checked: every uplink carries at least
 * that, so a small packet pays nothing.
 */
#ifndef BSC_MTU_H
#define BSC_MTU_H

#include "parse.h"
#include "csum.h"
#include "maps.h"

#define BSC_MTU_FLOOR 1280      /* IPv6's minimum: no uplink has less */
#define BSC_QUOTE_MAX (60 + 8)  /* an IPv4 header with options, 8 bytes of data */

/* The MTU of device ifindex in *mtu; 1 when the frame does not fit it. */
static __always_inline int frame_too_big(struct xdp_md *ctx, const struct pkt *p,
					 __u32 ifindex, __u32 *mtu)
{
	__u32 m = 0;

	if (p->len <= sizeof(struct ethhdr) + BSC_MTU_FLOOR)
		return 0;
	if (bpf_check_mtu(ctx, ifindex, &m, 0, 0) != BPF_MTU_CHK_RET_FRAG_NEEDED)
		return 0;
	*mtu = m;
	return 1;
}

static __always_inline __u32 csum_words(const void *start, __u32 len, const void *end)
{
	const __u16 *w = start;
	__u32 s = 0;
	int i;

	for (i = 0; i < (int)(sizeof(struct icmphdr) + BSC_QUOTE_MAX) / 2; i++) {
		if ((__u32)i >= len / 2 || (const void *)(w + i + 1) > end)
			break;
		s += w[i];
	}
	return s;
}

/* Turn the LAN host's frame (not yet translated) into an ICMP
 * fragmentation-needed from the box's LAN address, quoting its IP header
 * and 8 bytes, with the uplink's MTU.  Returns 0, or the reason it could
 * not (the frame is then dropped).  A global function: the verifier checks
 * it once, not on every path that reaches it. */
__noinline int bsc_frag_needed(struct xdp_md *ctx, __u32 mtu)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct bsc_config *cfg;
	struct icmphdr *ih;
	__u32 zero = 0, host, qlen, newlen;
	__u8 host_mac[6];

	if ((void *)(ip + 1) > end)
		return BSC_R_DROP_MALFORMED;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return BSC_R_DROP_MALFORMED;
	__builtin_memcpy(host_mac, eth->h_source, 6);
	host = ip->saddr;
	qlen = (ip->ihl * 4 & 0x3c) + 8;
	/* Room in front for the new IP and ICMP headers: the quote is the old
	 * IP header and what follows it, where it already is. */
	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(struct iphdr) + sizeof(struct icmphdr))))
		return BSC_R_DROP_MALFORMED;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	newlen = sizeof(*eth) + sizeof(*ip) + sizeof(*ih) + qlen;
	if (bpf_xdp_adjust_tail(ctx, (int)newlen - (int)(end - data)))
		return BSC_R_DROP_MALFORMED;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	ih = (void *)(ip + 1);
	if ((void *)(ih + 1) > end)
		return BSC_R_DROP_MALFORMED;
	__builtin_memcpy(eth->h_dest, host_mac, 6);
	__builtin_memcpy(eth->h_source, cfg->lan_mac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* internetwork control, as the kernel's ICMP */
	ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*ih) + qlen);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = cfg->lan_addr;
	ip->daddr = host;
	ip->check = 0;
	ip->check = (__u16)~csum_fold32(csum_words(ip, sizeof(*ip), end));
	ih->type = ICMP_DEST_UNREACH;
	ih->code = ICMP_FRAG_NEEDED;
	ih->un.frag.__unused = 0;
	ih->un.frag.mtu = bpf_htons((__u16)mtu);
	ih->checksum = 0;
	ih->checksum = (__u16)~csum_fold32(csum_words(ih, sizeof(*ih) + qlen, end));
	return 0;
}

/* Clamp the MSS option of the TCP SYN (or SYN|ACK) whose header starts
 * l4_off bytes into the frame to max, with the TCP checksum updated.  The
 * options are walked up to their end (40 bytes at most): NOP and EOL as
 * themselves, others by their length.  A global function, checked once. */
__noinline int bsc_mss_clamp(struct xdp_md *ctx, __u32 l4_off, __u32 max)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct tcphdr *th;
	__u32 off, oend;
	int i;

	if (l4_off > sizeof(struct ethhdr) + 60)
		return 0;
	th = data + l4_off;
	if ((void *)(th + 1) > end || !th->syn)
		return 0;
	off = sizeof(*th);
	oend = th->doff * 4;
	for (i = 0; i < 20; i++) {
		__u8 *opt, kind, len;

		if (off >= oend || off > 60)
			return 0;
		opt = (__u8 *)th + off;
		if ((void *)(opt + 2) > end)
			return 0;
		kind = opt[0];
		if (kind == 0)
			return 0;
		if (kind == 1) {
			off++;
			continue;
		}
		len = opt[1];
		if (len < 2)
			return 0;
		if (kind == 2 && len == 4) {
			__u16 cur, old, new;

			if (off + 4 > oend || (void *)(opt + 4) > end)
				return 0;
			cur = (__u16)(opt[2] << 8 | opt[3]);
			if (cur <= max)
				return 0;
			/* byte by byte (no alignment to count on); the value
			 * as the checksum's 16-bit words see it: swapped when
			 * it sits at an odd offset of the header */
			old = bpf_htons(cur);
			new = bpf_htons((__u16)max);
			opt[2] = (__u8)(max >> 8);
			opt[3] = (__u8)max;
			if ((off + 2) & 1)
				csum_replace2(&th->check, __builtin_bswap16(old), __builtin_bswap16(new));
			else
				csum_replace2(&th->check, old, new);
			return 0;
		}
		off += len;
	}
	return 0;
}

#endif /* BSC_MTU_H */
