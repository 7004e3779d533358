// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lib/checksum.c - see checksum.h. */
#include <arpa/inet.h>

#include "lib/checksum.h"

uint16_t bsc_csum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}
