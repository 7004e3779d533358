// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - INI configuration: parsing (inih), validation, defaults.
 *
 * inih does not tell a handler which line it is on, so the file is fed
 * through a counting reader: every error then carries file and line.  All
 * errors are collected, not just the first, so that an operator fixes a file
 * in one go.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <strings.h>

#include "config/config.h"

struct parse_state {
	struct bsc_cfg *cfg;
	const char *name;       /* file name for messages */
	int line;               /* line being parsed */
	int errors;
	char *err;
	size_t errlen, errused;
	/* the section the reader opened last */
	char section[128];
	int in_section;
	int cur_uplink;         /* index in cfg->uplinks, or -1 */
	int cur_contact;        /* index in cfg->contacts, or -1 */
	int site_line;          /* where [site] was opened, 0 = not yet */
	int bascule_line, drill_line; /* the same for [bascule] and [drill] */
	/* single-valued keys given so far, per section opened, to refuse a
	 * second one instead of silently taking the last */
	int section_seq;
	struct seen_key {
		int section;
		int line;
		char key[40];
	} *seen;
	int n_seen, cap_seen;
	/* text reader */
	const char *text;
	FILE *file;
};

static void add_error(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	st->errors++;
	if (!st->err || st->errused + 1 >= st->errlen)
		return;
	n = snprintf(st->err + st->errused, st->errlen - st->errused, "%s:%d: ",
		     st->name, line);
	if (n > 0)
		st->errused += (size_t)n;
	if (st->errused + 1 >= st->errlen) {
		st->errused = st->errlen - 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(st->err + st->errused, st->errlen - st->errused, fmt, ap);
	va_end(ap);
	if (n > 0)
		st->errused += (size_t)n;
	if (st->errused + 2 < st->errlen) {
		st->err[st->errused++] = '\n';
		st->err[st->errused] = '\0';
	} else {
		st->errused = st->errlen - 1;
	}
}

void bsc_config_defaults(struct bsc_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->pin_root, sizeof(cfg->pin_root), "%s", BSC_DEFAULT_PIN_ROOT);
	cfg->flow_table_size = BSC_DEFAULT_FLOWS;
	/* RFC 5382 (TCP >= 2 h 4 min) and RFC 4787 (UDP >= 2 min) */
	cfg->tcp_established_timeout = 7440;
	cfg->tcp_transitory_timeout = 240;
	cfg->tcp_closed_timeout = 10;
	cfg->udp_timeout = 120;
	cfg->icmp_timeout = 30;
	cfg->host_flow_rate = BSC_CFG_AUTO;
	cfg->host_flow_burst = BSC_CFG_AUTO;
	cfg->gc_interval_ms = 2000;
	cfg->refresh_interval_ms = 1000;
	cfg->failback_hold_ms = 10000;
	cfg->route_table_base = 100;
	cfg->route_metric = 0;
	cfg->manage_routes = 1;
	cfg->source_guard = 1;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", BSC_DEFAULT_CONTROL);
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s", "127.0.0.1:9901");
	snprintf(cfg->history, sizeof(cfg->history), "%s", BSC_DEFAULT_HISTORY);
	cfg->history_retention_days = 400;
	cfg->hook_timeout_ms = 30000;
	cfg->hook_max_running = 8;
	cfg->site.rto_ms = 1000;
	cfg->site.downtime_cost_per_hour = BSC_COST_UNSET;
	snprintf(cfg->site.currency, sizeof(cfg->site.currency), "%s", "EUR");
	cfg->drill.interval_ms = 5;
	cfg->drill.check_timeout_ms = 3000;
	cfg->drill.cutover_timeout_ms = 15000;
}

static int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long x;

	if (!*v || *v == '-')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int parse_ifname(struct parse_state *st, const char *key, const char *v, char *out)
{
	if (!*v || strlen(v) >= BSC_NAME_LEN || strpbrk(v, " /\t")) {
		add_error(st, st->line, "%s: '%s' is not an interface name (1-%d characters, no '/' or spaces)",
			  key, v, BSC_NAME_LEN - 1);
		return 0;
	}
	strcpy(out, v);
	return 1;
}

static int parse_bool(struct parse_state *st, const char *key, const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = 0;
	else {
		add_error(st, st->line, "%s: '%s' is not yes or no", key, v);
		return 0;
	}
	return 1;
}

/* Free text for the report: one line, no control characters, not empty. */
static int parse_text(struct parse_state *st, const char *key, const char *v, char *out,
		      size_t size)
{
	const unsigned char *p;

	if (!*v) {
		add_error(st, st->line, "%s: empty (expected some text)", key);
		return 0;
	}
	if (strlen(v) >= size) {
		add_error(st, st->line, "%s: too long (at most %zu characters)", key, size - 1);
		return 0;
	}
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			add_error(st, st->line, "%s: control character in the text", key);
			return 0;
		}
	}
	strcpy(out, v);
	return 1;
}

/* An amount of money (or any non-negative figure): "49.90", "1200". */
static int parse_amount(struct parse_state *st, const char *key, const char *v, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = *v ? strtod(v, &end) : -1;
	if (!*v || errno || *end || !isfinite(x) || x < 0 || x > 1e12) {
		add_error(st, st->line, "%s: '%s' is not an amount (a number, 0 or more, such as 49.90)",
			  key, v);
		return 0;
	}
	*out = x;
	return 1;
}

struct u32_key {
	const char *name;
	size_t off;
	uint32_t min, max;
	const char *unit;
};

#define U32_KEY(n, field, lo, hi, unit) { n, offsetof(struct bsc_cfg, field), lo, hi, unit }
static const struct u32_key global_u32[] = {
	U32_KEY("flow_table_size", flow_table_size, 1024, 16u << 20, "flows"),
	U32_KEY("tcp_established_timeout", tcp_established_timeout, 1, 86400 * 7, "seconds"),
	U32_KEY("tcp_transitory_timeout", tcp_transitory_timeout, 1, 86400, "seconds"),
	U32_KEY("tcp_closed_timeout", tcp_closed_timeout, 1, 3600, "seconds"),
	U32_KEY("udp_timeout", udp_timeout, 1, 86400, "seconds"),
	U32_KEY("icmp_timeout", icmp_timeout, 1, 3600, "seconds"),
	U32_KEY("host_new_flows_per_s", host_flow_rate, 0, 1000000, "flows per second"),
	U32_KEY("host_new_flows_burst", host_flow_burst, 1, 10000000, "flows"),
	U32_KEY("gc_interval_ms", gc_interval_ms, 100, 600000, "milliseconds"),
	U32_KEY("failback_hold_ms", failback_hold_ms, 0, 3600000, "milliseconds"),
	U32_KEY("route_table_base", route_table_base, 1, 250000, "(a routing table number)"),
	U32_KEY("route_metric", route_metric, 0, 1000000, "(a route metric)"),
	U32_KEY("refresh_interval_ms", refresh_interval_ms, 50, 60000, "milliseconds"),
	U32_KEY("history_retention_days", history_retention_days, 1, 36500, "days"),
	U32_KEY("hook_timeout_ms", hook_timeout_ms, 100, 3600000, "milliseconds"),
	U32_KEY("hook_max_running", hook_max_running, 1, 64, "hooks"),
};

/* A key of a table of numbers: 1 parsed into base + its offset, 0 a bad
 * value (reported), -1 not a key of this table. */
static int u32_table_key(struct parse_state *st, const struct u32_key *t, size_t n, void *base,
			 const char *key, const char *v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(key, t[i].name))
			continue;
		if (parse_u32(v, t[i].min, t[i].max, (uint32_t *)((char *)base + t[i].off))) {
			add_error(st, st->line, "%s: '%s' is not a number of %s from %u to %u",
				  key, v, t[i].unit, t[i].min, t[i].max);
			return 0;
		}
		return 1;
	}
	return -1;
}

static int global_key(struct parse_state *st, const char *key, const char *v)
{
	struct bsc_cfg *cfg = st->cfg;
	int r;

	if (!strcmp(key, "lan"))
		return parse_ifname(st, key, v, cfg->lan_ifname);
	if (!strcmp(key, "manage_routes"))
		return parse_bool(st, key, v, &cfg->manage_routes);
	if (!strcmp(key, "source_guard"))
		return parse_bool(st, key, v, &cfg->source_guard);
	if (!strcmp(key, "failback_moves_flows"))
		return parse_bool(st, key, v, &cfg->failback_moves_flows);
	if (!strcmp(key, "control_socket")) {
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->control_socket)) {
			add_error(st, st->line, "control_socket: '%s' must be an absolute path under %zu characters",
				  v, sizeof(cfg->control_socket));
			return 0;
		}
		strcpy(cfg->control_socket, v);
		return 1;
	}
	if (!strcmp(key, "metrics_listen")) {
		if (strlen(v) >= sizeof(cfg->metrics_listen) ||
		    (strcmp(v, "off") && !strrchr(v, ':'))) {
			add_error(st, st->line, "metrics_listen: '%s' is not ADDR:PORT or off", v);
			return 0;
		}
		strcpy(cfg->metrics_listen, v);
		return 1;
	}
	if (!strcmp(key, "control_group")) {
		if (!*v || strlen(v) >= sizeof(cfg->control_group)) {
			add_error(st, st->line, "control_group: '%s' is not a group name", v);
			return 0;
		}
		strcpy(cfg->control_group, v);
		cfg->control_group_line = st->line;
		return 1;
	}
	if (!strcmp(key, "hook")) {
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->hooks[0])) {
			add_error(st, st->line, "hook: '%s' must be the absolute path of a program", v);
			return 0;
		}
		if (cfg->n_hooks >= BSC_MAX_HOOKS) {
			add_error(st, st->line, "hook: at most %d hooks", BSC_MAX_HOOKS);
			return 0;
		}
		strcpy(cfg->hooks[cfg->n_hooks++], v);
		return 1;
	}
	if (!strcmp(key, "history")) {
		if (!strcmp(v, "off")) {
			cfg->history[0] = '\0';
			return 1;
		}
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->history)) {
			add_error(st, st->line, "history: '%s' must be the absolute path of a file, or off",
				  v);
			return 0;
		}
		strcpy(cfg->history, v);
		return 1;
	}
	if (!strcmp(key, "pin_root")) {
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->pin_root) - 32) {
			add_error(st, st->line, "pin_root: '%s' must be an absolute path", v);
			return 0;
		}
		strcpy(cfg->pin_root, v);
		return 1;
	}
	r = u32_table_key(st, global_u32, sizeof(global_u32) / sizeof(global_u32[0]), cfg, key, v);
	if (r >= 0)
		return r;
	add_error(st, st->line, "unknown key '%s' in [bascule] (expected lan, pin_root, flow_table_size, *_timeout, host_new_flows_per_s, host_new_flows_burst, gc_interval_ms, refresh_interval_ms, failback_hold_ms, failback_moves_flows, manage_routes, source_guard, route_table_base, route_metric, control_socket, control_group, metrics_listen, hook, hook_timeout_ms, hook_max_running, history, history_retention_days)",
		  key);
	return 0;
}

#define H_KEY(n, field, lo, hi, unit) { n, offsetof(struct bsc_health_cfg, field), lo, hi, unit }
static const struct u32_key health_u32[] = {
	H_KEY("interval_active_ms", interval_active_ms, 10, 60000, "milliseconds"),
	H_KEY("interval_standby_ms", interval_standby_ms, 10, 600000, "milliseconds"),
	H_KEY("interval_metered_ms", interval_metered_ms, 10, 3600000, "milliseconds"),
	H_KEY("burst_interval_ms", burst_interval_ms, 5, 10000, "milliseconds"),
	H_KEY("timeout_ms", timeout_ms, 5, 60000, "milliseconds"),
	H_KEY("quorum", quorum, 1, BSC_MAX_PROBES, "targets"),
	H_KEY("down_after", down_after, 1, 1000, "rounds"),
	H_KEY("up_after", up_after, 1, 1000, "rounds"),
	H_KEY("loss_pct", loss_pct, 0, 100, "percent (0 = no limit)"),
	H_KEY("rtt_ms", rtt_ms, 0, 60000, "milliseconds (0 = no limit)"),
	H_KEY("jitter_ms", jitter_ms, 0, 60000, "milliseconds (0 = no limit)"),
	H_KEY("window", window, 1, BSC_WINDOW_MAX, "probes"),
	H_KEY("damp_penalty", damp_penalty, 0, 1000000, "(penalty per fall)"),
	H_KEY("damp_suppress", damp_suppress, 0, 10000000, "(penalty, 0 = no damping)"),
	/* 0 would never be reached: a damped uplink would stay down for good */
	H_KEY("damp_reuse", damp_reuse, 1, 10000000, "(penalty, at least 1: the penalty decays towards 0, never to it)"),
	H_KEY("damp_half_life_ms", damp_half_life_ms, 1, 86400000, "milliseconds"),
};

static int uplink_key(struct parse_state *st, struct bsc_uplink_cfg *u,
		      const char *key, const char *v)
{
	struct in_addr a;
	char perr[160];
	int r;

	if (!strcmp(key, "probe")) {
		if (u->n_probes >= BSC_MAX_PROBES) {
			add_error(st, st->line, "[uplink %s]: at most %d probes", u->name, BSC_MAX_PROBES);
			return 0;
		}
		if (bsc_probe_target_parse(v, &u->probes[u->n_probes], perr, sizeof(perr))) {
			add_error(st, st->line, "%s", perr);
			return 0;
		}
		u->n_probes++;
		return 1;
	}
	if (!strcmp(key, "metered"))
		return parse_bool(st, key, v, &u->health.metered);
	r = u32_table_key(st, health_u32, sizeof(health_u32) / sizeof(health_u32[0]), &u->health, key, v);
	if (r >= 0)
		return r;

	if (!strcmp(key, "interface"))
		return parse_ifname(st, key, v, u->ifname);
	if (!strcmp(key, "gateway")) {
		if (!strcmp(v, "auto")) {
			u->gateway_auto = 1;
			u->gateway = 0;
			return 1;
		}
		if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0 ||
		    a.s_addr == INADDR_BROADCAST) {
			add_error(st, st->line, "gateway: '%s' is not an IPv4 unicast address", v);
			return 0;
		}
		u->gateway = a.s_addr;
		return 1;
	}
	if (!strcmp(key, "priority")) {
		if (parse_u32(v, 0, 1000000, &u->priority)) {
			add_error(st, st->line, "priority: '%s' is not a number from 0 to 1000000 (lower is preferred)", v);
			return 0;
		}
		return 1;
	}
	if (!strcmp(key, "nat_ports")) {
		unsigned lo, hi;
		int n = -1;

		if (sscanf(v, "%u-%u%n", &lo, &hi, &n) != 2 || n != (int)strlen(v) ||
		    lo < BSC_NAT_PORT_FLOOR || hi > 65535 || lo > hi || hi - lo < 1023) {
			add_error(st, st->line, "nat_ports: '%s' is not a range MIN-MAX within %d-65535 of at least 1024 ports (the box's own ports stay outside it)",
				  v, BSC_NAT_PORT_FLOOR);
			return 0;
		}
		u->nat_port_min = (uint16_t)lo;
		u->nat_port_max = (uint16_t)hi;
		return 1;
	}
	if (!strcmp(key, "provider"))
		return parse_text(st, key, v, u->provider, sizeof(u->provider));
	if (!strcmp(key, "equipment"))
		return parse_text(st, key, v, u->equipment, sizeof(u->equipment));
	if (!strcmp(key, "support"))
		return parse_text(st, key, v, u->support, sizeof(u->support));
	if (!strcmp(key, "monthly_cost"))
		return parse_amount(st, key, v, &u->monthly_cost);
	if (!strcmp(key, "cost_per_gb"))
		return parse_amount(st, key, v, &u->cost_per_gb);
	add_error(st, st->line, "unknown key '%s' in [uplink %s] (expected interface, gateway, priority, nat_ports, probe, metered, interval_*_ms, timeout_ms, quorum, down_after, up_after, window, loss_pct, rtt_ms, jitter_ms, damp_*, provider, equipment, support, monthly_cost, cost_per_gb)",
		  key, u->name);
	return 0;
}

static int site_key(struct parse_state *st, const char *key, const char *v)
{
	struct bsc_site_cfg *s = &st->cfg->site;

	if (!strcmp(key, "name"))
		return parse_text(st, key, v, s->name, sizeof(s->name));
	if (!strcmp(key, "address"))
		return parse_text(st, key, v, s->address, sizeof(s->address));
	if (!strcmp(key, "currency"))
		return parse_text(st, key, v, s->currency, sizeof(s->currency));
	if (!strcmp(key, "downtime_cost_per_hour"))
		return parse_amount(st, key, v, &s->downtime_cost_per_hour);
	if (!strcmp(key, "rto_ms")) {
		if (parse_u32(v, 1, 86400000, &s->rto_ms)) {
			add_error(st, st->line, "rto_ms: '%s' is not a number of milliseconds from 1 to 86400000",
				  v);
			return 0;
		}
		return 1;
	}
	if (!strcmp(key, "staff_check")) {
		if (s->n_checks >= BSC_MAX_STAFF_CHECKS) {
			add_error(st, st->line, "staff_check: at most %d of them", BSC_MAX_STAFF_CHECKS);
			return 0;
		}
		if (!parse_text(st, key, v, s->staff_check[s->n_checks], sizeof(s->staff_check[0])))
			return 0;
		s->n_checks++;
		return 1;
	}
	add_error(st, st->line, "unknown key '%s' in [site] (expected name, address, rto_ms, downtime_cost_per_hour, currency, staff_check)",
		  key);
	return 0;
}

static int contact_key(struct parse_state *st, struct bsc_contact_cfg *c, const char *key,
		       const char *v)
{
	if (!strcmp(key, "role"))
		return parse_text(st, key, v, c->role, sizeof(c->role));
	if (!strcmp(key, "phone"))
		return parse_text(st, key, v, c->phone, sizeof(c->phone));
	if (!strcmp(key, "email")) {
		if (!strchr(v, '@') || strpbrk(v, " <>\"")) {
			add_error(st, st->line, "email: '%s' is not an e-mail address", v);
			return 0;
		}
		return parse_text(st, key, v, c->email, sizeof(c->email));
	}
	if (!strcmp(key, "hours"))
		return parse_text(st, key, v, c->hours, sizeof(c->hours));
	if (!strcmp(key, "escalation")) {
		if (parse_u32(v, 1, 99, &c->escalation)) {
			add_error(st, st->line, "escalation: '%s' is not a level from 1 (called first) to 99",
				  v);
			return 0;
		}
		return 1;
	}
	add_error(st, st->line, "unknown key '%s' in [contact %s] (expected role, phone, email, escalation, hours)",
		  key, c->name);
	return 0;
}

#define D_KEY(n, field, lo, hi, unit) { n, offsetof(struct bsc_drill_cfg, field), lo, hi, unit }
static const struct u32_key drill_u32[] = {
	D_KEY("interval_ms", interval_ms, 1, 1000, "milliseconds"),
	D_KEY("check_timeout_ms", check_timeout_ms, 10, 60000, "milliseconds"),
	D_KEY("cutover_timeout_ms", cutover_timeout_ms, 100, 600000, "milliseconds"),
	D_KEY("failback_timeout_ms", failback_timeout_ms, 0, 3600000, "milliseconds"),
};

/* `check = NAME KIND ARGS...` */
static int drill_check(struct parse_state *st, struct bsc_drill_cfg *d, const char *v)
{
	struct bsc_drill_check *c;
	char perr[256];
	size_t n = strcspn(v, " \t");
	const char *spec = v + n;
	size_t i;

	if (d->n_checks >= BSC_MAX_CHECKS) {
		add_error(st, st->line, "check: at most %d checks", BSC_MAX_CHECKS);
		return 0;
	}
	c = &d->checks[d->n_checks];
	while (*spec == ' ' || *spec == '\t')
		spec++;
	if (!n || n >= sizeof(c->name) || !*spec) {
		add_error(st, st->line, "check: '%s' is not NAME KIND TARGET (e.g. 'check = voip sip 203.0.113.60')",
			  v);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("-_.", v[i])) {
			add_error(st, st->line, "check: name '%.*s' has a bad character '%c' (letters, digits, '-', '_', '.')",
				  (int)n, v, v[i]);
			return 0;
		}
	memset(c, 0, sizeof(*c));
	memcpy(c->name, v, n);
	if (bsc_probe_target_parse(spec, &c->t, perr, sizeof(perr))) {
		add_error(st, st->line, "check %s: %s", c->name, perr);
		return 0;
	}
	d->n_checks++;
	return 1;
}

static int drill_key(struct parse_state *st, const char *key, const char *v)
{
	struct bsc_drill_cfg *d = &st->cfg->drill;
	struct in_addr a;
	int r;

	if (!strcmp(key, "check"))
		return drill_check(st, d, v);
	if (!strcmp(key, "target")) {
		if (inet_pton(AF_INET, v, &a) != 1 || !a.s_addr) {
			add_error(st, st->line, "target: '%s' is not an IPv4 address", v);
			return 0;
		}
		d->target = a.s_addr;
		return 1;
	}
	r = u32_table_key(st, drill_u32, sizeof(drill_u32) / sizeof(drill_u32[0]), d, key, v);
	if (r >= 0)
		return r;
	add_error(st, st->line, "unknown key '%s' in [drill] (expected target, interval_ms, check, check_timeout_ms, cutover_timeout_ms, failback_timeout_ms)",
		  key);
	return 0;
}

static int valid_name(const char *n)
{
	size_t i, len = strlen(n);

	if (!len || len >= BSC_NAME_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!(n[i] == '-' || n[i] == '_' || (n[i] >= '0' && n[i] <= '9') ||
		      (n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z')))
			return 0;
	return 1;
}

static int open_site(struct parse_state *st)
{
	if (st->site_line) {
		add_error(st, st->line, "[site] defined twice (first at line %d)", st->site_line);
		snprintf(st->section, sizeof(st->section), "%s", "?");
		return 0;
	}
	st->site_line = st->line;
	return 1;
}

/* A person's or a company's name: printable, no ']' (it ends the header). */
static int open_contact(struct parse_state *st, const char *name)
{
	struct bsc_cfg *cfg = st->cfg;
	struct bsc_contact_cfg *c;
	const unsigned char *p;
	int i;

	while (*name == ' ')
		name++;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (!*name || *p || strlen(name) >= sizeof(c->name)) {
		add_error(st, st->line, "[contact %s]: the name must be 1-%zu printable characters",
			  name, sizeof(c->name) - 1);
		return 0;
	}
	for (i = 0; i < cfg->n_contacts; i++) {
		if (!strcmp(cfg->contacts[i].name, name)) {
			add_error(st, st->line, "[contact %s] defined twice (first at line %d)",
				  name, cfg->contacts[i].line);
			return 0;
		}
	}
	if (cfg->n_contacts >= BSC_MAX_CONTACTS) {
		add_error(st, st->line, "too many contacts (at most %d)", BSC_MAX_CONTACTS);
		return 0;
	}
	st->cur_contact = cfg->n_contacts++;
	c = &cfg->contacts[st->cur_contact];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->line = st->line;
	return 1;
}

/* Called by the reader on a section header line. */
static int open_section(struct parse_state *st, const char *section)
{
	struct bsc_cfg *cfg = st->cfg;
	const char *name;
	int i;

	snprintf(st->section, sizeof(st->section), "%s", section);
	st->cur_uplink = -1;
	st->cur_contact = -1;
	st->section_seq++;
	if (!strcmp(section, "bascule") || !strcmp(section, "drill")) {
		int *first = section[0] == 'b' ? &st->bascule_line : &st->drill_line;

		if (*first) {
			add_error(st, st->line, "[%s] defined twice (first at line %d): one section, all its keys in it",
				  section, *first);
			snprintf(st->section, sizeof(st->section), "%s", "?");
			return 0;
		}
		*first = st->line;
		return 1;
	}
	if (!strcmp(section, "site"))
		return open_site(st);
	if (!strcmp(section, "contact") || !strncmp(section, "contact ", 8))
		return open_contact(st, section + 7);
	if (strncmp(section, "uplink ", 7)) {
		add_error(st, st->line, "unknown section [%s] (expected [bascule], [uplink NAME], [drill], [site] or [contact NAME])",
			  section);
		return 0;
	}
	name = section + 7;
	while (*name == ' ')
		name++;
	if (!valid_name(name)) {
		add_error(st, st->line, "[uplink %s]: name must be 1-%d of a-z A-Z 0-9 - _",
			  name, BSC_NAME_LEN - 1);
		return 0;
	}
	for (i = 0; i < cfg->n_uplinks; i++) {
		if (!strcmp(cfg->uplinks[i].name, name)) {
			add_error(st, st->line, "[uplink %s] defined twice (first at line %d)",
				  name, cfg->uplinks[i].line);
			return 0;
		}
	}
	if (cfg->n_uplinks >= BSC_MAX_UPLINKS) {
		add_error(st, st->line, "too many uplinks (at most %d)", BSC_MAX_UPLINKS);
		return 0;
	}
	st->cur_uplink = cfg->n_uplinks++;
	memset(&cfg->uplinks[st->cur_uplink], 0, sizeof(cfg->uplinks[0]));
	strcpy(cfg->uplinks[st->cur_uplink].name, name);
	cfg->uplinks[st->cur_uplink].line = st->line;
	cfg->uplinks[st->cur_uplink].priority = 100;
	cfg->uplinks[st->cur_uplink].nat_port_min = BSC_NAT_PORT_MIN_DEFAULT;
	cfg->uplinks[st->cur_uplink].nat_port_max = BSC_NAT_PORT_MAX_DEFAULT;
	cfg->uplinks[st->cur_uplink].monthly_cost = BSC_COST_UNSET;
	cfg->uplinks[st->cur_uplink].cost_per_gb = BSC_COST_UNSET;
	bsc_health_cfg_defaults(&cfg->uplinks[st->cur_uplink].health);
	return 1;
}

/* Keys that may be given more than once: each adds one more. */
static int repeatable_key(const char *key)
{
	return !strcmp(key, "probe") || !strcmp(key, "hook") || !strcmp(key, "check") ||
	       !strcmp(key, "staff_check");
}

/* 1 the first time a single-valued key is given in this section; 0 (an
 * error given) on a second. */
static int first_time(struct parse_state *st, const char *key)
{
	int i;

	if (repeatable_key(key) || strlen(key) >= sizeof(st->seen[0].key))
		return 1; /* (a key that long is unknown: reported as such) */
	for (i = 0; i < st->n_seen; i++)
		if (st->seen[i].section == st->section_seq && !strcmp(st->seen[i].key, key)) {
			add_error(st, st->line, "'%s' given twice in [%s] (first at line %d): which one is meant?",
				  key, st->section, st->seen[i].line);
			return 0;
		}
	if (st->n_seen == st->cap_seen) {
		int cap = st->cap_seen ? 2 * st->cap_seen : 64;
		struct seen_key *n = realloc(st->seen, (size_t)cap * sizeof(*n));

		if (!n)
			return 1; /* no memory to remember: the key is still read */
		st->seen = n;
		st->cap_seen = cap;
	}
	st->seen[st->n_seen].section = st->section_seq;
	st->seen[st->n_seen].line = st->line;
	strcpy(st->seen[st->n_seen].key, key);
	st->n_seen++;
	return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *st = user;

	(void)section; /* the reader opened it, with its line */
	if (!st->in_section) {
		add_error(st, st->line, "key '%s' outside any section", key);
		return 0;
	}
	if (!strcmp(st->section, "?"))
		return 0; /* the bad section was reported already */
	if (!first_time(st, key))
		return 0;
	if (!strcmp(st->section, "bascule"))
		return global_key(st, key, value);
	if (!strcmp(st->section, "site"))
		return site_key(st, key, value);
	if (st->cur_contact >= 0)
		return contact_key(st, &st->cfg->contacts[st->cur_contact], key, value);
	if (!strcmp(st->section, "drill"))
		return drill_key(st, key, value);
	if (st->cur_uplink < 0)
		return 0; /* the bad section was reported already */
	return uplink_key(st, &st->cfg->uplinks[st->cur_uplink], key, value);
}

/* inih only tells the first syntax error and never shows a section header to
 * the handler, so the reader looks at each line first: it opens sections on
 * their own line (an empty or repeated section is seen too) and reports
 * every malformed line. */
static void inspect_line(struct parse_state *st, const char *line)
{
	const char *p = line, *end;
	char name[128];
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n' || *p == '\r' || *p == ';' || *p == '#')
		return;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end) {
			add_error(st, st->line, "syntax error: section header without ']'");
			st->in_section = 1;
			st->cur_uplink = -1;
			st->cur_contact = -1;
			snprintf(st->section, sizeof(st->section), "%s", "?");
			return;
		}
		p++;
		while (*p == ' ')
			p++;
		n = (size_t)(end - p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		st->in_section = 1;
		open_section(st, name);
		return;
	}
	if (!strpbrk(p, "=:"))
		add_error(st, st->line, "syntax error (expected [section], key = value, or a ; comment)");
}

static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	size_t n = 0;

	if (st->file) {
		size_t len;
		int c;

		if (!fgets(str, num, st->file))
			return NULL;
		st->line++;
		len = strlen(str);
		if (len && str[len - 1] != '\n' && !feof(st->file)) {
			/* inih's buffer is fixed: the rest would be read as a
			 * line of its own */
			add_error(st, st->line, "line too long (at most %d characters)", num - 2);
			while ((c = fgetc(st->file)) != EOF && c != '\n')
				;
			str[0] = '\0';
			return str;
		}
		inspect_line(st, str);
		return str;
	}
	if (!*st->text)
		return NULL;
	while (st->text[n] && st->text[n] != '\n' && n + 1 < (size_t)num - 1)
		n++;
	if (st->text[n] == '\n')
		n++;
	memcpy(str, st->text, n);
	str[n] = '\0';
	st->text += n;
	st->line++;
	inspect_line(st, str);
	return str;
}

/* One host may hold at most a quarter of the flow table with UDP flows
 * that live udp_timeout seconds: rate = size / (4 * udp_timeout).  The burst
 * lets a browser open a page's worth of connections at once. */
static void derive_defaults(struct bsc_cfg *cfg)
{
	if (cfg->host_flow_rate == BSC_CFG_AUTO) {
		cfg->host_flow_rate = cfg->flow_table_size / (4 * cfg->udp_timeout);
		if (cfg->host_flow_rate < 50)
			cfg->host_flow_rate = 50;
	}
	if (cfg->host_flow_burst == BSC_CFG_AUTO)
		cfg->host_flow_burst = cfg->host_flow_rate * 2 < 200 ? 200 : cfg->host_flow_rate * 2;
}

static void validate(struct parse_state *st)
{
	struct bsc_cfg *cfg = st->cfg;
	int i, j;

	derive_defaults(cfg);
	if (!cfg->lan_ifname[0])
		add_error(st, 1, "[bascule] needs 'lan = IFNAME' (the interface facing the LAN)");
	if (!cfg->n_uplinks)
		add_error(st, 1, "no [uplink NAME] section: at least one uplink is needed");
	for (i = 0; i < cfg->n_uplinks; i++) {
		struct bsc_uplink_cfg *u = &cfg->uplinks[i];

		if (!u->ifname[0])
			add_error(st, u->line, "[uplink %s] needs 'interface = IFNAME'", u->name);
		if (!u->gateway && !u->gateway_auto)
			add_error(st, u->line, "[uplink %s] needs 'gateway = IPv4 address' (its next hop), or 'gateway = auto' to follow DHCP",
				  u->name);
		if (u->n_probes && u->health.quorum > (uint32_t)u->n_probes)
			add_error(st, u->line, "[uplink %s]: quorum %u but only %d probe(s)",
				  u->name, u->health.quorum, u->n_probes);
		if (u->ifname[0] && !strcmp(u->ifname, cfg->lan_ifname))
			add_error(st, u->line, "[uplink %s]: interface %s is the LAN interface",
				  u->name, u->ifname);
		for (j = 0; j < i; j++)
			if (u->ifname[0] && !strcmp(u->ifname, cfg->uplinks[j].ifname))
				add_error(st, u->line, "[uplink %s]: interface %s already used by [uplink %s]",
					  u->name, u->ifname, cfg->uplinks[j].name);
	}
	/* Checked here, not only when the socket is made: a daemon that
	 * starts without its control socket is worse than one that refuses. */
	if (cfg->control_group[0] && !getgrnam(cfg->control_group))
		add_error(st, cfg->control_group_line,
			  "control_group: group '%s' does not exist (create it, e.g. groupadd %s, or leave the key out: root only)",
			  cfg->control_group, cfg->control_group);
	for (i = 0; i < cfg->n_contacts; i++) {
		const struct bsc_contact_cfg *c = &cfg->contacts[i];

		if (!c->phone[0] && !c->email[0])
			add_error(st, c->line, "[contact %s] needs 'phone = ...' or 'email = ...' (how to reach them)",
				  c->name);
	}
}

static int run_parser(struct parse_state *st)
{
	int rc = ini_parse_stream(read_line, st, handler, st);

	/* Syntax errors were reported line by line by the reader; inih's own
	 * verdict only matters if the reader missed something. */
	if (rc == -2)
		add_error(st, st->line, "out of memory");
	else if (rc > 0 && !st->errors)
		add_error(st, rc, "syntax error (expected [section], key = value, or a ; comment)");
	if (!st->errors)
		validate(st);
	return st->errors ? -1 : 0;
}

static void state_init(struct parse_state *st, struct bsc_cfg *cfg, const char *name,
		       char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->cfg = cfg;
	st->name = name;
	st->err = err;
	st->errlen = errlen;
	st->cur_uplink = -1;
	st->cur_contact = -1;
	if (err && errlen)
		err[0] = '\0';
	bsc_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
}

int bsc_config_parse_string(const char *text, const char *name, struct bsc_cfg *cfg,
			    char *err, size_t errlen)
{
	struct parse_state st;

	int rc;

	state_init(&st, cfg, name, err, errlen);
	st.text = text;
	rc = run_parser(&st);
	free(st.seen);
	return rc;
}

int bsc_config_load(const char *path, struct bsc_cfg *cfg, char *err, size_t errlen)
{
	struct parse_state st;
	int rc;

	state_init(&st, cfg, path, err, errlen);
	st.file = fopen(path, "r");
	if (!st.file) {
		snprintf(err, errlen, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	rc = run_parser(&st);
	fclose(st.file);
	free(st.seen);
	return rc;
}

int bsc_config_find_uplink(const struct bsc_cfg *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->n_uplinks; i++)
		if (!strcmp(cfg->uplinks[i].name, name))
			return i;
	return -1;
}

int bsc_config_primary(const struct bsc_cfg *cfg)
{
	int i, best = -1;

	for (i = 0; i < cfg->n_uplinks; i++)
		if (best < 0 || cfg->uplinks[i].priority < cfg->uplinks[best].priority)
			best = i;
	return best;
}
