// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/wire_http.c - the HTTP wire format of an HTTP probe, pure (no socket):
 * the GET request, the status line (shared with SIP's, which has the same
 * shape), a header's value, where the body starts.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "probe/probe_priv.h"

/* A status line: a version of v characters the caller has checked, then
 * " SSS", then the end of the line or " reason". */
int bsc_probe_status_line(const char *buf, size_t len, size_t v)
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
	return bsc_probe_status_line(buf, len, 8);
}

size_t bsc_probe_http_build_request(const struct bsc_probe_target *t, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	int n;

	n = snprintf(buf, cap,
		     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: bascule-probe\r\n"
		     "Connection: close\r\n\r\n",
		     t->path[0] ? t->path : "/", t->host[0] ? t->host : bsc_probe_addr_str(t->addr, a));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The value of header `name` (with its colon) in the head, printable and
 * cut to fit `out`; "" when absent. */
void bsc_probe_http_header(const char *buf, size_t len, const char *name, char *out, size_t cap)
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
const char *bsc_probe_http_body(const char *buf, size_t len)
{
	const char *a = memmem(buf, len, "\r\n\r\n", 4), *b = memmem(buf, len, "\n\n", 2);

	if (a && (!b || a < b))
		return a + 4;
	return b ? b + 2 : NULL;
}
