/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * csum.h - Internet checksum arithmetic for the data path.
 *
 * Incremental updates after RFC 1624 (HC' = ~(~HC + ~m + m')), working on the
 * 16-bit words as they sit in the packet: one's complement sums do not care
 * about byte order as long as every word is taken the same way.  Also built
 * into the userspace tests, so the same functions are exercised there against
 * an independent full recomputation.
 */
#ifndef BSC_CSUM_H
#define BSC_CSUM_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u16 csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Replace one 16-bit word covered by the checksum at *sum. */
static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~*sum;

	s += (__u16)~from;
	s += to;
	*sum = (__u16)~csum_fold32(s);
}

/* Replace one 32-bit field (two words) covered by the checksum at *sum. */
static __always_inline void csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	__u32 s = (__u16)~*sum;

	s += (__u16)~(from & 0xffff);
	s += (__u16)~(from >> 16);
	s += to & 0xffff;
	s += to >> 16;
	*sum = (__u16)~csum_fold32(s);
}

/* UDP: a zero checksum means "none" and stays zero; a computed zero is sent
 * as 0xffff (RFC 768). */
static __always_inline void udp_csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	if (*sum == 0)
		return;
	csum_replace4(sum, from, to);
	if (*sum == 0)
		*sum = 0xffff;
}

static __always_inline void udp_csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	if (*sum == 0)
		return;
	csum_replace2(sum, from, to);
	if (*sum == 0)
		*sum = 0xffff;
}

/* Several fields at once: add up the change of each (csum_diff2/4), then
 * fold the sum into the checksum once (csum_apply): one fold instead of one
 * per field.  A handful of diffs stays far from overflowing 32 bits. */
static __always_inline __u32 csum_diff2(__u16 from, __u16 to)
{
	return (__u32)(__u16)~from + to;
}

static __always_inline __u32 csum_diff4(__u32 from, __u32 to)
{
	return (__u32)(__u16)~(from & 0xffff) + (__u16)~(from >> 16) + (to & 0xffff) + (to >> 16);
}

static __always_inline void csum_apply(__u16 *sum, __u32 diff)
{
	*sum = (__u16)~csum_fold32((__u32)(__u16)~*sum + diff);
}

/* UDP: zero ("none") stays zero, a computed zero is sent as 0xffff. */
static __always_inline void udp_csum_apply(__u16 *sum, __u32 diff)
{
	if (*sum == 0)
		return;
	csum_apply(sum, diff);
	if (*sum == 0)
		*sum = 0xffff;
}

#endif /* BSC_CSUM_H */
