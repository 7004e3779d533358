// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config.c - libFuzzer target: the configuration parser (inih through
 * user/config/, every key, the probe and check specs, validation) on
 * arbitrary text.  It must never crash, overrun or loop, and its error text
 * must always be terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bsc_cfg cfg;
	char err[1024], *text;
	int rc;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err));
	rc = bsc_config_parse_string(text, "fuzz.conf", &cfg, err, sizeof(err));
	/* the error text is a string, and says something when rc says so */
	if (!memchr(err, '\0', sizeof(err)) || (rc && !err[0]))
		__builtin_trap();
	free(text);
	return 0;
}
