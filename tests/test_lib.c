// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_lib.c - unit tests of the checksums (user/lib/checksum.c, and the
 * data plane's incremental helpers, bpf/lib/csum.h), cmocka.
 *
 *   bsc_csum    RFC 1071's example, and random data against an independent
 *               full RFC 1071 recomputation
 *   replace     the incremental updates of an IPv4 header, of TCP and UDP
 *               through NAT, the fast path's one-fold update with the TTL
 *   udp zero    a zero UDP checksum stays zero, a computed zero is sent as
 *               0xffff
 *
 * Random cases come from a fixed-seed PRNG, so failures reproduce.
 * Everything runs in one group so that CMOCKA_MESSAGE_OUTPUT=TAP prints a
 * single plan.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/checksum.h"
#include "lib/csum.h"
#include "lib/csumref.h"
#include "lib/runner.h"

/* ------------------------------------------------------------------ */
/* checksums                                                          */
/* ------------------------------------------------------------------ */

/* Two checksum values are the same one's complement number (0 and 0xffff
 * both stand for zero). */
static int csum_same(uint16_t a, uint16_t b)
{
	if (a == b)
		return 1;
	return (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

/* The helpers take fields as they sit in memory: read and write them
 * with memcpy, never through a host-order conversion. */
static uint16_t mem16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t mem32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void set16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void set32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Replace the field at off (2 or 4 bytes) with random bytes, updating the
 * checksum at sum_off incrementally; udp selects the UDP flavour. */
static void replace_field(uint8_t *buf, size_t off, int width, uint8_t *sum_p, int udp)
{
	uint16_t sum = mem16(sum_p);

	if (width == 2) {
		uint16_t from = mem16(buf + off), to = (uint16_t)rng32();

		if (udp)
			udp_csum_replace2(&sum, from, to);
		else
			csum_replace2(&sum, from, to);
		set16(buf + off, to);
	} else {
		uint32_t from = mem32(buf + off), to = rng32();

		if (udp)
			udp_csum_replace4(&sum, from, to);
		else
			csum_replace4(&sum, from, to);
		set32(buf + off, to);
	}
	set16(sum_p, sum);
}

static void test_bsc_csum_rfc1071_example(void **state)
{
	/* RFC 1071 section 3: these words sum to 0xddf2 */
	static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = bsc_csum(data, sizeof(data), 0);
	uint8_t b[2];

	memcpy(b, &c, 2); /* returned ready to store in the packet */
	assert_int_equal(b[0], 0x22);
	assert_int_equal(b[1], 0x0d);
}

static void test_bsc_csum_matches_reference(void **state)
{
	uint8_t buf[80];
	int iter;

	rng_seed(1);
	for (iter = 0; iter < 2000; iter++) {
		size_t len = 2 + rng32() % (sizeof(buf) - 1);      /* odd and even */
		uint32_t init = rng32() & 0xfffff;
		uint16_t c;

		rng_fill(buf, len);
		c = bsc_csum(buf, len, init);
		assert_int_equal(get_be16((uint8_t *)&c), ref_checksum(ref_add(init, buf, len)));
	}
}

/* IPv4 header: random fields, valid checksum; change 16-bit words and the
 * addresses one at a time, 40 changes per header, and after every change
 * the header must verify and carry the recomputed checksum. */
static void test_csum_replace_ipv4_header(void **state)
{
	static const size_t f16[] = { 2, 4, 6, 8 };   /* tot_len, id, frag, ttl|proto */
	static const size_t f32[] = { 12, 16 };       /* saddr, daddr */
	uint8_t h[20];
	int iter, step;

	rng_seed(2);
	for (iter = 0; iter < 1000; iter++) {
		rng_fill(h, sizeof(h));
		h[0] = 0x45;
		put_be16(h + 10, 0);
		put_be16(h + 10, ref_checksum(ref_add(0, h, 20)));
		assert_int_equal(ref_fold(ref_add(0, h, 20)), 0xffff);
		for (step = 0; step < 40; step++) {
			uint16_t want;

			if (rng32() & 1)
				replace_field(h, f16[rng32() % ARRAY_SIZE(f16)], 2, h + 10, 0);
			else
				replace_field(h, f32[rng32() % ARRAY_SIZE(f32)], 4, h + 10, 0);
			if (ref_fold(ref_add(0, h, 20)) != 0xffff)
				fail_msg("header %d step %d: checksum %04x does not verify", iter, step,
					 get_be16(h + 10));
			{
				uint8_t z[20];

				memcpy(z, h, 20);
				put_be16(z + 10, 0);
				want = ref_checksum(ref_add(0, z, 20));
			}
			if (!csum_same(get_be16(h + 10), want))
				fail_msg("header %d step %d: %04x, recomputed %04x", iter, step,
					 get_be16(h + 10), want);
		}
	}
}

/* An IPv4 packet with a TCP or UDP segment (odd and even payloads): NAT
 * rewrites the source address (IP and L4 checksums, the latter through the
 * pseudo-header) and the source port (L4 checksum only). */
static void l4_nat_rounds(uint8_t proto, uint64_t seed)
{
	uint8_t pkt[20 + 20 + 64];
	const int udp = proto == IPPROTO_UDP;
	const size_t hl = udp ? 8 : 20, csum_off = udp ? 6 : 16;
	int iter, step;

	rng_seed(seed);
	for (iter = 0; iter < 1000; iter++) {
		size_t l4len = hl + rng32() % 64;
		uint8_t *l4 = pkt + 20;
		uint16_t c;

		rng_fill(pkt, 20 + l4len);
		pkt[0] = 0x45;
		pkt[9] = proto;
		put_be16(pkt + 2, (uint16_t)(20 + l4len));
		if (udp)
			put_be16(l4 + 4, (uint16_t)l4len);
		put_be16(pkt + 10, 0);
		put_be16(pkt + 10, ref_checksum(ref_add(0, pkt, 20)));
		put_be16(l4 + csum_off, 0);
		c = ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto, (uint16_t)l4len),
					 l4, l4len));
		if (udp && c == 0)
			c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
		put_be16(l4 + csum_off, c);

		for (step = 0; step < 20; step++) {
			uint32_t from, to;
			uint16_t ipsum, l4sum, want;

			switch (rng32() % 3) {
			case 0: /* source address */
			case 1: /* destination address (reply direction) */
				{
					size_t off = 12 + 4 * (rng32() & 1);

					from = mem32(pkt + off);
					to = rng32();
					ipsum = mem16(pkt + 10);
					l4sum = mem16(l4 + csum_off);
					csum_replace4(&ipsum, from, to);
					if (udp)
						udp_csum_replace4(&l4sum, from, to);
					else
						csum_replace4(&l4sum, from, to);
					set32(pkt + off, to);
					set16(pkt + 10, ipsum);
					set16(l4 + csum_off, l4sum);
				}
				break;
			default: /* a port */
				replace_field(l4, 2 * (rng32() & 1), 2, l4 + csum_off, udp);
				break;
			}
			if (ref_fold(ref_add(0, pkt, 20)) != 0xffff)
				fail_msg("packet %d step %d: IPv4 checksum does not verify", iter, step);
			if (ref_fold(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto, (uint16_t)l4len),
					     l4, l4len)) != 0xffff)
				fail_msg("packet %d step %d (%zu bytes): %s checksum %04x does not verify",
					 iter, step, l4len, udp ? "UDP" : "TCP", get_be16(l4 + csum_off));
			if (udp && get_be16(l4 + csum_off) == 0)
				fail_msg("packet %d step %d: UDP checksum became 0 (\"none\")", iter, step);
			{
				uint8_t save[2];

				memcpy(save, l4 + csum_off, 2);
				put_be16(l4 + csum_off, 0);
				want = ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto,
								       (uint16_t)l4len), l4, l4len));
				memcpy(l4 + csum_off, save, 2);
			}
			if (!csum_same(get_be16(l4 + csum_off), want))
				fail_msg("packet %d step %d: L4 checksum %04x, recomputed %04x", iter,
					 step, get_be16(l4 + csum_off), want);
		}
	}
}

static void test_csum_replace_tcp_nat(void **state)
{
	l4_nat_rounds(IPPROTO_TCP, 3);
}

static void test_csum_replace_udp_nat(void **state)
{
	l4_nat_rounds(IPPROTO_UDP, 4);
}

/* The one-fold update of the fast path (nat_rewrite): an address, a port
 * and the TTL word changed at once, each checksum updated with the sum of
 * their diffs, against a recomputation. */
static void test_csum_apply_nat_and_ttl(void **state)
{
	uint8_t pkt[20 + 20 + 64];
	int iter;

	rng_seed(8);
	for (iter = 0; iter < 3000; iter++) {
		const uint8_t proto = iter % 3 == 0 ? IPPROTO_TCP : iter % 3 == 1 ? IPPROTO_UDP : IPPROTO_ICMP;
		const int udp = proto == IPPROTO_UDP, icmp = proto == IPPROTO_ICMP;
		const size_t hl = proto == IPPROTO_TCP ? 20 : 8, csum_off = udp ? 6 : icmp ? 2 : 16;
		size_t l4len = hl + rng32() % 64, aoff = 12 + 4 * (rng32() & 1);
		size_t poff = icmp ? 4 : 2 * (rng32() & 1);
		uint8_t *l4 = pkt + 20;
		uint32_t from, to, d;
		uint16_t c, want, ipsum, l4sum, pfrom, pto, tfrom;

		rng_fill(pkt, 20 + l4len);
		pkt[0] = 0x45;
		pkt[8] = (uint8_t)(2 + rng32() % 254);
		pkt[9] = proto;
		put_be16(pkt + 2, (uint16_t)(20 + l4len));
		if (udp)
			put_be16(l4 + 4, (uint16_t)l4len);
		put_be16(pkt + 10, 0);
		put_be16(pkt + 10, ref_checksum(ref_add(0, pkt, 20)));
		put_be16(l4 + csum_off, 0);
		c = icmp ? ref_checksum(ref_add(0, l4, l4len))
			 : ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto,
						   (uint16_t)l4len), l4, l4len));
		if (udp && c == 0)
			c = 0xffff;
		if (udp && iter % 7 == 0)
			c = 0; /* "no checksum" */
		put_be16(l4 + csum_off, c);

		from = mem32(pkt + aoff);
		to = rng32();
		pfrom = mem16(l4 + poff);
		pto = (uint16_t)rng32();
		tfrom = mem16(pkt + 8);
		d = csum_diff4(from, to);
		ipsum = mem16(pkt + 10);
		l4sum = mem16(l4 + csum_off);
		if (icmp)
			csum_apply(&l4sum, csum_diff2(pfrom, pto));
		else if (udp)
			udp_csum_apply(&l4sum, d + csum_diff2(pfrom, pto));
		else
			csum_apply(&l4sum, d + csum_diff2(pfrom, pto));
		set32(pkt + aoff, to);
		set16(l4 + poff, pto);
		pkt[8]--;
		csum_apply(&ipsum, d + csum_diff2(tfrom, mem16(pkt + 8)));
		set16(pkt + 10, ipsum);
		set16(l4 + csum_off, l4sum);

		if (ref_fold(ref_add(0, pkt, 20)) != 0xffff)
			fail_msg("packet %d: IPv4 checksum does not verify", iter);
		if (udp && c == 0) {
			assert_int_equal(l4sum, 0);
			continue;
		}
		if (udp && l4sum == 0)
			fail_msg("packet %d: UDP checksum became 0", iter);
		if (icmp ? ref_fold(ref_add(0, l4, l4len)) != 0xffff
			 : ref_fold(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto, (uint16_t)l4len),
					    l4, l4len)) != 0xffff)
			fail_msg("packet %d (proto %u, %zu bytes): L4 checksum does not verify", iter,
				 proto, l4len);
		put_be16(l4 + csum_off, 0);
		want = icmp ? ref_checksum(ref_add(0, l4, l4len))
			    : ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto,
						      (uint16_t)l4len), l4, l4len));
		if (!csum_same(get_be16((uint8_t *)&l4sum), want))
			fail_msg("packet %d: L4 checksum %04x, recomputed %04x", iter,
				 get_be16((uint8_t *)&l4sum), want);
	}
}

static void test_udp_zero_checksum_stays_zero(void **state)
{
	int iter;

	rng_seed(5);
	for (iter = 0; iter < 1000; iter++) {
		uint16_t sum = 0;

		udp_csum_replace2(&sum, (uint16_t)rng32(), (uint16_t)rng32());
		assert_int_equal(sum, 0);
		udp_csum_replace4(&sum, rng32(), rng32());
		assert_int_equal(sum, 0);
	}
}

/* Choose the new value of a field so that the updated checksum comes out as
 * zero: the UDP helpers must send 0xffff instead, which still verifies. */
static void test_udp_computed_zero_becomes_ffff(void **state)
{
	uint8_t seg[8 + 24];
	const size_t len = sizeof(seg);
	uint8_t saddr[4] = { 10, 1, 2, 3 }, daddr[4] = { 198, 51, 100, 9 };
	int iter;

	rng_seed(6);
	for (iter = 0; iter < 200; iter++) {
		uint16_t c, sum, plain, from16, to16, t;
		uint32_t from32, to32, s;

		rng_fill(seg, len);
		put_be16(seg + 4, (uint16_t)len);
		put_be16(seg + 6, 0);
		c = ref_checksum(ref_add(ref_pseudo(saddr, daddr, IPPROTO_UDP, (uint16_t)len), seg, len));
		put_be16(seg + 6, c ? c : 0xffff);

		/* 16-bit field (source port): to = ~fold(~sum + ~from) */
		sum = mem16(seg + 6);
		from16 = mem16(seg);
		t = csum_fold32((uint32_t)(uint16_t)~sum + (uint16_t)~from16);
		to16 = (uint16_t)~t;
		plain = sum;
		csum_replace2(&plain, from16, to16);
		assert_int_equal(plain, 0);       /* the plain helper gives 0 ... */
		udp_csum_replace2(&sum, from16, to16);
		assert_int_equal(sum, 0xffff);    /* ... the UDP one 0xffff */
		set16(seg, to16);
		set16(seg + 6, sum);
		assert_int_equal(ref_fold(ref_add(ref_pseudo(saddr, daddr, IPPROTO_UDP,
							     (uint16_t)len), seg, len)), 0xffff);

		/* 32-bit field (source address in the pseudo-header) */
		sum = mem16(seg + 6);
		memcpy(&from32, saddr, 4);
		to32 = rng32();
		s = (uint16_t)~sum;
		s += (uint16_t)~(from32 & 0xffff);
		s += (uint16_t)~(from32 >> 16);
		s += to32 >> 16;
		t = csum_fold32(s);
		to32 = (to32 & 0xffff0000u) | (uint16_t)~t;
		plain = sum;
		csum_replace4(&plain, from32, to32);
		assert_int_equal(plain, 0);
		udp_csum_replace4(&sum, from32, to32);
		assert_int_equal(sum, 0xffff);
		memcpy(saddr, &to32, 4);
		set16(seg + 6, sum);
		assert_int_equal(ref_fold(ref_add(ref_pseudo(saddr, daddr, IPPROTO_UDP,
							     (uint16_t)len), seg, len)), 0xffff);
	}
}

int main(void)
{
	T_ADD(test_bsc_csum_rfc1071_example);
	T_ADD(test_bsc_csum_matches_reference);
	T_ADD(test_csum_replace_ipv4_header);
	T_ADD(test_csum_replace_tcp_nat);
	T_ADD(test_csum_replace_udp_nat);
	T_ADD(test_csum_apply_nat_and_ttl);
	T_ADD(test_udp_zero_checksum_stays_zero);
	T_ADD(test_udp_computed_zero_becomes_ffff);

	return t_run("bascule_lib", NULL, NULL) ? 1 : 0;
}
