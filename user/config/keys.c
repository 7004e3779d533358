// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config/keys.c - the configuration's keys: one table of every key of every
 * section, and the parsers of their values.
 *
 * A row names the section, the key, the kind of value (a number in a range,
 * yes/no, text, an interface name, an amount, or a function of its own for
 * the few keys that need more) and where the value goes: an offset into the
 * section's struct.  cfg_key_set() finds the row of the current section and
 * runs its parser; a key no row of the section has is reported with what the
 * section expects.  Sections, the reader and validation are in config.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_priv.h"

enum key_kind {
	KEY_U32,        /* uint32_t from min to max */
	KEY_BOOL,       /* int: yes/no, true/false, on/off, 1/0 */
	KEY_TEXT,       /* char[size]: one line of text for the report */
	KEY_IFNAME,     /* char[BSC_NAME_LEN]: an interface name */
	KEY_AMOUNT,     /* double: 0 or more */
	KEY_FUNC,       /* fn() */
};

#define KEY_REPEATABLE 1 /* given more than once, each adds one more */

struct cfg_key;
typedef int key_fn(struct parse_state *st, const struct cfg_key *k, void *base, const char *v);

struct cfg_key {
	enum cfg_section section;
	const char *name;
	enum key_kind kind;
	size_t off;             /* of the value in the section's struct */
	size_t size;            /* KEY_TEXT: of the field */
	uint32_t min, max;      /* KEY_U32 */
	const char *unit;       /* KEY_U32: "'V' is not a number of UNIT from MIN to MAX" */
	const char *expect;     /* KEY_U32: or "'V' is not EXPECT" */
	key_fn *fn;             /* KEY_FUNC */
	int flags;              /* KEY_REPEATABLE */
};

int cfg_parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
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
		cfg_add_error(st, st->line, "%s: '%s' is not an interface name (1-%d characters, no '/' or spaces)",
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
		cfg_add_error(st, st->line, "%s: '%s' is not yes or no", key, v);
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
		cfg_add_error(st, st->line, "%s: empty (expected some text)", key);
		return 0;
	}
	if (strlen(v) >= size) {
		cfg_add_error(st, st->line, "%s: too long (at most %zu characters)", key, size - 1);
		return 0;
	}
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			cfg_add_error(st, st->line, "%s: control character in the text", key);
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
		cfg_add_error(st, st->line, "%s: '%s' is not an amount (a number, 0 or more, such as 49.90)",
			      key, v);
		return 0;
	}
	*out = x;
	return 1;
}

/* ---- [bascule] ------------------------------------------------------ */

static int set_control_socket(struct parse_state *st, const struct cfg_key *k, void *base,
			      const char *v)
{
	struct bsc_cfg *cfg = base;

	if (v[0] != '/' || strlen(v) >= sizeof(cfg->control_socket)) {
		cfg_add_error(st, st->line, "control_socket: '%s' must be an absolute path under %zu characters",
			      v, sizeof(cfg->control_socket));
		return 0;
	}
	strcpy(cfg->control_socket, v);
	return 1;
}

static int set_metrics_listen(struct parse_state *st, const struct cfg_key *k, void *base,
			      const char *v)
{
	struct bsc_cfg *cfg = base;

	if (strlen(v) >= sizeof(cfg->metrics_listen) ||
	    (strcmp(v, "off") && !strrchr(v, ':'))) {
		cfg_add_error(st, st->line, "metrics_listen: '%s' is not ADDR:PORT or off", v);
		return 0;
	}
	strcpy(cfg->metrics_listen, v);
	return 1;
}

/* The group is looked up at the end (validate()): it remembers the line. */
static int set_control_group(struct parse_state *st, const struct cfg_key *k, void *base,
			     const char *v)
{
	struct bsc_cfg *cfg = base;

	if (!*v || strlen(v) >= sizeof(cfg->control_group)) {
		cfg_add_error(st, st->line, "control_group: '%s' is not a group name", v);
		return 0;
	}
	strcpy(cfg->control_group, v);
	cfg->control_group_line = st->line;
	return 1;
}

static int add_hook(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	struct bsc_cfg *cfg = base;

	if (v[0] != '/' || strlen(v) >= sizeof(cfg->hooks[0])) {
		cfg_add_error(st, st->line, "hook: '%s' must be the absolute path of a program", v);
		return 0;
	}
	if (cfg->n_hooks >= BSC_MAX_HOOKS) {
		cfg_add_error(st, st->line, "hook: at most %d hooks", BSC_MAX_HOOKS);
		return 0;
	}
	strcpy(cfg->hooks[cfg->n_hooks++], v);
	return 1;
}

static int set_history(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	struct bsc_cfg *cfg = base;

	if (!strcmp(v, "off")) {
		cfg->history[0] = '\0';
		return 1;
	}
	if (v[0] != '/' || strlen(v) >= sizeof(cfg->history)) {
		cfg_add_error(st, st->line, "history: '%s' must be the absolute path of a file, or off",
			      v);
		return 0;
	}
	strcpy(cfg->history, v);
	return 1;
}

/* 32 characters are left for the names of what is pinned under it. */
static int set_pin_root(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	struct bsc_cfg *cfg = base;

	if (v[0] != '/' || strlen(v) >= sizeof(cfg->pin_root) - 32) {
		cfg_add_error(st, st->line, "pin_root: '%s' must be an absolute path", v);
		return 0;
	}
	strcpy(cfg->pin_root, v);
	return 1;
}

/* ---- [uplink NAME] -------------------------------------------------- */

static int add_probe(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	struct bsc_uplink_cfg *u = base;
	char perr[160];

	if (u->n_probes >= BSC_MAX_PROBES) {
		cfg_add_error(st, st->line, "[uplink %s]: at most %d probes", u->name, BSC_MAX_PROBES);
		return 0;
	}
	if (bsc_probe_target_parse(v, &u->probes[u->n_probes], perr, sizeof(perr))) {
		cfg_add_error(st, st->line, "%s", perr);
		return 0;
	}
	u->n_probes++;
	return 1;
}

static int set_gateway(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	struct bsc_uplink_cfg *u = base;
	struct in_addr a;

	if (!strcmp(v, "auto")) {
		u->gateway_auto = 1;
		u->gateway = 0;
		return 1;
	}
	if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == 0 ||
	    a.s_addr == INADDR_BROADCAST) {
		cfg_add_error(st, st->line, "gateway: '%s' is not an IPv4 unicast address", v);
		return 0;
	}
	u->gateway = a.s_addr;
	return 1;
}

static int set_nat_ports(struct parse_state *st, const struct cfg_key *k, void *base,
			 const char *v)
{
	struct bsc_uplink_cfg *u = base;
	unsigned lo, hi;
	int n = -1;

	if (sscanf(v, "%u-%u%n", &lo, &hi, &n) != 2 || n != (int)strlen(v) ||
	    lo < BSC_NAT_PORT_FLOOR || hi > 65535 || lo > hi || hi - lo < 1023) {
		cfg_add_error(st, st->line, "nat_ports: '%s' is not a range MIN-MAX within %d-65535 of at least 1024 ports (the box's own ports stay outside it)",
			      v, BSC_NAT_PORT_FLOOR);
		return 0;
	}
	u->nat_port_min = (uint16_t)lo;
	u->nat_port_max = (uint16_t)hi;
	return 1;
}

/* ---- [site], [contact NAME] ----------------------------------------- */

static int add_staff_check(struct parse_state *st, const struct cfg_key *k, void *base,
			   const char *v)
{
	struct bsc_site_cfg *s = base;

	if (s->n_checks >= BSC_MAX_STAFF_CHECKS) {
		cfg_add_error(st, st->line, "staff_check: at most %d of them", BSC_MAX_STAFF_CHECKS);
		return 0;
	}
	if (!parse_text(st, k->name, v, s->staff_check[s->n_checks], sizeof(s->staff_check[0])))
		return 0;
	s->n_checks++;
	return 1;
}

static int set_email(struct parse_state *st, const struct cfg_key *k, void *base, const char *v)
{
	struct bsc_contact_cfg *c = base;

	if (!strchr(v, '@') || strpbrk(v, " <>\"")) {
		cfg_add_error(st, st->line, "email: '%s' is not an e-mail address", v);
		return 0;
	}
	return parse_text(st, k->name, v, c->email, sizeof(c->email));
}

/* ---- [drill] -------------------------------------------------------- */

/* `check = NAME KIND ARGS...` */
static int add_drill_check(struct parse_state *st, const struct cfg_key *k, void *base,
			   const char *v)
{
	struct bsc_drill_cfg *d = base;
	struct bsc_drill_check *c;
	char perr[256];
	size_t n = strcspn(v, " \t");
	const char *spec = v + n;
	size_t i;

	if (d->n_checks >= BSC_MAX_CHECKS) {
		cfg_add_error(st, st->line, "check: at most %d checks", BSC_MAX_CHECKS);
		return 0;
	}
	c = &d->checks[d->n_checks];
	while (*spec == ' ' || *spec == '\t')
		spec++;
	if (!n || n >= sizeof(c->name) || !*spec) {
		cfg_add_error(st, st->line, "check: '%s' is not NAME KIND TARGET (e.g. 'check = voip sip 203.0.113.60')",
			      v);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("-_.", v[i])) {
			cfg_add_error(st, st->line, "check: name '%.*s' has a bad character '%c' (letters, digits, '-', '_', '.')",
				      (int)n, v, v[i]);
			return 0;
		}
	memset(c, 0, sizeof(*c));
	memcpy(c->name, v, n);
	if (bsc_probe_target_parse(spec, &c->t, perr, sizeof(perr))) {
		cfg_add_error(st, st->line, "check %s: %s", c->name, perr);
		return 0;
	}
	d->n_checks++;
	return 1;
}

static int set_drill_target(struct parse_state *st, const struct cfg_key *k, void *base,
			    const char *v)
{
	struct bsc_drill_cfg *d = base;
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1 || !a.s_addr) {
		cfg_add_error(st, st->line, "target: '%s' is not an IPv4 address", v);
		return 0;
	}
	d->target = a.s_addr;
	return 1;
}

/* A boolean that remembers its line: whether the class can ever be online
 * is judged at the end, when the uplinks are known. */
static int set_class_metered(struct parse_state *st, const struct cfg_key *k, void *base,
			     const char *v)
{
	struct bsc_class_cfg *c = base;

	if (!parse_bool(st, k->name, v, &c->metered))
		return 0;
	st->class_metered_line[st->cur_class] = st->line;
	return 1;
}

/* ---- the table ------------------------------------------------------ */

/* The struct each kind of section is read into. */
#define SEC_T_BASCULE struct bsc_cfg
#define SEC_T_UPLINK  struct bsc_uplink_cfg
#define SEC_T_SITE    struct bsc_site_cfg
#define SEC_T_CONTACT struct bsc_contact_cfg
#define SEC_T_DRILL   struct bsc_drill_cfg
#define SEC_T_CLASS   struct bsc_class_cfg

/* offsetof(T, field), refused at compile time unless the field has the type
 * the kind of key writes (TYPE *: what &field must be). */
#define FIELD_OFF(T, field, type) \
	(offsetof(T, field) + \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(&((T *)0)->field), type) ? 1 : -1]))
#define ROW(sec, key, k, field, type, ...) \
	{ .section = CFG_SEC_##sec, .name = key, .kind = KEY_##k, \
	  .off = FIELD_OFF(SEC_T_##sec, field, type), \
	  .size = sizeof(((SEC_T_##sec *)0)->field), __VA_ARGS__ }

#define U32(sec, key, field, lo, hi, u) \
	ROW(sec, key, U32, field, uint32_t *, .min = lo, .max = hi, .unit = u)
/* a number whose message says more than its unit: "'V' is not WHAT" */
#define U32_SAYS(sec, key, field, lo, hi, what) \
	ROW(sec, key, U32, field, uint32_t *, .min = lo, .max = hi, .expect = what)
#define BOOL(sec, key, field)   ROW(sec, key, BOOL, field, int *)
#define TEXT(sec, key, field)   ROW(sec, key, TEXT, field, char (*)[sizeof(((SEC_T_##sec *)0)->field)])
#define IFNAME(sec, key, field) ROW(sec, key, IFNAME, field, char (*)[BSC_NAME_LEN])
#define AMOUNT(sec, key, field) ROW(sec, key, AMOUNT, field, double *)
#define FUNC(sec, key, f)       { .section = CFG_SEC_##sec, .name = key, .kind = KEY_FUNC, .fn = f }
#define REPEATED(sec, key, f) \
	{ .section = CFG_SEC_##sec, .name = key, .kind = KEY_FUNC, .fn = f, .flags = KEY_REPEATABLE }

static const struct cfg_key keys[] = {
	IFNAME(BASCULE, "lan", lan_ifname),
	FUNC(BASCULE, "pin_root", set_pin_root),
	U32(BASCULE, "flow_table_size", flow_table_size, 1024, 16u << 20, "flows"),
	U32(BASCULE, "tcp_established_timeout", tcp_established_timeout, 1, 86400 * 7, "seconds"),
	U32(BASCULE, "tcp_transitory_timeout", tcp_transitory_timeout, 1, 86400, "seconds"),
	U32(BASCULE, "tcp_closed_timeout", tcp_closed_timeout, 1, 3600, "seconds"),
	U32(BASCULE, "udp_timeout", udp_timeout, 1, 86400, "seconds"),
	U32(BASCULE, "icmp_timeout", icmp_timeout, 1, 3600, "seconds"),
	U32(BASCULE, "host_new_flows_per_s", host_flow_rate, 0, 1000000, "flows per second"),
	U32(BASCULE, "host_new_flows_burst", host_flow_burst, 1, 10000000, "flows"),
	U32(BASCULE, "gc_interval_ms", gc_interval_ms, 100, 600000, "milliseconds"),
	U32(BASCULE, "refresh_interval_ms", refresh_interval_ms, 50, 60000, "milliseconds"),
	U32(BASCULE, "failback_hold_ms", failback_hold_ms, 0, 3600000, "milliseconds"),
	BOOL(BASCULE, "failback_moves_flows", failback_moves_flows),
	BOOL(BASCULE, "manage_routes", manage_routes),
	BOOL(BASCULE, "source_guard", source_guard),
	U32(BASCULE, "route_table_base", route_table_base, 1, 250000, "(a routing table number)"),
	U32(BASCULE, "route_metric", route_metric, 0, 1000000, "(a route metric)"),
	FUNC(BASCULE, "control_socket", set_control_socket),
	FUNC(BASCULE, "control_group", set_control_group),
	FUNC(BASCULE, "metrics_listen", set_metrics_listen),
	REPEATED(BASCULE, "hook", add_hook),
	U32(BASCULE, "hook_timeout_ms", hook_timeout_ms, 100, 3600000, "milliseconds"),
	U32(BASCULE, "hook_max_running", hook_max_running, 1, 64, "hooks"),
	FUNC(BASCULE, "history", set_history),
	U32(BASCULE, "history_retention_days", history_retention_days, 1, 36500, "days"),

	IFNAME(UPLINK, "interface", ifname),
	FUNC(UPLINK, "gateway", set_gateway),
	U32_SAYS(UPLINK, "priority", priority, 0, 1000000,
		 "a number from 0 to 1000000 (lower is preferred)"),
	FUNC(UPLINK, "nat_ports", set_nat_ports),
	REPEATED(UPLINK, "probe", add_probe),
	BOOL(UPLINK, "metered", health.metered),
	U32(UPLINK, "interval_active_ms", health.interval_active_ms, 10, 60000, "milliseconds"),
	U32(UPLINK, "interval_standby_ms", health.interval_standby_ms, 10, 600000, "milliseconds"),
	U32(UPLINK, "interval_metered_ms", health.interval_metered_ms, 10, 3600000, "milliseconds"),
	U32(UPLINK, "burst_interval_ms", health.burst_interval_ms, 5, 10000, "milliseconds"),
	U32(UPLINK, "timeout_ms", health.timeout_ms, 5, 60000, "milliseconds"),
	U32(UPLINK, "quorum", health.quorum, 1, BSC_MAX_PROBES, "targets"),
	U32(UPLINK, "down_after", health.down_after, 1, 1000, "rounds"),
	U32(UPLINK, "up_after", health.up_after, 1, 1000, "rounds"),
	U32(UPLINK, "window", health.window, 1, BSC_WINDOW_MAX, "probes"),
	U32(UPLINK, "loss_pct", health.loss_pct, 0, 100, "percent (0 = no limit)"),
	U32(UPLINK, "rtt_ms", health.rtt_ms, 0, 60000, "milliseconds (0 = no limit)"),
	U32(UPLINK, "jitter_ms", health.jitter_ms, 0, 60000, "milliseconds (0 = no limit)"),
	U32(UPLINK, "damp_penalty", health.damp_penalty, 0, 1000000, "(penalty per fall)"),
	U32(UPLINK, "damp_suppress", health.damp_suppress, 0, 10000000, "(penalty, 0 = no damping)"),
	/* 0 would never be reached: a damped uplink would stay down for good */
	U32(UPLINK, "damp_reuse", health.damp_reuse, 1, 10000000,
	    "(penalty, at least 1: the penalty decays towards 0, never to it)"),
	U32(UPLINK, "damp_half_life_ms", health.damp_half_life_ms, 1, 86400000, "milliseconds"),
	TEXT(UPLINK, "provider", provider),
	TEXT(UPLINK, "equipment", equipment),
	TEXT(UPLINK, "support", support),
	AMOUNT(UPLINK, "monthly_cost", monthly_cost),
	AMOUNT(UPLINK, "cost_per_gb", cost_per_gb),

	TEXT(SITE, "name", name),
	TEXT(SITE, "address", address),
	U32(SITE, "rto_ms", rto_ms, 1, 86400000, "milliseconds"),
	AMOUNT(SITE, "downtime_cost_per_hour", downtime_cost_per_hour),
	TEXT(SITE, "currency", currency),
	REPEATED(SITE, "staff_check", add_staff_check),

	TEXT(CONTACT, "role", role),
	TEXT(CONTACT, "phone", phone),
	FUNC(CONTACT, "email", set_email),
	U32_SAYS(CONTACT, "escalation", escalation, 1, 99, "a level from 1 (called first) to 99"),
	TEXT(CONTACT, "hours", hours),

	FUNC(DRILL, "target", set_drill_target),
	U32(DRILL, "interval_ms", interval_ms, 1, 1000, "milliseconds"),
	REPEATED(DRILL, "check", add_drill_check),
	U32(DRILL, "check_timeout_ms", check_timeout_ms, 10, 60000, "milliseconds"),
	U32(DRILL, "cutover_timeout_ms", cutover_timeout_ms, 100, 600000, "milliseconds"),
	U32(DRILL, "failback_timeout_ms", failback_timeout_ms, 0, 3600000, "milliseconds"),

	REPEATED(CLASS, "match", cfg_class_match),
	FUNC(CLASS, "uplinks", cfg_class_uplinks),
	FUNC(CLASS, "fallback", cfg_class_fallback),
	FUNC(CLASS, "metered", set_class_metered),
	FUNC(CLASS, "balance", cfg_class_balance),
	FUNC(CLASS, "persist", cfg_class_persist),
	FUNC(CLASS, "failback", cfg_class_failback),
};

/* What an unknown key's message says each section expects: written, not
 * derived from the table, for its globs (*_timeout, damp_*). */
static const char *const expected[] = {
	[CFG_SEC_BASCULE] = "lan, pin_root, flow_table_size, *_timeout, host_new_flows_per_s, host_new_flows_burst, gc_interval_ms, refresh_interval_ms, failback_hold_ms, failback_moves_flows, manage_routes, source_guard, route_table_base, route_metric, control_socket, control_group, metrics_listen, hook, hook_timeout_ms, hook_max_running, history, history_retention_days",
	[CFG_SEC_UPLINK] = "interface, gateway, priority, nat_ports, probe, metered, interval_*_ms, timeout_ms, quorum, down_after, up_after, window, loss_pct, rtt_ms, jitter_ms, damp_*, provider, equipment, support, monthly_cost, cost_per_gb",
	[CFG_SEC_SITE] = "name, address, rto_ms, downtime_cost_per_hour, currency, staff_check",
	[CFG_SEC_CONTACT] = "role, phone, email, escalation, hours",
	[CFG_SEC_DRILL] = "target, interval_ms, check, check_timeout_ms, cutover_timeout_ms, failback_timeout_ms",
	[CFG_SEC_CLASS] = "match, uplinks, balance, persist, fallback, metered, failback",
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

int cfg_key_repeatable(const char *key)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if ((keys[i].flags & KEY_REPEATABLE) && !strcmp(keys[i].name, key))
			return 1;
	return 0;
}

static int set_u32(struct parse_state *st, const struct cfg_key *k, uint32_t *out, const char *v)
{
	if (!cfg_parse_u32(v, k->min, k->max, out))
		return 1;
	if (k->expect)
		cfg_add_error(st, st->line, "%s: '%s' is not %s", k->name, v, k->expect);
	else
		cfg_add_error(st, st->line, "%s: '%s' is not a number of %s from %u to %u",
			      k->name, v, k->unit, k->min, k->max);
	return 0;
}

int cfg_key_set(struct parse_state *st, const char *key, const char *v)
{
	struct bsc_cfg *cfg = st->cfg;
	const struct cfg_key *k;
	const char *sec = "", *name = "";
	char *base = NULL;
	size_t i;

	switch (st->kind) {
	case CFG_SEC_BASCULE:
		base = (char *)cfg;
		sec = "bascule";
		break;
	case CFG_SEC_UPLINK:
		base = (char *)&cfg->uplinks[st->cur_uplink];
		sec = "uplink ";
		name = cfg->uplinks[st->cur_uplink].name;
		break;
	case CFG_SEC_SITE:
		base = (char *)&cfg->site;
		sec = "site";
		break;
	case CFG_SEC_CONTACT:
		base = (char *)&cfg->contacts[st->cur_contact];
		sec = "contact ";
		name = cfg->contacts[st->cur_contact].name;
		break;
	case CFG_SEC_DRILL:
		base = (char *)&cfg->drill;
		sec = "drill";
		break;
	case CFG_SEC_CLASS:
		base = (char *)&cfg->classes[st->cur_class];
		sec = "class ";
		name = cfg->classes[st->cur_class].name;
		break;
	case CFG_SEC_NONE:
		return 0;
	}
	for (i = 0; i < N_KEYS; i++) {
		k = &keys[i];
		if (k->section != st->kind || strcmp(k->name, key))
			continue;
		switch (k->kind) {
		case KEY_U32:
			return set_u32(st, k, (uint32_t *)(base + k->off), v);
		case KEY_BOOL:
			return parse_bool(st, k->name, v, (int *)(base + k->off));
		case KEY_TEXT:
			return parse_text(st, k->name, v, base + k->off, k->size);
		case KEY_IFNAME:
			return parse_ifname(st, k->name, v, base + k->off);
		case KEY_AMOUNT:
			return parse_amount(st, k->name, v, (double *)(base + k->off));
		case KEY_FUNC:
			return k->fn(st, k, base, v);
		}
	}
	cfg_add_error(st, st->line, "unknown key '%s' in [%s%s] (expected %s)",
		      key, sec, name, expected[st->kind]);
	return 0;
}
