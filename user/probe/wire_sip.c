// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/wire_sip.c - the SIP wire format of a SIP probe, pure (no socket): the
 * OPTIONS request, the status of a reply carrying our Call-ID, and which
 * final statuses show a live server.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "probe/probe_priv.h"

size_t bsc_sip_build_options(char *buf, size_t cap, uint32_t dst, uint16_t dport, uint32_t src,
			     uint16_t sport, const char *call_id, const char *tag)
{
	char d[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];
	int n;

	bsc_probe_addr_str(dst, d);
	bsc_probe_addr_str(src, s);
	/* RFC 3261 11: OPTIONS asks a server what it supports; any final
	 * answer shows it is there and reachable over this path. */
	n = snprintf(buf, cap,
		     "OPTIONS sip:%s:%u SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:bascule@%s>;tag=%s\r\n"
		     "To: <sip:%s:%u>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Accept: application/sdp\r\n"
		     "User-Agent: bascule-drill\r\n"
		     "Content-Length: 0\r\n\r\n",
		     d, dport, s, sport, tag, s, tag, d, dport, call_id);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int bsc_sip_reply_status(const char *buf, size_t len, const char *call_id)
{
	size_t cl = strlen(call_id);
	const char *p = buf, *end = buf + len;
	int status = len >= 7 && !memcmp(buf, "SIP/2.0", 7) ? bsc_probe_status_line(buf, len, 7) : -1;

	if (status < 0)
		return -1;
	/* the Call-ID header (or its compact form "i:") must be ours */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *v = NULL;

		if (n >= 8 && !strncasecmp(p, "Call-ID:", 8))
			v = p + 8;
		else if (n >= 2 && !strncasecmp(p, "i:", 2))
			v = p + 2;
		if (v) {
			while (v < p + n && (*v == ' ' || *v == '\t'))
				v++;
			if ((size_t)(p + n - v) >= cl && !memcmp(v, call_id, cl) &&
			    (p + n - v == (long)cl || v[cl] == '\r' || v[cl] == ' '))
				return status;
			return -1;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -1;
}

int bsc_sip_status_alive(int status)
{
	/* 2xx: the server takes OPTIONS.  The 4xx a server sends when it has
	 * judged the request itself: it wants credentials (401, 407), does not
	 * take OPTIONS or this URI (403, 404, 405, 420, 481, 484).  Not 408 or
	 * 480 (a proxy's view of someone else), not 5xx (503: overloaded, or a
	 * proxy that reaches no server) or 6xx. */
	static const int alive_4xx[] = { 401, 403, 404, 405, 407, 420, 481, 484 };
	size_t i;

	if (status >= 200 && status < 300)
		return 1;
	for (i = 0; i < sizeof(alive_4xx) / sizeof(alive_4xx[0]); i++)
		if (status == alive_4xx[i])
			return 1;
	return 0;
}
