// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/explain.c - `bascule explain SRC DST PROTO [PORT]`: which class a new
 * flow would fall in, which uplink it would take now, and why.  Read from
 * the pinned maps, with the data plane's own tests (bsc_rule_matches,
 * bsc_balance_slot, bsc_uplink_keeps: bascule.h), so that the answer is
 * the data plane's and not a second reading of the configuration.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dataplane/balance.h"
#include "dataplane/maps.h"

struct question {
	struct bsc_class_probe p;
	int have_sport, have_mac;
	char text[160];
};

static int parse_u16(const char *s, uint16_t *v)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (!*s || *end || n > 0xffff)
		return -1;
	*v = (uint16_t)n;
	return 0;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	uint16_t n;

	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*proto = IPPROTO_ICMP;
	else if (!parse_u16(s, &n) && n > 0 && n < 256)
		*proto = (uint8_t)n;
	else
		return -1;
	return 0;
}

/* SRC DST PROTO [PORT] [sport N] [dscp N|ef] [mac MAC]; 0, or the usage. */
static int parse_question(int argc, char **argv, struct question *q)
{
	struct in_addr a;
	uint16_t v;
	int i = 4;

	memset(q, 0, sizeof(*q));
	if (argc < 4 || inet_pton(AF_INET, argv[1], &a) != 1)
		return bsc_cli_usage("explain needs SRC DST PROTO [PORT]: SRC an IPv4 address");
	q->p.saddr = a.s_addr;
	if (inet_pton(AF_INET, argv[2], &a) != 1)
		return bsc_cli_usage("explain: DST must be an IPv4 address");
	q->p.daddr = a.s_addr;
	if (parse_proto(argv[3], &q->p.proto))
		return bsc_cli_usage("explain: PROTO is tcp, udp, icmp or a number 1-255");
	q->p.ports = q->p.proto == IPPROTO_TCP || q->p.proto == IPPROTO_UDP;
	if (i < argc && q->p.ports && !parse_u16(argv[i], &q->p.dport))
		i++;
	for (; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "sport") && q->p.ports && !parse_u16(argv[i + 1], &q->p.sport))
			q->have_sport = 1;
		else if (!strcmp(argv[i], "dscp") && !strcmp(argv[i + 1], "ef"))
			q->p.dscp = 46;
		else if (!strcmp(argv[i], "dscp") && !parse_u16(argv[i + 1], &v) && v < 64)
			q->p.dscp = (uint8_t)v;
		else if (!strcmp(argv[i], "mac") &&
			 sscanf(argv[i + 1], "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx", &q->p.mac[0], &q->p.mac[1],
				&q->p.mac[2], &q->p.mac[3], &q->p.mac[4], &q->p.mac[5]) == 6)
			q->have_mac = 1;
		else
			break;
	}
	if (i < argc)
		return bsc_cli_usage("explain: after SRC DST PROTO [PORT]: sport N, dscp N|ef, mac MAC "
				     "(ports for tcp and udp only)");
	snprintf(q->text, sizeof(q->text), "%s %s", argv[3], argv[1]);
	if (q->have_sport)
		snprintf(q->text + strlen(q->text), sizeof(q->text) - strlen(q->text), ":%u", q->p.sport);
	snprintf(q->text + strlen(q->text), sizeof(q->text) - strlen(q->text), " -> %s", argv[2]);
	if (q->p.dport)
		snprintf(q->text + strlen(q->text), sizeof(q->text) - strlen(q->text), ":%u", q->p.dport);
	snprintf(q->text + strlen(q->text), sizeof(q->text) - strlen(q->text), ", dscp %u", q->p.dscp);
	return 0;
}

/* The class: the first rule that takes the flow, as the data plane's
 * classify; a rule on the LAN host's MAC when none was given is passed
 * over, and said. */
static uint32_t explain_class(const struct bsc_maps *m, const struct bsc_config *cfg,
			      const struct question *q, int *rule)
{
	struct bsc_class_rule r;
	uint32_t i;

	*rule = -1;
	for (i = 0; i < cfg->n_class_rules && i < BSC_MAX_CLASS_RULES; i++) {
		if (bpf_map_lookup_elem(m->class_rules, &i, &r))
			break;
		if (r.has_mac && !q->have_mac) {
			struct bsc_class_rule any = r;

			any.has_mac = 0;
			if (bsc_rule_matches(&any, &q->p))
				printf("note: rule %u would take it from MAC %02x:%02x:%02x:%02x:%02x:%02x only "
				       "(give mac MAC to ask for one)\n", i + 1, r.mac[0], r.mac[1], r.mac[2],
				       r.mac[3], r.mac[4], r.mac[5]);
			continue;
		}
		if (bsc_rule_matches(&r, &q->p)) {
			*rule = (int)i;
			return r.cls;
		}
	}
	return 0;
}

static const char *uplink_name(const struct bsc_maps *m, uint32_t i, struct bsc_uplink *u)
{
	if (i >= BSC_MAX_UPLINKS || bsc_uplink_read(m, i, u) || !u->ifindex)
		return NULL;
	return u->name;
}

/* The uplink: the class's policy, or its balance table's slot. */
static int explain_uplink(const struct bsc_maps *m, uint32_t cls, const struct bsc_policy *pol,
			  const struct question *q)
{
	const char *drop = cls ? "drop_class_no_uplink" : "drop_no_uplink";
	uint32_t share[BSC_MAX_UPLINKS] = { 0 }, i, idx = pol->active;
	static struct bsc_balance b;
	struct bsc_uplink u;
	const char *name;
	char how[160] = "";

	if (pol->balance) {
		uint32_t slot = bsc_balance_slot(q->p.saddr, q->p.daddr, htons(q->p.sport),
						 htons(q->p.dport), q->p.proto, pol->persist_source);

		if (bpf_map_lookup_elem(m->balance, &cls, &b)) {
			printf("uplink: unknown (the class's balance table cannot be read)\n");
			return 1;
		}
		bsc_balance_count(&b, share);
		if (!pol->persist_source && q->p.ports && !q->have_sport) {
			printf("uplink: by its source port, which the question does not give: of the flows "
			       "of this class,");
			for (i = 0; i < BSC_MAX_UPLINKS; i++)
				if (share[i] && uplink_name(m, i, &u))
					printf(" %s %.0f%%", u.name, 100.0 * share[i] / BSC_BALANCE_SLOTS);
			printf(" (give sport N for one flow's)\n");
			return 0;
		}
		idx = b.slot[slot];
		snprintf(how, sizeof(how), "slot %u of the class's balance table, by its %s", slot,
			 pol->persist_source ? "source address (persist = source)" : "5-tuple");
	} else {
		snprintf(how, sizeof(how), "the class's uplink now (the daemon's choice from the uplinks' "
			 "health, by its list)");
	}
	name = uplink_name(m, idx, &u);
	if (!name) {
		printf("uplink: none: the class has no uplink it may use now; a new flow is dropped (%s)\n",
		       drop);
		return 0;
	}
	if (u.state != BSC_UPLINK_UP || !u.addr) {
		printf("uplink: none: %s is %s; a new flow is dropped (%s)\n", name,
		       u.state < 4 ? bsc_state_names[u.state] : "unknown", drop);
		return 0;
	}
	printf("uplink: %s: %s\n", name, how);
	printf("nat: leaves as %s\n", inet_ntoa((struct in_addr){ u.addr }));
	return 0;
}

int cmd_explain(int argc, char **argv, const struct bsc_cli *cli)
{
	struct bsc_config cfg;
	struct bsc_policy pol;
	struct question q;
	struct bsc_maps m;
	uint32_t zero = 0, cls;
	int rule, ret;

	if (parse_question(argc, argv, &q))
		return 2;
	if (bsc_cli_open_maps(&m, cli->pin_root))
		return 1;
	if (bpf_map_lookup_elem(m.config, &zero, &cfg)) {
		fprintf(stderr, "bascule: cannot read the data plane's configuration\n");
		bsc_maps_close(&m);
		return 1;
	}
	printf("flow: %s\n", q.text);
	if ((q.p.saddr & cfg.lan_mask) != cfg.lan_net || q.p.saddr == cfg.lan_addr) {
		printf("class: none: the source is not a LAN host's; dropped (drop_spoofed_source)\n");
		bsc_maps_close(&m);
		return 0;
	}
	cls = explain_class(&m, &cfg, &q, &rule);
	if (bsc_policy_read(&m, cls, &pol)) {
		fprintf(stderr, "bascule: cannot read class %u's policy\n", cls);
		bsc_maps_close(&m);
		return 1;
	}
	if (rule >= 0)
		printf("class: %s: rule %d of %u, the first that takes it\n", pol.name, rule + 1,
		       cfg.n_class_rules);
	else
		printf("class: %s: no rule takes it (%u rule(s))\n", *pol.name ? pol.name : "default",
		       cfg.n_class_rules);
	ret = explain_uplink(&m, cls, &pol, &q);
	bsc_maps_close(&m);
	return ret;
}
