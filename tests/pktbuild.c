// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktbuild.c - test packet construction and independent checksum checks.
 * Byte-level on purpose: no kernel structs, no shared helpers with bpf/.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"

uint32_t ip4(const char *dotted)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

void mac_parse(const char *s, uint8_t out[6])
{
	unsigned int b[6] = { 0 };
	int i;

	if (s)
		sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
	for (i = 0; i < 6; i++)
		out[i] = (uint8_t)b[i];
}

uint16_t sum16(const void *buf, size_t len, uint32_t s)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint32_t s = 0;

	s += sum16(ip + 12, 8, 0);
	s += proto;
	s += (uint32_t)l4len;
	return s;
}

size_t pkt_build(const struct pspec *s, uint8_t *buf, size_t cap)
{
	uint8_t *p = buf, *ip, *l4;
	size_t hl, l4hl, l4len, tot;
	uint16_t c;
	size_t i;

	memset(buf, 0, cap);
	if (!s->no_eth) {
		mac_parse(s->dmac ? s->dmac : "02:00:00:00:01:00", p);
		mac_parse(s->smac ? s->smac : "02:00:00:00:00:10", p + 6);
		p += 12;
		if (s->vlan_proto) {
			put16(p, s->vlan_proto);
			put16(p + 2, 10);
			p += 4;
		}
		if (s->vlan_proto2) {
			put16(p, s->vlan_proto2);
			put16(p + 2, 20);
			p += 4;
		}
		put16(p, s->eth_proto ? s->eth_proto : 0x0800);
		p += 2;
		if (s->eth_proto && s->eth_proto != 0x0800) {
			/* some opaque payload (ARP / IPv6 shaped enough) */
			for (i = 0; i < 46; i++)
				p[i] = (uint8_t)(i * 3);
			return (size_t)(p - buf) + 46;
		}
	}
	ip = p;
	hl = 20 + s->opt_len;
	switch (s->proto) {
	case 6:
		l4hl = 20 + s->tcp_opt_len;
		break;
	case 17:
		l4hl = 8;
		break;
	case 1:
		l4hl = 8;
		break;
	default:
		l4hl = 0;
	}
	l4len = l4hl + (s->inner ? s->inner_len : s->payload_len);
	tot = hl + l4len;
	if ((size_t)(ip - buf) + tot > cap)
		return 0;

	ip[0] = (uint8_t)(0x40 | (hl / 4));
	ip[1] = 0;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, 0x1234);
	put16(ip + 6, s->frag);
	ip[8] = s->ttl_zero ? 0 : (s->ttl ? s->ttl : 64);
	ip[9] = s->proto;
	memcpy(ip + 12, &(uint32_t){ ip4(s->src ? s->src : "10.77.0.10") }, 4);
	memcpy(ip + 16, &(uint32_t){ ip4(s->dst ? s->dst : "203.0.113.10") }, 4);
	for (i = 20; i < hl; i++)
		ip[i] = 1; /* NOP options */
	if (s->opt_len) {
		ip[20] = 0x94; /* Router Alert, 4 bytes */
		ip[21] = 4;
		ip[22] = 0;
		ip[23] = 0;
	}
	put16(ip + 10, (uint16_t)~sum16(ip, hl, 0));

	l4 = ip + hl;
	if (s->inner)
		memcpy(l4 + l4hl, s->inner, s->inner_len);
	else
		for (i = 0; i < s->payload_len; i++)
			l4[l4hl + i] = (uint8_t)(i * 7 + 3);

	switch (s->proto) {
	case 6:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((l4hl / 4) << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 65535);
		for (i = 20; i < l4hl; i++)
			l4[i] = 1;
		if (s->tcp_mss && (size_t)(20 + s->tcp_mss_off + 4) <= l4hl) {
			uint8_t *o = l4 + 20 + s->tcp_mss_off;

			o[0] = 2;
			o[1] = 4;
			put16(o + 2, s->tcp_mss);
		}
		c = (uint16_t)~sum16(l4, l4len, pseudo_sum(ip, 6, l4len));
		put16(l4 + 16, c);
		break;
	case 17:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, (uint16_t)l4len);
		if (!s->udp_csum_zero) {
			c = (uint16_t)~sum16(l4, l4len, pseudo_sum(ip, 17, l4len));
			put16(l4 + 6, c ? c : 0xffff);
		}
		break;
	case 1:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		if (s->icmp_type == 0 || s->icmp_type == 8) {
			put16(l4 + 4, s->sport);
			put16(l4 + 6, s->icmp_seq);
		} else if (s->icmp_type == 3 && s->icmp_code == 4) {
			put16(l4 + 6, 1400); /* next-hop MTU */
		}
		put16(l4 + 2, (uint16_t)~sum16(l4, l4len, 0));
		break;
	}
	return (size_t)(ip - buf) + tot;
}

size_t l4_off(const uint8_t *frame)
{
	return 14 + (size_t)(frame[14] & 0xf) * 4;
}

int ip_csum_ok(const uint8_t *frame, size_t len, int eth)
{
	const uint8_t *ip = frame + (eth ? 14 : 0);
	size_t hl;

	if (len < (size_t)(ip - frame) + 20)
		return 0;
	hl = (size_t)(ip[0] & 0xf) * 4;
	return sum16(ip, hl, 0) == 0xffff;
}

int l4_csum_ok(const uint8_t *frame, size_t len, int eth)
{
	const uint8_t *ip = frame + (eth ? 14 : 0);
	size_t hl = (size_t)(ip[0] & 0xf) * 4;
	size_t tot = (size_t)(ip[2] << 8 | ip[3]);
	const uint8_t *l4 = ip + hl;
	size_t l4len = tot - hl;

	if ((size_t)(ip - frame) + tot > len || tot < hl)
		return 0;
	switch (ip[9]) {
	case 6:
		return l4len >= 20 && sum16(l4, l4len, pseudo_sum(ip, 6, l4len)) == 0xffff;
	case 17:
		/* A zero UDP checksum is "none" on the wire, but every frame
		 * these tests feed in carries one: a data plane that zeroed it
		 * would be hiding a checksum it failed to fix. */
		if (l4len < 8 || (!l4[6] && !l4[7]))
			return 0;
		return sum16(l4, l4len, pseudo_sum(ip, 17, l4len)) == 0xffff;
	case 1:
		return l4len >= 8 && sum16(l4, l4len, 0) == 0xffff;
	}
	return 0; /* no L4 checksum this knows of: nothing verified */
}
