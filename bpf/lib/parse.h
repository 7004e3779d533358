/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - header parsing for the data path: Ethernet (VLAN tags are
 * recognised and handed to the kernel), IPv4 with options, TCP, UDP, ICMP.
 *
 * parse_packet() fills a struct pkt whose pointers are already bounds-checked
 * for what the rest of the path reads and writes, or returns the reason why
 * the packet is not for the fast path.
 */
#ifndef BSC_PARSE_H
#define BSC_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "bascule.h"

/* The ICMP header (RFC 792), defined here rather than taken from
 * <linux/icmp.h>: that uapi header includes <linux/if.h>, which includes
 * glibc's <sys/socket.h>, and the BPF side is built against uapi and libbpf
 * headers only (see BPF_INC in the Makefile).  Same layout and names as the
 * kernel's, so the code reads the same. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		__be32 gateway;
		struct {
			__be16 __unused;
			__be16 mtu;
		} frag;
		__u8 reserved[4];
	} un;
};

#define ICMP_ECHOREPLY      0
#define ICMP_DEST_UNREACH   3
#define ICMP_ECHO           8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_FRAG_NEEDED    4  /* code of DEST_UNREACH */

#define IP_MF      0x2000
#define IP_OFFMASK 0x1fff
#define BSC_PARSE_OK (-1)

struct pkt {
	void *data_end;
	struct ethhdr *eth;
	struct iphdr *ip;
	void *l4;               /* at least 8 bytes (20 for TCP) are in bounds */
	void *l3_end;           /* the end of the IP datagram (tot_len): what
				 * lies beyond, up to data_end, is padding */
	__u32 len;              /* frame length */
	__u16 sport;            /* TCP/UDP ports; ICMP echo: identifier */
	__u16 dport;            /* ICMP echo: 0 */
	__u8 proto;
	__u8 icmp_type;
	__u8 frag;              /* BSC_FRAG_*: the first fragment (ports and all)
				 * or a later one (l4 not set) */
};

#define BSC_FRAG_NONE  0
#define BSC_FRAG_FIRST 1
#define BSC_FRAG_LATER 2

static __always_inline int is_icmp_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

static __always_inline int is_icmp_echo(__u8 type)
{
	return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
}

struct vlan_tag {
	__u16 tci;
	__u16 proto;
};

static __always_inline int is_vlan(__u16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Returns BSC_PARSE_OK or an enum bsc_reason for the kernel/drop path. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 hlen, tot;

	p->data_end = data_end;
	p->len = data_end - data;
	if ((void *)(eth + 1) > data_end)
		return BSC_R_DROP_MALFORMED;
	p->eth = eth;
	if (is_vlan(eth->h_proto)) {
		struct vlan_tag *vt = (void *)(eth + 1);
		int i;

		/* Up to two tags (802.1ad + 802.1Q) are walked so that a cut
		 * tag is told from a good one.  Tagged traffic is the kernel's:
		 * its VLAN devices know which LAN a tag is, one prefix here. */
#pragma unroll
		for (i = 0; i < 2; i++) {
			if ((void *)(vt + 1) > data_end)
				return BSC_R_DROP_MALFORMED;
			if (!is_vlan(vt->proto))
				break;
			vt++;
		}
		return BSC_R_PASS_VLAN;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return BSC_R_PASS_NON_IP;
	if (eth->h_dest[0] & 1)
		return BSC_R_PASS_BCAST;

	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return BSC_R_DROP_MALFORMED;
	hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip))
		return BSC_R_DROP_MALFORMED;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || (void *)ip + tot > data_end)
		return BSC_R_DROP_MALFORMED;
	p->ip = ip;
	p->l3_end = (void *)ip + tot;
	p->proto = ip->protocol;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFMASK)) {
		if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP &&
		    ip->protocol != IPPROTO_ICMP)
			return BSC_R_PASS_FRAGMENT;
		if (ip->frag_off & bpf_htons(IP_OFFMASK)) {
			p->frag = BSC_FRAG_LATER;
			return BSC_PARSE_OK;
		}
		p->frag = BSC_FRAG_FIRST;
	}

	p->l4 = (void *)ip + hlen;
	if (p->l4 + sizeof(struct udphdr) > data_end)
		return ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP ||
			       ip->protocol == IPPROTO_ICMP ?
			       BSC_R_DROP_MALFORMED : BSC_R_PASS_PROTO;

	switch (ip->protocol) {
	case IPPROTO_TCP: {
		struct tcphdr *th = p->l4;

		if ((void *)(th + 1) > data_end || th->doff < 5)
			return BSC_R_DROP_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		return BSC_PARSE_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = p->l4;

		/* a first fragment's length is the whole datagram's */
		if (bpf_ntohs(uh->len) < sizeof(*uh) ||
		    (!p->frag && bpf_ntohs(uh->len) > tot - hlen))
			return BSC_R_DROP_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
		return BSC_PARSE_OK;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *ih = p->l4;

		p->icmp_type = ih->type;
		p->sport = ih->un.echo.id;
		p->dport = 0;
		return BSC_PARSE_OK;
	}
	default:
		return BSC_R_PASS_PROTO;
	}
}

#endif /* BSC_PARSE_H */
