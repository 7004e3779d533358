/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane/balance.h - a balance class's table (bascule.h, struct
 * bsc_balance) by weighted rendezvous hashing.
 */
#ifndef BSC_USER_BALANCE_H
#define BSC_USER_BALANCE_H

#include <stdint.h>
#include "bascule.h"

/* One uplink of a balance: its index in the maps, its name (what the hash
 * is keyed on, so that the table does not change when the file's order
 * does) and its weight (> 0). */
struct bsc_balance_member {
	uint32_t idx;
	const char *name;
	uint32_t weight;
};

/* Fill b: each slot to the member with the highest score w / -ln(u), u
 * uniform from a hash of (name, slot), so that each member gets a share
 * of the slots in proportion to its weight, and removing a member moves
 * only the slots it had.  n == 0: every slot BSC_BALANCE_NONE. */
void bsc_balance_fill(struct bsc_balance *b, const struct bsc_balance_member *m, int n);

/* Each uplink's slots in b (slots[i]: uplink i's; BSC_BALANCE_NONE counts
 * for none). */
void bsc_balance_count(const struct bsc_balance *b, uint32_t slots[BSC_MAX_UPLINKS]);

#endif
