// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config/classes.c - the keys of a [class NAME] section: `match` lines (one
 * rule each: prefixes, protocol, port ranges, DSCP, MAC), `uplinks` or
 * `balance`, `persist`, `fallback` and `failback`.  The key table (keys.c)
 * points here; what is judged once the whole file is read (names of
 * uplinks, metered-only lists) is config.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_priv.h"

/* The conditions of a `match` line, and what each one's value must be. */
enum { M_SRC, M_DST, M_PROTO, M_SPORT, M_DPORT, M_DSCP, M_MAC, M_N };
static const char *const match_word[M_N] = {
	"src", "dst", "proto", "sport", "dport", "dscp", "mac",
};
static const char *const match_expect[M_N] = {
	[M_SRC] = "an IPv4 address or prefix (a.b.c.d or a.b.c.d/N, N from 0 to 32)",
	[M_DST] = "an IPv4 address or prefix (a.b.c.d or a.b.c.d/N, N from 0 to 32)",
	[M_PROTO] = "tcp, udp, icmp or a protocol number from 1 to 255",
	[M_SPORT] = "a port or a range P-Q of ports (1 to 65535, P <= Q)",
	[M_DPORT] = "a port or a range P-Q of ports (1 to 65535, P <= Q)",
	[M_DSCP] = "a DSCP: 0 to 63, ef, afXY (X 1-4, Y 1-3) or csN (N 0-7)",
	[M_MAC] = "a MAC address XX:XX:XX:XX:XX:XX",
};

/* a.b.c.d or a.b.c.d/N, network order.  Host bits set are refused, not
 * masked away: 10.77.0.129/25 is as likely a typo in the address as a
 * wrong length, and the operator is the one who knows which. */
static int parse_prefix(struct parse_state *st, int w, const char *v, uint32_t *addr,
			uint32_t *mask)
{
	const char *slash = strchr(v, '/');
	size_t n = slash ? (size_t)(slash - v) : strlen(v);
	char buf[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	struct in_addr a;
	uint32_t len = 32;

	if (n >= sizeof(buf) || (slash && cfg_parse_u32(slash + 1, 0, 32, &len)))
		goto bad;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	*mask = len ? htonl(0xffffffffu << (32 - len)) : 0;
	if (a.s_addr & ~*mask) {
		a.s_addr &= *mask;
		inet_ntop(AF_INET, &a, net, sizeof(net));
		cfg_add_error(st, st->line, "match: %s '%s': host bits set, did you mean %s/%u?",
			      match_word[w], v, net, len);
		return 0;
	}
	*addr = a.s_addr;
	return 1;
bad:
	cfg_add_error(st, st->line, "match: %s '%s' is not %s", match_word[w], v, match_expect[w]);
	return 0;
}

/* P or P-Q, host order. */
static int parse_port_range(const char *v, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(v, '-');
	uint32_t a, b;
	char buf[8];

	if (!dash) {
		if (cfg_parse_u32(v, 1, 65535, &a))
			return -1;
		b = a;
	} else {
		if ((size_t)(dash - v) >= sizeof(buf))
			return -1;
		memcpy(buf, v, (size_t)(dash - v));
		buf[dash - v] = '\0';
		if (cfg_parse_u32(buf, 1, 65535, &a) || cfg_parse_u32(dash + 1, 1, 65535, &b) || a > b)
			return -1;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int parse_proto(const char *v, uint8_t *out)
{
	uint32_t n;

	if (!strcasecmp(v, "tcp"))
		n = IPPROTO_TCP;
	else if (!strcasecmp(v, "udp"))
		n = IPPROTO_UDP;
	else if (!strcasecmp(v, "icmp"))
		n = IPPROTO_ICMP;
	else if (cfg_parse_u32(v, 1, 255, &n))
		return -1;
	*out = (uint8_t)n;
	return 0;
}

/* A number, or the names of RFC 2474 / 2597 / 3246: csN = 8N, afXY =
 * 8X + 2Y, ef = 46. */
static int parse_dscp(const char *v, uint8_t *out)
{
	uint32_t n;

	if (!strcasecmp(v, "ef"))
		n = 46;
	else if (!strncasecmp(v, "af", 2) && v[2] >= '1' && v[2] <= '4' &&
		 v[3] >= '1' && v[3] <= '3' && !v[4])
		n = 8 * (uint32_t)(v[2] - '0') + 2 * (uint32_t)(v[3] - '0');
	else if (!strncasecmp(v, "cs", 2) && v[2] >= '0' && v[2] <= '7' && !v[3])
		n = 8 * (uint32_t)(v[2] - '0');
	else if (cfg_parse_u32(v, 0, 63, &n))
		return -1;
	*out = (uint8_t)n;
	return 0;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int parse_mac(const char *v, uint8_t mac[6])
{
	int i;

	if (strlen(v) != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		const char *p = v + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
	}
	return 0;
}

/* `match = COND...`: one rule more, in file order (the data plane takes the
 * first that matches).  Every condition at most once: they must all hold,
 * so a second `dport` on one line is a mistake, never an "or". */
int cfg_class_match(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	static const uint8_t no_mac[6];
	struct bsc_cfg *cfg = st->cfg;
	struct bsc_class_match m = {
		.sport_hi = 65535, .dport_hi = 65535, .dscp = BSC_DSCP_ANY,
	};
	char buf[256], *save = NULL, *word, *val, *proto = NULL;
	int seen[M_N] = { 0 }, w, n = 0;

	if (st->cur_class == 0) {
		cfg_add_error(st, st->line, "match: the default class is what no match takes: it has no match lines");
		return 0;
	}
	if (cfg->n_rules >= BSC_MAX_CLASS_RULES) {
		cfg_add_error(st, st->line, "match: at most %d match lines in all", BSC_MAX_CLASS_RULES);
		return 0;
	}
	if (strlen(v) >= sizeof(buf)) {
		/* the reader's lines are shorter: never reached, kept honest */
		cfg_add_error(st, st->line, "match: too long (at most %zu characters)", sizeof(buf) - 1);
		return 0;
	}
	strcpy(buf, v);
	for (word = strtok_r(buf, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		for (w = 0; w < M_N && strcmp(word, match_word[w]); w++)
			;
		if (w == M_N) {
			cfg_add_error(st, st->line, "match: unknown condition '%s' (expected src, dst, proto, sport, dport, dscp or mac)",
				      word);
			return 0;
		}
		if (seen[w]) {
			cfg_add_error(st, st->line, "match: '%s' given twice on one line (all its conditions must hold: one of each; another line for another rule)",
				      word);
			return 0;
		}
		seen[w] = 1;
		val = strtok_r(NULL, " \t", &save);
		if (!val) {
			cfg_add_error(st, st->line, "match: '%s' needs a value: %s", word, match_expect[w]);
			return 0;
		}
		n++;
		switch (w) {
		case M_SRC:
			if (!parse_prefix(st, w, val, &m.src, &m.src_mask))
				return 0;
			continue;
		case M_DST:
			if (!parse_prefix(st, w, val, &m.dst, &m.dst_mask))
				return 0;
			continue;
		case M_PROTO:
			proto = val;
			if (!parse_proto(val, &m.proto))
				continue;
			break;
		case M_SPORT:
			if (!parse_port_range(val, &m.sport_lo, &m.sport_hi))
				continue;
			break;
		case M_DPORT:
			if (!parse_port_range(val, &m.dport_lo, &m.dport_hi))
				continue;
			break;
		case M_DSCP:
			if (!parse_dscp(val, &m.dscp))
				continue;
			break;
		case M_MAC:
			if (parse_mac(val, m.mac))
				break;
			/* a LAN host's frames never come from a group address */
			if ((m.mac[0] & 1) || !memcmp(m.mac, no_mac, sizeof(no_mac))) {
				cfg_add_error(st, st->line, "match: mac '%s' is a multicast or zero address, never a LAN host's",
					      val);
				return 0;
			}
			m.has_mac = 1;
			continue;
		}
		cfg_add_error(st, st->line, "match: %s '%s' is not %s", word, val, match_expect[w]);
		return 0;
	}
	if (!n) {
		cfg_add_error(st, st->line, "match: no condition (expected src, dst, proto, sport, dport, dscp or mac)");
		return 0;
	}
	/* without a proto, ports match TCP and UDP only (the data plane's
	 * rule); with another one they could never match */
	if ((seen[M_SPORT] || seen[M_DPORT]) && proto &&
	    m.proto != IPPROTO_TCP && m.proto != IPPROTO_UDP) {
		cfg_add_error(st, st->line, "match: ports need proto tcp or udp (not proto %s)", proto);
		return 0;
	}
	m.cls = st->cur_class;
	m.line = st->line;
	cfg->rules[cfg->n_rules++] = m;
	return 1;
}

/* The names of `uplinks = A B C` or `balance = A:3 B:1` (key, with
 * weights when w is not NULL): names only here; they are resolved at the
 * end of the file (validate_classes()), since the [uplink] sections may
 * come later. */
static int class_uplink_list(struct parse_state *st, struct bsc_class_cfg *c, const char *key,
			     const char *v, uint32_t *w)
{
	char buf[256], *save = NULL, *name, *colon;
	char names[BSC_MAX_UPLINKS][BSC_NAME_LEN];
	uint32_t weights[BSC_MAX_UPLINKS];
	int i, n = 0;

	if (c->n_uplinks) {
		cfg_add_error(st, st->line, "%s: this class already has %s (line %d): a class either fails over (uplinks) or balances (balance)",
			      key, c->balance ? "a balance" : "an uplinks list",
			      st->class_uplinks_line[st->cur_class]);
		return 0;
	}
	if (strlen(v) >= sizeof(buf)) {
		cfg_add_error(st, st->line, "%s: too long (at most %zu characters)", key, sizeof(buf) - 1);
		return 0;
	}
	strcpy(buf, v);
	for (name = strtok_r(buf, " \t", &save); name; name = strtok_r(NULL, " \t", &save)) {
		colon = w ? strchr(name, ':') : NULL;
		weights[n < BSC_MAX_UPLINKS ? n : 0] = 1;
		if (colon) {
			*colon = 0;
			if (cfg_parse_u32(colon + 1, 1, 1000, &weights[n < BSC_MAX_UPLINKS ? n : 0])) {
				cfg_add_error(st, st->line, "%s: '%s:%s': the weight is a number from 1 to 1000",
					      key, name, colon + 1);
				return 0;
			}
		}
		if (!cfg_valid_name(name)) {
			cfg_add_error(st, st->line, "%s: '%s' is not an uplink's name (1-%d of a-z A-Z 0-9 - _; %s)",
				      key, name, BSC_NAME_LEN - 1,
				      w ? "NAME or NAME:WEIGHT, separated by spaces" : "the names are separated by spaces");
			return 0;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], name)) {
				cfg_add_error(st, st->line, "%s: '%s' listed twice", key, name);
				return 0;
			}
		if (n >= BSC_MAX_UPLINKS) {
			cfg_add_error(st, st->line, "%s: more than %d names (there are at most %d uplinks)",
				      key, BSC_MAX_UPLINKS, BSC_MAX_UPLINKS);
			return 0;
		}
		strcpy(names[n++], name);
	}
	if (!n) {
		cfg_add_error(st, st->line, "%s: empty (expected 1 to %d [uplink] names%s)", key,
			      BSC_MAX_UPLINKS, w ? ", each NAME or NAME:WEIGHT" : ", in the order to use them");
		return 0;
	}
	memcpy(c->uplink_names, names, sizeof(names[0]) * (size_t)n);
	if (w)
		memcpy(w, weights, sizeof(weights[0]) * (size_t)n);
	c->n_uplinks = n;
	st->class_uplinks_line[st->cur_class] = st->line;
	return 1;
}

int cfg_class_uplinks(struct parse_state *st, const struct cfg_key *k, void *base,
		      const char *v)
{
	return class_uplink_list(st, base, "uplinks", v, NULL);
}

/* `balance = A:3 B:1 C`: weighted per-flow balance over the listed
 * uplinks that are usable (a name without a weight weighs 1). */
int cfg_class_balance(struct parse_state *st, const struct cfg_key *k, void *base,
		      const char *v)
{
	struct bsc_class_cfg *c = base;

	if (!class_uplink_list(st, c, "balance", v, c->weights))
		return 0;
	c->balance = 1;
	return 1;
}

/* `persist = source|flow`: balance by LAN host or by flow. */
int cfg_class_persist(struct parse_state *st, const struct cfg_key *k, void *base,
		      const char *v)
{
	struct bsc_class_cfg *c = base;

	if (!strcmp(v, "source") || !strcmp(v, "flow")) {
		c->persist_source = !strcmp(v, "source");
		return 1;
	}
	cfg_add_error(st, st->line, "persist: '%s' is not source (all of a LAN host's flows on one uplink) or flow",
		      v);
	return 0;
}

const char *const bsc_failback_names[4] = { "", "stay", "move-udp", "reset-tcp" };

/* `failback = stay|move-udp|reset-tcp` */
int cfg_class_failback(struct parse_state *st, const struct cfg_key *k, void *base,
		       const char *v)
{
	struct bsc_class_cfg *c = base;
	int i;

	for (i = BSC_FAILBACK_STAY; i <= BSC_FAILBACK_RESET_TCP; i++)
		if (!strcmp(v, bsc_failback_names[i])) {
			c->failback = i;
			return 1;
		}
	cfg_add_error(st, st->line, "failback: '%s' is not stay (existing flows stay), move-udp "
		      "(UDP and ICMP flows move back) or reset-tcp (TCP flows reset too)", v);
	return 0;
}

int bsc_class_failback(const struct bsc_cfg *cfg, int c)
{
	int f = c >= 0 && c < cfg->n_classes ? cfg->classes[c].failback : BSC_FAILBACK_GLOBAL;

	if (f != BSC_FAILBACK_GLOBAL)
		return f;
	return cfg->failback_moves_flows ? BSC_FAILBACK_MOVE_UDP : BSC_FAILBACK_STAY;
}

int cfg_class_fallback(struct parse_state *st, const struct cfg_key *k, void *base,
			      const char *v)
{
	struct bsc_class_cfg *c = base;

	if (!strcmp(v, "any"))
		c->fallback_any = 1;
	else if (!strcmp(v, "none"))
		c->fallback_any = 0;
	else {
		cfg_add_error(st, st->line, "fallback: '%s' is not any or none", v);
		return 0;
	}
	return 1;
}
