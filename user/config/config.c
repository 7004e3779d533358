// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config/config.c - INI configuration: the reader (inih), sections, repeated keys,
 * defaults, validation, loading; the errors collected.
 *
 * inih does not tell a handler which line it is on, so the file is fed
 * through a counting reader: every error then carries file and line.  All
 * errors are collected, not just the first, so that an operator fixes a file
 * in one go.  The keys of each section and the parsers of their values are
 * in keys.c: the handler passes it each key of the section opened.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>

#include "config/config_priv.h"

void cfg_add_error(struct parse_state *st, int line, const char *fmt, ...)
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
	/* the default class, always there: what no match line takes, on every
	 * uplink by priority unless a [class default] section says otherwise */
	cfg->n_classes = 1;
	snprintf(cfg->classes[0].name, sizeof(cfg->classes[0].name), "%s", "default");
	cfg->classes[0].metered = 1;
}

int cfg_valid_name(const char *n)
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
		cfg_add_error(st, st->line, "[site] defined twice (first at line %d)", st->site_line);
		snprintf(st->section, sizeof(st->section), "%s", "?");
		return 0;
	}
	st->site_line = st->line;
	st->kind = CFG_SEC_SITE;
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
		cfg_add_error(st, st->line, "[contact %s]: the name must be 1-%zu printable characters",
			      name, sizeof(c->name) - 1);
		return 0;
	}
	for (i = 0; i < cfg->n_contacts; i++) {
		if (!strcmp(cfg->contacts[i].name, name)) {
			cfg_add_error(st, st->line, "[contact %s] defined twice (first at line %d)",
				      name, cfg->contacts[i].line);
			return 0;
		}
	}
	if (cfg->n_contacts >= BSC_MAX_CONTACTS) {
		cfg_add_error(st, st->line, "too many contacts (at most %d)", BSC_MAX_CONTACTS);
		return 0;
	}
	st->cur_contact = cfg->n_contacts++;
	c = &cfg->contacts[st->cur_contact];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->line = st->line;
	st->kind = CFG_SEC_CONTACT;
	return 1;
}

/* [class NAME]: a new class, numbered in file order from 1; [class default]
 * opens classes[0] (there from the start), to set its policy. */
static int open_class(struct parse_state *st, const char *name)
{
	struct bsc_cfg *cfg = st->cfg;
	struct bsc_class_cfg *c;
	int i;

	while (*name == ' ')
		name++;
	if (!cfg_valid_name(name)) {
		cfg_add_error(st, st->line, "[class %s]: name must be 1-%d of a-z A-Z 0-9 - _",
			      name, BSC_NAME_LEN - 1);
		return 0;
	}
	/* classes[0] is "default" before any section: line 0 until opened */
	for (i = 0; i < cfg->n_classes; i++) {
		if (!strcmp(cfg->classes[i].name, name) && cfg->classes[i].line) {
			cfg_add_error(st, st->line, "[class %s] defined twice (first at line %d)",
				      name, cfg->classes[i].line);
			return 0;
		}
	}
	if (!strcmp(name, "default")) {
		st->cur_class = 0;
		cfg->classes[0].line = st->line;
		st->kind = CFG_SEC_CLASS;
		return 1;
	}
	if (cfg->n_classes >= BSC_MAX_CLASSES) {
		cfg_add_error(st, st->line, "too many classes (at most %d, the default class included)",
			      BSC_MAX_CLASSES);
		return 0;
	}
	st->cur_class = cfg->n_classes++;
	c = &cfg->classes[st->cur_class];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->line = st->line;
	c->metered = 1;
	st->kind = CFG_SEC_CLASS;
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
	st->cur_class = -1;
	st->kind = CFG_SEC_NONE;
	st->section_seq++;
	if (!strcmp(section, "bascule") || !strcmp(section, "drill")) {
		int *first = section[0] == 'b' ? &st->bascule_line : &st->drill_line;

		if (*first) {
			cfg_add_error(st, st->line, "[%s] defined twice (first at line %d): one section, all its keys in it",
				      section, *first);
			snprintf(st->section, sizeof(st->section), "%s", "?");
			return 0;
		}
		*first = st->line;
		st->kind = section[0] == 'b' ? CFG_SEC_BASCULE : CFG_SEC_DRILL;
		return 1;
	}
	if (!strcmp(section, "site"))
		return open_site(st);
	if (!strcmp(section, "contact") || !strncmp(section, "contact ", 8))
		return open_contact(st, section + 7);
	if (!strcmp(section, "class") || !strncmp(section, "class ", 6))
		return open_class(st, section + 5);
	if (strncmp(section, "uplink ", 7)) {
		cfg_add_error(st, st->line, "unknown section [%s] (expected [bascule], [uplink NAME], [class NAME], [drill], [site] or [contact NAME])",
			      section);
		return 0;
	}
	name = section + 7;
	while (*name == ' ')
		name++;
	if (!cfg_valid_name(name)) {
		cfg_add_error(st, st->line, "[uplink %s]: name must be 1-%d of a-z A-Z 0-9 - _",
			      name, BSC_NAME_LEN - 1);
		return 0;
	}
	for (i = 0; i < cfg->n_uplinks; i++) {
		if (!strcmp(cfg->uplinks[i].name, name)) {
			cfg_add_error(st, st->line, "[uplink %s] defined twice (first at line %d)",
				      name, cfg->uplinks[i].line);
			return 0;
		}
	}
	if (cfg->n_uplinks >= BSC_MAX_UPLINKS) {
		cfg_add_error(st, st->line, "too many uplinks (at most %d)", BSC_MAX_UPLINKS);
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
	st->kind = CFG_SEC_UPLINK;
	return 1;
}

/* 1 the first time a single-valued key is given in this section; 0 (an
 * error given) on a second. */
static int first_time(struct parse_state *st, const char *key)
{
	int i;

	if (cfg_key_repeatable(key) || strlen(key) >= sizeof(st->seen[0].key))
		return 1; /* (a key that long is unknown: reported as such) */
	for (i = 0; i < st->n_seen; i++)
		if (st->seen[i].section == st->section_seq && !strcmp(st->seen[i].key, key)) {
			cfg_add_error(st, st->line, "'%s' given twice in [%s] (first at line %d): which one is meant?",
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
		cfg_add_error(st, st->line, "key '%s' outside any section", key);
		return 0;
	}
	if (!strcmp(st->section, "?"))
		return 0; /* the bad section was reported already */
	if (!first_time(st, key))
		return 0;
	if (st->kind == CFG_SEC_NONE)
		return 0; /* the bad section was reported already */
	return cfg_key_set(st, key, value);
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
			cfg_add_error(st, st->line, "syntax error: section header without ']'");
			st->in_section = 1;
			st->cur_uplink = -1;
			st->cur_contact = -1;
			st->cur_class = -1;
			st->kind = CFG_SEC_NONE;
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
		cfg_add_error(st, st->line, "syntax error (expected [section], key = value, or a ; comment)");
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
			cfg_add_error(st, st->line, "line too long (at most %d characters)", num - 2);
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

/* The classes once every [uplink] is known: their names resolved, and a
 * policy that could never put a flow anywhere refused rather than found out
 * during an outage. */
static void validate_classes(struct parse_state *st)
{
	struct bsc_cfg *cfg = st->cfg;
	char has_rule[BSC_MAX_CLASSES] = { 0 };
	int i, j, n_metered = 0;

	for (i = 0; i < cfg->n_uplinks; i++)
		n_metered += !!cfg->uplinks[i].health.metered;
	for (i = 0; i < cfg->n_rules; i++)
		has_rule[cfg->rules[i].cls] = 1;
	for (i = 0; i < cfg->n_classes; i++) {
		struct bsc_class_cfg *c = &cfg->classes[i];
		int resolved = 1, metered = 0;

		for (j = 0; j < c->n_uplinks; j++) {
			int u = bsc_config_find_uplink(cfg, c->uplink_names[j]);

			if (u < 0) {
				cfg_add_error(st, st->class_uplinks_line[i], "uplinks: no [uplink %s] in this file",
					      c->uplink_names[j]);
				resolved = 0;
				continue;
			}
			c->uplinks[j] = u;
			metered += !!cfg->uplinks[u].health.metered;
		}
		if (!i && c->balance)
			cfg_add_error(st, st->class_uplinks_line[i], "class default: balance is for a class with match lines (the default class fails over: uplinks = ...)");
		if (c->persist_source && !c->balance)
			cfg_add_error(st, c->line, "class %s: persist = source needs a balance line (it says how a balance spreads flows)",
				      c->name);
		if (i && !has_rule[i])
			cfg_add_error(st, c->line, "class %s has no match line: no flow can fall in it",
				      c->name);
		if (!c->metered && resolved && c->n_uplinks && metered == c->n_uplinks)
			cfg_add_error(st, st->class_metered_line[i],
				      "class %s: metered = no, and every uplink it lists is metered: it could never be online",
				      c->name);
		/* no list: every uplink of the file, by priority */
		if (!c->metered && !c->n_uplinks && cfg->n_uplinks && n_metered == cfg->n_uplinks)
			cfg_add_error(st, st->class_metered_line[i],
				      "class %s: metered = no, and every uplink of this file is metered: it could never be online",
				      c->name);
	}
}

static void validate(struct parse_state *st)
{
	struct bsc_cfg *cfg = st->cfg;
	int i, j;

	derive_defaults(cfg);
	if (!cfg->lan_ifname[0])
		cfg_add_error(st, 1, "[bascule] needs 'lan = IFNAME' (the interface facing the LAN)");
	if (!cfg->n_uplinks)
		cfg_add_error(st, 1, "no [uplink NAME] section: at least one uplink is needed");
	for (i = 0; i < cfg->n_uplinks; i++) {
		struct bsc_uplink_cfg *u = &cfg->uplinks[i];

		if (!u->ifname[0])
			cfg_add_error(st, u->line, "[uplink %s] needs 'interface = IFNAME'", u->name);
		if (!u->gateway && !u->gateway_auto)
			cfg_add_error(st, u->line, "[uplink %s] needs 'gateway = IPv4 address' (its next hop), or 'gateway = auto' to follow DHCP",
				      u->name);
		if (u->n_probes && u->health.quorum > (uint32_t)u->n_probes)
			cfg_add_error(st, u->line, "[uplink %s]: quorum %u but only %d probe(s)",
				      u->name, u->health.quorum, u->n_probes);
		if (u->ifname[0] && !strcmp(u->ifname, cfg->lan_ifname))
			cfg_add_error(st, u->line, "[uplink %s]: interface %s is the LAN interface",
				      u->name, u->ifname);
		for (j = 0; j < i; j++)
			if (u->ifname[0] && !strcmp(u->ifname, cfg->uplinks[j].ifname))
				cfg_add_error(st, u->line, "[uplink %s]: interface %s already used by [uplink %s]",
					      u->name, u->ifname, cfg->uplinks[j].name);
	}
	/* Checked here, not only when the socket is made: a daemon that
	 * starts without its control socket is worse than one that refuses. */
	if (cfg->control_group[0] && !getgrnam(cfg->control_group))
		cfg_add_error(st, cfg->control_group_line,
			      "control_group: group '%s' does not exist (create it, e.g. groupadd %s, or leave the key out: root only)",
			      cfg->control_group, cfg->control_group);
	for (i = 0; i < cfg->n_contacts; i++) {
		const struct bsc_contact_cfg *c = &cfg->contacts[i];

		if (!c->phone[0] && !c->email[0])
			cfg_add_error(st, c->line, "[contact %s] needs 'phone = ...' or 'email = ...' (how to reach them)",
				      c->name);
	}
	validate_classes(st);
}

static int run_parser(struct parse_state *st)
{
	int rc = ini_parse_stream(read_line, st, handler, st);

	/* Syntax errors were reported line by line by the reader; inih's own
	 * verdict only matters if the reader missed something. */
	if (rc == -2)
		cfg_add_error(st, st->line, "out of memory");
	else if (rc > 0 && !st->errors)
		cfg_add_error(st, rc, "syntax error (expected [section], key = value, or a ; comment)");
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
	st->cur_class = -1;
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
