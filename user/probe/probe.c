// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/probe.c - health probes through one given uplink: ICMP echo, TCP connect,
 * DNS query, HTTP GET.
 *
 * The controller must know whether each uplink works, not only the active
 * one, so every socket is pinned to its uplink's device (SO_BINDTODEVICE)
 * and source address: the reply then comes back on that uplink and the
 * per-uplink routing rule ("from ADDR lookup TABLE") applies, whichever
 * uplink carries the default route.
 *
 * Everything runs on the caller's sd-event loop.  A probe is one struct
 * with one timer (its deadline) and, except for ICMP, one socket of its own;
 * ICMP probes share the prober's raw socket and are told apart by echo
 * identifier (per prober) and sequence (per probe).  Each probe ends exactly
 * once, in probe_finish(), which releases everything before it calls back.
 * Results known before the loop can deliver them (a send that fails at once)
 * are "posted": stored in the probe, and its timer moved to now.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <linux/errqueue.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/checksum.h"
#include "probe/probe.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* SOL_RAW option, from linux/icmp.h (which clashes with glibc's) */
#endif

#define WHY_LEN 128
#define HTTP_HEAD_MAX 512      /* the status line must come within this much */
#define HTTP_RESP_MAX 4096     /* a contains= text must come within this much */
#define HTTP_REQ_MAX 384       /* GET + path (127) + Host (63) + fixed headers */
#define TIMER_ACCURACY_US 1000 /* sd-event's default (250 ms) would blur RTT-scale deadlines */
#define ICMP_PAYLOAD "bascule-probe"
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const kind_names[] = {
	[BSC_PROBE_ICMP] = "icmp",
	[BSC_PROBE_TCP] = "tcp",
	[BSC_PROBE_DNS] = "dns",
	[BSC_PROBE_HTTP] = "http",
	[BSC_PROBE_SIP] = "sip",
};

enum http_phase { HTTP_CONNECTING, HTTP_SENDING, HTTP_READING };

struct probe {
	struct probe *next;
	struct bsc_prober *p;
	unsigned idx;
	struct bsc_probe_target t;
	int fd;                 /* own socket (TCP, DNS, HTTP), or -1 */
	sd_event_source *io;
	sd_event_source *timer; /* the deadline, or "now" once a result is posted */
	uint64_t start_ns;
	uint16_t seq;           /* ICMP echo sequence */
	uint16_t dns_id;
	char call_id[40];       /* SIP */
	int posted, posted_ok;
	uint64_t posted_rtt;
	char why[WHY_LEN];
	enum http_phase phase;
	size_t req_len, req_off, resp_len;
	char req[HTTP_REQ_MAX];
	char resp[HTTP_RESP_MAX];
};

struct bsc_prober {
	sd_event *ev;
	char ifname[IFNAMSIZ];
	bsc_probe_cb cb;
	void *userdata;
	uint32_t src;
	int icmp_fd;            /* created on the first ICMP probe, recreated on a new source */
	sd_event_source *icmp_io;
	uint16_t echo_id;
	uint16_t echo_seq;
	struct probe *probes;
	unsigned n_probes;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t random16(void)
{
	uint16_t v;

	/* getrandom() of 2 bytes never blocks once the pool is initialised, and
	 * a short read only weakens unpredictability, not correctness. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint16_t)(now_ns() ^ (uint64_t)getpid());
	return v;
}

static const char *addr_str(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static uint16_t default_port(const struct bsc_probe_target *t)
{
	if (t->port)
		return t->port;
	if (t->kind == BSC_PROBE_DNS)
		return 53;
	if (t->kind == BSC_PROBE_HTTP)
		return 80;
	if (t->kind == BSC_PROBE_SIP)
		return 5060;
	return 0;
}

/* ------------------------------------------------------------------ */
/* target syntax                                                      */
/* ------------------------------------------------------------------ */

static const char *const kind_usage[] = {
	[BSC_PROBE_ICMP] = "ADDR",
	[BSC_PROBE_TCP] = "ADDR:PORT",
	[BSC_PROBE_DNS] = "ADDR[:PORT] NAME",
	[BSC_PROBE_HTTP] = "ADDR[:PORT][/PATH] [STATUS]",
	[BSC_PROBE_SIP] = "ADDR[:PORT] [STATUS]",
};

/* How many words a target of each kind may have, its kind included. */
static const int kind_max_words[] = {
	[BSC_PROBE_ICMP] = 2, [BSC_PROBE_TCP] = 2, [BSC_PROBE_DNS] = 3,
	[BSC_PROBE_HTTP] = 6, [BSC_PROBE_SIP] = 3,
};

__attribute__((format(printf, 4, 5)))
static int parse_error(char *err, size_t errlen, const char *spec, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return -1;
	n = snprintf(err, errlen, "probe '%s': ", spec);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int parse_unicast(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	/* 0.0.0.0, broadcast and multicast never answer as one host. */
	if (a.s_addr == 0 || a.s_addr == INADDR_BROADCAST || IN_MULTICAST(ntohl(a.s_addr)))
		return -1;
	*addr = a.s_addr;
	return 0;
}

static int parse_number(const char *s, long min, long max, long *out)
{
	long v = 0;

	if (!*s || strlen(s) > 6)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

enum port_rule { PORT_NONE, PORT_OPTIONAL, PORT_REQUIRED };

/* "ADDR" or "ADDR:PORT", as the kind allows. */
static int parse_addr_port(const char *spec, const char *tok, enum port_rule rule,
			   struct bsc_probe_target *t, char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN + 8];
	const char *colon = strchr(tok, ':');
	size_t alen = colon ? (size_t)(colon - tok) : strlen(tok);
	long port;

	if (rule == PORT_REQUIRED && !colon)
		return parse_error(err, errlen, spec, "expected ADDR:PORT");
	if (rule == PORT_NONE && colon)
		return parse_error(err, errlen, spec, "%s takes an address only, no port",
				   kind_names[t->kind]);
	if (alen < sizeof(a)) {
		memcpy(a, tok, alen);
		a[alen] = 0;
	}
	if (alen >= sizeof(a) || parse_unicast(a, &t->addr))
		return parse_error(err, errlen, spec, "'%.*s' is not an IPv4 unicast address",
				   (int)alen, tok);
	if (colon) {
		if (parse_number(colon + 1, 1, 65535, &port))
			return parse_error(err, errlen, spec,
					   "port '%s' is not a number from 1 to 65535", colon + 1);
		t->port = (uint16_t)port;
	}
	return 0;
}

/* Hostname characters only: the name goes on the wire and into logs. */
static int parse_dns_name(const char *spec, const char *tok, struct bsc_probe_target *t,
			  char *err, size_t errlen)
{
	uint8_t scratch[300];
	const char *c;

	if (strlen(tok) >= sizeof(t->qname))
		return parse_error(err, errlen, spec, "name '%s' is too long (at most %zu characters)",
				   tok, sizeof(t->qname) - 1);
	for (c = tok; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return parse_error(err, errlen, spec,
					   "name '%s' has a bad character '%c' (letters, digits, '-', '_' and '.' only)",
					   tok, *c);
	if (!bsc_dns_build_query(scratch, sizeof(scratch), 0, tok))
		return parse_error(err, errlen, spec, "name '%s' has an empty label", tok);
	strcpy(t->qname, tok);
	return 0;
}

/* "ADDR[:PORT][/PATH]" */
static int parse_http_url(const char *spec, const char *tok, struct bsc_probe_target *t,
			  char *err, size_t errlen)
{
	char hostport[INET_ADDRSTRLEN + 8];
	const char *slash = strchr(tok, '/');
	size_t hlen = slash ? (size_t)(slash - tok) : strlen(tok);
	const char *c;

	if (hlen >= sizeof(hostport))
		return parse_error(err, errlen, spec, "'%.*s' is not an IPv4 unicast address",
				   (int)hlen, tok);
	memcpy(hostport, tok, hlen);
	hostport[hlen] = 0;
	if (parse_addr_port(spec, hostport, PORT_OPTIONAL, t, err, errlen))
		return -1;
	if (!slash)
		slash = "/";
	if (strlen(slash) >= sizeof(t->path))
		return parse_error(err, errlen, spec, "path too long (at most %zu characters)",
				   sizeof(t->path) - 1);
	/* The path is copied into the request line: nothing that could end it. */
	for (c = slash; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return parse_error(err, errlen, spec, "path '%s' has a bad character", slash);
	strcpy(t->path, slash);
	return 0;
}

/* After the URL: an optional STATUS, host=NAME and contains=TEXT, in any
 * order. */
static int parse_http_extra(const char *spec, const char *tok, struct bsc_probe_target *t,
			    int *have_status, int *have_host, char *err, size_t errlen)
{
	const char *c;
	long status;

	if (!strncmp(tok, "contains=", 9)) {
		tok += 9;
		if (t->contains[0] || !*tok || strlen(tok) >= sizeof(t->contains))
			return parse_error(err, errlen, spec,
					   "contains= takes one text of 1 to %zu characters",
					   sizeof(t->contains) - 1);
		for (c = tok; *c; c++)
			if (!isgraph((unsigned char)*c))
				return parse_error(err, errlen, spec, "contains '%s' has a bad character",
						   tok);
		strcpy(t->contains, tok);
		return 0;
	}
	if (!strncmp(tok, "host=", 5)) {
		tok += 5;
		if (*have_host || !*tok || strlen(tok) >= sizeof(t->host))
			return parse_error(err, errlen, spec,
					   "host= takes one name of 1 to %zu characters",
					   sizeof(t->host) - 1);
		for (c = tok; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("-_.:", *c))
				return parse_error(err, errlen, spec, "host '%s' has a bad character '%c'",
						   tok, *c);
		strcpy(t->host, tok);
		*have_host = 1;
		return 0;
	}
	if (*have_status || parse_number(tok, 100, 599, &status))
		return parse_error(err, errlen, spec,
				   "unexpected '%s' (expected an HTTP status from 100 to 599, host=NAME or contains=TEXT)",
				   tok);
	t->expect_status = (int)status;
	*have_status = 1;
	return 0;
}

static int parse_kind(const char *tok, enum bsc_probe_kind *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcasecmp(tok, kind_names[i])) {
			*kind = (enum bsc_probe_kind)i;
			return 0;
		}
	return -1;
}

#define MAX_TOKENS 6

int bsc_probe_target_parse(const char *spec, struct bsc_probe_target *t, char *err, size_t errlen)
{
	char copy[512], *tok[MAX_TOKENS], *save = NULL, *s;
	int n = 0, i, have_status = 0, have_host = 0;

	memset(t, 0, sizeof(*t));
	if (strlen(spec) >= sizeof(copy))
		return parse_error(err, errlen, spec, "too long");
	strcpy(copy, spec);
	for (s = strtok_r(copy, " \t\r\n", &save); s; s = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_TOKENS)
			return parse_error(err, errlen, spec, "unexpected '%s'", s);
		tok[n++] = s;
	}
	if (!n)
		return parse_error(err, errlen, spec,
				   "empty (expected KIND TARGET, KIND one of icmp, tcp, dns, http, sip)");
	if (parse_kind(tok[0], &t->kind))
		return parse_error(err, errlen, spec, "unknown kind '%s' (expected icmp, tcp, dns, http or sip)",
				   tok[0]);
	if (n < (t->kind == BSC_PROBE_DNS ? 3 : 2))
		return parse_error(err, errlen, spec, "expected %s", kind_usage[t->kind]);
	if (n > kind_max_words[t->kind])
		return parse_error(err, errlen, spec, "unexpected '%s' (expected %s)",
				   tok[kind_max_words[t->kind]], kind_usage[t->kind]);

	switch (t->kind) {
	case BSC_PROBE_ICMP:
	case BSC_PROBE_TCP:
		return parse_addr_port(spec, tok[1],
				       t->kind == BSC_PROBE_TCP ? PORT_REQUIRED : PORT_NONE, t, err,
				       errlen);
	case BSC_PROBE_DNS:
		if (parse_addr_port(spec, tok[1], PORT_OPTIONAL, t, err, errlen))
			return -1;
		t->port = default_port(t);
		return parse_dns_name(spec, tok[2], t, err, errlen);
	case BSC_PROBE_HTTP:
		if (parse_http_url(spec, tok[1], t, err, errlen))
			return -1;
		t->port = default_port(t);
		for (i = 2; i < n; i++)
			if (parse_http_extra(spec, tok[i], t, &have_status, &have_host, err, errlen))
				return -1;
		if (!have_host)
			addr_str(t->addr, t->host);
		return 0;
	case BSC_PROBE_SIP: {
		long status;

		if (parse_addr_port(spec, tok[1], PORT_OPTIONAL, t, err, errlen))
			return -1;
		t->port = default_port(t);
		if (n == 3) {
			if (parse_number(tok[2], 200, 699, &status))
				return parse_error(err, errlen, spec,
						   "unexpected '%s' (expected a final SIP status from 200 to 699)",
						   tok[2]);
			t->expect_status = (int)status;
		}
		return 0;
	}
	}
	return -1;
}

void bsc_probe_target_format(const struct bsc_probe_target *t, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN], port[8] = "", status[8] = "", host[80] = "", contains[80] = "";
	uint16_t p = default_port(t);

	if (!len)
		return;
	addr_str(t->addr, a);
	switch (t->kind) {
	case BSC_PROBE_ICMP:
		snprintf(buf, len, "icmp %s", a);
		return;
	case BSC_PROBE_TCP:
		snprintf(buf, len, "tcp %s:%u", a, t->port);
		return;
	case BSC_PROBE_DNS:
		if (p != 53)
			snprintf(port, sizeof(port), ":%u", p);
		snprintf(buf, len, "dns %s%s %s", a, port, t->qname);
		return;
	case BSC_PROBE_HTTP:
		if (p != 80)
			snprintf(port, sizeof(port), ":%u", p);
		if (t->expect_status)
			snprintf(status, sizeof(status), " %d", t->expect_status);
		/* The default Host (the address) is implied, as when parsed. */
		if (t->host[0] && strcmp(t->host, a))
			snprintf(host, sizeof(host), " host=%s", t->host);
		if (t->contains[0])
			snprintf(contains, sizeof(contains), " contains=%s", t->contains);
		snprintf(buf, len, "http %s%s%s%s%s%s", a, port, t->path[0] ? t->path : "/", status,
			 host, contains);
		return;
	case BSC_PROBE_SIP:
		if (p != 5060)
			snprintf(port, sizeof(port), ":%u", p);
		if (t->expect_status)
			snprintf(status, sizeof(status), " %d", t->expect_status);
		snprintf(buf, len, "sip %s%s%s", a, port, status);
		return;
	}
	snprintf(buf, len, "probe kind %d?", (int)t->kind);
}

/* ------------------------------------------------------------------ */
/* DNS and HTTP wire formats                                          */
/* ------------------------------------------------------------------ */

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

/* A status line: a version of v characters the caller has checked, then
 * " SSS", then the end of the line or " reason". */
static int status_line(const char *buf, size_t len, size_t v)
{
	const char *eol = memchr(buf, '\n', len);
	size_t n, i;
	int status = 0;

	if (!eol)
		return -1;
	n = (size_t)(eol - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	if (n < v + 4 || buf[v] != ' ')
		return -1;
	for (i = v + 1; i < v + 4; i++) {
		if (!isdigit((unsigned char)buf[i]))
			return -1;
		status = status * 10 + (buf[i] - '0');
	}
	if ((n > v + 4 && buf[v + 4] != ' ') || status < 100)
		return -1;
	return status;
}

int bsc_http_status(const char *buf, size_t len)
{
	/* "HTTP/1.x SSS" */
	if (len < 8 || memcmp(buf, "HTTP/1.", 7) || !isdigit((unsigned char)buf[7]))
		return -1;
	return status_line(buf, len, 8);
}

size_t bsc_sip_build_options(char *buf, size_t cap, uint32_t dst, uint16_t dport, uint32_t src,
			     uint16_t sport, const char *call_id, const char *tag)
{
	char d[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];
	int n;

	addr_str(dst, d);
	addr_str(src, s);
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
	int status = len >= 7 && !memcmp(buf, "SIP/2.0", 7) ? status_line(buf, len, 7) : -1;

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

static size_t http_build_request(const struct bsc_probe_target *t, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	int n;

	n = snprintf(buf, cap,
		     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: bascule-probe\r\n"
		     "Connection: close\r\n\r\n",
		     t->path[0] ? t->path : "/", t->host[0] ? t->host : addr_str(t->addr, a));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ------------------------------------------------------------------ */
/* probe life cycle                                                   */
/* ------------------------------------------------------------------ */

static void close_socket(struct probe *pr)
{
	/* An abortive close: a prober that connects every few seconds must not
	 * pile up TIME_WAIT sockets on the uplink's address. */
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	if (pr->fd < 0)
		return;
	if (pr->t.kind == BSC_PROBE_TCP || pr->t.kind == BSC_PROBE_HTTP)
		setsockopt(pr->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(pr->fd);
	pr->fd = -1;
}

static void probe_release(struct probe *pr)
{
	struct probe **pp;

	for (pp = &pr->p->probes; *pp; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			pr->p->n_probes--;
			break;
		}
	pr->io = sd_event_source_disable_unref(pr->io);
	pr->timer = sd_event_source_disable_unref(pr->timer);
	close_socket(pr);
	free(pr);
}

/* The one way a probe ends.  The callback comes last, once nothing of the
 * probe is left: it may send again, or free the prober. */
static void probe_finish(struct probe *pr, int ok, uint64_t rtt_ns, const char *why)
{
	bsc_probe_cb cb = pr->p->cb;
	void *userdata = pr->p->userdata;
	unsigned idx = pr->idx;
	char reason[WHY_LEN];

	snprintf(reason, sizeof(reason), "%s", ok ? "" : (why && *why ? why : "failed"));
	probe_release(pr);
	if (cb)
		cb(userdata, idx, ok, ok ? rtt_ns : 0, reason);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe *pr = userdata;

	if (pr->posted)
		probe_finish(pr, pr->posted_ok, pr->posted_rtt, pr->why);
	else
		probe_finish(pr, 0, 0, "timeout");
	return 0;
}

/* Settle a probe now, report it from the loop: bsc_prober_send() must never
 * call back synchronously.  Its socket goes at once; the probe, with its
 * timer, at the next loop iteration. */
static void probe_post(struct probe *pr, int ok)
{
	pr->posted = 1;
	pr->posted_ok = ok;
	pr->posted_rtt = ok ? now_ns() - pr->start_ns : 0;
	pr->io = sd_event_source_disable_unref(pr->io);
	close_socket(pr);
	/* Should this fail, the deadline still delivers the posted result. */
	if (sd_event_source_set_time_relative(pr->timer, 0) >= 0)
		sd_event_source_set_enabled(pr->timer, SD_EVENT_ONESHOT);
}

__attribute__((format(printf, 2, 3)))
static void set_why(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pr->why, sizeof(pr->why), fmt, ap);
	va_end(ap);
}

/* "connect 203.0.113.10:80: Connection timed out" */
static int set_why_errno(struct probe *pr, const char *what, int err)
{
	char a[INET_ADDRSTRLEN];

	set_why(pr, "%s %s:%u: %s", what, addr_str(pr->t.addr, a), default_port(&pr->t),
		strerror(err));
	return -err;
}

/* A socket that can only use the prober's uplink and address. */
static int open_bound_socket(struct bsc_prober *p, int type, int proto, char *why)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = p->src };
	char a[INET_ADDRSTRLEN];
	int fd, err;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		err = errno;
		snprintf(why, WHY_LEN, "socket: %s", strerror(err));
		return -err;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname, strlen(p->ifname))) {
		err = errno;
		snprintf(why, WHY_LEN, "SO_BINDTODEVICE %s: %s", p->ifname, strerror(err));
		close(fd);
		return -err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		snprintf(why, WHY_LEN, "bind %s: %s", addr_str(p->src, a), strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

static struct sockaddr_in target_sockaddr(const struct bsc_probe_target *t)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = t->addr,
				  .sin_port = htons(default_port(t)) };
	return sa;
}

/* ------------------------------------------------------------------ */
/* ICMP echo                                                          */
/* ------------------------------------------------------------------ */

static struct probe *find_echo(struct bsc_prober *p, uint32_t target, uint16_t seq)
{
	struct probe *pr;

	for (pr = p->probes; pr; pr = pr->next)
		if (pr->t.kind == BSC_PROBE_ICMP && !pr->posted && pr->seq == seq &&
		    pr->t.addr == target)
			return pr;
	return NULL;
}

static const char *icmp_error_name(uint8_t type, uint8_t code)
{
	static const char *const unreach[] = {
		"network unreachable", "host unreachable", "protocol unreachable",
		"port unreachable", "fragmentation needed", "source route failed",
		"network unknown", "host unknown", "source host isolated",
		"network prohibited", "host prohibited", "network unreachable for TOS",
		"host unreachable for TOS", "administratively prohibited",
	};

	if (type == ICMP_TIME_EXCEEDED)
		return "time exceeded";
	if (code < sizeof(unreach) / sizeof(unreach[0]))
		return unreach[code];
	return "destination unreachable";
}

/* An ICMP error quoting one of our echo requests: the probe fails at once
 * with what the router said. */
static void icmp_handle_error(struct bsc_prober *p, const uint8_t *pkt, size_t len,
			      uint32_t reporter)
{
	const struct icmphdr *icmp = (const void *)pkt;
	const struct iphdr *inner = (const void *)(pkt + 8);
	const struct icmphdr *echo;
	size_t ihl;
	struct probe *pr;
	char a[INET_ADDRSTRLEN];

	if (len < 8 + sizeof(*inner))
		return;
	ihl = inner->ihl * 4u;
	if (ihl < sizeof(*inner) || len < 8 + ihl + 8 || inner->protocol != IPPROTO_ICMP ||
	    inner->saddr != p->src)
		return;
	echo = (const void *)(pkt + 8 + ihl);
	if (echo->type != ICMP_ECHO || echo->un.echo.id != htons(p->echo_id))
		return;
	pr = find_echo(p, inner->daddr, ntohs(echo->un.echo.sequence));
	if (!pr)
		return;
	set_why(pr, "icmp: %s (from %s)", icmp_error_name(icmp->type, icmp->code),
		addr_str(reporter, a));
	probe_finish(pr, 0, 0, pr->why);
}

/* One datagram per call: a callback may free the prober, so nothing of it
 * may be touched after a probe finishes.  The source is level-triggered and
 * comes back for the rest. */
static int on_icmp_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct bsc_prober *p = userdata;
	uint8_t buf[1024];
	const struct iphdr *ip = (const void *)buf;
	const struct icmphdr *icmp;
	struct probe *pr;
	ssize_t n;
	size_t ihl;
	uint64_t t = now_ns();

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*ip))
		return 0; /* EAGAIN, or a runt; a raw socket has no error to report */
	ihl = ip->ihl * 4u;
	if (ihl < sizeof(*ip) || (size_t)n < ihl + 8 || ip->protocol != IPPROTO_ICMP)
		return 0;
	icmp = (const void *)(buf + ihl);
	if (icmp->type == ICMP_DEST_UNREACH || icmp->type == ICMP_TIME_EXCEEDED) {
		icmp_handle_error(p, buf + ihl, (size_t)n - ihl, ip->saddr);
		return 0;
	}
	/* The raw socket sees all ICMP to our address on our device: other
	 * pingers' replies carry another identifier. */
	if (icmp->type != ICMP_ECHOREPLY || icmp->un.echo.id != htons(p->echo_id))
		return 0;
	pr = find_echo(p, ip->saddr, ntohs(icmp->un.echo.sequence));
	if (pr)
		probe_finish(pr, 1, t - pr->start_ns, NULL);
	return 0;
}

static void icmp_close(struct bsc_prober *p)
{
	p->icmp_io = sd_event_source_disable_unref(p->icmp_io);
	if (p->icmp_fd >= 0)
		close(p->icmp_fd);
	p->icmp_fd = -1;
}

static int icmp_open(struct bsc_prober *p, char *why)
{
	/* Wake up only for what can answer a probe. */
	uint32_t filter = ~(1u << ICMP_ECHOREPLY | 1u << ICMP_DEST_UNREACH |
			    1u << ICMP_TIME_EXCEEDED);
	int fd, r;

	if (p->icmp_fd >= 0)
		return 0;
	fd = open_bound_socket(p, SOCK_RAW, IPPROTO_ICMP, why);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter))) {
		r = -errno;
		snprintf(why, WHY_LEN, "ICMP_FILTER: %s", strerror(-r));
		close(fd);
		return r;
	}
	r = sd_event_add_io(p->ev, &p->icmp_io, fd, EPOLLIN, on_icmp_readable, p);
	if (r < 0) {
		snprintf(why, WHY_LEN, "sd_event_add_io: %s", strerror(-r));
		close(fd);
		return r;
	}
	p->icmp_fd = fd;
	return 0;
}


static ssize_t icmp_sendto(struct bsc_prober *p, const void *pkt, size_t len,
			   const struct sockaddr_in *dst)
{
	return sendto(p->icmp_fd, pkt, len, 0, (const struct sockaddr *)dst, sizeof(*dst));
}

static int icmp_start(struct probe *pr)
{
	struct bsc_prober *p = pr->p;
	struct sockaddr_in dst = target_sockaddr(&pr->t);
	char a[INET_ADDRSTRLEN];
	struct {
		struct icmphdr h;
		uint64_t sent_ns;       /* for whoever reads a capture */
		char tag[sizeof(ICMP_PAYLOAD)];
	} __attribute__((packed)) pkt = { 0 };
	ssize_t n;
	int r;

	r = icmp_open(p, pr->why);
	if (r < 0)
		return r;
	pr->seq = p->echo_seq++;
	pkt.h.type = ICMP_ECHO;
	pkt.h.un.echo.id = htons(p->echo_id);
	pkt.h.un.echo.sequence = htons(pr->seq);
	memcpy(pkt.tag, ICMP_PAYLOAD, sizeof(pkt.tag));
	pr->start_ns = now_ns();
	pkt.sent_ns = pr->start_ns;
	pkt.h.checksum = bsc_csum(&pkt, sizeof(pkt), 0);
	n = icmp_sendto(p, &pkt, sizeof(pkt), &dst);
	if (n < 0 && errno == ENODEV) {
		/* The socket is bound to the ifindex of a device that was deleted,
		 * maybe re-created since under the same name (PPP, USB modems):
		 * a new socket binds to the current one. */
		icmp_close(p);
		r = icmp_open(p, pr->why);
		if (r < 0)
			return r;
		pr->start_ns = now_ns();
		n = icmp_sendto(p, &pkt, sizeof(pkt), &dst);
	}
	if (n < 0) {
		r = errno;
		set_why(pr, "icmp %s: %s", addr_str(pr->t.addr, a), strerror(r));
		return -r;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* TCP and HTTP                                                       */
/* ------------------------------------------------------------------ */

/* The value of header `name` (with its colon) in the head, printable and
 * cut to fit `out`; "" when absent. */
static void http_header(const char *buf, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0, o = 0;
	const char *p = buf, *end = buf + len, *eol;

	out[0] = 0;
	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p)))) {
		if (eol == p || (eol == p + 1 && *p == '\r'))
			return; /* the end of the head */
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl)) {
			for (i = nl; p + i < eol && (p[i] == ' ' || p[i] == '\t'); i++)
				;
			for (; p + i < eol && p[i] != '\r' && o + 1 < cap; i++)
				out[o++] = isprint((unsigned char)p[i]) ? p[i] : '?';
			out[o] = 0;
			return;
		}
		p = eol + 1;
	}
}

/* The body, once the head is all there; NULL before. */
static const char *http_body(const char *buf, size_t len)
{
	const char *a = memmem(buf, len, "\r\n\r\n", 4), *b = memmem(buf, len, "\n\n", 2);

	if (a && (!b || a < b))
		return a + 4;
	return b ? b + 2 : NULL;
}

/* What has come so far decides, or not yet (eof: the server closed). */
static void http_check(struct probe *pr, uint64_t rtt, int eof)
{
	int status = bsc_http_status(pr->resp, pr->resp_len);
	int want = pr->t.expect_status ? pr->t.expect_status : 200;
	const char *body;

	if (status < 0) {
		if (memchr(pr->resp, '\n', pr->resp_len))
			probe_finish(pr, 0, 0, "http: malformed status line");
		else if (pr->resp_len >= HTTP_HEAD_MAX)
			probe_finish(pr, 0, 0, "http: no status line in the first "
					       STR(HTTP_HEAD_MAX) " bytes");
		else if (eof)
			probe_finish(pr, 0, 0, "http: connection closed before the status line");
		return; /* not all there yet */
	}
	if (status != want) {
		char loc[64];

		/* A captive portal (a 5G quota used up, a hotel's login page)
		 * redirects every request: the link reaches the portal only. */
		http_header(pr->resp, pr->resp_len, "Location:", loc, sizeof(loc));
		if (status >= 300 && status < 400)
			set_why(pr, "http status %d, expected %d: redirected to '%s' (a captive portal?)",
				status, want, loc);
		else
			set_why(pr, "http status %d, expected %d", status, want);
		probe_finish(pr, 0, 0, pr->why);
		return;
	}
	if (!pr->t.contains[0]) {
		probe_finish(pr, 1, rtt, NULL);
		return;
	}
	/* The page must be the real one: a portal may answer 200 too. */
	body = http_body(pr->resp, pr->resp_len);
	if (body && memmem(body, (size_t)(pr->resp + pr->resp_len - body), pr->t.contains,
			   strlen(pr->t.contains))) {
		probe_finish(pr, 1, rtt, NULL);
		return;
	}
	if (eof || pr->resp_len == sizeof(pr->resp)) {
		set_why(pr, "http: '%s' not in the body's first %zu bytes (a captive portal?)",
			pr->t.contains, body ? (size_t)(pr->resp + pr->resp_len - body) : 0);
		probe_finish(pr, 0, 0, pr->why);
	}
}

static void http_read(struct probe *pr)
{
	uint64_t t;
	ssize_t n;

	n = recv(pr->fd, pr->resp + pr->resp_len, sizeof(pr->resp) - pr->resp_len, 0);
	t = now_ns();
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			set_why_errno(pr, "http recv", errno);
			probe_finish(pr, 0, 0, pr->why);
		}
		return;
	}
	pr->resp_len += (size_t)n;
	http_check(pr, t - pr->start_ns, n == 0);
}

static void http_send(struct probe *pr)
{
	ssize_t n;

	n = send(pr->fd, pr->req + pr->req_off, pr->req_len - pr->req_off, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			set_why_errno(pr, "http send", errno);
			probe_finish(pr, 0, 0, pr->why);
		}
		return;
	}
	pr->req_off += (size_t)n;
	if (pr->req_off == pr->req_len) {
		pr->phase = HTTP_READING;
		sd_event_source_set_io_events(pr->io, EPOLLIN);
	}
}

/* A refused connect is the target's RST, or an ICMP port or protocol
 * unreachable from any hop on the way (a walled garden, a firewall), which
 * the kernel reports with the same errno.  With IP_RECVERR, the ICMP one is
 * also queued on the socket's error queue with its sender; a RST queues
 * nothing.  1 (and `why` set) when the refusal was an ICMP error. */
static int refused_by_icmp(struct probe *pr)
{
	char cbuf[512], from[INET_ADDRSTRLEN];
	struct msghdr mh = { .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(pr->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
		const struct sockaddr_in *off;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR ||
		    ee->ee_origin != SO_EE_ORIGIN_ICMP)
			continue;
		off = (const struct sockaddr_in *)SO_EE_OFFENDER(ee);
		inet_ntop(AF_INET, &off->sin_addr, from, sizeof(from));
		set_why(pr, "tcp: %s (from %s): an ICMP error, not the target's RST",
			icmp_error_name(ee->ee_type, ee->ee_code), from);
		return 1;
	}
	return 0;
}

/* Connected (or refused): a TCP probe is over, an HTTP probe starts talking. */
static void tcp_connected(struct probe *pr)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (pr->t.kind == BSC_PROBE_TCP && err == ECONNREFUSED && refused_by_icmp(pr)) {
		probe_finish(pr, 0, 0, pr->why);
		return;
	}
	if (pr->t.kind == BSC_PROBE_TCP && (!err || err == ECONNREFUSED)) {
		/* SYN-ACK or the target's RST: the path to the host works. */
		probe_finish(pr, 1, now_ns() - pr->start_ns, NULL);
		return;
	}
	if (err) {
		set_why_errno(pr, "connect", err);
		probe_finish(pr, 0, 0, pr->why);
		return;
	}
	pr->phase = HTTP_SENDING;
	http_send(pr);
}

static int on_tcp_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *pr = userdata;

	switch (pr->phase) {
	case HTTP_CONNECTING:
		tcp_connected(pr);
		break;
	case HTTP_SENDING:
		http_send(pr);
		break;
	case HTTP_READING:
		http_read(pr);
		break;
	}
	return 0;
}

static int tcp_start(struct probe *pr)
{
	struct sockaddr_in dst = target_sockaddr(&pr->t);
	int r;

	if (!dst.sin_port) {
		set_why(pr, "tcp: no port");
		return -EINVAL;
	}
	if (pr->t.kind == BSC_PROBE_HTTP) {
		pr->req_len = http_build_request(&pr->t, pr->req, sizeof(pr->req));
		if (!pr->req_len) {
			set_why(pr, "http: request too long");
			return -EINVAL;
		}
	}
	pr->fd = open_bound_socket(pr->p, SOCK_STREAM, 0, pr->why);
	if (pr->fd < 0)
		return pr->fd;
	if (pr->t.kind == BSC_PROBE_TCP &&
	    setsockopt(pr->fd, IPPROTO_IP, IP_RECVERR, &(int){ 1 }, sizeof(int)))
		return set_why_errno(pr, "IP_RECVERR", errno);
	pr->start_ns = now_ns();
	if (connect(pr->fd, (struct sockaddr *)&dst, sizeof(dst)) && errno != EINPROGRESS) {
		r = errno;
		if (r == ECONNREFUSED && pr->t.kind == BSC_PROBE_TCP) {
			if (refused_by_icmp(pr)) {
				probe_post(pr, 0);
				return 0;
			}
			probe_post(pr, 1); /* refused at once is still an answer */
			return 0;
		}
		return set_why_errno(pr, "connect", r);
	}
	pr->phase = HTTP_CONNECTING;
	r = sd_event_add_io(pr->p->ev, &pr->io, pr->fd, EPOLLOUT, on_tcp_io, pr);
	if (r < 0) {
		set_why(pr, "sd_event_add_io: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* DNS                                                                */
/* ------------------------------------------------------------------ */

static int on_dns_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *pr = userdata;
	uint8_t buf[512];
	ssize_t n;
	int rcode;

	/* The socket is connected: only the target's address and port get in. */
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			/* ECONNREFUSED: ICMP port unreachable, no resolver there. */
			set_why_errno(pr, "dns", errno);
			probe_finish(pr, 0, 0, pr->why);
		}
		return 0;
	}
	rcode = bsc_dns_answer(buf, (size_t)n, pr->dns_id, pr->t.qname);
	if (rcode < 0)
		return 0; /* not an answer to our question: wait for one */
	/* NOERROR and NXDOMAIN: the resolver resolved, the path to the
	 * Internet behind it works.  SERVFAIL, REFUSED...: a resolver that
	 * answers but cannot resolve (a walled garden, a dead upstream). */
	if (rcode == 0 || rcode == 3) {
		probe_finish(pr, 1, now_ns() - pr->start_ns, NULL);
		return 0;
	}
	set_why(pr, "dns rcode %s: the resolver answers but does not resolve", bsc_dns_rcode_name(rcode));
	probe_finish(pr, 0, 0, pr->why);
	return 0;
}

/* A UDP probe: its own socket, bound to the uplink, connected to the
 * target (only the target's answers get in). */
static int udp_open(struct probe *pr, const char *what)
{
	struct sockaddr_in dst = target_sockaddr(&pr->t);

	pr->fd = open_bound_socket(pr->p, SOCK_DGRAM, 0, pr->why);
	if (pr->fd < 0)
		return pr->fd;
	if (connect(pr->fd, (struct sockaddr *)&dst, sizeof(dst))) {
		char w[32];

		snprintf(w, sizeof(w), "%s connect", what);
		return set_why_errno(pr, w, errno);
	}
	return 0;
}

/* ... then the request, its answers going to `on_readable`. */
static int udp_send(struct probe *pr, const void *req, size_t len, sd_event_io_handler_t on_readable,
		    const char *what)
{
	int r = sd_event_add_io(pr->p->ev, &pr->io, pr->fd, EPOLLIN, on_readable, pr);

	if (r < 0) {
		set_why(pr, "sd_event_add_io: %s", strerror(-r));
		return r;
	}
	pr->start_ns = now_ns();
	if (send(pr->fd, req, len, 0) < 0) {
		char w[32];

		snprintf(w, sizeof(w), "%s send", what);
		return set_why_errno(pr, w, errno);
	}
	return 0;
}

static int dns_start(struct probe *pr)
{
	uint8_t q[300];
	size_t qlen;
	int r;

	pr->dns_id = random16();
	qlen = bsc_dns_build_query(q, sizeof(q), pr->dns_id, pr->t.qname);
	if (!qlen) {
		set_why(pr, "dns: bad name '%s'", pr->t.qname);
		return -EINVAL;
	}
	r = udp_open(pr, "dns");
	return r ? r : udp_send(pr, q, qlen, on_dns_readable, "dns");
}

/* ------------------------------------------------------------------ */
/* SIP                                                                */
/* ------------------------------------------------------------------ */

static int on_sip_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *pr = userdata;
	char buf[2048];
	ssize_t n;
	int status, want = pr->t.expect_status;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			set_why_errno(pr, "sip", errno);
			probe_finish(pr, 0, 0, pr->why);
		}
		return 0;
	}
	status = bsc_sip_reply_status(buf, (size_t)n, pr->call_id);
	if (status < 200)
		return 0; /* not ours, or provisional (1xx): the final one follows */
	if (want ? status == want : bsc_sip_status_alive(status)) {
		probe_finish(pr, 1, now_ns() - pr->start_ns, NULL);
		return 0;
	}
	if (want)
		set_why(pr, "sip status %d, expected %d", status, want);
	else
		set_why(pr, "sip status %d: not a 2xx, nor a 4xx of a server that judged the request",
			status);
	probe_finish(pr, 0, 0, pr->why);
	return 0;
}

static int sip_start(struct probe *pr)
{
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	char req[768], tag[12];
	size_t len;
	int r;

	r = udp_open(pr, "sip");
	if (r)
		return r;
	if (getsockname(pr->fd, (struct sockaddr *)&me, &ml))
		return set_why_errno(pr, "sip getsockname", errno);
	snprintf(pr->call_id, sizeof(pr->call_id), "%04x%04x%04x@bascule", random16(), random16(),
		 random16());
	snprintf(tag, sizeof(tag), "%04x%04x", random16(), random16());
	len = bsc_sip_build_options(req, sizeof(req), pr->t.addr, default_port(&pr->t),
				    me.sin_addr.s_addr, ntohs(me.sin_port), pr->call_id, tag);
	return udp_send(pr, req, len, on_sip_readable, "sip");
}

/* ------------------------------------------------------------------ */
/* prober                                                             */
/* ------------------------------------------------------------------ */

struct bsc_prober *bsc_prober_new(sd_event *ev, const char *ifname, bsc_probe_cb cb,
				  void *userdata)
{
	/* Identifiers follow each other from a random start: unique among this
	 * process's probers, unlikely to match another pinger's. */
	static uint16_t next_icmp_id;
	static int seeded;
	struct bsc_prober *p;

	if (!ev || !ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (!seeded) {
		next_icmp_id = random16();
		seeded = 1;
	}
	p->ev = sd_event_ref(ev);
	strcpy(p->ifname, ifname);
	p->cb = cb;
	p->userdata = userdata;
	p->icmp_fd = -1;
	p->echo_id = next_icmp_id++;
	p->echo_seq = random16();
	return p;
}

void bsc_prober_echo_id_below(struct bsc_prober *p, uint16_t limit)
{
	if (limit > 1)
		p->echo_id = (uint16_t)(1 + random16() % (limit - 1));
}

void bsc_prober_free(struct bsc_prober *p)
{
	if (!p)
		return;
	while (p->probes)
		probe_release(p->probes); /* cancelled: no callback */
	icmp_close(p);
	sd_event_unref(p->ev);
	free(p);
}

void bsc_prober_set_source(struct bsc_prober *p, uint32_t addr)
{
	if (addr == p->src)
		return;
	p->src = addr;
	/* The raw socket is bound to the old address: open a new one on the
	 * next ICMP probe.  Echoes in flight then time out, as their replies go
	 * to an address the uplink no longer has. */
	icmp_close(p);
}

static int probe_start(struct probe *pr)
{
	switch (pr->t.kind) {
	case BSC_PROBE_ICMP:
		return icmp_start(pr);
	case BSC_PROBE_TCP:
	case BSC_PROBE_HTTP:
		return tcp_start(pr);
	case BSC_PROBE_DNS:
		return dns_start(pr);
	case BSC_PROBE_SIP:
		return sip_start(pr);
	}
	set_why(pr, "unknown probe kind %d", (int)pr->t.kind);
	return -EINVAL;
}

int bsc_prober_send(struct bsc_prober *p, unsigned idx, const struct bsc_probe_target *t,
		    uint64_t timeout_ns)
{
	struct probe *pr;
	int r;

	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	pr->p = p;
	pr->idx = idx;
	pr->t = *t;
	pr->fd = -1;
	pr->start_ns = now_ns();
	/* Only these two failures cannot be reported through the callback:
	 * there is no probe or no timer to deliver it. */
	r = sd_event_add_time_relative(p->ev, &pr->timer, CLOCK_MONOTONIC,
				       timeout_ns / 1000 + (timeout_ns % 1000 != 0), TIMER_ACCURACY_US,
				       on_deadline, pr);
	if (r < 0) {
		/* no timer, no callback: the one case callers tell by -ENOMEM */
		free(pr);
		return -ENOMEM;
	}
	pr->next = p->probes;
	p->probes = pr;
	p->n_probes++;

	if (!p->src) {
		set_why(pr, "no source address");
		r = -EADDRNOTAVAIL;
	} else {
		r = probe_start(pr);
	}
	if (r < 0)
		probe_post(pr, 0);
	/* the callback comes: never -ENOMEM, which means it does not */
	return r == -ENOMEM ? -ENOBUFS : r < 0 ? r : 0;
}

unsigned bsc_prober_pending(const struct bsc_prober *p)
{
	return p->n_probes;
}

/* ------------------------------------------------------------------ */
/* bascule probe IFACE SOURCE TARGET...                               */
/* ------------------------------------------------------------------ */

struct cli_result {
	int done, ok;
	uint64_t rtt_ns;
	char why[WHY_LEN];
};

struct cli_state {
	sd_event *ev;
	unsigned n, done;
	struct cli_result *res;
};

static void cli_on_result(void *userdata, unsigned idx, int ok, uint64_t rtt_ns, const char *why)
{
	struct cli_state *st = userdata;
	struct cli_result *r = &st->res[idx];

	r->done = 1;
	r->ok = ok;
	r->rtt_ns = rtt_ns;
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
	if (++st->done == st->n)
		sd_event_exit(st->ev, 0);
}

static int cli_usage(FILE *out, const char *msg)
{
	if (msg)
		fprintf(stderr, "bascule probe: %s\n", msg);
	fputs("usage: bascule probe [-t MS] IFACE SOURCE TARGET...\n"
	      "  send each probe once from SOURCE through IFACE, whatever uplink is active\n"
	      "  TARGET: 'icmp ADDR' | 'tcp ADDR:PORT' | 'dns ADDR[:PORT] NAME'\n"
	      "          | 'http ADDR[:PORT][/PATH] [STATUS] [host=NAME]' | 'sip ADDR[:PORT] [STATUS]'\n"
	      "  -t, --timeout MS   per probe (default 1000)\n"
	      "exit: 0 all answered, 1 some failed, 2 usage error\n",
	      out);
	return 2;
}

/* Parse everything before sending anything: a typo is a usage error, not a
 * failed probe. */
static int cli_parse_targets(int n, char **specs, struct bsc_probe_target *targets,
			     char (*names)[256], int *width)
{
	char err[512];
	int i, len;

	*width = 0;
	for (i = 0; i < n; i++) {
		if (bsc_probe_target_parse(specs[i], &targets[i], err, sizeof(err))) {
			fprintf(stderr, "bascule probe: %s\n", err);
			return -1;
		}
		bsc_probe_target_format(&targets[i], names[i], sizeof(names[i]));
		len = (int)strlen(names[i]);
		if (len > *width)
			*width = len;
	}
	return 0;
}

static int cli_run(const char *ifname, uint32_t src, int n, const struct bsc_probe_target *targets,
		   uint64_t timeout_ns, struct cli_result *res)
{
	struct cli_state st = { .n = (unsigned)n, .res = res };
	struct bsc_prober *p;
	int i, r;

	r = sd_event_new(&st.ev);
	if (r < 0) {
		fprintf(stderr, "bascule probe: sd_event_new: %s\n", strerror(-r));
		return -1;
	}
	p = bsc_prober_new(st.ev, ifname, cli_on_result, &st);
	if (!p) {
		fprintf(stderr, "bascule probe: prober on %s: %s\n", ifname, strerror(errno));
		sd_event_unref(st.ev);
		return -1;
	}
	bsc_prober_set_source(p, src);
	for (i = 0; i < n; i++) {
		unsigned before = bsc_prober_pending(p);

		r = bsc_prober_send(p, (unsigned)i, &targets[i], timeout_ns);
		/* No probe in flight, no callback to come: out of memory. */
		if (r < 0 && bsc_prober_pending(p) == before)
			cli_on_result(&st, (unsigned)i, 0, 0, strerror(-r));
	}
	r = st.done < st.n ? sd_event_loop(st.ev) : 0;
	bsc_prober_free(p);
	sd_event_unref(st.ev);
	if (r < 0) {
		fprintf(stderr, "bascule probe: event loop: %s\n", strerror(-r));
		return -1;
	}
	return 0;
}

int bsc_probe_cli(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bsc_probe_target *targets = NULL;
	struct cli_result *res = NULL;
	char (*names)[256] = NULL;
	long timeout_ms = 1000;
	struct in_addr src;
	int c, n, i, width, rc = 2;

	optind = 0; /* main may have used getopt already: start afresh */
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_number(optarg, 1, 600000, &timeout_ms))
				return cli_usage(stderr, "-t takes milliseconds, from 1 to 600000");
			break;
		case 'h':
			cli_usage(stdout, NULL);
			return 0;
		default:
			return cli_usage(stderr, NULL);
		}
	}
	if (argc - optind < 3)
		return cli_usage(stderr, "expected IFACE SOURCE and at least one TARGET");
	if (strlen(argv[optind]) >= IFNAMSIZ)
		return cli_usage(stderr, "IFACE: interface name too long");
	if (inet_pton(AF_INET, argv[optind + 1], &src) != 1 || !src.s_addr)
		return cli_usage(stderr, "SOURCE must be the uplink's IPv4 address");

	n = argc - optind - 2;
	targets = calloc((size_t)n, sizeof(*targets));
	res = calloc((size_t)n, sizeof(*res));
	names = calloc((size_t)n, sizeof(*names));
	if (!targets || !res || !names) {
		fprintf(stderr, "bascule probe: %s\n", strerror(ENOMEM));
		rc = 1;
		goto out;
	}
	if (cli_parse_targets(n, argv + optind + 2, targets, names, &width))
		goto out; /* rc 2 */
	rc = 1;
	if (cli_run(argv[optind], src.s_addr, n, targets, timeout_ms * 1000000ull, res))
		goto out;

	rc = 0;
	for (i = 0; i < n; i++) {
		if (res[i].ok) {
			printf("ok   %-*s  rtt %.3f ms\n", width, names[i], res[i].rtt_ns / 1e6);
		} else {
			printf("FAIL %-*s  %s\n", width, names[i], res[i].why);
			rc = 1;
		}
	}
	fflush(stdout);
out:
	free(targets);
	free(res);
	free(names);
	return rc;
}
