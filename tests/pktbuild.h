/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pktbuild.h - build test packets from a short description, and check their
 * checksums, with code that shares nothing with the data plane: every
 * checksum here is a full RFC 1071 sum over the bytes, so an incremental
 * update in bpf/ that is wrong cannot agree with it by construction.
 */
#ifndef BSC_PKTBUILD_H
#define BSC_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

struct pspec {
	const char *smac, *dmac;        /* "02:00:00:00:00:10" */
	uint16_t vlan_proto;            /* 0: untagged; 0x8100 / 0x88a8 */
	uint16_t vlan_proto2;           /* second tag (QinQ) */
	uint16_t eth_proto;             /* 0: IPv4 */
	const char *src, *dst;          /* dotted quads */
	uint8_t proto;                  /* 6, 17, 1, or anything */
	uint8_t ttl;                    /* 0 means 64 */
	int ttl_zero;                   /* really 0 */
	uint8_t opt_len;                /* IPv4 options, multiple of 4 */
	uint16_t frag;                  /* frag_off, host order (0x2000 = MF) */
	uint16_t sport, dport;          /* host order; ICMP echo: id in sport */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint8_t tcp_opt_len;            /* TCP options, multiple of 4 (NOPs) */
	uint16_t tcp_mss;               /* an MSS option among them, at */
	uint8_t tcp_mss_off;            /* this offset into the options */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_seq;
	uint16_t payload_len;
	int udp_csum_zero;
	const uint8_t *inner;           /* ICMP error: the quoted packet */
	size_t inner_len;
	int no_eth;                     /* build from the IPv4 header on */
};

/* Build the frame into buf; returns its length. */
size_t pkt_build(const struct pspec *s, uint8_t *buf, size_t cap);

uint32_t ip4(const char *dotted);       /* network order */
void mac_parse(const char *s, uint8_t out[6]);

/* RFC 1071 over bytes, big-endian words; returns the folded one's
 * complement sum (not inverted). */
uint16_t sum16(const void *buf, size_t len, uint32_t init);
/* 1 when the IPv4 header checksum of the frame verifies. */
int ip_csum_ok(const uint8_t *frame, size_t len, int eth);
/* 1 when the frame is TCP, UDP or ICMP and its L4 checksum (ICMP: over
 * the whole message) is present and verifies; a zero UDP checksum, a
 * truncated header or any other protocol is 0: nothing was verified. */
int l4_csum_ok(const uint8_t *frame, size_t len, int eth);

/* Offsets into an untagged Ethernet/IPv4 frame. */
size_t l4_off(const uint8_t *frame);

#endif
