// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon.c - the controller's main loop.
 *
 * Start: load (or adopt) the data plane, learn the LAN and each uplink from
 * netlink (addresses, MACs, the gateway's MAC), fill the maps in an order
 * that never shows the data plane a half-made uplink (uplinks before the
 * policy that points at them), attach.
 * Loop: refresh uplinks from netlink (carrier loss is an immediate down; a
 * DHCP renewal updates the NAT address), keep the active uplink right,
 * reset TCP flows stranded on an uplink that went down, expire idle flows.
 * Health probing (issue 3) plugs in where the oper state is computed.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "dataplane.h"
#include "flows.h"
#include "log.h"
#include "netlink.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int setup_lan(const struct bsc_cfg *cfg, const struct bsc_maps *m)
{
	struct bsc_config c = { 0 };
	struct nl_link l;
	struct nl_addr a;
	uint32_t zero = 0, slot = BSC_LAN_SLOT, ifindex;

	ifindex = if_nametoindex(cfg->lan_ifname);
	if (!ifindex) {
		bsc_log(LOG_ERR, "lan interface %s: %s", cfg->lan_ifname, strerror(errno));
		return -ENODEV;
	}
	if (nl_link_get(ifindex, &l) || nl_addr4_get(ifindex, &a)) {
		bsc_log(LOG_ERR, "lan interface %s has no IPv4 address: give it the LAN gateway address",
			cfg->lan_ifname);
		return -ENOENT;
	}
	c.lan_ifindex = ifindex;
	c.lan_addr = a.addr;
	c.lan_mask = a.prefixlen ? htonl(~0u << (32 - a.prefixlen)) : 0;
	c.lan_net = a.addr & c.lan_mask;
	memcpy(c.lan_mac, l.mac, 6);
	c.host_flow_rate = cfg->host_flow_rate;
	c.host_flow_burst = cfg->host_flow_burst;
	if (bpf_map_update_elem(m->tx_ports, &slot, &ifindex, BPF_ANY)) {
		bsc_log(LOG_ERR, "lan interface %s cannot take redirected frames: %s",
			cfg->lan_ifname, strerror(errno));
		return -errno;
	}
	if (bpf_map_update_elem(m->config, &zero, &c, BPF_ANY))
		return -errno;
	bsc_log(LOG_INFO, "lan %s: %s/%u", cfg->lan_ifname, inet_ntoa(*(struct in_addr *)&a.addr),
		a.prefixlen);
	return 0;
}

/* Learn an uplink's facts from the kernel and write its map entry when they
 * changed.  Returns 1 when the uplink stopped carrying flows. */
static int refresh_uplink(const struct bsc_cfg *cfg, const struct bsc_maps *m, uint32_t i,
			  int resolve_ms)
{
	const struct bsc_uplink_cfg *uc = &cfg->uplinks[i];
	struct bsc_uplink u, old;
	struct nl_link l = { 0 };
	struct nl_addr a = { 0 };
	uint8_t mac[6];
	uint32_t ifindex = if_nametoindex(uc->ifname);

	if (bsc_uplink_read(m, i, &old))
		memset(&old, 0, sizeof(old));
	u = old;
	memset(u.name, 0, sizeof(u.name));
	snprintf(u.name, sizeof(u.name), "%s", uc->name);
	u.ifindex = ifindex;
	u.gateway = uc->gateway;
	u.priority = uc->priority;
	if (ifindex && !nl_link_get(ifindex, &l)) {
		memcpy(u.mac, l.mac, 6);
		if (!nl_addr4_get(ifindex, &a))
			u.addr = a.addr;
		else
			u.addr = 0;
		/* The last known gateway MAC stays in use while the kernel's
		 * entry ages out: XDP traffic does not refresh it. */
		if (l.carrier && !nl_neigh_resolve(ifindex, uc->gateway, mac, resolve_ms))
			memcpy(u.gw_mac, mac, 6);
	}
	u.state = bsc_uplink_oper_state(u.admin, ifindex && l.up && l.carrier, u.addr, u.gw_mac);
	if (!memcmp(&u, &old, sizeof(u)))
		return 0;
	if (ifindex) {
		uint32_t idx = i;

		bpf_map_update_elem(m->uplink_idx, &ifindex, &idx, BPF_ANY);
		bpf_map_update_elem(m->tx_ports, &idx, &ifindex, BPF_ANY);
	}
	bsc_uplink_write(m, i, &u);
	if (u.state != old.state || u.addr != old.addr)
		bsc_log(LOG_NOTICE, "uplink %s (%s): %s -> %s, address %s%s", uc->name, uc->ifname,
			bsc_state_names[old.state & 3], bsc_state_names[u.state & 3],
			inet_ntoa(*(struct in_addr *)&u.addr),
			!l.carrier ? ", no carrier" : !u.addr ? ", no address" :
			!memcmp(u.gw_mac, "\0\0\0\0\0\0", 6) ? ", gateway MAC unknown" : "");
	return old.state != BSC_UPLINK_DOWN && u.state == BSC_UPLINK_DOWN &&
	       old.ifindex != 0;
}

static void refresh_all(const struct bsc_cfg *cfg, const struct bsc_maps *m, int resolve_ms)
{
	uint32_t i, active;
	int changed;

	for (i = 0; i < (uint32_t)cfg->n_uplinks; i++) {
		if (refresh_uplink(cfg, m, i, resolve_ms)) {
			int n = bsc_flows_kick_tcp(m, i);

			if (n > 0)
				bsc_log(LOG_NOTICE, "uplink %s down: resetting %d TCP flow(s)",
					cfg->uplinks[i].name, n);
		}
	}
	active = bsc_policy_reselect(m, 0, &changed);
	if (changed)
		bsc_log(LOG_NOTICE, "active uplink: %s",
			active < (uint32_t)cfg->n_uplinks ? cfg->uplinks[active].name : "none");
}

/* Uplinks of an older configuration that are gone now must not keep
 * taking flows. */
static void clear_stale_uplinks(const struct bsc_cfg *cfg, const struct bsc_maps *m)
{
	struct bsc_uplink u, empty = { 0 };
	uint32_t i;

	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		if (bsc_uplink_read(m, i, &u) || !u.ifindex)
			continue;
		if (i < (uint32_t)cfg->n_uplinks && !strcmp(u.name, cfg->uplinks[i].name))
			continue;
		bpf_map_delete_elem(m->uplink_idx, &u.ifindex);
		bsc_uplink_write(m, i, &empty);
	}
}

static void init_policy(const struct bsc_maps *m)
{
	struct bsc_policy p;
	uint32_t i;

	for (i = 0; i < BSC_MAX_POLICIES; i++) {
		if (bsc_policy_read(m, i, &p))
			continue;
		/* A fresh map is all zeroes, which would name uplink 0. */
		if (p.active == 0 && p.preferred == 0) {
			p.active = BSC_NO_UPLINK;
			p.preferred = BSC_NO_UPLINK;
			bpf_map_update_elem(m->policy, &i, &p, BPF_ANY);
		}
	}
}

int bsc_daemon_run(const struct bsc_cfg *cfg, const struct bsc_run_opts *o)
{
	struct bsc_timeouts to;
	struct sigaction sa = { .sa_handler = on_signal };
	struct bsc_dp dp;
	char err[512];
	uint64_t next_gc, next_refresh;
	int i, ret;

	ret = bsc_dp_load(&dp, cfg, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		return ret;
	}
	init_policy(&dp.maps);
	clear_stale_uplinks(cfg, &dp.maps);
	ret = setup_lan(cfg, &dp.maps);
	if (ret)
		goto out;
	refresh_all(cfg, &dp.maps, 1000);

	ret = bsc_dp_attach(&dp, cfg->lan_ifname, 1, err, sizeof(err));
	for (i = 0; !ret && i < cfg->n_uplinks; i++)
		ret = bsc_dp_attach(&dp, cfg->uplinks[i].ifname, 0, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		goto out;
	}
	for (i = 0; i < dp.n_links; i++)
		bsc_log(LOG_INFO, "XDP %s on %s%s", i == 0 ? "bascule_lan" : "bascule_wan",
			dp.links[i].ifname, dp.links[i].adopted ? " (adopted running link)" : "");

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	bsc_timeouts_from_cfg(&to, cfg);
	bsc_log(LOG_INFO, "running: pin root %s, %d uplink(s), flow table %u", cfg->pin_root,
		cfg->n_uplinks, cfg->flow_table_size);
	printf("READY\n");
	fflush(stdout);

	next_gc = bsc_now_ns() + (uint64_t)cfg->gc_interval_ms * 1000000ull;
	next_refresh = bsc_now_ns();
	while (!stop_signal) {
		uint64_t now = bsc_now_ns();

		if (now >= next_refresh) {
			refresh_all(cfg, &dp.maps, 100);
			next_refresh = now + (uint64_t)cfg->refresh_interval_ms * 1000000ull;
		}
		if (now >= next_gc) {
			int n = bsc_flows_gc(&dp.maps, &to, now);

			if (n > 0)
				bsc_log(LOG_DEBUG, "expired %d flow(s)", n);
			next_gc = now + (uint64_t)cfg->gc_interval_ms * 1000000ull;
		}
		poll(NULL, 0, 50);
	}
	bsc_log(LOG_INFO, "signal %d: %s", stop_signal,
		o->keep ? "leaving the data plane running (pinned)" : "detaching");
	ret = 0;
out:
	bsc_dp_close(&dp, o->keep && !ret);
	return ret;
}
