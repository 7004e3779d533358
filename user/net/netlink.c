// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * net/netlink.c - rtnetlink queries with libmnl: link MAC and carrier, the IPv4
 * address of an uplink, and its gateway's MAC (resolving it when the kernel
 * has no entry yet, since XDP needs the MAC before the first packet).
 *
 * Each call opens its own socket: these run a few times a second at most and
 * a private socket keeps them reentrant and free of stale replies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"

struct nl_req {
	struct mnl_socket *nl;
	char buf[32768]; /* dumps come in parts of up to 32 KiB */
	unsigned int seq, portid;
};

static int req_open(struct nl_req *r)
{
	r->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!r->nl)
		return -errno;
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(r->nl);
		return e;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned int)time(NULL);
	return 0;
}

/* Open the socket and start a request of `type` with a zeroed family
 * header of hdrlen bytes, returned in *hdr. */
static int req_start(struct nl_req *r, uint16_t type, uint16_t flags, size_t hdrlen,
		     struct nlmsghdr **nlh, void **hdr)
{
	int ret = req_open(r);

	if (ret)
		return ret;
	*nlh = mnl_nlmsg_put_header(r->buf);
	(*nlh)->nlmsg_type = type;
	(*nlh)->nlmsg_flags = NLM_F_REQUEST | flags;
	*hdr = mnl_nlmsg_put_extra_header(*nlh, hdrlen);
	return 0;
}

/* Send the message in r->buf and feed every reply to cb. */
static int req_run(struct nl_req *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	/* nlh lives in r->buf, which the first answer overwrites */
	uint16_t flags = nlh->nlmsg_flags;
	int ret;

	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ret = mnl_socket_recvfrom(r->nl, r->buf, sizeof(r->buf));
		if (ret < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(r->buf, ret, r->seq, r->portid, cb, data);
		if (ret <= MNL_CB_STOP || !(flags & (NLM_F_DUMP | NLM_F_ACK))) {
			/* a plain get has exactly one answer; dumps and acks end
			 * with their own message */
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(r->nl);
	return ret;
}

struct link_ctx {
	struct nl_link *out;
	int found;
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct nl_link *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == 6)
			memcpy(l->mac, mnl_attr_get_payload(a), 6);
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			l->mtu = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_ctx *c = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (ifm->ifi_index != (int)c->out->ifindex)
		return MNL_CB_OK;
	c->found = 1;
	c->out->up = !!(ifm->ifi_flags & IFF_UP);
	c->out->carrier = !!(ifm->ifi_flags & IFF_LOWER_UP);
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, c->out);
	return MNL_CB_OK;
}

int nl_link_get(uint32_t ifindex, struct nl_link *out)
{
	struct link_ctx c = { .out = out };
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int ret;

	memset(out, 0, sizeof(*out));
	out->ifindex = ifindex;
	ret = req_start(&r, RTM_GETLINK, 0, sizeof(*ifm), &nlh, (void **)&ifm);
	if (ret)
		return ret;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ret = req_run(&r, nlh, link_cb, &c);
	if (ret)
		return ret;
	return c.found ? 0 : -ENODEV;
}

struct addr_ctx {
	uint32_t ifindex;
	struct nl_addr *out;
	int found;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_ctx *c = data;
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	uint32_t addr = 0, local = 0;

	if (c->found || ifa->ifa_index != c->ifindex || ifa->ifa_family != AF_INET ||
	    (ifa->ifa_flags & IFA_F_SECONDARY))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(a) != 4)
			continue;
		if (mnl_attr_get_type(a) == IFA_ADDRESS)
			memcpy(&addr, mnl_attr_get_payload(a), 4);
		else if (mnl_attr_get_type(a) == IFA_LOCAL)
			memcpy(&local, mnl_attr_get_payload(a), 4);
	}
	c->out->addr = local ? local : addr;
	c->out->prefixlen = ifa->ifa_prefixlen;
	c->found = c->out->addr != 0;
	return MNL_CB_OK;
}

int nl_addr4_get(uint32_t ifindex, struct nl_addr *out)
{
	struct addr_ctx c = { .ifindex = ifindex, .out = out };
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = req_start(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa), &nlh, (void **)&ifa);
	if (ret)
		return ret;
	ifa->ifa_family = AF_INET;
	ifa->ifa_index = ifindex;
	ret = req_run(&r, nlh, addr_cb, &c);
	if (ret)
		return ret;
	return c.found ? 0 : -ENOENT;
}

struct neigh_ctx {
	uint32_t ifindex, ip;
	uint8_t *mac;
	int found;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_ctx *c = data;
	struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	uint32_t dst = 0;
	const uint8_t *ll = NULL;

	if (nd->ndm_ifindex != (int)c->ifindex || nd->ndm_family != AF_INET)
		return MNL_CB_OK;
	/* INCOMPLETE and FAILED entries have no usable address. */
	if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			       NUD_PERMANENT | NUD_NOARP)))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*nd)) {
		if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
			memcpy(&dst, mnl_attr_get_payload(a), 4);
		else if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6)
			ll = mnl_attr_get_payload(a);
	}
	if (dst == c->ip && ll) {
		memcpy(c->mac, ll, 6);
		c->found = 1;
	}
	return MNL_CB_OK;
}

int nl_neigh_get(uint32_t ifindex, uint32_t ip, uint8_t mac[6])
{
	struct neigh_ctx c = { .ifindex = ifindex, .ip = ip, .mac = mac };
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	int ret;

	ret = req_start(&r, RTM_GETNEIGH, NLM_F_DUMP, sizeof(*nd), &nlh, (void **)&nd);
	if (ret)
		return ret;
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = (int)ifindex;
	ret = req_run(&r, nlh, neigh_cb, &c);
	if (ret)
		return ret;
	return c.found ? 0 : -ENOENT;
}

static int neigh_use(uint32_t ifindex, uint32_t ip)
{
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	int ret;

	ret = req_start(&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, sizeof(*nd), &nlh, (void **)&nd);
	if (ret)
		return ret;
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = (int)ifindex;
	nd->ndm_state = NUD_NONE;
	nd->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, 4, &ip);
	return req_run(&r, nlh, NULL, NULL);
}

int nl_neigh_resolve(uint32_t ifindex, uint32_t ip, uint8_t mac[6])
{
	int ret;

	if (!nl_neigh_get(ifindex, ip, mac))
		return 0;
	/* Never waited for here: the answer comes as an RTM_NEWNEIGH on the
	 * monitor socket (a gateway that never answers ARP cost the loop 100
	 * ms per refresh, 1000 at start, when this slept for it). */
	ret = neigh_use(ifindex, ip);
	return ret ? ret : -EINPROGRESS;
}

static int route_msg(uint16_t type, uint16_t flags, uint32_t table, uint32_t gw,
		     uint32_t ifindex, uint32_t metric)
{
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	ret = req_start(&r, type, flags | NLM_F_ACK, sizeof(*rtm), &nlh, (void **)&rtm);
	if (ret)
		return ret;
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, 4, &gw);
	if (ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return req_run(&r, nlh, NULL, NULL);
}

int nl_route_default(uint32_t table, uint32_t gw, uint32_t ifindex, uint32_t metric)
{
	return route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, table, gw, ifindex, metric);
}

int nl_route_default_del(uint32_t table, uint32_t metric)
{
	return route_msg(RTM_DELROUTE, 0, table, 0, 0, metric);
}

int nl_rule_from(uint32_t addr, uint32_t table, uint32_t prio, int add)
{
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	int ret;

	ret = req_start(&r, add ? RTM_NEWRULE : RTM_DELRULE,
			NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0), sizeof(*frh), &nlh,
			(void **)&frh);
	if (ret)
		return ret;
	frh->family = AF_INET;
	frh->src_len = 32;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put(nlh, FRA_SRC, 4, &addr);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	ret = req_run(&r, nlh, NULL, NULL);
	return add && ret == -EEXIST ? 0 : ret;
}

struct route_get_ctx {
	struct nl_route *out;
	int found;
};

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_get_ctx *c = data;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET)
		return MNL_CB_OK;
	c->out->type = rtm->rtm_type;
	c->out->table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(a) == RTA_TABLE)
			c->out->table = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == RTA_OIF)
			c->out->oif = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == RTA_GATEWAY && mnl_attr_get_payload_len(a) == 4)
			memcpy(&c->out->gw, mnl_attr_get_payload(a), 4);
	}
	c->found = 1;
	return MNL_CB_OK;
}

int nl_route_get(uint32_t dst, uint32_t src, uint32_t iif, uint32_t oif, struct nl_route *out)
{
	struct route_get_ctx c = { .out = out };
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = req_start(&r, RTM_GETROUTE, 0, sizeof(*rtm), &nlh, (void **)&rtm);
	if (ret)
		return ret;
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_flags = RTM_F_LOOKUP_TABLE; /* the table that matched, 0 if none */
	mnl_attr_put(nlh, RTA_DST, 4, &dst);
	if (src) {
		rtm->rtm_src_len = 32;
		mnl_attr_put(nlh, RTA_SRC, 4, &src);
	}
	if (iif)
		mnl_attr_put_u32(nlh, RTA_IIF, iif);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, oif);
	ret = req_run(&r, nlh, route_get_cb, &c);
	if (!ret && !c.found)
		ret = -ENOENT;
	return ret;
}

struct mnl_socket *nl_monitor_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

struct monitor_ctx {
	void (*changed)(void *data, uint32_t ifindex);
	void (*neigh)(void *data, uint32_t ifindex, uint32_t ip);
	void *data;
};

static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	struct monitor_ctx *c = data;

	if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) {
		struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

		c->changed(c->data, (uint32_t)ifm->ifi_index);
	} else if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		c->changed(c->data, ifa->ifa_index);
	} else if (nlh->nlmsg_type == RTM_NEWNEIGH && c->neigh) {
		struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
		struct nlattr *a;

		if (nd->ndm_family != AF_INET ||
		    !(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
				       NUD_PERMANENT | NUD_NOARP)))
			return MNL_CB_OK;
		mnl_attr_for_each(a, nlh, sizeof(*nd))
			if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
				c->neigh(c->data, (uint32_t)nd->ndm_ifindex,
					 *(const uint32_t *)mnl_attr_get_payload(a));
	}
	return MNL_CB_OK;
}

int nl_monitor_read(struct mnl_socket *nl, void (*changed)(void *data, uint32_t ifindex),
		    void (*neigh)(void *data, uint32_t ifindex, uint32_t ip), void *data)
{
	struct monitor_ctx c = { .changed = changed, .neigh = neigh, .data = data };
	char buf[16384];
	int n, events = 0;

	while ((n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		mnl_cb_run(buf, (size_t)n, 0, 0, monitor_cb, &c);
		events++;
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
		return -errno;
	/* ENOBUFS: events were lost; the caller refreshes every uplink. */
	return n < 0 && errno == ENOBUFS ? -ENOBUFS : events;
}

struct gw_ctx {
	uint32_t ifindex, own_metric, gw, metric, oif;
	int found;
	int exact;              /* nl_main_default: any device, this metric */
};

static int gw_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gw_ctx *c = data;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint32_t table = rtm->rtm_table, oif = 0, gw = 0, metric = 0;
	struct nlattr *a;

	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_TABLE:
			table = mnl_attr_get_u32(a);
			break;
		case RTA_OIF:
			oif = mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(a) == 4)
				memcpy(&gw, mnl_attr_get_payload(a), 4);
			break;
		case RTA_PRIORITY:
			metric = mnl_attr_get_u32(a);
			break;
		}
	}
	if (c->exact) {
		if (table == RT_TABLE_MAIN && gw && metric == c->own_metric && !c->found) {
			c->gw = gw;
			c->oif = oif;
			c->found = 1;
		}
		return MNL_CB_OK;
	}
	if (table != RT_TABLE_MAIN || oif != c->ifindex || !gw)
		return MNL_CB_OK;
	if (rtm->rtm_protocol == RTPROT_STATIC && metric == c->own_metric)
		return MNL_CB_OK;
	if (!c->found || metric < c->metric) {
		c->gw = gw;
		c->metric = metric;
		c->found = 1;
	}
	return MNL_CB_OK;
}

/* Dump the IPv4 routes through gw_cb. */
static int default_route_dump(struct gw_ctx *c)
{
	struct nl_req r;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	ret = req_start(&r, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rtm), &nlh, (void **)&rtm);
	if (ret)
		return ret;
	rtm->rtm_family = AF_INET;
	ret = req_run(&r, nlh, gw_cb, c);
	if (ret)
		return ret;
	return c->found ? 0 : -ENOENT;
}

int nl_default_gw(uint32_t ifindex, uint32_t own_metric, uint32_t *gw)
{
	struct gw_ctx c = { .ifindex = ifindex, .own_metric = own_metric };
	int ret = default_route_dump(&c);

	if (!ret)
		*gw = c.gw;
	return ret;
}

int nl_main_default(uint32_t metric, uint32_t *gw, uint32_t *oif)
{
	struct gw_ctx c = { .own_metric = metric, .exact = 1 };
	int ret = default_route_dump(&c);

	if (!ret) {
		*gw = c.gw;
		*oif = c.oif;
	}
	return ret;
}
