/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * net/netlink.h - what the controller asks the kernel about links, addresses and
 * neighbours (rtnetlink through libmnl).
 */
#ifndef BSC_NETLINK_H
#define BSC_NETLINK_H

#include <stdint.h>

struct nl_link {
	uint32_t ifindex;
	uint8_t mac[6];
	uint32_t mtu;
	int up;                 /* IFF_UP */
	int carrier;            /* IFF_LOWER_UP */
};

struct nl_addr {
	uint32_t addr;          /* network byte order */
	uint8_t prefixlen;
};

int nl_link_get(uint32_t ifindex, struct nl_link *out);
/* First (primary) IPv4 address of a link; -ENOENT when it has none. */
int nl_addr4_get(uint32_t ifindex, struct nl_addr *out);
/* The neighbour's MAC if the kernel has a usable entry; -ENOENT if not. */
int nl_neigh_get(uint32_t ifindex, uint32_t ip, uint8_t mac[6]);
/* The neighbour's MAC if the kernel has it (0); else ask the kernel to
 * resolve it now (NTF_USE) and return -EINPROGRESS at once: the answer
 * comes later as an RTM_NEWNEIGH on the monitor socket. */
int nl_neigh_resolve(uint32_t ifindex, uint32_t ip, uint8_t mac[6]);

/* Routing the controller keeps (rtnetlink):
 * the default route of `table` via gw on ifindex (replaced in place);
 * a rule "from addr lookup table" at priority prio (add or delete). */
int nl_route_default(uint32_t table, uint32_t gw, uint32_t ifindex, uint32_t metric);
int nl_route_default_del(uint32_t table, uint32_t metric);
int nl_rule_from(uint32_t addr, uint32_t table, uint32_t prio, int add);

/* The gateway of the best default route through ifindex in the main
 * table, as a DHCP client installs it; routes that Bascule itself keeps
 * (protocol static with metric own_metric) are skipped.  -ENOENT if none. */
int nl_default_gw(uint32_t ifindex, uint32_t own_metric, uint32_t *gw);

/* The main table's default route of this exact metric, whatever its
 * device: what Bascule replaces, saved to be put back on a clean stop. */
int nl_main_default(uint32_t metric, uint32_t *gw, uint32_t *oif);

/* A socket subscribed to link, IPv4 address and neighbour changes; its fd
 * goes into the event loop, and nl_monitor_read() reports the ifindex of
 * every link whose state or addresses changed, and each IPv4 neighbour
 * that now has a usable MAC (neigh may be NULL). */
struct mnl_socket;
struct mnl_socket *nl_monitor_open(void);
int nl_monitor_read(struct mnl_socket *nl, void (*changed)(void *data, uint32_t ifindex),
		    void (*neigh)(void *data, uint32_t ifindex, uint32_t ip),
		    void *data);

/* The kernel's answer to `ip route get DST from SRC [iif IIF] [oif OIF]`
 * (addresses in network byte order, 0 = not given): with iif, the route of
 * a packet coming in on IIF, so a packet its reverse-path filter (rp_filter)
 * would drop is an error (-EINVAL or -EXDEV); with oif, the route of a
 * packet sent from a socket bound to OIF.  type is RTN_*. */
struct nl_route {
	uint32_t oif;
	uint32_t gw;            /* 0: on-link */
	uint32_t table;         /* 0: no route matched (with oif, the kernel
				 * then takes the destination for on-link) */
	uint8_t type;
};
int nl_route_get(uint32_t dst, uint32_t src, uint32_t iif, uint32_t oif, struct nl_route *out);

#endif
