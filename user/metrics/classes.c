// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics/classes.c - the traffic classes in the exposition: for each class
 * and uplink, its packets, bytes and new flows (its rows of uplink_stats),
 * whether the class's new flows take that uplink now, and a balance's
 * share; all from the maps, as `bascule status` reads them.
 */
#include <bpf/bpf.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "metrics/expo.h"

struct cls_row {
	char label[2 * BSC_NAME_LEN + 1];
	struct bsc_policy pol;
	uint32_t slots[BSC_MAX_UPLINKS];
};

/* A counter family per class, uplink and direction: the fields at tx and
 * rx of the class's row of uplink_stats. */
static void pair_family(FILE *out, const struct bsc_maps *maps, const struct cls_row *cls, uint32_t n,
			char ul[][2 * BSC_NAME_LEN + 1], const int *have, const char *name,
			const char *help, size_t tx, size_t rx)
{
	struct bsc_uplink_stats st;
	uint64_t t, r;
	uint32_t c, i;

	bsc_expo_family(out, name, "counter", help);
	for (c = 0; c < n; c++)
		for (i = 0; i < BSC_MAX_UPLINKS; i++) {
			if (!have[i] || bsc_class_stats_sum(maps, i, c, &st))
				continue;
			memcpy(&t, (const char *)&st + tx, sizeof(t));
			memcpy(&r, (const char *)&st + rx, sizeof(r));
			fprintf(out, "%s{class=\"%s\",uplink=\"%s\",direction=\"tx\"} %" PRIu64 "\n"
				"%s{class=\"%s\",uplink=\"%s\",direction=\"rx\"} %" PRIu64 "\n",
				name, cls[c].label, ul[i], t, name, cls[c].label, ul[i], r);
		}
}

void bsc_expo_classes(FILE *out, const struct bsc_maps *maps)
{
	static struct cls_row cls[BSC_MAX_CLASSES];
	char ul[BSC_MAX_UPLINKS][2 * BSC_NAME_LEN + 1];
	struct bsc_uplink_stats st;
	struct bsc_config cfg;
	struct bsc_uplink u;
	uint32_t zero = 0, n, c, i;
	int have[BSC_MAX_UPLINKS] = { 0 };

	if (bpf_map_lookup_elem(maps->config, &zero, &cfg))
		return;
	n = cfg.n_classes ? cfg.n_classes : 1;
	if (n > BSC_MAX_CLASSES)
		n = BSC_MAX_CLASSES;
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		have[i] = !bsc_uplink_read(maps, i, &u) && u.ifindex;
		if (have[i])
			bsc_expo_escape(ul[i], sizeof(ul[i]), u.name, BSC_NAME_LEN);
	}
	for (c = 0; c < n; c++) {
		memset(&cls[c], 0, sizeof(cls[c]));
		if (bsc_policy_read(maps, c, &cls[c].pol))
			cls[c].pol.active = BSC_NO_UPLINK;
		bsc_expo_escape(cls[c].label, sizeof(cls[c].label),
				*cls[c].pol.name ? cls[c].pol.name : "default", BSC_NAME_LEN);
		if (cls[c].pol.balance)
			bsc_balance_shares(maps, c, cls[c].slots);
	}

	bsc_expo_family(out, "bascule_class_uplink_active", "gauge",
			"Whether new flows of the class take the uplink now (1) or not (0): its policy's uplink, "
			"or for a balance class each uplink that has slots of its table.");
	for (c = 0; c < n; c++)
		for (i = 0; i < BSC_MAX_UPLINKS; i++)
			if (have[i])
				fprintf(out, "bascule_class_uplink_active{class=\"%s\",uplink=\"%s\"} %d\n",
					cls[c].label, ul[i],
					cls[c].pol.balance ? cls[c].slots[i] > 0 : cls[c].pol.active == i);
	bsc_expo_family(out, "bascule_class_balance_share", "gauge",
			"A balance class's share of new flows on the uplink: its slots of the class's table over all of them.");
	for (c = 0; c < n; c++)
		for (i = 0; cls[c].pol.balance && i < BSC_MAX_UPLINKS; i++)
			if (have[i])
				fprintf(out, "bascule_class_balance_share{class=\"%s\",uplink=\"%s\"} %.6f\n",
					cls[c].label, ul[i], (double)cls[c].slots[i] / BSC_BALANCE_SLOTS);

	pair_family(out, maps, cls, n, ul, have, "bascule_class_packets_total",
		    "Packets of the class's flows forwarded through the uplink: tx is LAN to uplink, rx is uplink to LAN.",
		    offsetof(struct bsc_uplink_stats, tx_packets), offsetof(struct bsc_uplink_stats, rx_packets));
	pair_family(out, maps, cls, n, ul, have, "bascule_class_bytes_total",
		    "Bytes of the class's flows forwarded through the uplink (frames as seen by XDP).",
		    offsetof(struct bsc_uplink_stats, tx_bytes), offsetof(struct bsc_uplink_stats, rx_bytes));
	bsc_expo_family(out, "bascule_class_new_flows_total", "counter",
			"Flows of the class created on the uplink by the data plane.");
	for (c = 0; c < n; c++)
		for (i = 0; i < BSC_MAX_UPLINKS; i++)
			if (have[i] && !bsc_class_stats_sum(maps, i, c, &st))
				fprintf(out, "bascule_class_new_flows_total{class=\"%s\",uplink=\"%s\"} %" PRIu64 "\n",
					cls[c].label, ul[i], (uint64_t)st.new_flows);
}
