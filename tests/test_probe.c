// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_probe.c - tests of the health-probe engine (user/probe/), cmocka.
 *
 *   parse/format  the `probe = ...` syntax: valid specs, every error message,
 *                 format(parse(x)) canonical and stable
 *   dns           query bytes, reply matching
 *   http          status line parsing
 *   engine        real probes in a private network namespace, on loopback:
 *                 ICMP, TCP (SYN-ACK and RST), DNS and HTTP against servers
 *                 run on the same sd-event loop; timeouts for each kind,
 *                 immediate failures (uplink down, stale or no source, no
 *                 device), ICMP reply and error matching with injected
 *                 packets, cancellation, callbacks that send again or free
 *                 the prober.  Every probe must call back exactly once,
 *                 never from inside bsc_prober_send(), and leave nothing
 *                 behind: no socket, no watched fd, no armed timer.
 *
 * One group, so that CMOCKA_MESSAGE_OUTPUT=TAP prints a single plan.  The
 * engine tests need root for unshare(CLONE_NEWNET); without it they skip.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "probe/probe.h"
#include "lib/runner.h"

#define MS 1000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

/* ------------------------------------------------------------------ */
/* parse and format                                                   */
/* ------------------------------------------------------------------ */

struct parse_ok_row {
	const char *spec;
	enum bsc_probe_kind kind;
	const char *addr;
	uint16_t port;
	const char *qname, *host, *path;
	int expect_status;
	const char *canonical;  /* what format gives back */
};

static const struct parse_ok_row parse_ok_rows[] = {
	{ "icmp 203.0.113.1", BSC_PROBE_ICMP, "203.0.113.1", 0, "", "", "", 0, "icmp 203.0.113.1" },
	{ "  ICMP\t203.0.113.2  ", BSC_PROBE_ICMP, "203.0.113.2", 0, "", "", "", 0,
	  "icmp 203.0.113.2" },
	{ "tcp 203.0.113.10:443", BSC_PROBE_TCP, "203.0.113.10", 443, "", "", "", 0,
	  "tcp 203.0.113.10:443" },
	{ "tcp 10.0.0.1:1", BSC_PROBE_TCP, "10.0.0.1", 1, "", "", "", 0, "tcp 10.0.0.1:1" },
	{ "tcp 10.0.0.1:65535", BSC_PROBE_TCP, "10.0.0.1", 65535, "", "", "", 0,
	  "tcp 10.0.0.1:65535" },
	{ "dns 203.0.113.53 example.com", BSC_PROBE_DNS, "203.0.113.53", 53, "example.com", "", "", 0,
	  "dns 203.0.113.53 example.com" },
	{ "dns 203.0.113.53:5353 bascule.test.", BSC_PROBE_DNS, "203.0.113.53", 5353, "bascule.test.",
	  "", "", 0, "dns 203.0.113.53:5353 bascule.test." },
	{ "dns 203.0.113.53:53 _probe.my-site.example", BSC_PROBE_DNS, "203.0.113.53", 53,
	  "_probe.my-site.example", "", "", 0, "dns 203.0.113.53 _probe.my-site.example" },
	{ "http 203.0.113.10/health 200", BSC_PROBE_HTTP, "203.0.113.10", 80, "", "203.0.113.10",
	  "/health", 200, "http 203.0.113.10/health 200" },
	{ "sip 203.0.113.60", BSC_PROBE_SIP, "203.0.113.60", 5060, "", "", "", 0, "sip 203.0.113.60" },
	{ "sip 203.0.113.60:5080 200", BSC_PROBE_SIP, "203.0.113.60", 5080, "", "", "", 200,
	  "sip 203.0.113.60:5080 200" },
	{ "http 203.0.113.10", BSC_PROBE_HTTP, "203.0.113.10", 80, "", "203.0.113.10", "/", 0,
	  "http 203.0.113.10/" },
	{ "http 203.0.113.10:8080/a/b?x=1&y=%20", BSC_PROBE_HTTP, "203.0.113.10", 8080, "",
	  "203.0.113.10", "/a/b?x=1&y=%20", 0, "http 203.0.113.10:8080/a/b?x=1&y=%20" },
	{ "http 203.0.113.10:80/ 204 host=example.com", BSC_PROBE_HTTP, "203.0.113.10", 80, "",
	  "example.com", "/", 204, "http 203.0.113.10/ 204 host=example.com" },
	{ "http 203.0.113.10 host=www.example.com:8080 301", BSC_PROBE_HTTP, "203.0.113.10", 80, "",
	  "www.example.com:8080", "/", 301, "http 203.0.113.10/ 301 host=www.example.com:8080" },
	{ "http 203.0.113.10/ contains=<title>Bascule</title> 200", BSC_PROBE_HTTP, "203.0.113.10", 80,
	  "", "203.0.113.10", "/", 200, "http 203.0.113.10/ 200 contains=<title>Bascule</title>" },
};

static void test_parse_ok(void **state)
{
	const struct parse_ok_row *row = *state;
	struct bsc_probe_target t, again;
	char err[256] = "", buf[256];

	assert_int_equal(bsc_probe_target_parse(row->spec, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(t.kind, row->kind);
	assert_int_equal(t.addr, ip4(row->addr));
	assert_int_equal(t.port, row->port);
	assert_string_equal(t.qname, row->qname);
	assert_string_equal(t.host, row->host);
	assert_string_equal(t.path, row->path);
	assert_int_equal(t.expect_status, row->expect_status);

	/* Round trip: the canonical form parses to the very same target. */
	bsc_probe_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, row->canonical);
	assert_int_equal(bsc_probe_target_parse(buf, &again, err, sizeof(err)), 0);
	assert_memory_equal(&again, &t, sizeof(t));
}

struct parse_err_row {
	const char *spec;
	const char *msg;
};

#define LONG63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define PATH130 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct parse_err_row parse_err_rows[] = {
	{ "", "probe '': empty (expected KIND TARGET, KIND one of icmp, tcp, dns, http, sip)" },
	{ "   ", "probe '   ': empty (expected KIND TARGET, KIND one of icmp, tcp, dns, http, sip)" },
	{ "ping 1.2.3.4", "probe 'ping 1.2.3.4': unknown kind 'ping' (expected icmp, tcp, dns, http or sip)" },
	{ "icmp", "probe 'icmp': expected ADDR" },
	{ "icmp 1.2.3", "probe 'icmp 1.2.3': '1.2.3' is not an IPv4 unicast address" },
	{ "icmp 300.1.1.1", "probe 'icmp 300.1.1.1': '300.1.1.1' is not an IPv4 unicast address" },
	{ "icmp 0.0.0.0", "probe 'icmp 0.0.0.0': '0.0.0.0' is not an IPv4 unicast address" },
	{ "icmp 224.0.0.1", "probe 'icmp 224.0.0.1': '224.0.0.1' is not an IPv4 unicast address" },
	{ "icmp 255.255.255.255",
	  "probe 'icmp 255.255.255.255': '255.255.255.255' is not an IPv4 unicast address" },
	{ "icmp example.com", "probe 'icmp example.com': 'example.com' is not an IPv4 unicast address" },
	{ "icmp 1.2.3.4 extra", "probe 'icmp 1.2.3.4 extra': unexpected 'extra' (expected ADDR)" },
	{ "icmp 1.2.3.4:80", "probe 'icmp 1.2.3.4:80': icmp takes an address only, no port" },
	{ "tcp", "probe 'tcp': expected ADDR:PORT" },
	{ "tcp 1.2.3.4", "probe 'tcp 1.2.3.4': expected ADDR:PORT" },
	{ "tcp 1.2.3.4:", "probe 'tcp 1.2.3.4:': port '' is not a number from 1 to 65535" },
	{ "tcp 1.2.3.4:0", "probe 'tcp 1.2.3.4:0': port '0' is not a number from 1 to 65535" },
	{ "tcp 1.2.3.4:65536", "probe 'tcp 1.2.3.4:65536': port '65536' is not a number from 1 to 65535" },
	{ "tcp 1.2.3.4:http", "probe 'tcp 1.2.3.4:http': port 'http' is not a number from 1 to 65535" },
	{ "tcp 1.2.3.4:-1", "probe 'tcp 1.2.3.4:-1': port '-1' is not a number from 1 to 65535" },
	{ "tcp 1.2.3.4:80 x", "probe 'tcp 1.2.3.4:80 x': unexpected 'x' (expected ADDR:PORT)" },
	{ "tcp :80", "probe 'tcp :80': '' is not an IPv4 unicast address" },
	{ "dns 1.2.3.4", "probe 'dns 1.2.3.4': expected ADDR[:PORT] NAME" },
	{ "dns 1.2.3.4 a b", "probe 'dns 1.2.3.4 a b': unexpected 'b' (expected ADDR[:PORT] NAME)" },
	{ "dns 1.2.3.4 a..b", "probe 'dns 1.2.3.4 a..b': name 'a..b' has an empty label" },
	{ "dns 1.2.3.4 .a", "probe 'dns 1.2.3.4 .a': name '.a' has an empty label" },
	{ "dns 1.2.3.4 .", "probe 'dns 1.2.3.4 .': name '.' has an empty label" },
	{ "dns 1.2.3.4 a!b", "probe 'dns 1.2.3.4 a!b': name 'a!b' has a bad character '!' "
			    "(letters, digits, '-', '_' and '.' only)" },
	{ "dns 1.2.3.4 " LONG63 "x", "probe 'dns 1.2.3.4 " LONG63 "x': name '" LONG63
				     "x' is too long (at most 63 characters)" },
	{ "dns 1.2.3.4:0 a.b", "probe 'dns 1.2.3.4:0 a.b': port '0' is not a number from 1 to 65535" },
	{ "sip", "probe 'sip': expected ADDR[:PORT] [STATUS]" },
	{ "sip 1.2.3.4 180", "probe 'sip 1.2.3.4 180': unexpected '180' (expected a final SIP status from 200 to 699)" },
	{ "sip 1.2.3.4 200 x", "probe 'sip 1.2.3.4 200 x': unexpected 'x' (expected ADDR[:PORT] [STATUS])" },
	{ "sip 1.2.3.4:0", "probe 'sip 1.2.3.4:0': port '0' is not a number from 1 to 65535" },
	{ "http", "probe 'http': expected ADDR[:PORT][/PATH] [STATUS]" },
	{ "http example.com/", "probe 'http example.com/': 'example.com' is not an IPv4 unicast address" },
	{ "http 1.2.3.4:99999/", "probe 'http 1.2.3.4:99999/': port '99999' is not a number from 1 to 65535" },
	{ "http 1.2.3.4/ 99", "probe 'http 1.2.3.4/ 99': unexpected '99' (expected an HTTP status from "
			      "100 to 599, host=NAME or contains=TEXT)" },
	{ "http 1.2.3.4/ 600", "probe 'http 1.2.3.4/ 600': unexpected '600' (expected an HTTP status "
			       "from 100 to 599, host=NAME or contains=TEXT)" },
	{ "http 1.2.3.4/ 200 204", "probe 'http 1.2.3.4/ 200 204': unexpected '204' (expected an HTTP "
				   "status from 100 to 599, host=NAME or contains=TEXT)" },
	{ "http 1.2.3.4/ ok", "probe 'http 1.2.3.4/ ok': unexpected 'ok' (expected an HTTP status from "
			      "100 to 599, host=NAME or contains=TEXT)" },
	{ "http 1.2.3.4/ host=", "probe 'http 1.2.3.4/ host=': host= takes one name of 1 to 63 characters" },
	{ "http 1.2.3.4/ contains=", "probe 'http 1.2.3.4/ contains=': contains= takes one text of 1 to 63 characters" },
	{ "http 1.2.3.4/ contains=a contains=b",
	  "probe 'http 1.2.3.4/ contains=a contains=b': contains= takes one text of 1 to 63 characters" },
	{ "http 1.2.3.4/ contains=a\x7f", "probe 'http 1.2.3.4/ contains=a\x7f': contains 'a\x7f' has a bad character" },
	{ "http 1.2.3.4/ host=a host=b",
	  "probe 'http 1.2.3.4/ host=a host=b': host= takes one name of 1 to 63 characters" },
	{ "http 1.2.3.4/ host=a/b", "probe 'http 1.2.3.4/ host=a/b': host 'a/b' has a bad character '/'" },
	{ "http 1.2.3.4/\x7f", "probe 'http 1.2.3.4/\x7f': path '/\x7f' has a bad character" },
	{ "http 1.2.3.4" PATH130, "probe 'http 1.2.3.4" PATH130 "': path too long (at most 127 characters)" },
};

static void test_parse_err(void **state)
{
	const struct parse_err_row *row = *state;
	struct bsc_probe_target t;
	char err[512] = "";

	assert_int_equal(bsc_probe_target_parse(row->spec, &t, err, sizeof(err)), -1);
	assert_string_equal(err, row->msg);
}

static void test_parse_err_truncated(void **state)
{
	struct bsc_probe_target t;
	char err[16];

	/* A short buffer gets a NUL-terminated prefix, and NULL is allowed. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(bsc_probe_target_parse("tcp 1.2.3.4", &t, err, sizeof(err)), -1);
	assert_string_equal(err, "probe 'tcp 1.2.");
	assert_int_equal(bsc_probe_target_parse("tcp 1.2.3.4", &t, NULL, 0), -1);
}

static void test_format_built_targets(void **state)
{
	/* Targets made in code rather than parsed: defaults are implied. */
	struct bsc_probe_target t = { .kind = BSC_PROBE_DNS, .addr = ip4("192.0.2.53"),
				      .qname = "a.example" };
	char buf[256];

	bsc_probe_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "dns 192.0.2.53 a.example");

	t = (struct bsc_probe_target){ .kind = BSC_PROBE_HTTP, .addr = ip4("192.0.2.80") };
	bsc_probe_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "http 192.0.2.80/");

	t.port = 8443;
	t.expect_status = 302;
	strcpy(t.host, "192.0.2.80");
	bsc_probe_target_format(&t, buf, sizeof(buf));
	assert_string_equal(buf, "http 192.0.2.80:8443/ 302");

	/* Truncation keeps a terminated string. */
	bsc_probe_target_format(&t, buf, 8);
	assert_string_equal(buf, "http 19");
}

/* ------------------------------------------------------------------ */
/* DNS                                                                */
/* ------------------------------------------------------------------ */

static void test_dns_query_bytes(void **state)
{
	static const uint8_t want[] = {
		0xbe, 0xef,             /* ID */
		0x01, 0x00,             /* QR=0 opcode 0, RD=1 */
		0x00, 0x01,             /* QDCOUNT */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0x00, 0x01,             /* QTYPE A */
		0x00, 0x01,             /* QCLASS IN */
	};
	uint8_t buf[512];

	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 0xbeef, "example.com"), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Fully qualified: the same query. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 0xbeef, "example.com."), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Exactly enough room, then one byte short. */
	assert_int_equal(bsc_dns_build_query(buf, sizeof(want), 0xbeef, "example.com"), sizeof(want));
	assert_int_equal(bsc_dns_build_query(buf, sizeof(want) - 1, 0xbeef, "example.com"), 0);
}

static void test_dns_query_single_label(void **state)
{
	static const uint8_t want[] = { 0x00, 0x07, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0,
					2, 'l', 'b', 0, 0, 1, 0, 1 };
	uint8_t buf[64];

	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 7, "lb"), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_dns_query_bad_names(void **state)
{
	char name[300];
	uint8_t buf[600];
	size_t n;

	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, ""), 0);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, "."), 0);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, ".com"), 0);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, "a..com"), 0);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, "a.com.."), 0);

	/* A label of 63 bytes is the longest allowed, 64 is one too many. */
	snprintf(name, sizeof(name), "%s.com", LONG63);
	n = bsc_dns_build_query(buf, sizeof(buf), 1, name);
	assert_int_equal(n, 12 + 1 + 63 + 1 + 3 + 1 + 4);
	assert_int_equal(buf[12], 63);
	snprintf(name, sizeof(name), "%sx.com", LONG63);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, name), 0);
	snprintf(name, sizeof(name), "com.%sx", LONG63);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, name), 0);

	/* The whole name: 255 bytes on the wire at most (RFC 1035 2.3.4). */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", LONG63, LONG63, LONG63, LONG63);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, name), 12 + 255 + 4);
	snprintf(name, sizeof(name), "%s.%s.%s.%.62s", LONG63, LONG63, LONG63, LONG63);
	assert_int_equal(bsc_dns_build_query(buf, sizeof(buf), 1, name), 0);
}

static void test_dns_reply_matches(void **state)
{
	uint8_t q[64], r[64] = { 0 };
	size_t n = bsc_dns_build_query(q, sizeof(q), 0x1234, "bascule.test");

	assert_true(n > 12);
	memcpy(r, q, n);
	/* Our own query (QR=0) reflected back is not an answer. */
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), -1);
	r[2] |= 0x80;
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), 0);
	/* The rcode is told: NXDOMAIN, SERVFAIL, REFUSED. */
	r[3] = 0x83;
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), 3);
	r[3] = 0x82;
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), 2);
	assert_string_equal(bsc_dns_rcode_name(2), "SERVFAIL");
	r[3] = 0x85;
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), 5);
	assert_string_equal(bsc_dns_rcode_name(5), "REFUSED");
	r[3] = 0x80;
	/* Another ID. */
	assert_int_equal(bsc_dns_answer(r, n, 0x1235, "bascule.test"), -1);
	assert_int_equal(bsc_dns_answer(r, n, 0x3412, "bascule.test"), -1);
	/* A bare header, or one cut inside the question, is not an answer. */
	assert_int_equal(bsc_dns_answer(r, 12, 0x1234, "bascule.test"), -1);
	assert_int_equal(bsc_dns_answer(r, n - 1, 0x1234, "bascule.test"), -1);
	assert_int_equal(bsc_dns_answer(r, 0, 0x1234, "bascule.test"), -1);
	/* Another question: another name, type or class; no question; two. */
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.tesu"), -1);
	r[n - 3] = 28; /* AAAA */
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), -1);
	r[n - 3] = 1;
	r[n - 1] = 3; /* CH */
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), -1);
	r[n - 1] = 1;
	r[5] = 0;
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), -1);
	r[5] = 2;
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), -1);
	r[5] = 1;
	/* Another opcode (NOTIFY). */
	r[2] = 0x80 | (4 << 3);
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), -1);
	r[2] = 0x81;
	/* The name in other case (0x20 randomisation, RFC 4343): the same. */
	r[13] = 'B';
	assert_int_equal(bsc_dns_answer(r, n, 0x1234, "bascule.test"), 0);
	/* Answers after the question do not matter. */
	assert_int_equal(bsc_dns_answer(r, sizeof(r), 0x1234, "bascule.test"), 0);
}

/* ------------------------------------------------------------------ */
/* HTTP status line                                                   */
/* ------------------------------------------------------------------ */

struct http_row {
	const char *name;
	const char *text;
	int status;
};

static const struct http_row http_rows[] = {
	{ "1.0 204 with reason", "HTTP/1.0 204 No Content\r\n\r\n", 204 },
	{ "1.1 200 and headers", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200 },
	{ "1.1 301", "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\n", 301 },
	{ "no reason phrase", "HTTP/1.1 404\r\n", 404 },
	{ "empty reason phrase", "HTTP/1.1 503 \r\n", 503 },
	{ "bare LF", "HTTP/1.0 200 OK\n", 200 },
	{ "incomplete line", "HTTP/1.1 200 OK", -1 },
	{ "incomplete status", "HTTP/1.1 20", -1 },
	{ "empty", "", -1 },
	{ "not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", -1 },
	{ "HTTP/2", "HTTP/2 200\r\n", -1 },
	{ "HTTP/1.x", "HTTP/1.x 200 OK\r\n", -1 },
	{ "four digits", "HTTP/1.1 2000 OK\r\n", -1 },
	{ "letters", "HTTP/1.1 abc OK\r\n", -1 },
	{ "two spaces", "HTTP/1.1  200 OK\r\n", -1 },
	{ "below 100", "HTTP/1.1 099 Odd\r\n", -1 },
	{ "lowercase", "http/1.1 200 OK\r\n", -1 },
	{ "blank line", "\r\nHTTP/1.1 200 OK\r\n", -1 },
};

static void test_http_status(void **state)
{
	const struct http_row *row = *state;

	assert_int_equal(bsc_http_status(row->text, strlen(row->text)), row->status);
}

static void test_http_status_respects_len(void **state)
{
	static const char full[] = "HTTP/1.1 200 OK\r\nX: y\r\n";

	/* The buffer is not NUL-terminated: only len bytes may count. */
	assert_int_equal(bsc_http_status(full, 17), 200);
	assert_int_equal(bsc_http_status(full, 16), -1);
	assert_int_equal(bsc_http_status(full, 12), -1);
	assert_int_equal(bsc_http_status(full, 0), -1);
}

/* SIP: the OPTIONS request carries what a server needs to answer, and only
 * a response with our Call-ID counts. */
static void test_sip_messages(void **state)
{
	char req[768];
	size_t n;

	(void)state;
	n = bsc_sip_build_options(req, sizeof(req), inet_addr("203.0.113.60"), 5060,
				  inet_addr("192.0.2.2"), 40000, "abc@bascule", "t1");
	assert_true(n > 0 && n == strlen(req));
	assert_true(!strncmp(req, "OPTIONS sip:203.0.113.60:5060 SIP/2.0\r\n", 39));
	assert_non_null(strstr(req, "\r\nVia: SIP/2.0/UDP 192.0.2.2:40000;branch=z9hG4bKt1;rport\r\n"));
	assert_non_null(strstr(req, "\r\nCall-ID: abc@bascule\r\n"));
	assert_non_null(strstr(req, "\r\nCSeq: 1 OPTIONS\r\n"));
	assert_string_equal(req + n - 4, "\r\n\r\n");
	assert_int_equal(bsc_sip_build_options(req, 40, 1, 1, 1, 1, "x", "y"), 0);

#define R(s) s, sizeof(s) - 1
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 200 OK\r\nCall-ID: abc@bascule\r\n\r\n"),
					      "abc@bascule"), 200);
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 404 Not Found\r\ni: abc@bascule\r\n"),
					      "abc@bascule"), 404);
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 200 OK\r\ncall-id:abc@bascule\r\n"),
					      "abc@bascule"), 200);
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 200 OK\r\nCall-ID: abc@bascule.x\r\n"),
					      "abc@bascule"), -1);
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 200 OK\r\nCall-ID: other\r\n"),
					      "abc@bascule"), -1);
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 200 OK\r\n\r\n"), "abc@bascule"), -1);
	assert_int_equal(bsc_sip_reply_status(R("OPTIONS sip:x SIP/2.0\r\nCall-ID: abc@bascule\r\n"),
					      "abc@bascule"), -1);
	assert_int_equal(bsc_sip_reply_status(R("SIP/2.0 100 Trying\r\nCall-ID: abc@bascule\r\n"),
					      "abc@bascule"), 100);
#undef R
}

/* ------------------------------------------------------------------ */
/* engine fixture                                                     */
/* ------------------------------------------------------------------ */

#define MAX_IDX 8

struct result {
	int count;
	int ok;
	uint64_t rtt_ns;
	uint64_t at_ns;
	char why[160];
};

enum dns_mode {
	DNS_ANSWER_NXDOMAIN,
	DNS_WRONG_ID,
	DNS_NOT_A_REPLY,
	DNS_SERVFAIL,
	DNS_REFUSED,
	DNS_OTHER_QUESTION, /* NOERROR, to a name one bit off */
	DNS_BARE_HEADER,    /* NOERROR, the 12-byte header only */
};

struct dns_server {
	int fd;
	sd_event_source *io;
	enum dns_mode mode;
	int queries;
	uint8_t query[512];
	size_t query_len;
};

struct http_server {
	int fd;                 /* listener */
	sd_event_source *io;    /* NULL: a listener that never accepts */
	const char *part1;      /* first write after the request; NULL: close at once */
	const char *part2;      /* 30 ms later, if set */
	int conn;
	sd_event_source *conn_io, *conn_timer;
	char req[1024];
	size_t req_len;
	int accepted;
};

static struct eng {
	int have_netns;
	char netns_why[160];
	sd_event *ev;
	struct bsc_prober *p;
	struct result res[MAX_IDX];
	uint64_t sent_at[MAX_IDX];
	unsigned timeout_ms[MAX_IDX]; /* what each was sent with */
	int sync_calls;         /* callbacks from inside bsc_prober_send() */
	int bad_idx;
	int in_send;
	int free_in_cb;         /* the first callback frees the prober */
	int resend_from;        /* this idx's callback sends idx + 1 (-1: none) */
	struct bsc_probe_target resend_target;
	int resend_rc;
	int sockets_before;
	struct dns_server dns;
	struct http_server http;
	int extra_fds[4];
} E;

static void on_result(void *userdata, unsigned idx, int ok, uint64_t rtt_ns, const char *why)
{
	struct eng *e = userdata;
	struct result *r;

	/* No cmocka assertion here: a longjmp out of sd_event_run() would
	 * leave the loop mid-dispatch.  Record, and check after the loop. */
	if (e->in_send)
		e->sync_calls++;
	if (idx >= MAX_IDX) {
		e->bad_idx++;
		return;
	}
	r = &e->res[idx];
	r->count++;
	r->ok = ok;
	r->rtt_ns = rtt_ns;
	r->at_ns = now_ns();
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "(null)");
	if (e->free_in_cb && e->p) {
		bsc_prober_free(e->p);
		e->p = NULL;
	}
	if (e->resend_from == (int)idx && e->p) {
		e->resend_from = -1;
		e->in_send = 1;
		e->sent_at[idx + 1] = now_ns();
		e->timeout_ms[idx + 1] = 1000;
		e->resend_rc = bsc_prober_send(e->p, idx + 1, &e->resend_target, 1000 * MS);
		e->in_send = 0;
	}
}

static int count_sockets(void)
{
	char path[300], link[64];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = 0;
			n += !strncmp(link, "socket:", 7);
		}
	}
	closedir(dir);
	return n;
}

static int is_timerfd(int fd)
{
	char path[64], link[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len <= 0)
		return 0;
	link[len] = 0;
	return !strcmp(link, "anon_inode:[timerfd]");
}

static int timerfd_armed(int fd)
{
	char path[64], line[256];
	FILE *f;
	int armed = 1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "it_value:", 9))
			armed = !strstr(line, "(0, 0)");
	fclose(f);
	return armed;
}

/* What the loop still watches, seen from the kernel: every fd in sd-event's
 * epoll set, and sd-event's own timerfds (one per clock, kept for reuse),
 * which must then be disarmed.  raw: how many watched fds are raw sockets
 * (the prober's ICMP socket lives as long as the prober). */
static void loop_scan(sd_event *ev, int *watched, int *raw, int *armed)
{
	char path[64], line[256];
	int epfd = sd_event_get_fd(ev), fd, type;
	socklen_t len = sizeof(type);
	FILE *f;

	*watched = *raw = *armed = 0;
	/* Lets sd-event disarm its timerfds if no timer source is left. */
	sd_event_run(ev, 0);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "tfd: %d", &fd) != 1)
			continue;
		if (is_timerfd(fd)) {
			*armed += timerfd_armed(fd);
			continue;
		}
		(*watched)++;
		if (!getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) && type == SOCK_RAW)
			(*raw)++;
	}
	fclose(f);
}

static void dns_server_stop(void);
static void http_server_stop(void);

/* After the probes: the prober holds at most its ICMP socket; once freed,
 * nothing is left in the loop and no socket is open. */
static void assert_loop_idle(void)
{
	int watched, raw, armed;

	assert_int_equal(bsc_prober_pending(E.p), 0);
	dns_server_stop();
	http_server_stop();
	loop_scan(E.ev, &watched, &raw, &armed);
	assert_int_equal(armed, 0);
	assert_true(watched <= 1);
	assert_int_equal(watched, raw);

	bsc_prober_free(E.p);
	E.p = NULL;
	loop_scan(E.ev, &watched, &raw, &armed);
	assert_int_equal(watched, 0);
	assert_int_equal(armed, 0);
	assert_int_equal(count_sockets(), E.sockets_before);
}

static void run_until_done(unsigned n, unsigned max_ms)
{
	uint64_t end = now_ns() + max_ms * MS;
	unsigned i, done;

	for (;;) {
		for (i = done = 0; i < n; i++)
			done += E.res[i].count > 0;
		if (done == n || now_ns() >= end)
			break;
		assert_true(sd_event_run(E.ev, 10000) >= 0);
	}
}

/* Keep the loop going a while: a second callback would show up here. */
static void run_for(unsigned ms)
{
	uint64_t end = now_ns() + ms * MS;

	while (now_ns() < end)
		assert_true(sd_event_run(E.ev, 5000) >= 0);
}

static void assert_exactly_once(unsigned n)
{
	unsigned i;

	run_for(50);
	for (i = 0; i < n; i++) {
		if (E.res[i].count != 1)
			fail_msg("probe %u: %d callbacks", i, E.res[i].count);
	}
	for (; i < MAX_IDX; i++)
		assert_int_equal(E.res[i].count, 0);
	assert_int_equal(E.sync_calls, 0);
	assert_int_equal(E.bad_idx, 0);
}

static int send_spec(unsigned idx, const char *spec, unsigned timeout_ms)
{
	struct bsc_probe_target t;
	char err[256];
	int r;

	if (bsc_probe_target_parse(spec, &t, err, sizeof(err)))
		fail_msg("%s", err);
	E.sent_at[idx] = now_ns();
	E.timeout_ms[idx] = timeout_ms;
	E.in_send = 1;
	r = bsc_prober_send(E.p, idx, &t, timeout_ms * MS);
	E.in_send = 0;
	return r;
}

static void assert_ok(unsigned idx, unsigned max_ms)
{
	const struct result *r = &E.res[idx];

	if (!r->ok)
		fail_msg("probe %u failed: %s", idx, r->why);
	assert_string_equal(r->why, "");
	assert_true(r->rtt_ns > 0);
	assert_true(r->rtt_ns < max_ms * MS);
	assert_true(r->rtt_ns <= r->at_ns - E.sent_at[idx]);
}

static void assert_failed(unsigned idx, const char *why)
{
	const struct result *r = &E.res[idx];

	assert_int_equal(r->count, 1);
	assert_false(r->ok);
	assert_int_equal(r->rtt_ns, 0);
	assert_string_equal(r->why, why);
}

/* A timeout comes at its deadline, never before; and it comes (within a
 * second more, far above any scheduling delay: how late a timer fires is a
 * figure for a benchmark, not a test). */
static void assert_timed_out(unsigned idx, unsigned timeout_ms)
{
	uint64_t took = E.res[idx].at_ns - E.sent_at[idx];

	assert_failed(idx, "timeout");
	if (took < timeout_ms * MS || took > (timeout_ms + 1000) * MS)
		fail_msg("probe %u timed out after %.1f ms, not %u", idx, took / 1e6, timeout_ms);
}

/* Immediate failures are reported from the loop without waiting for the
 * probe's deadline. */
static void assert_failed_fast(unsigned idx, const char *why)
{
	uint64_t took = E.res[idx].at_ns - E.sent_at[idx];

	assert_failed(idx, why);
	if (took >= E.timeout_ms[idx] * MS)
		fail_msg("probe %u failed after %.1f ms: it waited for its %u ms deadline", idx,
			 took / 1e6, E.timeout_ms[idx]);
}

/* The namespace: lo up, a prefix routed to lo where nothing answers
 * (packets to it are dropped: no forwarding, no local address), and a
 * veth whose end stays down, as an uplink that lost its carrier. */
static int group_setup(void **state)
{
	static const char cmds[] =
		"ip link set lo up && "
		"ip route add 198.51.100.0/24 dev lo && "
		"ip link add v0 type veth peer name v1 && "
		"ip addr add 10.9.0.1/24 dev v0";

	if (geteuid() != 0) {
		snprintf(E.netns_why, sizeof(E.netns_why), "not root");
		return 0;
	}
	if (unshare(CLONE_NEWNET)) {
		snprintf(E.netns_why, sizeof(E.netns_why), "unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return 0;
	}
	if (system(cmds) != 0) {
		snprintf(E.netns_why, sizeof(E.netns_why), "namespace setup failed: %s", cmds);
		return 0;
	}
	E.have_netns = 1;
	return 0;
}

static int eng_setup(void **state)
{
	int have = E.have_netns, i;
	char why[sizeof(E.netns_why)];

	memcpy(why, E.netns_why, sizeof(why));
	memset(&E, 0, sizeof(E));
	E.have_netns = have;
	memcpy(E.netns_why, why, sizeof(why));
	E.resend_from = -1;
	E.dns.fd = E.http.fd = E.http.conn = -1;
	for (i = 0; i < (int)ARRAY_SIZE(E.extra_fds); i++)
		E.extra_fds[i] = -1;
	if (!E.have_netns)
		return 0;
	if (sd_event_new(&E.ev) < 0)
		return -1;
	E.sockets_before = count_sockets();
	E.p = bsc_prober_new(E.ev, "lo", on_result, &E);
	if (!E.p)
		return -1;
	bsc_prober_set_source(E.p, ip4("127.0.0.1"));
	return 0;
}

static int eng_teardown(void **state)
{
	unsigned i;

	dns_server_stop();
	http_server_stop();
	for (i = 0; i < ARRAY_SIZE(E.extra_fds); i++)
		if (E.extra_fds[i] >= 0)
			close(E.extra_fds[i]);
	bsc_prober_free(E.p);
	E.p = NULL;
	E.ev = sd_event_unref(E.ev);
	return 0;
}

static void need_netns(void)
{
	if (!E.have_netns) {
		print_message("# engine tests need a private network namespace: %s\n",
			      E.netns_why);
		skip();
	}
}

/* A socket of the test's own, closed at teardown even if an assertion fails. */
static int keep_fd(int fd)
{
	unsigned i;

	assert_true(fd >= 0);
	for (i = 0; i < ARRAY_SIZE(E.extra_fds); i++)
		if (E.extra_fds[i] < 0) {
			E.extra_fds[i] = fd;
			return fd;
		}
	fail_msg("too many extra fds");
	return -1;
}

static void close_fd(int fd)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(E.extra_fds); i++)
		if (E.extra_fds[i] == fd)
			E.extra_fds[i] = -1;
	close(fd);
}

static int bound_socket(int type, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = ip4("127.0.0.1") };
	socklen_t len = sizeof(sa);
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A port where nothing listens: in a private namespace, one just freed. */
static uint16_t closed_port(int type)
{
	uint16_t port;

	close(bound_socket(type, &port));
	return port;
}

/* ------------------------------------------------------------------ */
/* in-loop servers                                                    */
/* ------------------------------------------------------------------ */

static int on_dns_query(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dns_server *d = userdata;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	uint8_t buf[512];
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

	if (n < 12)
		return 0;
	d->queries++;
	memcpy(d->query, buf, (size_t)n);
	d->query_len = (size_t)n;
	switch (d->mode) {
	case DNS_ANSWER_NXDOMAIN:
		buf[2] |= 0x80;
		buf[3] = 0x83;
		break;
	case DNS_WRONG_ID:
		buf[2] |= 0x80;
		buf[1] ^= 0x01;
		break;
	case DNS_NOT_A_REPLY:
		break;
	case DNS_SERVFAIL:
		buf[2] |= 0x80;
		buf[3] = 0x82;
		break;
	case DNS_REFUSED:
		buf[2] |= 0x80;
		buf[3] = 0x85;
		break;
	case DNS_OTHER_QUESTION:
		buf[2] |= 0x80;
		buf[3] = 0x80;
		buf[13] ^= 0x01;
		break;
	case DNS_BARE_HEADER:
		buf[2] |= 0x80;
		buf[3] = 0x80;
		n = 12;
		break;
	}
	sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
	return 0;
}

static uint16_t dns_server_start(enum dns_mode mode)
{
	uint16_t port;

	E.dns.mode = mode;
	E.dns.queries = 0;
	E.dns.fd = bound_socket(SOCK_DGRAM, &port);
	assert_true(sd_event_add_io(E.ev, &E.dns.io, E.dns.fd, EPOLLIN, on_dns_query, &E.dns) >= 0);
	return port;
}

static void dns_server_stop(void)
{
	E.dns.io = sd_event_source_disable_unref(E.dns.io);
	if (E.dns.fd >= 0)
		close(E.dns.fd);
	E.dns.fd = -1;
}

/* A SIP server on loopback: answers OPTIONS with `sip_code` and the
 * request's Call-ID (or another one). */
static int sip_code, sip_wrong_callid, sip_requests;

static int on_sip_request(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char buf[1024], resp[512], *cid, *eol;
	ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen);
	int len;

	if (n <= 0)
		return 0;
	buf[n] = 0;
	sip_requests++;
	cid = strstr(buf, "Call-ID: ");
	if (!cid || strncmp(buf, "OPTIONS sip:", 12))
		return 0;
	cid += 9;
	eol = strstr(cid, "\r\n");
	if (eol)
		*eol = 0;
	/* a provisional answer first, as a proxy may send */
	len = snprintf(resp, sizeof(resp), "SIP/2.0 100 Trying\r\nCall-ID: %s\r\n\r\n", cid);
	sendto(fd, resp, (size_t)len, 0, (struct sockaddr *)&from, flen);
	len = snprintf(resp, sizeof(resp), "SIP/2.0 %d Whatever\r\nCall-ID: %s%s\r\nCSeq: 1 OPTIONS\r\n\r\n",
		       sip_code, cid, sip_wrong_callid ? "x" : "");
	sendto(fd, resp, (size_t)len, 0, (struct sockaddr *)&from, flen);
	return 0;
}

static void sip_case(int code, int wrong, const char *extra, unsigned timeout_ms)
{
	sd_event_source *io = NULL;
	char spec[64];
	uint16_t port;
	int fd;

	need_netns();
	sip_code = code;
	sip_wrong_callid = wrong;
	sip_requests = 0;
	fd = bound_socket(SOCK_DGRAM, &port);
	assert_true(sd_event_add_io(E.ev, &io, fd, EPOLLIN, on_sip_request, NULL) >= 0);
	snprintf(spec, sizeof(spec), "sip 127.0.0.1:%u%s", port, extra);
	assert_int_equal(send_spec(0, spec, timeout_ms), 0);
	run_until_done(1, timeout_ms + 1000);
	sd_event_source_disable_unref(io);
	close(fd);
	assert_int_equal(sip_requests, 1);
}

static void test_sip_ok(void **state)
{
	sip_case(200, 0, "", 1000);
	assert_ok(0, 1000);
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_sip_server_4xx_ok(void **state)
{
	sip_case(403, 0, "", 1000);
	assert_ok(0, 1000); /* the server judged the request itself: it is there */
	assert_loop_idle();
}

static void test_sip_503_fails(void **state)
{
	/* A proxy or an SBC that reaches no server answers 503: not alive. */
	sip_case(503, 0, "", 1000);
	assert_failed_fast(0, "sip status 503: not a 2xx, nor a 4xx of a server that judged the request");
	assert_loop_idle();
}

static void test_sip_status_alive(void **state)
{
	static const struct {
		int status, alive;
	} rows[] = {
		{ 200, 1 }, { 202, 1 }, { 299, 1 }, { 401, 1 }, { 403, 1 }, { 404, 1 }, { 405, 1 },
		{ 407, 1 }, { 420, 1 }, { 481, 1 }, { 484, 1 }, { 300, 0 }, { 302, 0 }, { 400, 0 },
		{ 408, 0 }, { 480, 0 }, { 486, 0 }, { 500, 0 }, { 503, 0 }, { 504, 0 }, { 600, 0 },
		{ 603, 0 }, { 100, 0 }, { 180, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		if (bsc_sip_status_alive(rows[i].status) != rows[i].alive)
			fail_msg("sip status %d: alive %d, expected %d", rows[i].status,
				 bsc_sip_status_alive(rows[i].status), rows[i].alive);
	}
}

static void test_sip_wrong_status(void **state)
{
	sip_case(404, 0, " 200", 1000);
	assert_failed(0, "sip status 404, expected 200");
	assert_loop_idle();
}

static void test_sip_other_callid_times_out(void **state)
{
	sip_case(200, 1, "", 300);
	assert_timed_out(0, 300);
	assert_loop_idle();
}

static void http_conn_close(struct http_server *h)
{
	h->conn_io = sd_event_source_disable_unref(h->conn_io);
	h->conn_timer = sd_event_source_disable_unref(h->conn_timer);
	if (h->conn >= 0)
		close(h->conn);
	h->conn = -1;
}

static int on_http_part2(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct http_server *h = userdata;

	if (send(h->conn, h->part2, strlen(h->part2), MSG_NOSIGNAL) < 0)
		print_message("# http server: send: %s\n", strerror(errno));
	http_conn_close(h);
	return 0;
}

static int on_http_request(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct http_server *h = userdata;
	ssize_t n = recv(fd, h->req + h->req_len, sizeof(h->req) - 1 - h->req_len, 0);

	if (n <= 0) {
		http_conn_close(h);
		return 0;
	}
	h->req_len += (size_t)n;
	h->req[h->req_len] = 0;
	if (!strstr(h->req, "\r\n\r\n"))
		return 0;
	h->conn_io = sd_event_source_disable_unref(h->conn_io);
	if (!h->part1) {
		http_conn_close(h);
		return 0;
	}
	if (send(fd, h->part1, strlen(h->part1), MSG_NOSIGNAL) < 0)
		print_message("# http server: send: %s\n", strerror(errno));
	if (!h->part2) {
		http_conn_close(h);
		return 0;
	}
	sd_event_add_time_relative(E.ev, &h->conn_timer, CLOCK_MONOTONIC, 30000, 1000,
				   on_http_part2, h);
	return 0;
}

static int on_http_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct http_server *h = userdata;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return 0;
	if (h->conn >= 0) { /* one at a time is all a test needs */
		close(c);
		return 0;
	}
	h->accepted++;
	h->conn = c;
	sd_event_add_io(E.ev, &h->conn_io, c, EPOLLIN, on_http_request, h);
	return 0;
}

/* accepting = 0: a listener that never accepts.  The kernel still completes
 * the handshake, so connect succeeds and only the answer never comes. */
static uint16_t http_server_start(int accepting, const char *part1, const char *part2)
{
	uint16_t port;

	E.http.part1 = part1;
	E.http.part2 = part2;
	E.http.fd = bound_socket(SOCK_STREAM, &port);
	assert_int_equal(listen(E.http.fd, 8), 0);
	if (accepting)
		assert_true(sd_event_add_io(E.ev, &E.http.io, E.http.fd, EPOLLIN, on_http_accept,
					    &E.http) >= 0);
	return port;
}

static void http_server_stop(void)
{
	http_conn_close(&E.http);
	E.http.io = sd_event_source_disable_unref(E.http.io);
	if (E.http.fd >= 0)
		close(E.http.fd);
	E.http.fd = -1;
}

/* ------------------------------------------------------------------ */
/* engine: answers                                                    */
/* ------------------------------------------------------------------ */

static void test_icmp_ok(void **state)
{
	unsigned i;

	need_netns();
	/* Three at once: told apart by sequence. */
	for (i = 0; i < 3; i++)
		assert_int_equal(send_spec(i, "icmp 127.0.0.1", 1000), 0);
	assert_int_equal(bsc_prober_pending(E.p), 3);
	run_until_done(3, 2000);
	for (i = 0; i < 3; i++)
		assert_ok(i, 1000);
	print_message("# icmp 127.0.0.1 rtt %.3f ms\n", E.res[0].rtt_ns / 1e6);
	assert_exactly_once(3);
	assert_loop_idle();
}

static void test_icmp_new_source(void **state)
{
	need_netns();
	assert_int_equal(send_spec(0, "icmp 127.0.0.1", 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);
	/* A new address (DHCP): the raw socket is re-bound, and replies to the
	 * new address are matched. */
	bsc_prober_set_source(E.p, ip4("127.0.0.2"));
	assert_int_equal(send_spec(1, "icmp 127.0.0.1", 1000), 0);
	run_until_done(2, 2000);
	assert_ok(1, 1000);
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_icmp_device_recreated(void **state)
{
	static const char mk[] = "ip link add v2 type veth peer name v3 && ip link set v2 up && "
				 "ip link set v3 up && ip addr add 10.9.2.1/24 dev v2";

	need_netns();
	/* An uplink device deleted and created again under the same name
	 * (PPP, USB modems) has a new ifindex: the ICMP socket follows it. */
	assert_int_equal(system(mk), 0);
	bsc_prober_free(E.p);
	E.p = bsc_prober_new(E.ev, "v2", on_result, &E);
	assert_non_null(E.p);
	bsc_prober_set_source(E.p, ip4("10.9.2.1"));
	assert_int_equal(send_spec(0, "icmp 10.9.2.1", 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);

	assert_int_equal(system("ip link del v2"), 0);
	assert_int_equal(system(mk), 0);
	assert_int_equal(send_spec(1, "icmp 10.9.2.1", 1000), 0);
	run_until_done(2, 2000);
	assert_ok(1, 1000);
	assert_int_equal(system("ip link del v2"), 0);
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_tcp_listening_ok(void **state)
{
	char spec[64];
	uint16_t port;

	need_netns();
	port = http_server_start(0, NULL, NULL);
	snprintf(spec, sizeof(spec), "tcp 127.0.0.1:%u", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);
	print_message("# tcp SYN-ACK rtt %.3f ms\n", E.res[0].rtt_ns / 1e6);
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_tcp_closed_port_ok(void **state)
{
	char spec[64];

	need_netns();
	/* A RST comes from a live host: the path works. */
	snprintf(spec, sizeof(spec), "tcp 127.0.0.1:%u", closed_port(SOCK_STREAM));
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);
	print_message("# tcp RST rtt %.3f ms\n", E.res[0].rtt_ns / 1e6);
	assert_exactly_once(1);
	assert_loop_idle();
}

/* The lines ss prints for CMD; fails the test if ss does not run or fails. */
static int ss_lines(const char *cmd)
{
	char line[512];
	FILE *f = popen(cmd, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n++;
	assert_int_equal(pclose(f), 0);
	return n;
}

static void test_tcp_no_time_wait(void **state)
{
	char spec[64], cmd[160];
	uint16_t port;
	unsigned i;

	need_netns();
	port = http_server_start(0, NULL, NULL);
	snprintf(spec, sizeof(spec), "tcp 127.0.0.1:%u", port);
	for (i = 0; i < 4; i++)
		assert_int_equal(send_spec(i, spec, 1000), 0);
	run_until_done(4, 2000);
	for (i = 0; i < 4; i++)
		assert_ok(i, 1000);
	assert_exactly_once(4);
	/* Closed with a RST (SO_LINGER 0): no TIME_WAIT on the probe's side.
	 * The same filter finds the server's listening socket, so an empty
	 * answer is ss's word, not a filter or an ss that failed. */
	snprintf(cmd, sizeof(cmd), "ss -Htan state listening '( sport = :%u )'", port);
	assert_int_equal(ss_lines(cmd), 1);
	snprintf(cmd, sizeof(cmd), "ss -Htan state time-wait '( dport = :%u )'", port);
	assert_int_equal(ss_lines(cmd), 0);
	assert_loop_idle();
}

static void test_dns_ok(void **state)
{
	uint8_t want[512];
	char spec[64];
	uint16_t port, id;

	need_netns();
	port = dns_server_start(DNS_ANSWER_NXDOMAIN);
	snprintf(spec, sizeof(spec), "dns 127.0.0.1:%u bascule.test", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	/* NXDOMAIN is an answer: the resolver is reachable. */
	assert_ok(0, 1000);
	print_message("# dns rtt %.3f ms\n", E.res[0].rtt_ns / 1e6);
	assert_int_equal(E.dns.queries, 1);
	id = (uint16_t)(E.dns.query[0] << 8 | E.dns.query[1]);
	assert_int_equal(bsc_dns_build_query(want, sizeof(want), id, "bascule.test"), E.dns.query_len);
	assert_memory_equal(E.dns.query, want, E.dns.query_len);
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_http_204_expect_204_ok(void **state)
{
	static const char want_req[] = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n"
				       "User-Agent: bascule-probe\r\nConnection: close\r\n\r\n";
	char spec[96];
	uint16_t port;

	need_netns();
	port = http_server_start(1, "HTTP/1.0 204 No Content\r\n\r\n", NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/health 204", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);
	print_message("# http rtt %.3f ms\n", E.res[0].rtt_ns / 1e6);
	assert_string_equal(E.http.req, want_req);
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_http_204_expect_200_fails(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	port = http_server_start(1, "HTTP/1.0 204 No Content\r\n\r\n", NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/ 200", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_failed_fast(0, "http status 204, expected 200");
	assert_exactly_once(1);
	assert_loop_idle();
}

/* Probe idx, "http ADDR:PORT/" with the default status, against a server
 * that answers `answer`: failed fast with `why`, or ok when why is NULL. */
static void http_default_case(unsigned idx, const char *answer, const char *why)
{
	char spec[96];
	uint16_t port = http_server_start(1, answer, NULL);

	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/", port);
	assert_int_equal(send_spec(idx, spec, 1000), 0);
	run_until_done(idx + 1, 2000);
	if (why)
		assert_failed_fast(idx, why);
	else
		assert_ok(idx, 1000);
	http_server_stop();
}

static void test_http_default_200_only(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	/* A captive portal answers 302 to everything: not the page asked for. */
	port = http_server_start(1, "HTTP/1.1 302 Found\r\nLocation: http://portal.example/login\r\n\r\n",
				 NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/ host=probe.example", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_failed_fast(0, "http status 302, expected 200: redirected to "
			      "'http://portal.example/login' (a captive portal?)");
	assert_non_null(strstr(E.http.req, "\r\nHost: probe.example\r\n"));
	http_server_stop();

	http_default_case(1, "HTTP/1.1 500 Internal Server Error\r\n\r\n", "http status 500, expected 200");
	http_default_case(2, "HTTP/1.1 204 No Content\r\n\r\n", "http status 204, expected 200");
	http_default_case(3, "HTTP/1.1 200 OK\r\n\r\n", NULL);
	assert_exactly_once(4);
	assert_loop_idle();
}

static void test_http_contains(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	/* The real page: the text in the body, after a head sent apart. */
	port = http_server_start(1, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",
				 "status: bascule-ok\n");
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/ contains=bascule-ok", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);
	assert_true(E.res[0].rtt_ns >= 30 * MS); /* decided by the body, not the head */
	http_server_stop();

	/* A portal's 200 page: the text is nowhere in the body. */
	port = http_server_start(1, "HTTP/1.1 200 OK\r\nX-Note: bascule-ok\r\n\r\n<html>Log in</html>",
				 NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/ contains=bascule-ok", port);
	assert_int_equal(send_spec(1, spec, 1000), 0);
	run_until_done(2, 2000);
	assert_failed_fast(1, "http: 'bascule-ok' not in the body's first 19 bytes (a captive portal?)");
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_http_split_status_line(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	/* The status line in two segments, 30 ms apart. */
	port = http_server_start(1, "HTTP/1.1 2", "00 OK\r\n\r\n");
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/ 200", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_ok(0, 1000);
	assert_true(E.res[0].rtt_ns >= 30 * MS);
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_http_garbage(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	port = http_server_start(1, "SSH-2.0-OpenSSH_9.2\r\n", NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_failed_fast(0, "http: malformed status line");
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_http_closed_early(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	port = http_server_start(1, NULL, NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_failed_fast(0, "http: connection closed before the status line");
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_http_refused(void **state)
{
	char spec[96], why[96];
	uint16_t port;

	need_netns();
	port = closed_port(SOCK_STREAM);
	/* Unlike a TCP probe, a RST means no web server: failed. */
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	snprintf(why, sizeof(why), "connect 127.0.0.1:%u: Connection refused", port);
	assert_failed_fast(0, why);
	assert_exactly_once(1);
	assert_loop_idle();
}

static void test_dns_port_unreachable(void **state)
{
	char spec[96], why[96];
	uint16_t port;

	need_netns();
	port = closed_port(SOCK_DGRAM);
	snprintf(spec, sizeof(spec), "dns 127.0.0.1:%u bascule.test", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	snprintf(why, sizeof(why), "dns 127.0.0.1:%u: Connection refused", port);
	assert_failed_fast(0, why);
	assert_exactly_once(1);
	assert_loop_idle();
}

/* ------------------------------------------------------------------ */
/* engine: timeouts                                                   */
/* ------------------------------------------------------------------ */

#define TIMEOUT_MS 200

static void test_timeout_each_kind(void **state)
{
	static const char *const specs[] = {
		"icmp 198.51.100.7", "tcp 198.51.100.7:80", "dns 198.51.100.7 bascule.test",
		"http 198.51.100.7/",
	};
	unsigned i;

	need_netns();
	/* 198.51.100.0/24 is routed to lo, where nothing owns it: every
	 * packet vanishes, no ICMP error, no RST. */
	for (i = 0; i < ARRAY_SIZE(specs); i++)
		assert_int_equal(send_spec(i, specs[i], TIMEOUT_MS), 0);
	assert_int_equal(bsc_prober_pending(E.p), ARRAY_SIZE(specs));
	run_until_done(ARRAY_SIZE(specs), TIMEOUT_MS + 1000);
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		assert_timed_out(i, TIMEOUT_MS);
		print_message("# %s: timeout after %.1f ms\n", specs[i],
			      (E.res[i].at_ns - E.sent_at[i]) / 1e6);
	}
	assert_exactly_once(ARRAY_SIZE(specs));
	assert_loop_idle();
}

static void test_dns_silent_port_timeout(void **state)
{
	char spec[96];
	uint16_t port;
	int fd;

	need_netns();
	/* Bound, never read: no port unreachable, no answer. */
	fd = keep_fd(bound_socket(SOCK_DGRAM, &port));
	snprintf(spec, sizeof(spec), "dns 127.0.0.1:%u bascule.test", port);
	assert_int_equal(send_spec(0, spec, TIMEOUT_MS), 0);
	run_until_done(1, TIMEOUT_MS + 1000);
	assert_timed_out(0, TIMEOUT_MS);
	close_fd(fd);
	assert_exactly_once(1);
	assert_loop_idle();
}

/* A DNS server in `mode` answers probe idx's one query with something that
 * is not an answer to it: the probe waits, and times out. */
static void dns_ignored_case(unsigned idx, enum dns_mode mode)
{
	char spec[96];
	uint16_t port = dns_server_start(mode);

	snprintf(spec, sizeof(spec), "dns 127.0.0.1:%u bascule.test", port);
	assert_int_equal(send_spec(idx, spec, TIMEOUT_MS), 0);
	run_until_done(idx + 1, TIMEOUT_MS + 1000);
	assert_int_equal(E.dns.queries, 1);
	assert_timed_out(idx, TIMEOUT_MS);
	dns_server_stop();
}

static void test_dns_wrong_answers_ignored(void **state)
{
	need_netns();
	/* Another ID, a datagram without QR; NOERROR with our ID, but to
	 * another question, or with none: none is our answer. */
	dns_ignored_case(0, DNS_WRONG_ID);
	dns_ignored_case(1, DNS_NOT_A_REPLY);
	dns_ignored_case(2, DNS_OTHER_QUESTION);
	dns_ignored_case(3, DNS_BARE_HEADER);
	assert_exactly_once(4);
	assert_loop_idle();
}

static void test_dns_servfail_refused_fail(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	/* A resolver that answers but cannot resolve (a walled garden, an
	 * upstream that is gone) does not prove the path to the Internet. */
	port = dns_server_start(DNS_SERVFAIL);
	snprintf(spec, sizeof(spec), "dns 127.0.0.1:%u bascule.test", port);
	assert_int_equal(send_spec(0, spec, 1000), 0);
	run_until_done(1, 2000);
	assert_failed_fast(0, "dns rcode SERVFAIL: the resolver answers but does not resolve");
	dns_server_stop();

	port = dns_server_start(DNS_REFUSED);
	snprintf(spec, sizeof(spec), "dns 127.0.0.1:%u bascule.test", port);
	assert_int_equal(send_spec(1, spec, 1000), 0);
	run_until_done(2, 2000);
	assert_failed_fast(1, "dns rcode REFUSED: the resolver answers but does not resolve");
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_http_no_answer_timeout(void **state)
{
	char spec[96];
	uint16_t port;

	need_netns();
	/* Connected (the kernel accepts for the listener), request sent, no
	 * status line ever: a timeout at the HTTP level. */
	port = http_server_start(0, NULL, NULL);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/", port);
	assert_int_equal(send_spec(0, spec, TIMEOUT_MS), 0);
	run_until_done(1, TIMEOUT_MS + 1000);
	assert_timed_out(0, TIMEOUT_MS);
	assert_exactly_once(1);
	assert_loop_idle();
}

/* ------------------------------------------------------------------ */
/* engine: failures known at once                                     */
/* ------------------------------------------------------------------ */

static void test_uplink_down(void **state)
{
	static const char *const specs[] = {
		"icmp 10.9.0.7", "tcp 10.9.0.7:80", "dns 10.9.0.7 bascule.test", "http 10.9.0.7/",
	};
	static const char *const why[] = {
		"icmp 10.9.0.7: Network is unreachable",
		"connect 10.9.0.7:80: Network is unreachable",
		"dns connect 10.9.0.7:53: Network is unreachable",
		"connect 10.9.0.7:80: Network is unreachable",
	};
	unsigned i;

	need_netns();
	/* v0 is down (lost carrier) but keeps its address. */
	bsc_prober_free(E.p);
	E.p = bsc_prober_new(E.ev, "v0", on_result, &E);
	assert_non_null(E.p);
	bsc_prober_set_source(E.p, ip4("10.9.0.1"));
	for (i = 0; i < ARRAY_SIZE(specs); i++)
		assert_int_equal(send_spec(i, specs[i], 1000), -ENETUNREACH);
	/* Not reported yet: never from inside bsc_prober_send(). */
	for (i = 0; i < ARRAY_SIZE(specs); i++)
		assert_int_equal(E.res[i].count, 0);
	assert_int_equal(bsc_prober_pending(E.p), ARRAY_SIZE(specs));
	run_until_done(ARRAY_SIZE(specs), 1000);
	for (i = 0; i < ARRAY_SIZE(specs); i++)
		assert_failed_fast(i, why[i]);
	assert_exactly_once(ARRAY_SIZE(specs));
	assert_loop_idle();
}

static void test_no_source(void **state)
{
	need_netns();
	bsc_prober_set_source(E.p, 0);
	assert_int_equal(send_spec(0, "icmp 127.0.0.1", 1000), -EADDRNOTAVAIL);
	assert_int_equal(send_spec(1, "tcp 127.0.0.1:80", 1000), -EADDRNOTAVAIL);
	assert_int_equal(E.res[0].count + E.res[1].count, 0);
	run_until_done(2, 1000);
	assert_failed_fast(0, "no source address");
	assert_failed_fast(1, "no source address");
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_stale_source(void **state)
{
	static const char *const specs[] = {
		"icmp 127.0.0.1", "tcp 127.0.0.1:80", "dns 127.0.0.1 a.b", "http 127.0.0.1/",
	};
	unsigned i;

	need_netns();
	/* An address the box no longer has (a lease that changed under us). */
	bsc_prober_set_source(E.p, ip4("10.9.9.9"));
	for (i = 0; i < ARRAY_SIZE(specs); i++)
		assert_int_equal(send_spec(i, specs[i], 1000), -EADDRNOTAVAIL);
	run_until_done(ARRAY_SIZE(specs), 1000);
	for (i = 0; i < ARRAY_SIZE(specs); i++)
		assert_failed_fast(i, "bind 10.9.9.9: Cannot assign requested address");
	assert_exactly_once(ARRAY_SIZE(specs));
	assert_loop_idle();
}

static void test_no_such_device(void **state)
{
	need_netns();
	bsc_prober_free(E.p);
	E.p = bsc_prober_new(E.ev, "nosuch0", on_result, &E);
	assert_non_null(E.p);
	bsc_prober_set_source(E.p, ip4("127.0.0.1"));
	assert_int_equal(send_spec(0, "icmp 127.0.0.1", 1000), -ENODEV);
	assert_int_equal(send_spec(1, "dns 127.0.0.1 a.b", 1000), -ENODEV);
	run_until_done(2, 1000);
	assert_failed_fast(0, "SO_BINDTODEVICE nosuch0: No such device");
	assert_failed_fast(1, "SO_BINDTODEVICE nosuch0: No such device");
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_prober_new_bad_args(void **state)
{
	need_netns();
	assert_null(bsc_prober_new(E.ev, "", on_result, &E));
	assert_null(bsc_prober_new(E.ev, "an-interface-name-too-long", on_result, &E));
	assert_null(bsc_prober_new(NULL, "lo", on_result, &E));
	bsc_prober_free(NULL);
}

/* ------------------------------------------------------------------ */
/* engine: ICMP matching, with injected packets                       */
/* ------------------------------------------------------------------ */

/* The echo request the prober just sent, as seen on lo. */
static size_t capture_echo(int pk, uint32_t dst, uint8_t *pkt, size_t cap)
{
	const struct iphdr *ip = (const void *)pkt;
	const struct icmphdr *icmp;
	ssize_t n;

	while ((n = recv(pk, pkt, cap, 0)) > 0) {
		if ((size_t)n < sizeof(*ip) + 8 || ip->protocol != IPPROTO_ICMP || ip->daddr != dst)
			continue;
		icmp = (const void *)(pkt + ip->ihl * 4);
		if (icmp->type == ICMP_ECHO)
			return (size_t)n;
	}
	fail_msg("no echo request to capture");
	return 0;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Deliver IP(from -> 127.0.0.1) + ICMP(type, code, rest) + body to ourselves. */
static void inject_icmp(int raw, const char *from, uint8_t type, uint8_t code, const uint8_t rest[4],
			const uint8_t *body, size_t body_len)
{
	uint8_t pkt[1500] = { 0 };
	struct iphdr *ip = (void *)pkt;
	struct icmphdr *icmp = (void *)(pkt + sizeof(*ip));
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = ip4("127.0.0.1") };
	size_t len = sizeof(*ip) + 8 + body_len;

	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->tot_len = htons((uint16_t)len);
	ip->saddr = ip4(from);
	ip->daddr = to.sin_addr.s_addr;
	ip->check = csum(ip, sizeof(*ip));
	icmp->type = type;
	icmp->code = code;
	memcpy(&icmp->un, rest, 4);
	memcpy(pkt + sizeof(*ip) + 8, body, body_len);
	icmp->checksum = csum(icmp, 8 + body_len);
	assert_int_equal(sendto(raw, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

static void open_injectors(int *pk, int *raw)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = (int)if_nametoindex("lo") };

	*pk = keep_fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP)));
	assert_int_equal(bind(*pk, (struct sockaddr *)&ll, sizeof(ll)), 0);
	*raw = keep_fd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
}

static void test_icmp_reply_matching(void **state)
{
	uint8_t req[1500], rest[4];
	const struct iphdr *ip = (const void *)req;
	size_t n, ihl;
	int pk, raw;

	need_netns();
	open_injectors(&pk, &raw);
	assert_int_equal(send_spec(0, "icmp 198.51.100.7", 1000), 0);
	n = capture_echo(pk, ip4("198.51.100.7"), req, sizeof(req));
	ihl = ip->ihl * 4u;
	memcpy(rest, req + ihl + 4, 4); /* identifier and sequence */

	/* Right id and seq from another address; wrong id; wrong seq. */
	inject_icmp(raw, "198.51.100.8", ICMP_ECHOREPLY, 0, rest, req + ihl + 8, n - ihl - 8);
	rest[0] ^= 0x40;
	inject_icmp(raw, "198.51.100.7", ICMP_ECHOREPLY, 0, rest, req + ihl + 8, n - ihl - 8);
	rest[0] ^= 0x40;
	rest[3] ^= 0x01;
	inject_icmp(raw, "198.51.100.7", ICMP_ECHOREPLY, 0, rest, req + ihl + 8, n - ihl - 8);
	rest[3] ^= 0x01;
	run_for(50);
	assert_int_equal(E.res[0].count, 0);

	inject_icmp(raw, "198.51.100.7", ICMP_ECHOREPLY, 0, rest, req + ihl + 8, n - ihl - 8);
	run_until_done(1, 1000);
	assert_ok(0, 1000);
	assert_exactly_once(1);
	close_fd(pk);
	close_fd(raw);
	assert_loop_idle();
}

static void test_icmp_error_from_router(void **state)
{
	static const uint8_t unused[4] = { 0 };
	uint8_t req[1500], quote[28];
	size_t ihl;
	int pk, raw;

	need_netns();
	open_injectors(&pk, &raw);
	assert_int_equal(send_spec(0, "icmp 198.51.100.7", 1000), 0);
	capture_echo(pk, ip4("198.51.100.7"), req, sizeof(req));
	ihl = ((const struct iphdr *)req)->ihl * 4u;
	assert_int_equal(ihl, 20);
	memcpy(quote, req, sizeof(quote)); /* IP header + first 8 bytes, as routers quote */

	/* Quoting someone else's echo (another identifier): ignored. */
	quote[ihl + 4] ^= 0x40;
	inject_icmp(raw, "198.51.100.1", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, unused, quote,
		    sizeof(quote));
	run_for(50);
	assert_int_equal(E.res[0].count, 0);

	quote[ihl + 4] ^= 0x40;
	inject_icmp(raw, "198.51.100.1", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, unused, quote,
		    sizeof(quote));
	run_until_done(1, 1000);
	assert_failed(0, "icmp: host unreachable (from 198.51.100.1)");
	assert_true(E.res[0].at_ns - E.sent_at[0] < 500 * MS);
	assert_exactly_once(1);
	close_fd(pk);
	close_fd(raw);
	assert_loop_idle();
}

/* The SYN the prober just sent, as seen on lo. */
static size_t capture_syn(int pk, uint32_t dst, uint8_t *pkt, size_t cap)
{
	const struct iphdr *ip = (const void *)pkt;
	ssize_t n;

	while ((n = recv(pk, pkt, cap, 0)) > 0) {
		if ((size_t)n < sizeof(*ip) + 20 || ip->protocol != IPPROTO_TCP || ip->daddr != dst)
			continue;
		if (pkt[ip->ihl * 4 + 13] == 0x02) /* SYN alone */
			return (size_t)n;
	}
	fail_msg("no SYN to capture");
	return 0;
}

static void test_tcp_icmp_refusal_fails(void **state)
{
	static const uint8_t unused[4] = { 0 };
	uint8_t req[1500], quote[28];
	int pk, raw;

	need_netns();
	open_injectors(&pk, &raw);
	/* A hop (a walled garden, a firewall) answers the SYN with an ICMP
	 * port unreachable, which the kernel reports as ECONNREFUSED, as it
	 * does a RST: not the target's answer, the link is not proven. */
	assert_int_equal(send_spec(0, "tcp 198.51.100.7:443", 1000), 0);
	capture_syn(pk, ip4("198.51.100.7"), req, sizeof(req));
	assert_int_equal(((const struct iphdr *)req)->ihl, 5);
	memcpy(quote, req, sizeof(quote)); /* IP header + ports and sequence */
	inject_icmp(raw, "198.51.100.1", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, unused, quote,
		    sizeof(quote));
	run_until_done(1, 1000);
	assert_failed(0, "tcp: port unreachable (from 198.51.100.1): an ICMP error, not the target's RST");
	assert_true(E.res[0].at_ns - E.sent_at[0] < 500 * MS);
	assert_exactly_once(1);
	close_fd(pk);
	close_fd(raw);
	assert_loop_idle();
}

/* ------------------------------------------------------------------ */
/* engine: life cycle                                                 */
/* ------------------------------------------------------------------ */

static void test_free_cancels_without_callbacks(void **state)
{
	uint16_t port;
	char spec[96];
	int watched, raw, armed;
	unsigned i;

	need_netns();
	port = http_server_start(0, NULL, NULL);
	assert_int_equal(send_spec(0, "icmp 198.51.100.7", 1000), 0);
	assert_int_equal(send_spec(1, "tcp 198.51.100.7:80", 1000), 0);
	assert_int_equal(send_spec(2, "dns 198.51.100.7 bascule.test", 1000), 0);
	snprintf(spec, sizeof(spec), "http 127.0.0.1:%u/", port);
	assert_int_equal(send_spec(3, spec, 1000), 0);
	run_for(20); /* the HTTP probe connects and sends its request */
	/* And one failure posted but not yet reported. */
	bsc_prober_set_source(E.p, 0);
	assert_int_equal(send_spec(4, "icmp 127.0.0.1", 1000), -EADDRNOTAVAIL);
	assert_int_equal(bsc_prober_pending(E.p), 5);
	bsc_prober_free(E.p);
	E.p = NULL;
	run_for(1200); /* past every deadline */
	for (i = 0; i < MAX_IDX; i++)
		assert_int_equal(E.res[i].count, 0);
	http_server_stop();
	loop_scan(E.ev, &watched, &raw, &armed);
	assert_int_equal(watched, 0);
	assert_int_equal(armed, 0);
	assert_int_equal(count_sockets(), E.sockets_before);
}

static void test_free_from_callback(void **state)
{
	int watched, raw, armed;

	need_netns();
	/* The first answer frees the prober: the other probe is cancelled,
	 * silently, and nothing is touched after the free. */
	E.free_in_cb = 1;
	assert_int_equal(send_spec(0, "icmp 127.0.0.1", 1000), 0);
	assert_int_equal(send_spec(1, "icmp 198.51.100.7", 300), 0);
	assert_int_equal(send_spec(2, "tcp 198.51.100.7:80", 300), 0);
	run_until_done(1, 1000);
	run_for(500);
	assert_int_equal(E.res[0].count, 1);
	assert_true(E.res[0].ok);
	assert_int_equal(E.res[1].count, 0);
	assert_int_equal(E.res[2].count, 0);
	assert_null(E.p);
	loop_scan(E.ev, &watched, &raw, &armed);
	assert_int_equal(watched, 0);
	assert_int_equal(armed, 0);
	assert_int_equal(count_sockets(), E.sockets_before);
}

static void test_send_from_callback(void **state)
{
	char err[128];

	need_netns();
	/* A scheduler sends the next probe from the previous one's callback. */
	assert_int_equal(bsc_probe_target_parse("icmp 127.0.0.1", &E.resend_target, err,
						sizeof(err)), 0);
	E.resend_from = 0;
	assert_int_equal(send_spec(0, "tcp 127.0.0.1:9", 1000), 0);
	run_until_done(2, 2000);
	assert_int_equal(E.resend_rc, 0);
	assert_ok(0, 1000);
	assert_ok(1, 1000);
	assert_exactly_once(2);
	assert_loop_idle();
}

static void test_zero_timeout(void **state)
{
	need_netns();
	/* Whatever the timeout, one callback, from the loop. */
	assert_int_equal(send_spec(0, "tcp 198.51.100.7:80", 0), 0);
	assert_int_equal(E.res[0].count, 0);
	run_until_done(1, 1000);
	assert_failed(0, "timeout");
	assert_exactly_once(1);
	assert_loop_idle();
}

/* ------------------------------------------------------------------ */
/* registration                                                       */
/* ------------------------------------------------------------------ */

/* Engine tests run in the private namespace set up by eng_setup. */
static void add(const char *name, CMUnitTestFunction fn, void *st, int engine)
{
	t_add_fixture(name, fn, engine ? eng_setup : NULL, engine ? eng_teardown : NULL, st);
}

/* Row names go into TAP lines: quoted (the runner escapes control
 * characters). */
static void add_row(const char *prefix, const char *what, CMUnitTestFunction fn, void *st)
{
	t_add_row(fn, st, "%s: '%s'", prefix, what);
}

int main(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(parse_ok_rows); i++)
		add_row("parse ok", parse_ok_rows[i].spec, test_parse_ok, (void *)&parse_ok_rows[i]);
	for (i = 0; i < ARRAY_SIZE(parse_err_rows); i++)
		add_row("parse error", parse_err_rows[i].spec, test_parse_err,
			(void *)&parse_err_rows[i]);
	add("parse error message truncated", test_parse_err_truncated, NULL, 0);
	add("format targets built in code", test_format_built_targets, NULL, 0);
	add("dns query bytes", test_dns_query_bytes, NULL, 0);
	add("dns query single label", test_dns_query_single_label, NULL, 0);
	add("dns query bad names", test_dns_query_bad_names, NULL, 0);
	add("dns reply matching", test_dns_reply_matches, NULL, 0);
	for (i = 0; i < ARRAY_SIZE(http_rows); i++)
		add_row("http status", http_rows[i].name, test_http_status, (void *)&http_rows[i]);
	add("http status respects len", test_http_status_respects_len, NULL, 0);
	add("sip OPTIONS request and response matching", test_sip_messages, NULL, 0);
	add("sip statuses that show a live server", test_sip_status_alive, NULL, 0);

	add("engine: icmp 127.0.0.1 ok, three at once", test_icmp_ok, NULL, 1);
	add("engine: icmp after a source change", test_icmp_new_source, NULL, 1);
	add("engine: icmp after the device was re-created", test_icmp_device_recreated, NULL, 1);
	add("engine: tcp to a listener ok (SYN-ACK)", test_tcp_listening_ok, NULL, 1);
	add("engine: tcp to a closed port ok (RST)", test_tcp_closed_port_ok, NULL, 1);
	add("engine: tcp refused by a hop's ICMP port unreachable fails", test_tcp_icmp_refusal_fails,
	    NULL, 1);
	add("engine: tcp probes leave no TIME_WAIT", test_tcp_no_time_wait, NULL, 1);
	add("engine: dns answer (NXDOMAIN) ok, query bytes", test_dns_ok, NULL, 1);
	add("engine: sip OPTIONS answered 200 (after a 100)", test_sip_ok, NULL, 1);
	add("engine: sip 403 from the server counts", test_sip_server_4xx_ok, NULL, 1);
	add("engine: sip 503 fails", test_sip_503_fails, NULL, 1);
	add("engine: sip 404 when 200 is expected fails", test_sip_wrong_status, NULL, 1);
	add("engine: sip answer with another Call-ID is not ours", test_sip_other_callid_times_out, NULL, 1);
	add("engine: http 204, expect 204 ok, request bytes", test_http_204_expect_204_ok, NULL, 1);
	add("engine: http 204, expect 200 fails", test_http_204_expect_200_fails, NULL, 1);
	add("engine: http default exactly 200: 302 (captive portal), 500, 204 fail; host=",
	    test_http_default_200_only, NULL, 1);
	add("engine: http contains= in the body, not the head", test_http_contains, NULL, 1);
	add("engine: http status line in two segments", test_http_split_status_line, NULL, 1);
	add("engine: http garbage status line", test_http_garbage, NULL, 1);
	add("engine: http closed before the status line", test_http_closed_early, NULL, 1);
	add("engine: http connection refused fails", test_http_refused, NULL, 1);
	add("engine: dns port unreachable fails", test_dns_port_unreachable, NULL, 1);
	add("engine: timeout for each kind", test_timeout_each_kind, NULL, 1);
	add("engine: dns silent port times out", test_dns_silent_port_timeout, NULL, 1);
	add("engine: dns wrong id, no QR, another question or a bare header ignored",
	    test_dns_wrong_answers_ignored, NULL, 1);
	add("engine: dns SERVFAIL or REFUSED fails", test_dns_servfail_refused_fail, NULL, 1);
	add("engine: http no answer times out", test_http_no_answer_timeout, NULL, 1);
	add("engine: uplink down fails at once", test_uplink_down, NULL, 1);
	add("engine: no source address", test_no_source, NULL, 1);
	add("engine: stale source address", test_stale_source, NULL, 1);
	add("engine: no such device", test_no_such_device, NULL, 1);
	add("engine: prober_new bad arguments", test_prober_new_bad_args, NULL, 1);
	add("engine: icmp replies matched by source, id, seq", test_icmp_reply_matching, NULL, 1);
	add("engine: icmp error quoting our echo", test_icmp_error_from_router, NULL, 1);
	add("engine: free cancels without callbacks", test_free_cancels_without_callbacks, NULL, 1);
	add("engine: free from a callback", test_free_from_callback, NULL, 1);
	add("engine: send from a callback", test_send_from_callback, NULL, 1);
	add("engine: zero timeout", test_zero_timeout, NULL, 1);

	return t_run("bascule_probe", group_setup, NULL) ? 1 : 0;
}
