/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tests/lib/csumref.h - random packets and their checksums computed from
 * scratch, for test_lib and test_dataplane_unit: a deterministic PRNG and
 * an independent RFC 1071 arithmetic to verify the checksum helpers and
 * the frames built with them against.
 */
#ifndef BSC_TEST_CSUMREF_H
#define BSC_TEST_CSUMREF_H

#include <stddef.h>
#include <stdint.h>

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
void rng_seed(uint64_t s);
uint32_t rng32(void);
void rng_fill(uint8_t *p, size_t n);

/* Independent RFC 1071 arithmetic: bytes taken as big-endian 16-bit words,
 * an odd tail padded with a zero byte, carries folded at the end. */
uint64_t ref_add(uint64_t sum, const uint8_t *p, size_t len);
uint16_t ref_fold(uint64_t sum);
/* Checksum value (numeric, to be stored big-endian) of data whose own
 * checksum field is zero. */
uint16_t ref_checksum(uint64_t sum);
/* Pseudo-header sum of TCP/UDP over IPv4; addresses as they sit in memory. */
uint64_t ref_pseudo(const uint8_t saddr[4], const uint8_t daddr[4], uint8_t proto,
		    uint16_t l4len);

/* Big-endian fields. */
void put_be16(uint8_t *p, uint16_t v);
uint16_t get_be16(const uint8_t *p);
uint32_t get_be32(const uint8_t *p);

#endif
