/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane/maps.h - file descriptors of the data plane's maps, either from a freshly
 * loaded skeleton or from the pins (the CLI, a restarted daemon), and the
 * operations on them that both the daemon and the CLI use.
 */
#ifndef BSC_USER_MAPS_H
#define BSC_USER_MAPS_H

#include <stdint.h>
#include <stdio.h>
#include "bascule.h"

struct bsc_maps {
	int config, uplinks, policy, tx_ports, flows, rev, hosts, host_macs, frags, uplink_stats,
		reasons, flow_gen, class_rules, balance;
};

#define BSC_MAP_NAMES(X) X(config) X(uplinks) X(policy) \
	X(tx_ports) X(flows) X(rev) X(hosts) X(host_macs) X(frags) X(uplink_stats) X(reasons) \
	X(flow_gen) X(class_rules) X(balance)
/* Maps of earlier versions, removed by `bascule purge` too. */
#define BSC_RETIRED_MAP_NAMES(X) X(uplink_idx)

extern const char *const bsc_reason_names[BSC_R_MAX];
extern const char *const bsc_state_names[4];

void bsc_maps_init(struct bsc_maps *m);
/* Open every pinned map under pin_root; -errno and a message on failure. */
int bsc_maps_open_pinned(struct bsc_maps *m, const char *pin_root, char *err, size_t errlen);
void bsc_maps_close(struct bsc_maps *m);

int bsc_uplink_read(const struct bsc_maps *m, uint32_t idx, struct bsc_uplink *u);
/* How many ports the uplink's NAT range holds (its default when unset). */
uint32_t bsc_uplink_nat_ports(const struct bsc_uplink *u);
int bsc_uplink_write(const struct bsc_maps *m, uint32_t idx, const struct bsc_uplink *u);
/* Index of the uplink called name, or -1. */
int bsc_uplink_find(const struct bsc_maps *m, const char *name);
int bsc_policy_read(const struct bsc_maps *m, uint32_t pol, struct bsc_policy *p);

/* Choose the uplink new flows take: the preferred one if it is UP, else the
 * UP uplink with the lowest priority value (lowest index on a tie), else
 * BSC_NO_UPLINK.  Pure: unit-tested. */
uint32_t bsc_select_uplink(const struct bsc_uplink *u, int n, uint32_t preferred);
/* Recompute and write the active uplink of policy pol; returns it, and sets
 * *changed when it moved. */
uint32_t bsc_policy_reselect(const struct bsc_maps *m, uint32_t pol, int *changed);

/* Sum of the per-CPU stats of one uplink / of one reason. */
int bsc_uplink_stats_sum(const struct bsc_maps *m, uint32_t idx, struct bsc_uplink_stats *out);
/* to += from, counter by counter. */
void bsc_uplink_stats_add(struct bsc_uplink_stats *to, const struct bsc_uplink_stats *from);
/* One class's counters on uplink idx (summed over the CPUs). */
int bsc_class_stats_sum(const struct bsc_maps *m, uint32_t idx, uint32_t cls,
			struct bsc_uplink_stats *out);
int bsc_reasons_sum(const struct bsc_maps *m, uint64_t out[BSC_R_MAX]);
/* A balance class's slots per uplink, from its table in the `balance` map
 * (bsc_balance_count); 0 or -errno. */
int bsc_balance_shares(const struct bsc_maps *m, uint32_t cls, uint32_t slots[BSC_MAX_UPLINKS]);

#endif
