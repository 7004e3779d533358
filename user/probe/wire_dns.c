// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/wire_dns.c - the DNS wire format of a DNS probe, pure (no socket): the
 * query for an A record, and whether a datagram is the answer to it (its
 * rcode).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "probe/probe_priv.h"

size_t bsc_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *qname)
{
	static const uint8_t flags_counts[10] = { 0x01, 0x00, /* RD */ 0, 1, /* QDCOUNT */
						  0, 0, 0, 0, 0, 0 };
	size_t off = 12, name_start, qlen = strlen(qname);
	const char *label = qname, *dot;
	size_t llen;

	/* A trailing dot (fully qualified) means the same name. */
	if (qlen && qname[qlen - 1] == '.')
		qlen--;
	/* The root alone is not a host to ask an A record for. */
	if (!qlen || cap < 12 + qlen + 2 + 4)
		return 0;
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	memcpy(buf + 2, flags_counts, sizeof(flags_counts));
	name_start = off;
	while (label < qname + qlen) {
		dot = memchr(label, '.', qname + qlen - label);
		llen = dot ? (size_t)(dot - label) : (size_t)(qname + qlen - label);
		if (!llen || llen > 63)
			return 0;
		buf[off++] = (uint8_t)llen;
		memcpy(buf + off, label, llen);
		off += llen;
		label += llen + (dot ? 1 : 0);
		/* "a." was trimmed above, so a dot here is followed by a label. */
		if (dot && label == qname + qlen)
			return 0;
	}
	buf[off++] = 0;
	if (off - name_start > 255) /* RFC 1035 2.3.4 */
		return 0;
	buf[off++] = 0;
	buf[off++] = 1; /* QTYPE A */
	buf[off++] = 0;
	buf[off++] = 1; /* QCLASS IN */
	return off;
}

int bsc_dns_answer(const uint8_t *buf, size_t len, uint16_t id, const char *qname)
{
	uint8_t q[300];
	size_t qlen = bsc_dns_build_query(q, sizeof(q), id, qname), i;

	/* An answer to the question asked: our ID, QR set, opcode QUERY, one
	 * question, and that question ours (the name case-insensitively, RFC
	 * 4343; type A, class IN).  A bare header, an echo of the query or an
	 * answer to another question is noise, or a forgery, not an answer. */
	if (!qlen || len < qlen || memcmp(buf, q, 2) || !(buf[2] & 0x80) || (buf[2] & 0x78) ||
	    buf[4] || buf[5] != 1)
		return -1;
	/* (label lengths are at most 63: tolower leaves them alone) */
	for (i = 12; i < qlen; i++)
		if (tolower(buf[i]) != tolower(q[i]))
			return -1;
	return buf[3] & 0x0f;
}

const char *bsc_dns_rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					     "NXRRSET", "NOTAUTH", "NOTZONE" };

	return rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])) ? names[rcode] : "?";
}
