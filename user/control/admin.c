// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * control/admin.c - the operator's actions on uplinks: the verbs (one
 * table, read by the CLI and the daemon), and carrying them out on the
 * pinned maps when no daemon runs.  With a daemon running, the CLI sends
 * them over the control socket and the daemon decides (daemon/requests.c);
 * the choice of the active uplink is the same function either way
 * (health/'s bsc_choose_active).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "control/admin.h"
#include "dataplane/flows.h"
#include "dataplane/move.h"
#include "health/health.h"

const struct bsc_uplink_verb bsc_uplink_verbs[] = {
	{ "down", BSC_VERB_ADMIN, BSC_ADMIN_DOWN, 1 },
	{ "drain", BSC_VERB_ADMIN, BSC_ADMIN_DRAIN, 1 },
	{ "up", BSC_VERB_ADMIN, BSC_ADMIN_AUTO, 1 },
	{ "undrain", BSC_VERB_ADMIN, BSC_ADMIN_AUTO, 1 },
	{ "activate", BSC_VERB_PREFER, 0, 1 },
	{ "auto", BSC_VERB_PREFER, 0, 0 },
	{ NULL },
};

const struct bsc_uplink_verb *bsc_uplink_verb_find(const char *verb)
{
	const struct bsc_uplink_verb *v;

	for (v = bsc_uplink_verbs; v->name; v++)
		if (!strcmp(v->name, verb))
			return v;
	return NULL;
}

const char *bsc_uplink_state_name(uint32_t s)
{
	return s < 4 ? bsc_state_names[s] : "?";
}

static const uint8_t zero_mac[6];

uint32_t bsc_uplink_oper_state(uint32_t admin, int carrier, uint32_t addr, const uint8_t gw_mac[6])
{
	int ready = carrier && addr && memcmp(gw_mac, zero_mac, 6);

	return bsc_dataplane_state(ready ? BSC_H_UP : BSC_H_DOWN, admin);
}

static int find_or_complain(const struct bsc_maps *m, const char *name, FILE *out)
{
	int idx = bsc_uplink_find(m, name);

	if (idx < 0)
		fprintf(out, "no uplink called '%s' (see `bascule status`)\n", name);
	return idx;
}

int bsc_ctl_uplink_admin(const struct bsc_maps *m, const char *name, uint32_t admin, FILE *out)
{
	struct bsc_uplink u;
	uint32_t old, active;
	int idx, changed, kicked = 0;
	char an[BSC_NAME_LEN + 8] = "none";

	idx = find_or_complain(m, name, out);
	if (idx < 0 || bsc_uplink_read(m, (uint32_t)idx, &u))
		return -ENOENT;
	old = u.state;
	u.admin = admin;
	/* Without fresh netlink facts, an uplink taken back into service is
	 * trusted as it was last seen; the daemon corrects it on its next
	 * refresh. */
	u.state = bsc_uplink_oper_state(admin, 1, u.addr, u.gw_mac);
	if (bsc_uplink_write(m, (uint32_t)idx, &u))
		return -errno;
	active = bsc_policy_reselect(m, 0, &changed);
	if (old != BSC_UPLINK_DOWN && u.state == BSC_UPLINK_DOWN)
		kicked = bsc_flows_kick_tcp(m, (uint32_t)idx);
	if (active != BSC_NO_UPLINK) {
		struct bsc_uplink a;

		if (!bsc_uplink_read(m, active, &a))
			snprintf(an, sizeof(an), "%s", a.name);
	}
	fprintf(out, "uplink %s: %s -> %s; active uplink: %s%s", name, bsc_uplink_state_name(old),
		bsc_uplink_state_name(u.state), an, changed ? " (changed)" : "");
	if (kicked > 0)
		fprintf(out, "; %d TCP flow(s) being reset", kicked);
	fprintf(out, "\n");
	return 0;
}

int bsc_ctl_uplink_activate(const struct bsc_maps *m, const char *name, FILE *out)
{
	struct bsc_policy p;
	struct bsc_uplink u;
	uint32_t pol = 0, active;
	int idx = -1, changed;

	if (name) {
		idx = find_or_complain(m, name, out);
		if (idx < 0)
			return -ENOENT;
		if (bsc_uplink_read(m, (uint32_t)idx, &u))
			return -errno;
		if (u.state != BSC_UPLINK_UP) {
			fprintf(out, "uplink %s is %s: it cannot take new flows\n", name,
				bsc_uplink_state_name(u.state));
			return -EAGAIN;
		}
	}
	if (bsc_policy_read(m, pol, &p))
		return -errno;
	p.preferred = idx < 0 ? BSC_NO_UPLINK : (uint32_t)idx;
	if (bpf_map_update_elem(m->policy, &pol, &p, BPF_ANY))
		return -errno;
	active = bsc_policy_reselect(m, pol, &changed);
	if (active != BSC_NO_UPLINK && !bsc_uplink_read(m, active, &u))
		fprintf(out, "active uplink: %s%s\n", u.name, changed ? " (changed)" : "");
	else
		fprintf(out, "no uplink can take new flows\n");
	return 0;
}

