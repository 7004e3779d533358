// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/spec.c - the probe target syntax: a `probe = ...` value parsed into a
 * struct bsc_probe_target (bsc_probe_target_parse), and formatted back the
 * same way for logs and status (bsc_probe_target_format).  Also the
 * target's default port and address text, which the engines use too.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe/probe_priv.h"

static const char *const kind_names[] = {
	[BSC_PROBE_ICMP] = "icmp",
	[BSC_PROBE_TCP] = "tcp",
	[BSC_PROBE_DNS] = "dns",
	[BSC_PROBE_HTTP] = "http",
	[BSC_PROBE_SIP] = "sip",
};

const char *bsc_probe_addr_str(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

uint16_t bsc_probe_default_port(const struct bsc_probe_target *t)
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

int bsc_probe_parse_number(const char *s, long min, long max, long *out)
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
		if (bsc_probe_parse_number(colon + 1, 1, 65535, &port))
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
	if (*have_status || bsc_probe_parse_number(tok, 100, 599, &status))
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
		t->port = bsc_probe_default_port(t);
		return parse_dns_name(spec, tok[2], t, err, errlen);
	case BSC_PROBE_HTTP:
		if (parse_http_url(spec, tok[1], t, err, errlen))
			return -1;
		t->port = bsc_probe_default_port(t);
		for (i = 2; i < n; i++)
			if (parse_http_extra(spec, tok[i], t, &have_status, &have_host, err, errlen))
				return -1;
		if (!have_host)
			bsc_probe_addr_str(t->addr, t->host);
		return 0;
	case BSC_PROBE_SIP: {
		long status;

		if (parse_addr_port(spec, tok[1], PORT_OPTIONAL, t, err, errlen))
			return -1;
		t->port = bsc_probe_default_port(t);
		if (n == 3) {
			if (bsc_probe_parse_number(tok[2], 200, 699, &status))
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
	uint16_t p = bsc_probe_default_port(t);

	if (!len)
		return;
	bsc_probe_addr_str(t->addr, a);
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
