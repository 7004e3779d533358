// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/uplinks.c - the kernel's facts about each uplink and the LAN
 * (netlink: carrier, address, gateway and its MAC, routes for the probes),
 * kept current from the link monitor and the refresh timer, and the maps
 * set up from them at start.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/state.h"
#include "dataplane/flows.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"


/* Whether probes through this uplink can work as the kernel routes now:
 * from its address to its first target, out of its device through a route
 * (not the kernel's "assume on-link" fallback for a socket bound to a
 * device), and the answer, coming in on the device, not dropped by the
 * reverse-path filter (rp_filter).  manage_routes arranges both (a table
 * and a rule per uplink); without it, the operator's own routing must, and
 * an uplink that looks dead only because of its routes is named as such in
 * `bascule health` and the log, instead of a bare timeout.  Without
 * carrier or address there is nothing to ask, and the finding stays; a new
 * finding counts once two checks in a row agree (a DHCP client adds the
 * address a moment before its route). */
static void path_check(struct daemon *d, struct uplink_rt *u, int carrier)
{
	char w[sizeof(u->path_warning)] = "", a[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
	char ifn[IF_NAMESIZE] = "?";
	uint32_t target;
	struct nl_route r;
	int ret;

	if (!u->ifindex || !u->addr || !carrier || !u->cfg->n_probes)
		return;
	target = u->cfg->probes[0].addr;
	inet_ntop(AF_INET, &u->addr, a, sizeof(a));
	inet_ntop(AF_INET, &target, t, sizeof(t));
	ret = nl_route_get(target, u->addr, 0, u->ifindex, &r);
	if (ret)
		snprintf(w, sizeof(w), "no route from %s to %s out of %s (%s)", a, t, u->cfg->ifname,
			 strerror(-ret));
	else if (r.oif != u->ifindex)
		snprintf(w, sizeof(w), "traffic from %s to %s is routed out of %s, not %s", a, t,
			 if_indextoname(r.oif, ifn) ? ifn : "?", u->cfg->ifname);
	else if (!r.table)
		snprintf(w, sizeof(w), "no route from %s to %s through %s: the kernel takes %s for on-link and probes go unanswered",
			 a, t, u->cfg->ifname, t);
	else if ((ret = nl_route_get(u->addr, target, u->ifindex, 0, &r)))
		snprintf(w, sizeof(w), "the kernel drops replies from %s coming in on %s (%s): the reverse-path filter (rp_filter) finds no route back to %s through %s",
			 t, u->cfg->ifname, strerror(-ret), t, u->cfg->ifname);
	if (w[0] && !d->cfg->manage_routes)
		snprintf(w + strlen(w), sizeof(w) - strlen(w),
			 "; manage_routes is off: route 'from %s' through %s yourself, or set manage_routes = yes",
			 a, u->cfg->ifname);
	if (!strcmp(w, u->path_warning) || strcmp(w, u->path_seen)) {
		snprintf(u->path_seen, sizeof(u->path_seen), "%s", w);
		return;
	}
	if (w[0])
		bsc_log(LOG_WARNING, "uplink %s: %s", u->cfg->name, w);
	else
		bsc_log(LOG_NOTICE, "uplink %s: its probes are routed through it again", u->cfg->name);
	snprintf(u->path_warning, sizeof(u->path_warning), "%s", w);
}

void daemon_refresh_uplink(struct daemon *d, struct uplink_rt *u)
{
	const struct bsc_uplink_cfg *c = u->cfg;
	struct nl_link l = { 0 };
	struct nl_addr a = { 0 };
	uint8_t mac[6];
	uint32_t ifindex = if_nametoindex(c->ifname);
	int carrier = 0;
	enum bsc_health old = u->hs.health;

	u->ifindex = ifindex;
	if (ifindex && !nl_link_get(ifindex, &l)) {
		memcpy(u->mac, l.mac, 6);
		carrier = l.up && l.carrier;
		u->addr = nl_addr4_get(ifindex, &a) ? 0 : a.addr;
		if (c->gateway_auto) {
			uint32_t gw = 0;

			/* DHCP moved the gateway (a replaced 5G router): its
			 * MAC is another one too. */
			if (!nl_default_gw(ifindex, d->cfg->route_metric, &gw) && gw != u->gateway) {
				bsc_log(LOG_NOTICE, "uplink %s: gateway %s (learnt from the kernel's routes)",
					c->name, inet_ntoa(*(struct in_addr *)&gw));
				u->gateway = gw;
				memset(u->gw_mac, 0, 6);
			}
		}
		/* The last known gateway MAC stays in use while the kernel's
		 * entry ages out: XDP traffic does not refresh it.  One not
		 * known yet is asked for, never waited for: it comes back as
		 * a neighbour event (on_neigh). */
		if (carrier && u->gateway && !nl_neigh_resolve(ifindex, u->gateway, mac))
			memcpy(u->gw_mac, mac, 6);
	} else {
		u->addr = 0;
	}
	if (ifindex) {
		uint32_t idx = u->idx;

		bpf_map_update_elem(d->dp.maps.tx_ports, &idx, &ifindex, BPF_ANY);
	}
	if (u->prober)
		bsc_prober_set_source(u->prober, u->addr);
	daemon_routes_for_uplink(d, u);
	path_check(d, u, carrier);

	if (bsc_health_carrier(&u->hs, daemon_hcfg(u), carrier, bsc_now_ns()))
		daemon_health_changed(u, old);
	else if (carrier && !u->carrier && u->hs.health == BSC_H_DOWN && u->ifindex)
		daemon_record(d, "carrier", c->name, "no carrier", "carrier", u->hs.reason);
	old = u->hs.health;
	/* Without probes, an uplink is as healthy as its link looks. */
	if (!c->n_probes) {
		int ready = carrier && u->addr && !daemon_mac_unknown(u->gw_mac);
		enum bsc_health h = ready ? BSC_H_UP : BSC_H_DOWN;

		if (h != u->hs.health) {
			u->hs.health = h;
			u->hs.since_ns = bsc_now_ns();
			snprintf(u->hs.reason, sizeof(u->hs.reason), "%s",
				 ready ? "link ready (no probes configured)" :
				 !carrier ? "no carrier" : !u->addr ? "no address" :
				 "gateway MAC unknown");
			daemon_health_changed(u, old);
		}
	} else if (u->hs.health == BSC_H_UNKNOWN || u->hs.health == BSC_H_DOWN) {
		/* probes need an address and a way out */
		if (!u->addr && carrier)
			snprintf(u->hs.reason, sizeof(u->hs.reason), "no address");
	}
	u->carrier = carrier;
}

static void on_link_change(void *data, uint32_t ifindex)
{
	struct daemon *d = data;
	int i;

	d->mon_dirty = 1;
	for (i = 0; i < d->n; i++)
		if (d->up[i].ifindex == ifindex || !d->up[i].ifindex)
			daemon_refresh_uplink(d, &d->up[i]);
}

/* A neighbour has a MAC now: an uplink's gateway that was asked for. The
 * LAN's many neighbours come here too, and cost a compare each. */
static void on_neigh(void *data, uint32_t ifindex, uint32_t ip)
{
	struct daemon *d = data;
	int i;

	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];

		if (u->ifindex == ifindex && u->gateway == ip) {
			uint8_t before[6];

			memcpy(before, u->gw_mac, 6);
			daemon_refresh_uplink(d, u);
			d->mon_dirty |= memcmp(before, u->gw_mac, 6) != 0;
		}
	}
}

int daemon_monitor_io(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct daemon *d = data;
	int i;

	d->mon_dirty = 0;
	if (nl_monitor_read(d->mon, on_link_change, on_neigh, d) == -ENOBUFS) {
		for (i = 0; i < d->n; i++)
			daemon_refresh_uplink(d, &d->up[i]);
		d->mon_dirty = 1;
	}
	if (d->mon_dirty)
		daemon_reevaluate(d);
	return 0;
}

int daemon_setup_lan(const struct bsc_cfg *cfg, const struct bsc_maps *m)
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
	c.flags = cfg->source_guard ? BSC_CFG_SOURCE_GUARD : 0;
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

/* Uplinks of an older configuration that are gone now must not keep
 * taking flows; names that stayed keep their operator's word (admin). */
void daemon_clear_stale_uplinks(const struct bsc_cfg *cfg, const struct bsc_maps *m)
{
	struct bsc_uplink u, empty = { 0 };
	uint32_t i;

	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		if (bsc_uplink_read(m, i, &u) || !u.ifindex)
			continue;
		if (i < (uint32_t)cfg->n_uplinks && !strcmp(u.name, cfg->uplinks[i].name))
			continue;
		bsc_uplink_write(m, i, &empty);
	}
}

void daemon_init_policy(const struct bsc_maps *m)
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

void daemon_setup_uplink(struct daemon *d, int i)
{
	struct uplink_rt *u = &d->up[i];
	struct bsc_uplink e;
	uint64_t now = bsc_now_ns();

	u->d = d;
	u->idx = (uint32_t)i;
	u->cfg = &d->cfg->uplinks[i];
	u->gateway = u->cfg->gateway;
	bsc_health_init(&u->hs, now);
	/* Adopting a running data plane: an uplink that was carrying flows is
	 * trusted until probes say otherwise, so a restart resets nothing. */
	if (!bsc_uplink_read(&d->dp.maps, u->idx, &e) && e.state == BSC_UPLINK_UP &&
	    !strcmp(e.name, u->cfg->name)) {
		u->hs.health = BSC_H_UP;
		u->healthy_since = now - (uint64_t)d->cfg->failback_hold_ms * 1000000ull;
		snprintf(u->hs.reason, sizeof(u->hs.reason), "adopted (was up)");
		memcpy(u->gw_mac, e.gw_mac, 6);
	}
	{
		struct bsc_uplink w;

		if (bsc_uplink_read(&d->dp.maps, u->idx, &w))
			memset(&w, 0, sizeof(w));
		memset(w.name, 0, sizeof(w.name));
		snprintf(w.name, sizeof(w.name), "%s", u->cfg->name);
		if (w.drill_until_ns) {
			/* a daemon that died during a drill: give the uplink
			 * back now rather than at the deadline */
			bsc_log(LOG_NOTICE, "uplink %s: a drill was interrupted; given back",
				u->cfg->name);
			w.drill_until_ns = 0;
		}
		w.gateway = u->gateway;
		w.priority = u->cfg->priority;
		w.nat_port_min = u->cfg->nat_port_min;
		w.nat_port_max = u->cfg->nat_port_max;
		bsc_uplink_write(&d->dp.maps, u->idx, &w);
	}
	u->prober = bsc_prober_new(d->ev, u->cfg->ifname, daemon_on_probe, u);
	if (!u->prober && u->cfg->n_probes)
		bsc_log(LOG_ERR, "uplink %s: cannot create its prober", u->cfg->name);
	/* The probes' echo identifier is the box's: below the NAT's range,
	 * so no LAN host's ping can be given it and take the replies. */
	if (u->prober)
		bsc_prober_echo_id_below(u->prober, u->cfg->nat_port_min);
	daemon_refresh_uplink(d, u);
	if (u->cfg->n_probes)
		sd_event_add_time_relative(d->ev, &u->timer, CLOCK_MONOTONIC, 0, 1, daemon_round_timer, u);
}
