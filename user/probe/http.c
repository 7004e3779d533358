// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/http.c - the HTTP engine, once tcp.c has connected: send the GET, read
 * the reply, and judge it (the status expected, then the contains= text in
 * the body; a redirect is reported as a likely captive portal).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "probe/probe_priv.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* What has come so far decides, or not yet (eof: the server closed). */
static void http_check(struct probe *pr, uint64_t rtt, int eof)
{
	int status = bsc_http_status(pr->resp, pr->resp_len);
	int want = pr->t.expect_status ? pr->t.expect_status : 200;
	const char *body;

	if (status < 0) {
		if (memchr(pr->resp, '\n', pr->resp_len))
			bsc_probe_finish(pr, 0, 0, "http: malformed status line");
		else if (pr->resp_len >= HTTP_HEAD_MAX)
			bsc_probe_finish(pr, 0, 0, "http: no status line in the first "
						   STR(HTTP_HEAD_MAX) " bytes");
		else if (eof)
			bsc_probe_finish(pr, 0, 0, "http: connection closed before the status line");
		return; /* not all there yet */
	}
	if (status != want) {
		char loc[64];

		/* A captive portal (a 5G quota used up, a hotel's login page)
		 * redirects every request: the link reaches the portal only. */
		bsc_probe_http_header(pr->resp, pr->resp_len, "Location:", loc, sizeof(loc));
		if (status >= 300 && status < 400)
			bsc_probe_set_why(pr, "http status %d, expected %d: redirected to '%s' (a captive portal?)",
				status, want, loc);
		else
			bsc_probe_set_why(pr, "http status %d, expected %d", status, want);
		bsc_probe_finish(pr, 0, 0, pr->why);
		return;
	}
	if (!pr->t.contains[0]) {
		bsc_probe_finish(pr, 1, rtt, NULL);
		return;
	}
	/* The page must be the real one: a portal may answer 200 too. */
	body = bsc_probe_http_body(pr->resp, pr->resp_len);
	if (body && memmem(body, (size_t)(pr->resp + pr->resp_len - body), pr->t.contains,
			   strlen(pr->t.contains))) {
		bsc_probe_finish(pr, 1, rtt, NULL);
		return;
	}
	if (eof || pr->resp_len == sizeof(pr->resp)) {
		bsc_probe_set_why(pr, "http: '%s' not in the body's first %zu bytes (a captive portal?)",
			pr->t.contains, body ? (size_t)(pr->resp + pr->resp_len - body) : 0);
		bsc_probe_finish(pr, 0, 0, pr->why);
	}
}

void bsc_probe_http_read(struct probe *pr)
{
	uint64_t t;
	ssize_t n;

	n = recv(pr->fd, pr->resp + pr->resp_len, sizeof(pr->resp) - pr->resp_len, 0);
	t = bsc_probe_now_ns();
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			bsc_probe_set_why_errno(pr, "http recv", errno);
			bsc_probe_finish(pr, 0, 0, pr->why);
		}
		return;
	}
	pr->resp_len += (size_t)n;
	http_check(pr, t - pr->start_ns, n == 0);
}

void bsc_probe_http_send(struct probe *pr)
{
	ssize_t n;

	n = send(pr->fd, pr->req + pr->req_off, pr->req_len - pr->req_off, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			bsc_probe_set_why_errno(pr, "http send", errno);
			bsc_probe_finish(pr, 0, 0, pr->why);
		}
		return;
	}
	pr->req_off += (size_t)n;
	if (pr->req_off == pr->req_len) {
		pr->phase = HTTP_READING;
		sd_event_source_set_io_events(pr->io, EPOLLIN);
	}
}
