// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dataplane/maps.c - access to the data plane's maps shared by the daemon and the CLI:
 * opening the pins, reading and writing uplinks and policies, choosing the
 * active uplink, summing per-CPU counters.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health/health.h"
#include "dataplane/balance.h"
#include "dataplane/maps.h"

const char *const bsc_reason_names[BSC_R_MAX] = {
	[BSC_R_FWD_LAN] = "fwd_lan_to_uplink",
	[BSC_R_FWD_WAN] = "fwd_uplink_to_lan",
	[BSC_R_PASS_NON_IP] = "pass_non_ip",
	[BSC_R_PASS_VLAN] = "pass_vlan",
	[BSC_R_PASS_BCAST] = "pass_broadcast",
	[BSC_R_PASS_LOCAL] = "pass_local",
	[BSC_R_PASS_FRAGMENT] = "pass_fragment",
	[BSC_R_PASS_PROTO] = "pass_protocol",
	[BSC_R_PASS_TTL] = "pass_ttl_expired",
	[BSC_R_PASS_NO_BINDING] = "pass_no_binding",
	[BSC_R_PASS_ICMP] = "pass_icmp",
	[BSC_R_PASS_NOT_READY] = "pass_not_ready",
	[BSC_R_PASS_NOT_FOR_US] = "pass_not_for_us",
	[BSC_R_PASS_ROUTE] = "pass_route",
	[BSC_R_DROP_MALFORMED] = "drop_malformed",
	[BSC_R_DROP_NO_UPLINK] = "drop_no_uplink",
	[BSC_R_DROP_NAT_EXHAUSTED] = "drop_nat_exhausted",
	[BSC_R_DROP_WAN_UNSOLICITED] = "drop_wan_unsolicited",
	[BSC_R_DROP_TCP_NO_FLOW] = "drop_tcp_no_flow",
	[BSC_R_DROP_REDIRECT] = "drop_redirect",
	[BSC_R_DROP_MAP_FULL] = "drop_map_full",
	[BSC_R_DROP_HOST_LIMIT] = "drop_host_flow_limit",
	[BSC_R_DROP_WAN_NO_BINDING] = "drop_wan_no_binding",
	[BSC_R_DROP_WAN_TTL] = "drop_wan_ttl_expired",
	[BSC_R_DROP_SPOOFED_SRC] = "drop_spoofed_source",
	[BSC_R_DROP_MAC_MISMATCH] = "drop_mac_mismatch",
	[BSC_R_DROP_TCP_FLAGS] = "drop_tcp_bad_flags",
	[BSC_R_DROP_ICMP_QUOTE] = "drop_icmp_quote_mismatch",
	[BSC_R_DROP_BOGON] = "drop_bogon",
	[BSC_R_DROP_FRAG_UNKNOWN] = "drop_fragment_unknown",
	[BSC_R_DROP_SOURCE_GUARD] = "drop_source_guard",
	[BSC_R_DROP_MAC_LIMIT] = "drop_mac_flow_limit",
	[BSC_R_DROP_DRILL] = "drop_drill",
	[BSC_R_DROP_CLASS_NO_UPLINK] = "drop_class_no_uplink",
	[BSC_R_TX_RST_UPLINK_DOWN] = "tx_rst_uplink_down",
	[BSC_R_TX_RST_NO_FLOW] = "tx_rst_no_flow",
	[BSC_R_TX_FRAG_NEEDED] = "tx_frag_needed",
	[BSC_R_REBOUND] = "flow_rebound",
	[BSC_R_ICMP_ERR_XLATED] = "icmp_error_translated",
	[BSC_R_TCP_CLOSE_UNVERIFIED] = "tcp_close_unverified",
	[BSC_R_TX_RST_MOVED] = "tx_rst_moved",
};

const char *const bsc_state_names[4] = { "unknown", "up", "down", "drained" };

void bsc_maps_init(struct bsc_maps *m)
{
#define X(n) m->n = -1;
	BSC_MAP_NAMES(X)
#undef X
}

int bsc_maps_open_pinned(struct bsc_maps *m, const char *pin_root, char *err, size_t errlen)
{
	char path[512];

	bsc_maps_init(m);
#define X(n)                                                                        \
	snprintf(path, sizeof(path), "%s/%s", pin_root, #n);                        \
	m->n = bpf_obj_get(path);                                                   \
	if (m->n < 0) {                                                             \
		int e = -errno;                                                     \
		snprintf(err, errlen, "cannot open pinned map %s: %s (is the data plane loaded? see `bascule run`)", \
			 path, strerror(-e));                                       \
		bsc_maps_close(m);                                                  \
		return e;                                                           \
	}
	BSC_MAP_NAMES(X)
#undef X
	return 0;
}

void bsc_maps_close(struct bsc_maps *m)
{
#define X(n) if (m->n >= 0) close(m->n); m->n = -1;
	BSC_MAP_NAMES(X)
#undef X
}

int bsc_uplink_read(const struct bsc_maps *m, uint32_t idx, struct bsc_uplink *u)
{
	return bpf_map_lookup_elem(m->uplinks, &idx, u) ? -errno : 0;
}

int bsc_uplink_write(const struct bsc_maps *m, uint32_t idx, const struct bsc_uplink *u)
{
	return bpf_map_update_elem(m->uplinks, &idx, u, BPF_ANY) ? -errno : 0;
}

int bsc_uplink_find(const struct bsc_maps *m, const char *name)
{
	struct bsc_uplink u;
	uint32_t i;

	for (i = 0; i < BSC_MAX_UPLINKS; i++)
		if (!bsc_uplink_read(m, i, &u) && u.ifindex &&
		    !strncmp(u.name, name, BSC_NAME_LEN))
			return (int)i;
	return -1;
}

int bsc_policy_read(const struct bsc_maps *m, uint32_t pol, struct bsc_policy *p)
{
	return bpf_map_lookup_elem(m->policy, &pol, p) ? -errno : 0;
}

uint32_t bsc_select_uplink(const struct bsc_uplink *u, int n, uint32_t preferred)
{
	struct bsc_candidate c[BSC_MAX_UPLINKS] = { 0 };
	int i;

	/* From the maps alone: an uplink the data plane has UP is healthy
	 * (its admin word is already folded into that state). */
	for (i = 0; i < n && i < BSC_MAX_UPLINKS; i++) {
		c[i].present = u[i].ifindex != 0;
		c[i].health = u[i].state == BSC_UPLINK_UP ? BSC_H_UP : BSC_H_DOWN;
		c[i].admin = BSC_ADMIN_AUTO;
		c[i].priority = u[i].priority;
	}
	return bsc_choose_active(c, i, BSC_NO_UPLINK, preferred, 0, 0);
}

uint32_t bsc_policy_reselect(const struct bsc_maps *m, uint32_t pol, int *changed)
{
	struct bsc_uplink u[BSC_MAX_UPLINKS];
	struct bsc_policy p;
	uint32_t i, active;

	*changed = 0;
	if (bsc_policy_read(m, pol, &p))
		return BSC_NO_UPLINK;
	for (i = 0; i < BSC_MAX_UPLINKS; i++)
		if (bsc_uplink_read(m, i, &u[i]))
			memset(&u[i], 0, sizeof(u[i]));
	active = bsc_select_uplink(u, BSC_MAX_UPLINKS, p.preferred);
	if (active != p.active) {
		p.active = active;
		/* One map write: the next new flow sees it. */
		if (!bpf_map_update_elem(m->policy, &pol, &p, BPF_ANY))
			*changed = 1;
	}
	return active;
}

static int percpu_read(int fd, uint32_t key, void *vals, size_t vsize, int ncpu)
{
	(void)vsize;
	(void)ncpu;
	return bpf_map_lookup_elem(fd, &key, vals) ? -errno : 0;
}

/* How many classes the data plane counts: config.n_classes (at least the
 * default class). */
static uint32_t classes_in_use(const struct bsc_maps *m)
{
	struct bsc_config cfg;
	uint32_t zero = 0;

	if (m->config < 0 || bpf_map_lookup_elem(m->config, &zero, &cfg) || !cfg.n_classes)
		return 1;
	return cfg.n_classes < BSC_MAX_CLASSES ? cfg.n_classes : BSC_MAX_CLASSES;
}

void bsc_uplink_stats_add(struct bsc_uplink_stats *to, const struct bsc_uplink_stats *from)
{
	to->tx_packets += from->tx_packets;
	to->tx_bytes += from->tx_bytes;
	to->rx_packets += from->rx_packets;
	to->rx_bytes += from->rx_bytes;
	to->new_flows += from->new_flows;
	to->rebound += from->rebound;
	to->nat_exhausted += from->nat_exhausted;
}

/* Class cls's counters on uplink idx (bascule.h: its row of uplink_stats). */
int bsc_class_stats_sum(const struct bsc_maps *m, uint32_t idx, uint32_t cls,
			struct bsc_uplink_stats *out)
{
	int ncpu = libbpf_num_possible_cpus(), c, ret;
	struct bsc_uplink_stats *v;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0 || idx >= BSC_MAX_UPLINKS || cls >= BSC_MAX_CLASSES)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = percpu_read(m->uplink_stats, cls * BSC_MAX_UPLINKS + idx, v, sizeof(*v), ncpu);
	for (c = 0; !ret && c < ncpu; c++) {
		bsc_uplink_stats_add(out, &v[c]);
	}
	free(v);
	return ret;
}

/* Uplink idx's counters: the sum of its rows over the classes in use. */
int bsc_uplink_stats_sum(const struct bsc_maps *m, uint32_t idx, struct bsc_uplink_stats *out)
{
	uint32_t n = classes_in_use(m), cls;
	struct bsc_uplink_stats one;
	int ret;

	ret = bsc_class_stats_sum(m, idx, 0, out);
	for (cls = 1; !ret && cls < n; cls++) {
		ret = bsc_class_stats_sum(m, idx, cls, &one);
		bsc_uplink_stats_add(out, &one);
	}
	return ret;
}

int bsc_reasons_sum(const struct bsc_maps *m, uint64_t out[BSC_R_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), c, ret = 0;
	uint64_t *v;
	uint32_t r;

	memset(out, 0, sizeof(uint64_t) * BSC_R_MAX);
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (r = 0; r < BSC_R_MAX && !ret; r++) {
		ret = percpu_read(m->reasons, r, v, sizeof(*v), ncpu);
		for (c = 0; !ret && c < ncpu; c++)
			out[r] += v[c];
	}
	free(v);
	/* forwarded packets are counted per uplink only (bascule.h) */
	for (r = 0; !ret && r < BSC_MAX_UPLINKS; r++) {
		struct bsc_uplink_stats st;

		if (bsc_uplink_stats_sum(m, r, &st))
			continue;
		out[BSC_R_FWD_LAN] += st.tx_packets;
		out[BSC_R_FWD_WAN] += st.rx_packets;
	}
	return ret;
}

uint32_t bsc_uplink_nat_ports(const struct bsc_uplink *u)
{
	uint32_t lo = u->nat_port_min ? u->nat_port_min : BSC_NAT_PORT_MIN_DEFAULT;
	uint32_t hi = u->nat_port_max ? u->nat_port_max : BSC_NAT_PORT_MAX_DEFAULT;

	return hi >= lo ? hi - lo + 1 : 0;
}

int bsc_balance_shares(const struct bsc_maps *m, uint32_t cls, uint32_t slots[BSC_MAX_UPLINKS])
{
	static struct bsc_balance b; /* 4 KiB: not on the stack */

	if (bpf_map_lookup_elem(m->balance, &cls, &b))
		return -errno;
	bsc_balance_count(&b, slots);
	return 0;
}
