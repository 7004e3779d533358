// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dataplane/balance.c - see balance.h.  Rendezvous (highest random weight)
 * hashing, weighted as in Schindelhauer and Schomaker's "weighted
 * distributed hash tables": score = -w / ln(u).  4,096 slots and at most 8
 * members: 32,768 scores, about half a millisecond, computed only when a
 * class's members change.
 */
#include <math.h>
#include <string.h>

#include "dataplane/balance.h"

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* splitmix64's finaliser */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void bsc_balance_fill(struct bsc_balance *b, const struct bsc_balance_member *m, int n)
{
	uint64_t key[BSC_MAX_UPLINKS];
	uint32_t s;
	int i;

	memset(b->slot, BSC_BALANCE_NONE, sizeof(b->slot));
	for (i = 0; i < n && i < BSC_MAX_UPLINKS; i++)
		key[i] = fnv1a(m[i].name);
	for (s = 0; s < BSC_BALANCE_SLOTS; s++) {
		double best = 0;

		for (i = 0; i < n && i < BSC_MAX_UPLINKS; i++) {
			/* u in (0, 1): 53 bits and a half */
			double u = ((double)(mix64(key[i] ^ mix64(s)) >> 11) + 0.5) / 9007199254740992.0;
			double score = -(double)m[i].weight / log(u);

			if (score > best) {
				best = score;
				b->slot[s] = (uint8_t)m[i].idx;
			}
		}
	}
}

void bsc_balance_count(const struct bsc_balance *b, uint32_t slots[BSC_MAX_UPLINKS])
{
	uint32_t i;

	memset(slots, 0, BSC_MAX_UPLINKS * sizeof(slots[0]));
	for (i = 0; i < BSC_BALANCE_SLOTS; i++)
		if (b->slot[i] < BSC_MAX_UPLINKS)
			slots[b->slot[i]]++;
}
