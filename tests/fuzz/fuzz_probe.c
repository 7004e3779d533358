// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_probe.c - libFuzzer target: what the prober reads from the network
 * and from the configuration.  The first byte picks the parser:
 *   0  a `probe = ...` spec; when it parses, format(parse(x)) must parse
 *      again to the same target and format the same (a stable canonical form)
 *   1  a DNS answer to (id from bytes 1-2, "bascule.test")
 *   2  an HTTP status line
 *   3  a SIP response to the Call-ID "c@bascule"
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"

static void spec_roundtrip(const char *s)
{
	struct bsc_probe_target t, u;
	char err[256], a[512], b[512];

	if (bsc_probe_target_parse(s, &t, err, sizeof(err))) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			__builtin_trap();
		return;
	}
	bsc_probe_target_format(&t, a, sizeof(a));
	if (bsc_probe_target_parse(a, &u, err, sizeof(err)))
		__builtin_trap(); /* the canonical form does not parse */
	bsc_probe_target_format(&u, b, sizeof(b));
	if (strcmp(a, b) || t.kind != u.kind || t.addr != u.addr || t.port != u.port ||
	    t.expect_status != u.expect_status || strcmp(t.contains, u.contains))
		__builtin_trap(); /* not stable */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int st;

	if (size < 1 || size > 4096)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] & 3) {
	case 0:
		spec_roundtrip(s);
		break;
	case 1:
		if (size >= 3) {
			st = bsc_dns_answer((const uint8_t *)s + 2, size - 3,
					    (uint16_t)(data[1] << 8 | data[2]), "bascule.test");
			if (st < -1 || st > 15)
				__builtin_trap();
		}
		break;
	case 2:
		st = bsc_http_status(s, size - 1);
		if (st != -1 && (st < 100 || st > 999))
			__builtin_trap();
		break;
	case 3:
		st = bsc_sip_reply_status(s, size - 1, "c@bascule");
		if (st != -1 && (st < 100 || st > 999))
			__builtin_trap();
		break;
	}
	free(s);
	return 0;
}
