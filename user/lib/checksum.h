/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lib/checksum.h - the Internet checksum (RFC 1071) of frames the controller
 * builds itself: the TCP kick, the probes' ICMP echo, the drill's marker.
 */
#ifndef BSC_LIB_CHECKSUM_H
#define BSC_LIB_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Full Internet checksum of a buffer, plus an initial partial sum; in
 * network byte order, ready to store. */
uint16_t bsc_csum(const void *buf, size_t len, uint32_t sum);

#endif
