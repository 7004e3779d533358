// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - unit tests of the configuration (user/config/), cmocka.
 *
 *   valid files  the lab's and the shipped files, defaults, every key read,
 *                limits, comments, [drill], [site], [contact], costs,
 *                [class NAME] and its match lines
 *   rejected     one test per row: the file, the line its message must
 *                name and what it must say
 *   errors       several at once, each with its line; repeats and dead
 *                values; a small error buffer; files read from disk
 *
 * Table-driven groups register one cmocka test per row, named after the
 * row, so a failure names the case that broke.  Everything runs in one group
 * so that CMOCKA_MESSAGE_OUTPUT=TAP prints a single plan.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bascule.h"
#include "config/config.h"
#include "lib/runner.h"
#include "lib/unit.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

/* Assert that err holds a message line "NAME:LINE: ...FRAG...". */
static void assert_error_at(const char *err, const char *name, int line, const char *frag)
{
	char prefix[128];
	const char *p = err;
	size_t plen;

	snprintf(prefix, sizeof(prefix), "%s:%d: ", name, line);
	plen = strlen(prefix);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char msg[1024];

		snprintf(msg, sizeof(msg), "%.*s", (int)len, p);
		if (!strncmp(msg, prefix, plen) && strstr(msg + plen, frag))
			return;
		p += len + (eol ? 1 : 0);
	}
	fail_msg("expected a message \"%s...%s...\"; the parser said:\n%s", prefix, frag,
		 *err ? err : "(nothing)\n");
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ------------------------------------------------------------------ */
/* config: valid files                                                */
/* ------------------------------------------------------------------ */

/* scripts/lab.conf, verbatim. */
static const char lab_conf[] =
	"; Bascule configuration of the lab site (scripts/lab.sh): a fibre primary, a\n"
	"; metered 5G backup and a satellite link behind carrier-grade NAT.\n"
	"[bascule]\n"
	"lan = lan0\n"
	"pin_root = /sys/fs/bpf/bascule\n"
	"flow_table_size = 65536\n"
	"\n"
	"[uplink fiber]\n"
	"interface = wan0\n"
	"gateway = 192.0.2.1\n"
	"priority = 10\n"
	"\n"
	"[uplink cell]\n"
	"interface = wan1\n"
	"gateway = 198.51.100.1\n"
	"priority = 20\n"
	"\n"
	"[uplink sat]\n"
	"interface = wan2\n"
	"gateway = 100.64.0.1\n"
	"priority = 30\n";

static void check_lab_values(const struct bsc_cfg *cfg)
{
	static const struct {
		const char *name, *ifname;
		uint8_t gw[4];
		uint32_t prio;
	} want[] = {
		{ "fiber", "wan0", { 192, 0, 2, 1 }, 10 },
		{ "cell", "wan1", { 198, 51, 100, 1 }, 20 },
		{ "sat", "wan2", { 100, 64, 0, 1 }, 30 },
	};
	size_t i;

	assert_string_equal(cfg->lan_ifname, "lan0");
	assert_string_equal(cfg->pin_root, "/sys/fs/bpf/bascule");
	assert_int_equal(cfg->flow_table_size, 65536);
	assert_int_equal(cfg->n_uplinks, 3);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct bsc_uplink_cfg *u = &cfg->uplinks[i];

		assert_string_equal(u->name, want[i].name);
		assert_string_equal(u->ifname, want[i].ifname);
		/* network byte order: the bytes in memory are the dotted quad */
		assert_memory_equal(&u->gateway, want[i].gw, 4);
		assert_int_equal(u->priority, want[i].prio);
	}
}

static void test_config_lab_conf_parses(void **state)
{
	struct bsc_cfg cfg;

	parse_ok(lab_conf, &cfg);
	check_lab_values(&cfg);
	assert_string_equal(cfg.path, CONF_NAME);
}

/* Unset, the per-host budget keeps one host to a quarter of the table with
 * UDP flows: 65536 / (4 * 120 s) = 136 new flows/s, burst twice that; set,
 * it is taken as given, and 0 turns it off. */
static void test_config_host_flow_budget(void **state)
{
	static const char extra[] = "host_new_flows_per_s = 0\n";
	char text[2048];
	struct bsc_cfg cfg;

	(void)state;
	parse_ok(lab_conf, &cfg);
	assert_int_equal(cfg.host_flow_rate, 136);
	assert_int_equal(cfg.host_flow_burst, 272);
	snprintf(text, sizeof(text), "[bascule]\nlan = lan0\nflow_table_size = 1024\n%s"
		 "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n", extra);
	parse_ok(text, &cfg);
	assert_int_equal(cfg.host_flow_rate, 0);
	assert_int_equal(cfg.host_flow_burst, 200);
	snprintf(text, sizeof(text), "[bascule]\nlan = lan0\nflow_table_size = 1024\n"
		 "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n");
	parse_ok(text, &cfg);
	assert_int_equal(cfg.host_flow_rate, 50); /* the floor */
}

/* The shipped example (scripts/bascule.conf.example) and the lab's
 * configuration are valid, probes and all. */
static void test_config_shipped_files_parse(void **state)
{
	struct bsc_cfg cfg;
	char err[4096];

	(void)state;
	if (bsc_config_load("scripts/bascule.conf.example", &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.n_uplinks, 3);
	assert_true(cfg.uplinks[1].gateway_auto);
	assert_true(cfg.uplinks[1].health.metered);
	assert_int_equal(cfg.uplinks[0].n_probes, 4);
	assert_int_equal(cfg.uplinks[2].health.timeout_ms, 400);
	assert_string_equal(cfg.metrics_listen, "127.0.0.1:9901");
	assert_int_equal(cfg.n_contacts, 2);
	assert_true(cfg.site.n_checks >= 1);
	if (bsc_config_load("scripts/lab.conf", &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(cfg.uplinks[0].n_probes, 4);
	assert_int_equal(cfg.failback_hold_ms, 3000);
	/* the report's inputs (tests/report.sh relies on them) */
	assert_string_equal(cfg.site.name, "Boulangerie Martin");
	assert_string_equal(cfg.history, BSC_DEFAULT_HISTORY);
	assert_int_equal(cfg.n_contacts, 2);
	assert_true(cfg.site.downtime_cost_per_hour > 0);
	assert_true(cfg.uplinks[1].health.metered);
	assert_true(cfg.uplinks[1].cost_per_gb > 0);
	assert_true(cfg.uplinks[1].monthly_cost > 0 && cfg.uplinks[2].monthly_cost > 0);
}

static void test_config_unset_keys_get_defaults(void **state)
{
	struct bsc_cfg cfg;

	parse_ok(lab_conf, &cfg);
	/* RFC 5382 / RFC 4787 defaults */
	assert_int_equal(cfg.tcp_established_timeout, 7440);
	assert_int_equal(cfg.tcp_transitory_timeout, 240);
	assert_int_equal(cfg.tcp_closed_timeout, 10);
	assert_int_equal(cfg.udp_timeout, 120);
	assert_int_equal(cfg.icmp_timeout, 30);
	assert_int_equal(cfg.gc_interval_ms, 2000);
	assert_int_equal(cfg.refresh_interval_ms, 1000);

	parse_ok("[bascule]\nlan = lan0\n[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n", &cfg);
	assert_string_equal(cfg.pin_root, BSC_DEFAULT_PIN_ROOT);
	assert_int_equal(cfg.flow_table_size, BSC_DEFAULT_FLOWS);
	assert_int_equal(cfg.uplinks[0].priority, 100); /* unset priority */
	assert_int_equal(cfg.source_guard, 1);          /* on unless said otherwise */
}

/* The NAT's range per uplink: the default keeps clear of the kernel's
 * default ephemeral ports and of the well-known ones; a range is taken as
 * given. */
static void test_config_nat_ports(void **state)
{
	struct bsc_cfg cfg;

	(void)state;
	parse_ok("[bascule]\nlan = lan0\n[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\nnat_ports = 2000-9999\n",
		 &cfg);
	assert_int_equal(cfg.uplinks[0].nat_port_min, 16384);
	assert_int_equal(cfg.uplinks[0].nat_port_max, 32767);
	assert_int_equal(cfg.uplinks[1].nat_port_min, 2000);
	assert_int_equal(cfg.uplinks[1].nat_port_max, 9999);
}

static void test_config_every_global_key_is_read(void **state)
{
	struct bsc_cfg cfg;

	parse_ok("[bascule]\n"
		 "lan = br-lan\n"
		 "pin_root = /run/bascule/pins\n"
		 "flow_table_size = 4096\n"
		 "tcp_established_timeout = 7001\n"
		 "tcp_transitory_timeout = 301\n"
		 "tcp_closed_timeout = 17\n"
		 "udp_timeout = 181\n"
		 "icmp_timeout = 43\n"
		 "gc_interval_ms = 1500\n"
		 "refresh_interval_ms = 250\n"
		 "source_guard = no\n"
		 "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n", &cfg);
	assert_string_equal(cfg.lan_ifname, "br-lan");
	assert_string_equal(cfg.pin_root, "/run/bascule/pins");
	assert_int_equal(cfg.flow_table_size, 4096);
	assert_int_equal(cfg.tcp_established_timeout, 7001);
	assert_int_equal(cfg.tcp_transitory_timeout, 301);
	assert_int_equal(cfg.tcp_closed_timeout, 17);
	assert_int_equal(cfg.udp_timeout, 181);
	assert_int_equal(cfg.icmp_timeout, 43);
	assert_int_equal(cfg.gc_interval_ms, 1500);
	assert_int_equal(cfg.refresh_interval_ms, 250);
	assert_int_equal(cfg.source_guard, 0);
}

static void test_config_limits_are_inclusive(void **state)
{
	struct bsc_cfg cfg;

	parse_ok("[bascule]\nlan = lan0\nflow_table_size = 1024\n"
		 "[uplink a]\ninterface = abcdefghijklmno\ngateway = 0.0.0.1\npriority = 0\n"
		 "[uplink b]\ninterface = wan1\ngateway = 255.255.255.254\npriority = 1000000\n",
		 &cfg);
	assert_int_equal(cfg.flow_table_size, 1024);
	assert_string_equal(cfg.uplinks[0].ifname, "abcdefghijklmno"); /* 15 characters */
	assert_int_equal(cfg.uplinks[0].priority, 0);
	assert_int_equal(cfg.uplinks[1].priority, 1000000);
	parse_ok("[bascule]\nlan = lan0\nflow_table_size = 16777216\n"
		 "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n", &cfg);
	assert_int_equal(cfg.flow_table_size, 16u << 20);
}

static void test_config_comments_and_spacing(void **state)
{
	struct bsc_cfg cfg;

	parse_ok("# hash comment\n"
		 "; semicolon comment\n"
		 "[bascule]\n"
		 "lan=lan0\n"
		 "flow_table_size   =   2048   ; inline comment\n"
		 "\n"
		 "[uplink   spaced]\n"
		 "interface = wan0\n"
		 "gateway = 192.0.2.1 ; the ISP router\n", &cfg);
	assert_string_equal(cfg.lan_ifname, "lan0");
	assert_int_equal(cfg.flow_table_size, 2048);
	assert_int_equal(cfg.n_uplinks, 1);
	assert_string_equal(cfg.uplinks[0].name, "spaced");
	assert_memory_equal(&cfg.uplinks[0].gateway, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
}

#define UPLINK(n) "[uplink u" #n "]\ninterface = wan" #n "\ngateway = 192.0.2." #n "\n"

static void test_config_eight_uplinks_fit(void **state)
{
	struct bsc_cfg cfg;
	int i;

	parse_ok("[bascule]\nlan = lan0\n" UPLINK(1) UPLINK(2) UPLINK(3) UPLINK(4)
		 UPLINK(5) UPLINK(6) UPLINK(7) UPLINK(8), &cfg);
	assert_int_equal(cfg.n_uplinks, BSC_MAX_UPLINKS);
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "u%d", i + 1);
		assert_string_equal(cfg.uplinks[i].name, name);
	}
}

static void test_config_parse_starts_from_defaults(void **state)
{
	struct bsc_cfg cfg;

	/* garbage in the struct, and a previous parse, must not leak through */
	memset(&cfg, 0xa5, sizeof(cfg));
	parse_ok(lab_conf, &cfg);
	parse_ok("[bascule]\nlan = lan9\n[uplink only]\ninterface = wan5\ngateway = 192.0.2.9\n",
		 &cfg);
	assert_int_equal(cfg.n_uplinks, 1);
	assert_string_equal(cfg.lan_ifname, "lan9");
	assert_int_equal(cfg.flow_table_size, BSC_DEFAULT_FLOWS);
	assert_int_equal(cfg.uplinks[0].priority, 100);
}

static void test_config_drill(void **state)
{
	struct bsc_cfg cfg;

	parse_ok("[bascule]\nlan = lan0\n" UPLINK(1) "[site]\nrto_ms = 800\n[drill]\ntarget = 203.0.113.1\n"
		 "check = dns dns 203.0.113.53 bascule.test\ncheck = voip sip 203.0.113.60:5062 200\n"
		 "check = office-vpn icmp 203.0.113.70\n", &cfg);
	assert_int_equal(cfg.drill.target, inet_addr("203.0.113.1"));
	assert_int_equal(cfg.site.rto_ms, 800);
	assert_int_equal(cfg.drill.interval_ms, 5); /* defaults kept */
	assert_int_equal(cfg.drill.check_timeout_ms, 3000);
	assert_int_equal(cfg.drill.n_checks, 3);
	assert_string_equal(cfg.drill.checks[0].name, "dns");
	assert_int_equal(cfg.drill.checks[0].t.kind, BSC_PROBE_DNS);
	assert_string_equal(cfg.drill.checks[1].name, "voip");
	assert_int_equal(cfg.drill.checks[1].t.kind, BSC_PROBE_SIP);
	assert_int_equal(cfg.drill.checks[1].t.port, 5062);
	assert_int_equal(cfg.drill.checks[1].t.expect_status, 200);
	assert_string_equal(cfg.drill.checks[2].name, "office-vpn");
	/* no [drill]: defaults, no checks */
	parse_ok("[bascule]\nlan = lan0\n" UPLINK(1), &cfg);
	assert_int_equal(cfg.drill.n_checks, 0);
	assert_int_equal(cfg.site.rto_ms, 1000);
}

static void test_config_find_uplink(void **state)
{
	struct bsc_cfg cfg;

	parse_ok(lab_conf, &cfg);
	assert_int_equal(bsc_config_find_uplink(&cfg, "fiber"), 0);
	assert_int_equal(bsc_config_find_uplink(&cfg, "cell"), 1);
	assert_int_equal(bsc_config_find_uplink(&cfg, "sat"), 2);
	assert_int_equal(bsc_config_find_uplink(&cfg, "fib"), -1);    /* no prefixes */
	assert_int_equal(bsc_config_find_uplink(&cfg, "fiber2"), -1);
	assert_int_equal(bsc_config_find_uplink(&cfg, "FIBER"), -1);  /* exact case */
	assert_int_equal(bsc_config_find_uplink(&cfg, ""), -1);
	assert_int_equal(bsc_config_find_uplink(&cfg, "wan0"), -1);   /* not by interface */
}

/* Three classes before the uplinks they name (names are resolved at the end
 * of the file), each field read as the data plane will take it: addresses
 * and masks in network order, ports in host order, classes numbered from 1
 * in file order, rules in file order; the default class untouched. */
static void test_config_classes_are_read(void **state)
{
	static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	const struct bsc_class_match *r;
	const struct bsc_class_cfg *c;
	struct bsc_cfg cfg;

	(void)state;
	parse_ok("[bascule]\n"                                  /* 1 */
		 "lan = lan0\n"                                 /* 2 */
		 "[class voip]\n"                               /* 3 */
		 "match = proto udp dport 5060-5061\n"          /* 4 */
		 "match = dscp ef\n"                            /* 5 */
		 "uplinks = fiber cell\n"                       /* 6 */
		 "fallback = any\n"                             /* 7 */
		 "[class payments]\n"                           /* 8 */
		 "match = dst 198.51.100.0/24 proto tcp dport 443\n" /* 9 */
		 "[class guests]\n"                             /* 10 */
		 "match = mac 02:00:00:00:00:42\n"              /* 11 */
		 "match = src 10.77.0.128/25\n"                 /* 12 */
		 "metered = no\n"                               /* 13 */
		 "uplinks = fiber sat\n"                        /* 14 */
		 "[uplink fiber]\ninterface = wan0\ngateway = 192.0.2.1\npriority = 10\n"
		 "[uplink cell]\ninterface = wan1\ngateway = 198.51.100.1\npriority = 20\n"
		 "metered = yes\n"
		 "[uplink sat]\ninterface = wan2\ngateway = 100.64.0.1\npriority = 30\n", &cfg);
	assert_int_equal(cfg.n_classes, 4);

	c = &cfg.classes[0]; /* no [class default]: every uplink, by priority */
	assert_string_equal(c->name, "default");
	assert_int_equal(c->line, 0);
	assert_int_equal(c->n_uplinks, 0);
	assert_int_equal(c->metered, 1);
	assert_int_equal(c->fallback_any, 0);

	c = &cfg.classes[1];
	assert_string_equal(c->name, "voip");
	assert_int_equal(c->line, 3);
	assert_int_equal(c->n_uplinks, 2);
	assert_string_equal(c->uplink_names[0], "fiber");
	assert_string_equal(c->uplink_names[1], "cell");
	assert_int_equal(c->uplinks[0], 0);
	assert_int_equal(c->uplinks[1], 1);
	assert_int_equal(c->fallback_any, 1);
	assert_int_equal(c->metered, 1);

	c = &cfg.classes[2];
	assert_string_equal(c->name, "payments");
	assert_int_equal(c->line, 8);
	assert_int_equal(c->n_uplinks, 0);
	assert_int_equal(c->fallback_any, 0);
	assert_int_equal(c->metered, 1);

	c = &cfg.classes[3];
	assert_string_equal(c->name, "guests");
	assert_int_equal(c->line, 10);
	assert_int_equal(c->n_uplinks, 2);
	assert_int_equal(c->uplinks[0], 0); /* fiber */
	assert_int_equal(c->uplinks[1], 2); /* sat */
	assert_int_equal(c->metered, 0);
	assert_int_equal(c->fallback_any, 0);

	assert_int_equal(cfg.n_rules, 5);
	r = &cfg.rules[0];
	assert_int_equal(r->cls, 1);
	assert_int_equal(r->line, 4);
	assert_int_equal(r->proto, IPPROTO_UDP);
	assert_int_equal(r->dport_lo, 5060);
	assert_int_equal(r->dport_hi, 5061);
	assert_int_equal(r->sport_lo, 0);   /* not given: any */
	assert_int_equal(r->sport_hi, 65535);
	assert_int_equal(r->src_mask, 0);
	assert_int_equal(r->dst_mask, 0);
	assert_int_equal(r->dscp, BSC_DSCP_ANY);
	assert_int_equal(r->has_mac, 0);

	r = &cfg.rules[1];
	assert_int_equal(r->cls, 1);
	assert_int_equal(r->line, 5);
	assert_int_equal(r->dscp, 46);
	assert_int_equal(r->proto, 0);
	assert_int_equal(r->dport_lo, 0);
	assert_int_equal(r->dport_hi, 65535);

	r = &cfg.rules[2];
	assert_int_equal(r->cls, 2);
	assert_int_equal(r->line, 9);
	assert_memory_equal(&r->dst, ((uint8_t[]){ 198, 51, 100, 0 }), 4);
	assert_memory_equal(&r->dst_mask, ((uint8_t[]){ 255, 255, 255, 0 }), 4);
	assert_int_equal(r->src_mask, 0);
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->dport_lo, 443);
	assert_int_equal(r->dport_hi, 443);
	assert_int_equal(r->dscp, BSC_DSCP_ANY);

	r = &cfg.rules[3];
	assert_int_equal(r->cls, 3);
	assert_int_equal(r->line, 11);
	assert_int_equal(r->has_mac, 1);
	assert_memory_equal(r->mac, guest_mac, 6);
	assert_int_equal(r->proto, 0);
	assert_int_equal(r->src_mask, 0);

	r = &cfg.rules[4];
	assert_int_equal(r->cls, 3);
	assert_int_equal(r->line, 12);
	assert_memory_equal(&r->src, ((uint8_t[]){ 10, 77, 0, 128 }), 4);
	assert_memory_equal(&r->src_mask, ((uint8_t[]){ 255, 255, 255, 128 }), 4);
	assert_int_equal(r->has_mac, 0);
	assert_int_equal(r->dscp, BSC_DSCP_ANY);
}

/* Every form of every condition: DSCP by number and by name (csN = 8N,
 * afXY = 8X + 2Y, ef = 46, in any case), protocols by name and number,
 * ports without a protocol, a bare address as a /32, a /0, a MAC in either
 * case, and all the conditions on one line, split by tabs too. */
static void test_config_class_match_forms(void **state)
{
	static const struct {
		uint8_t dscp, proto;
		uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	} want[] = {
		{ 0, 0, 0, 65535, 0, 65535 },           /* dscp 0 */
		{ 63, 0, 0, 65535, 0, 65535 },          /* dscp 63 */
		{ 46, 0, 0, 65535, 0, 65535 },          /* dscp EF */
		{ 10, 0, 0, 65535, 0, 65535 },          /* dscp af11 */
		{ 38, 0, 0, 65535, 0, 65535 },          /* dscp AF43 */
		{ 0, 0, 0, 65535, 0, 65535 },           /* dscp cs0 */
		{ 56, 0, 0, 65535, 0, 65535 },          /* dscp cs7 */
		{ BSC_DSCP_ANY, 1, 0, 65535, 0, 65535 },        /* proto icmp */
		{ BSC_DSCP_ANY, 47, 0, 65535, 0, 65535 },       /* proto 47 */
		{ BSC_DSCP_ANY, 6, 1024, 65535, 0, 65535 },     /* proto TCP sport */
		{ BSC_DSCP_ANY, 0, 0, 65535, 53, 53 },          /* dport, no proto */
		{ BSC_DSCP_ANY, 17, 0, 65535, 1, 65535 },       /* udp, tabs */
	};
	static const uint8_t mac[6] = { 0x0a, 0xbc, 0xde, 0xf0, 0x12, 0x34 };
	const struct bsc_class_match *r;
	struct bsc_cfg cfg;
	size_t i;

	(void)state;
	parse_ok("[bascule]\nlan = lan0\n" UPA "[class x]\n"
		 "match = dscp 0\n"
		 "match = dscp 63\n"
		 "match = dscp EF\n"
		 "match = dscp af11\n"
		 "match = dscp AF43\n"
		 "match = dscp cs0\n"
		 "match = dscp cs7\n"
		 "match = proto icmp\n"
		 "match = proto 47\n"
		 "match = proto TCP sport 1024-65535\n"
		 "match = dport 53\n"
		 "match = proto\tudp  dport\t1-65535\n"
		 "match = src 192.0.2.7\n"
		 "match = dst 0.0.0.0/0\n"
		 "match = mac 0A:bc:DE:f0:12:34\n"
		 "match = mac 02:00:00:00:00:01 dscp af21 dport 65535 sport 1 proto 6 dst 172.16.0.0/12 src 10.0.0.0/8\n",
		 &cfg);
	assert_int_equal(cfg.n_classes, 2);
	assert_int_equal(cfg.n_rules, 16);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		r = &cfg.rules[i];
		assert_int_equal(r->cls, 1);
		assert_int_equal(r->line, 7 + (int)i);
		assert_int_equal(r->dscp, want[i].dscp);
		assert_int_equal(r->proto, want[i].proto);
		assert_int_equal(r->sport_lo, want[i].sport_lo);
		assert_int_equal(r->sport_hi, want[i].sport_hi);
		assert_int_equal(r->dport_lo, want[i].dport_lo);
		assert_int_equal(r->dport_hi, want[i].dport_hi);
		assert_int_equal(r->src_mask, 0);
		assert_int_equal(r->dst_mask, 0);
		assert_int_equal(r->has_mac, 0);
	}
	r = &cfg.rules[12];
	assert_int_equal(r->src, ip("192.0.2.7"));
	assert_int_equal(r->src_mask, 0xffffffffu);
	r = &cfg.rules[13];
	assert_int_equal(r->dst, 0);
	assert_int_equal(r->dst_mask, 0); /* written, but any */
	r = &cfg.rules[14];
	assert_int_equal(r->has_mac, 1);
	assert_memory_equal(r->mac, mac, 6);
	r = &cfg.rules[15];
	assert_int_equal(r->src, ip("10.0.0.0"));
	assert_int_equal(r->src_mask, ip("255.0.0.0"));
	assert_int_equal(r->dst, ip("172.16.0.0"));
	assert_int_equal(r->dst_mask, ip("255.240.0.0"));
	assert_int_equal(r->proto, 6);
	assert_int_equal(r->sport_lo, 1);
	assert_int_equal(r->sport_hi, 1);
	assert_int_equal(r->dport_lo, 65535);
	assert_int_equal(r->dport_hi, 65535);
	assert_int_equal(r->dscp, 18);
	assert_int_equal(r->has_mac, 1);
	assert_int_equal(r->mac[5], 1);
}

/* `balance = A:W B`: the names resolved as for `uplinks`, the weights (1
 * when not given) and `persist` read. */
static void test_config_class_balance(void **state)
{
	struct bsc_cfg cfg;

	(void)state;
	parse_ok("[bascule]\nlan = lan0\n"
		 "[class bulk]\nmatch = src 10.0.0.0/8\nbalance = b:3 a\npersist = source\n"
		 ""
		 "[class calls]\nmatch = dscp ef\nuplinks = a\n"
		 UPA "[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\n", &cfg);
	assert_int_equal(cfg.classes[1].balance, 1);
	assert_int_equal(cfg.classes[1].n_uplinks, 2);
	assert_int_equal(cfg.classes[1].uplinks[0], 1);
	assert_int_equal(cfg.classes[1].weights[0], 3);
	assert_int_equal(cfg.classes[1].uplinks[1], 0);
	assert_int_equal(cfg.classes[1].weights[1], 1);
	assert_int_equal(cfg.classes[1].persist_source, 1);
	assert_int_equal(cfg.classes[2].balance, 0);
}

/* `failback =` per class; a class that says nothing takes the global
 * failback_moves_flows's word, the default class as any other. */
static void test_config_class_failback(void **state)
{
	struct bsc_cfg cfg;

	(void)state;
	parse_ok("[bascule]\nlan = lan0\nfailback_moves_flows = yes\n"
		 "[class tunnel]\nmatch = dport 1194\nfailback = reset-tcp\n"
		 "[class calls]\nmatch = dscp ef\nfailback = stay\n"
		 "[class web]\nmatch = dport 443\n"
		 "[class default]\nfailback = move-udp\n" UPA, &cfg);
	assert_int_equal(bsc_class_failback(&cfg, 1), BSC_FAILBACK_RESET_TCP);
	assert_int_equal(bsc_class_failback(&cfg, 2), BSC_FAILBACK_STAY);
	assert_int_equal(bsc_class_failback(&cfg, 3), BSC_FAILBACK_MOVE_UDP); /* the global word */
	assert_int_equal(bsc_class_failback(&cfg, 0), BSC_FAILBACK_MOVE_UDP);
	parse_ok("[bascule]\nlan = lan0\n[class web]\nmatch = dport 443\n" UPA, &cfg);
	assert_int_equal(bsc_class_failback(&cfg, 1), BSC_FAILBACK_STAY);
	assert_int_equal(bsc_class_failback(&cfg, 0), BSC_FAILBACK_STAY);
}

/* [class default] sets classes[0]'s policy instead of adding a class, and
 * wherever it stands, the other classes keep their numbers. */
static void test_config_class_default_section(void **state)
{
	struct bsc_cfg cfg;

	(void)state;
	parse_ok("[bascule]\nlan = lan0\n"                          /* 1-2 */
		 "[class phones]\nmatch = dscp ef\n"                 /* 3-4 */
		 "[class default]\nuplinks = b a\nfallback = any\n"  /* 5-7 */
		 "[class backups]\nmatch = dst 203.0.113.9\n"        /* 8-9 */
		 UPA "[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\n", &cfg);
	assert_int_equal(cfg.n_classes, 3);
	assert_string_equal(cfg.classes[0].name, "default");
	assert_int_equal(cfg.classes[0].line, 5);
	assert_int_equal(cfg.classes[0].n_uplinks, 2);
	assert_string_equal(cfg.classes[0].uplink_names[0], "b");
	assert_int_equal(cfg.classes[0].uplinks[0], 1);
	assert_int_equal(cfg.classes[0].uplinks[1], 0);
	assert_int_equal(cfg.classes[0].fallback_any, 1);
	assert_int_equal(cfg.classes[0].metered, 1);
	assert_string_equal(cfg.classes[1].name, "phones");
	assert_string_equal(cfg.classes[2].name, "backups");
	assert_int_equal(cfg.n_rules, 2);
	assert_int_equal(cfg.rules[0].cls, 1);
	assert_int_equal(cfg.rules[1].cls, 2);
	/* metered = no is fine while one listed uplink is not metered */
	parse_ok("[bascule]\nlan = lan0\n[class default]\nmetered = no\nuplinks = a b\n"
		 UPA "metered = yes\n[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\n", &cfg);
	assert_int_equal(cfg.classes[0].metered, 0);
	/* and without a file's worth of classes, only the default */
	parse_ok("[bascule]\nlan = lan0\n" UPA, &cfg);
	assert_int_equal(cfg.n_classes, 1);
	assert_int_equal(cfg.n_rules, 0);
	assert_string_equal(cfg.classes[0].name, "default");
	assert_int_equal(cfg.classes[0].metered, 1);
}

/* 64 classes in all (the default one and 63 sections) and 128 match lines
 * fit: the data plane's tables, exactly. */
static void test_config_class_limits_fit(void **state)
{
	static char text[16384];
	struct bsc_cfg cfg;
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "[bascule]\nlan = lan0\n" UPA);
	for (i = 1; i < BSC_MAX_CLASSES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[class c%d]\nmatch = dscp %d\nmatch = dport %d\n", i, i - 1, i);
	for (i = 2 * (BSC_MAX_CLASSES - 1); i < BSC_MAX_CLASS_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "match = sport %d\n", i);
	assert_true(n < sizeof(text));
	parse_ok(text, &cfg);
	assert_int_equal(cfg.n_classes, BSC_MAX_CLASSES);
	assert_int_equal(cfg.n_rules, BSC_MAX_CLASS_RULES);
	assert_string_equal(cfg.classes[BSC_MAX_CLASSES - 1].name, "c63");
	assert_int_equal(cfg.rules[BSC_MAX_CLASS_RULES - 1].cls, BSC_MAX_CLASSES - 1);
	assert_int_equal(cfg.rules[BSC_MAX_CLASS_RULES - 1].sport_lo, BSC_MAX_CLASS_RULES - 1);
}

/* ------------------------------------------------------------------ */
/* config: rejected files, one test per row                           */
/* ------------------------------------------------------------------ */

struct bad_config {
	const char *what;
	const char *text;
	int line;               /* line the message must name */
	const char *frag;       /* text the message must contain */
};

#define HEAD "[bascule]\nlan = lan0\n"                                   /* lines 1-2 */

/* 64 [class NAME] sections of two lines each, c00 to c77: with the default
 * class, one more than fit. */
#define CLASS_1(n) "[class c" #n "]\nmatch = dscp 1\n"
#define CLASS_8(p) CLASS_1(p##0) CLASS_1(p##1) CLASS_1(p##2) CLASS_1(p##3) \
	CLASS_1(p##4) CLASS_1(p##5) CLASS_1(p##6) CLASS_1(p##7)
#define CLASSES_64 CLASS_8(0) CLASS_8(1) CLASS_8(2) CLASS_8(3) \
	CLASS_8(4) CLASS_8(5) CLASS_8(6) CLASS_8(7)
/* 128 match lines: as many as fit */
#define MATCH_8 "match = dscp 1\nmatch = dscp 1\nmatch = dscp 1\nmatch = dscp 1\n" \
	"match = dscp 1\nmatch = dscp 1\nmatch = dscp 1\nmatch = dscp 1\n"
#define MATCH_128 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 \
	MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8 MATCH_8

static struct bad_config bad_configs[] = {
	{ "unknown section",
	  HEAD UPA "[routing]\nmetric = 5\n", 6,
	  "unknown section [routing]" },
	{ "drill check without a target",
	  HEAD UPA "[drill]\ncheck = voip\n", 7, "check: 'voip' is not NAME KIND TARGET" },
	{ "drill check with a bad probe",
	  HEAD UPA "[drill]\ncheck = voip sip 203.0.113.60 180\n", 7,
	  "check voip: probe 'sip 203.0.113.60 180': unexpected '180'" },
	{ "drill check with a bad name",
	  HEAD UPA "[drill]\ncheck = v/p icmp 203.0.113.1\n", 7, "name 'v/p' has a bad character '/'" },
	{ "drill target not an address",
	  HEAD UPA "[drill]\ntarget = example.com\n", 7, "target: 'example.com' is not an IPv4 address" },
	{ "drill interval zero",
	  HEAD UPA "[drill]\ninterval_ms = 0\n", 7, "interval_ms: '0' is not a number of milliseconds from 1" },
	{ "drill unknown key",
	  HEAD UPA "[drill]\nspeed = 3\n", 7, "unknown key 'speed' in [drill]" },
	{ "unknown key in [bascule]",
	  "[bascule]\nlan = lan0\ncolour = blue\n" UPA, 3,
	  "unknown key 'colour' in [bascule]" },
	{ "unknown key in an uplink",
	  HEAD "[uplink a]\ninterface = wan0\nweight = 3\ngateway = 192.0.2.1\n", 5,
	  "unknown key 'weight' in [uplink a] (expected interface, gateway, priority, nat_ports, probe," },
	{ "probe of an unknown kind",
	  HEAD UPA "probe = ping 203.0.113.1\n", 6, "ping" },
	{ "tcp probe without a port",
	  HEAD UPA "probe = tcp 203.0.113.10\n", 6, "tcp" },
	{ "more than 8 probes",
	  HEAD UPA "probe = icmp 1.1.1.1\nprobe = icmp 1.1.1.2\nprobe = icmp 1.1.1.3\n"
	  "probe = icmp 1.1.1.4\nprobe = icmp 1.1.1.5\nprobe = icmp 1.1.1.6\n"
	  "probe = icmp 1.1.1.7\nprobe = icmp 1.1.1.8\nprobe = icmp 1.1.1.9\n", 14,
	  "[uplink a]: at most 8 probes" },
	{ "quorum above the number of probes",
	  HEAD UPA "probe = icmp 203.0.113.1\nquorum = 2\n", 3,
	  "[uplink a]: quorum 2 but only 1 probe(s)" },
	{ "nat_ports reaching below 1024",
	  HEAD UPA "nat_ports = 500-5000\n", 6,
	  "nat_ports: '500-5000' is not a range MIN-MAX within 1024-65535 of at least 1024 ports" },
	{ "nat_ports upside down",
	  HEAD UPA "nat_ports = 30000-20000\n", 6, "nat_ports: '30000-20000' is not a range" },
	{ "nat_ports of fewer than 1024 ports",
	  HEAD UPA "nat_ports = 20000-20100\n", 6, "nat_ports: '20000-20100' is not a range" },
	{ "nat_ports with trailing words",
	  HEAD UPA "nat_ports = 20000-30000 please\n", 6, "nat_ports: '20000-30000 please' is not a range" },
	{ "metered not a boolean",
	  HEAD UPA "metered = maybe\n", 6, "metered: 'maybe' is not yes or no" },
	{ "timeout_ms of zero",
	  HEAD UPA "timeout_ms = 0\n", 6, "timeout_ms: '0' is not a number of milliseconds from 5 to 60000" },
	{ "relative hook path",
	  "[bascule]\nlan = lan0\nhook = alert.sh\n" UPA, 3,
	  "hook: 'alert.sh' must be the absolute path of a program" },
	{ "relative control socket",
	  "[bascule]\nlan = lan0\ncontrol_socket = ctl.sock\n" UPA, 3,
	  "control_socket: 'ctl.sock' must be an absolute path" },
	{ "gateway 10.0.0.300",
	  HEAD "[uplink a]\ninterface = wan0\ngateway = 10.0.0.300\n", 5,
	  "gateway: '10.0.0.300' is not an IPv4 unicast address" },
	{ "gateway 0.0.0.0",
	  HEAD "[uplink a]\ninterface = wan0\ngateway = 0.0.0.0\n", 5,
	  "gateway: '0.0.0.0' is not an IPv4 unicast address" },
	{ "gateway 255.255.255.255",
	  HEAD "[uplink a]\ninterface = wan0\ngateway = 255.255.255.255\n", 5,
	  "gateway: '255.255.255.255' is not an IPv4 unicast address" },
	{ "gateway with a prefix length",
	  HEAD "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1/24\n", 5,
	  "gateway: '192.0.2.1/24' is not an IPv4 unicast address" },
	{ "priority -1",
	  HEAD UPA "priority = -1\n", 6,
	  "priority: '-1' is not a number from 0 to 1000000 (lower is preferred)" },
	{ "priority abc",
	  HEAD UPA "priority = abc\n", 6,
	  "priority: 'abc' is not a number from 0 to 1000000" },
	{ "priority 1000001",
	  HEAD UPA "priority = 1000001\n", 6,
	  "priority: '1000001' is not a number from 0 to 1000000" },
	{ "priority with trailing junk",
	  HEAD UPA "priority = 10x\n", 6,
	  "priority: '10x' is not a number from 0 to 1000000" },
	{ "priority overflowing 64 bits",
	  HEAD UPA "priority = 99999999999999999999999\n", 6,
	  "priority: '99999999999999999999999' is not a number from 0 to 1000000" },
	{ "flow_table_size too small",
	  "[bascule]\nlan = lan0\nflow_table_size = 1023\n" UPA, 3,
	  "flow_table_size: '1023' is not a number of flows from 1024 to 16777216" },
	{ "flow_table_size too large",
	  "[bascule]\nlan = lan0\nflow_table_size = 16777217\n" UPA, 3,
	  "flow_table_size: '16777217' is not a number of flows from 1024 to 16777216" },
	{ "udp_timeout zero",
	  "[bascule]\nlan = lan0\nudp_timeout = 0\n" UPA, 3,
	  "udp_timeout: '0' is not a number of seconds from 1 to 86400" },
	{ "gc_interval_ms too small",
	  "[bascule]\nlan = lan0\ngc_interval_ms = 99\n" UPA, 3,
	  "gc_interval_ms: '99' is not a number of milliseconds from 100 to 600000" },
	{ "relative pin_root",
	  "[bascule]\nlan = lan0\npin_root = bpf/bascule\n" UPA, 3,
	  "pin_root: 'bpf/bascule' must be an absolute path" },
	{ "interface name of 16 characters",
	  HEAD "[uplink a]\ninterface = abcdefghijklmnop\ngateway = 192.0.2.1\n", 4,
	  "interface: 'abcdefghijklmnop' is not an interface name (1-15 characters, no '/' or spaces)" },
	{ "interface name with '/'",
	  HEAD "[uplink a]\ninterface = wan/0\ngateway = 192.0.2.1\n", 4,
	  "interface: 'wan/0' is not an interface name" },
	{ "interface name with a space",
	  HEAD "[uplink a]\ninterface = wan 0\ngateway = 192.0.2.1\n", 4,
	  "interface: 'wan 0' is not an interface name" },
	{ "lan name too long",
	  "[bascule]\nlan = lan0123456789abc\n" UPA, 2,
	  "lan: 'lan0123456789abc' is not an interface name" },
	{ "uplink name with a dot",
	  HEAD "[uplink fi.ber]\ninterface = wan0\ngateway = 192.0.2.1\n", 3,
	  "[uplink fi.ber]: name must be 1-15 of a-z A-Z 0-9 - _" },
	{ "duplicate uplink name",
	  HEAD UPA "[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\n"
	  "[uplink a]\ninterface = wan2\ngateway = 203.0.113.1\n", 9,
	  "[uplink a] defined twice (first at line 3)" },
	{ "duplicate uplink name, back to back",
	  HEAD UPA "[uplink a]\ninterface = wan1\ngateway = 198.51.100.1\n", 6,
	  "[uplink a] defined twice (first at line 3)" },
	{ "uplink without interface",
	  HEAD "[uplink a]\ngateway = 192.0.2.1\n", 3,
	  "[uplink a] needs 'interface = IFNAME'" },
	{ "uplink without gateway",
	  HEAD "[uplink a]\ninterface = wan0\npriority = 5\n", 3,
	  "[uplink a] needs 'gateway = IPv4 address' (its next hop)" },
	{ "two uplinks on one interface",
	  HEAD UPA "[uplink b]\ninterface = wan0\ngateway = 198.51.100.1\n", 6,
	  "[uplink b]: interface wan0 already used by [uplink a]" },
	{ "uplink on the LAN interface",
	  HEAD "[uplink a]\ninterface = lan0\ngateway = 192.0.2.1\n", 3,
	  "[uplink a]: interface lan0 is the LAN interface" },
	{ "missing lan",
	  "[bascule]\nflow_table_size = 4096\n" UPA, 1,
	  "[bascule] needs 'lan = IFNAME' (the interface facing the LAN)" },
	{ "no [bascule] section at all",
	  UPA, 1,
	  "[bascule] needs 'lan = IFNAME'" },
	{ "no uplinks",
	  HEAD, 1,
	  "no [uplink NAME] section: at least one uplink is needed" },
	{ "nine uplinks",
	  HEAD UPLINK(1) UPLINK(2) UPLINK(3) UPLINK(4) UPLINK(5) UPLINK(6) UPLINK(7)
	  UPLINK(8) UPLINK(9), 27,
	  "too many uplinks (at most 8)" },
	{ "key before any section",
	  "lan = lan0\n" HEAD UPA, 1,
	  "key 'lan' outside any section" },
	{ "line without '='",
	  HEAD "garbage without equals\n" UPA, 3,
	  "syntax error (expected [section], key = value, or a ; comment)" },
	{ "unterminated section header",
	  HEAD UPA "[uplink b\n", 6,
	  "syntax error" },
	{ "relative history path",
	  "[bascule]\nlan = lan0\nhistory = history.db\n" UPA, 3,
	  "history: 'history.db' must be the absolute path of a file, or off" },
	{ "history_retention_days of zero",
	  "[bascule]\nlan = lan0\nhistory_retention_days = 0\n" UPA, 3,
	  "history_retention_days: '0' is not a number of days from 1 to 36500" },
	{ "unknown key in [site]",
	  HEAD UPA "[site]\nname = Shop\nowner = me\n", 8,
	  "unknown key 'owner' in [site] (expected name, address, rto_ms, downtime_cost_per_hour, currency, staff_check)" },
	{ "[site] twice",
	  HEAD UPA "[site]\nname = Shop\n[site]\naddress = here\n", 8,
	  "[site] defined twice (first at line 6)" },
	{ "rto_ms of zero",
	  HEAD UPA "[site]\nrto_ms = 0\n", 7,
	  "rto_ms: '0' is not a number of milliseconds from 1 to 86400000" },
	{ "negative downtime cost",
	  HEAD UPA "[site]\ndowntime_cost_per_hour = -5\n", 7,
	  "downtime_cost_per_hour: '-5' is not an amount (a number, 0 or more, such as 49.90)" },
	{ "downtime cost with a currency sign",
	  HEAD UPA "[site]\ndowntime_cost_per_hour = 100EUR\n", 7,
	  "downtime_cost_per_hour: '100EUR' is not an amount" },
	{ "empty site name",
	  HEAD UPA "[site]\nname =\n", 7,
	  "name: empty (expected some text)" },
	{ "site name too long",
	  HEAD UPA "[site]\nname = " "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123\n", 7,
	  "name: too long (at most 127 characters)" },
	{ "seventeen staff checks",
	  HEAD UPA "[site]\n"
	  "staff_check = a\nstaff_check = b\nstaff_check = c\nstaff_check = d\n"
	  "staff_check = e\nstaff_check = f\nstaff_check = g\nstaff_check = h\n"
	  "staff_check = i\nstaff_check = j\nstaff_check = k\nstaff_check = l\n"
	  "staff_check = m\nstaff_check = n\nstaff_check = o\nstaff_check = p\n"
	  "staff_check = q\n", 23,
	  "staff_check: at most 16 of them" },
	{ "contact without a way to reach them",
	  HEAD UPA "[contact Bob]\nrole = IT\n", 6,
	  "[contact Bob] needs 'phone = ...' or 'email = ...' (how to reach them)" },
	{ "unknown key in a contact",
	  HEAD UPA "[contact Bob]\nphone = 1\nmobile = 2\n", 8,
	  "unknown key 'mobile' in [contact Bob] (expected role, phone, email, escalation, hours)" },
	{ "escalation 0",
	  HEAD UPA "[contact Bob]\nphone = 1\nescalation = 0\n", 8,
	  "escalation: '0' is not a level from 1 (called first) to 99" },
	{ "e-mail without @",
	  HEAD UPA "[contact Bob]\nemail = bob.example.com\n", 7,
	  "email: 'bob.example.com' is not an e-mail address" },
	{ "contact twice",
	  HEAD UPA "[contact Bob]\nphone = 1\n[contact Bob]\nphone = 2\n", 8,
	  "[contact Bob] defined twice (first at line 6)" },
	{ "contact without a name",
	  HEAD UPA "[contact  ]\nphone = 1\n", 6,
	  "[contact ]: the name must be 1-63 printable characters" },
	{ "nine contacts",
	  HEAD UPA "[contact a]\nphone = 1\n[contact b]\nphone = 1\n[contact c]\nphone = 1\n"
	  "[contact d]\nphone = 1\n[contact e]\nphone = 1\n[contact f]\nphone = 1\n"
	  "[contact g]\nphone = 1\n[contact h]\nphone = 1\n[contact i]\nphone = 1\n", 22,
	  "too many contacts (at most 8)" },
	{ "monthly_cost not a number",
	  HEAD UPA "monthly_cost = cheap\n", 6,
	  "monthly_cost: 'cheap' is not an amount" },
	{ "cost_per_gb negative",
	  HEAD UPA "cost_per_gb = -0.5\n", 6,
	  "cost_per_gb: '-0.5' is not an amount" },
	{ "unknown key in an uplink lists the report's keys",
	  HEAD UPA "vendor = X\n", 6,
	  "damp_*, provider, equipment, support, monthly_cost, cost_per_gb)" },
	{ "unknown section lists [class NAME]",
	  HEAD UPA "[classes]\n", 6,
	  "unknown section [classes] (expected [bascule], [uplink NAME], [class NAME]," },
	{ "class name with a dot",
	  HEAD UPA "[class vo.ip]\nmatch = dscp ef\n", 6,
	  "[class vo.ip]: name must be 1-15 of a-z A-Z 0-9 - _" },
	{ "class name of 16 characters",
	  HEAD UPA "[class abcdefghijklmnop]\nmatch = dscp ef\n", 6,
	  "[class abcdefghijklmnop]: name must be 1-15 of" },
	{ "class without a name",
	  HEAD UPA "[class]\nmatch = dscp ef\n", 6,
	  "[class ]: name must be 1-15 of" },
	{ "class twice",
	  HEAD UPA "[class voip]\nmatch = dscp ef\n[class voip]\nmatch = dscp 0\n", 8,
	  "[class voip] defined twice (first at line 6)" },
	{ "[class default] twice",
	  HEAD UPA "[class default]\nfallback = any\n[class default]\nmetered = no\n", 8,
	  "[class default] defined twice (first at line 6)" },
	{ "65 classes with the default",
	  HEAD UPA CLASSES_64, 6 + 2 * 63,
	  "too many classes (at most 64, the default class included)" },
	{ "match in the default class",
	  HEAD UPA "[class default]\nmatch = dscp ef\n", 7,
	  "match: the default class is what no match takes: it has no match lines" },
	{ "match without a condition",
	  HEAD UPA "[class voip]\nmatch =\n", 7,
	  "match: no condition (expected src, dst, proto, sport, dport, dscp or mac)" },
	{ "match with an unknown condition",
	  HEAD UPA "[class voip]\nmatch = proto udp port 5060\n", 7,
	  "match: unknown condition 'port' (expected src, dst, proto, sport, dport, dscp or mac)" },
	{ "match condition without a value",
	  HEAD UPA "[class voip]\nmatch = proto udp dport\n", 7,
	  "match: 'dport' needs a value: a port or a range P-Q of ports (1 to 65535, P <= Q)" },
	{ "match condition twice on a line",
	  HEAD UPA "[class voip]\nmatch = dport 5060 dport 5061\n", 7,
	  "match: 'dport' given twice on one line" },
	{ "match src not a prefix",
	  HEAD UPA "[class lan]\nmatch = src 10.0.0/8\n", 7,
	  "match: src '10.0.0/8' is not an IPv4 address or prefix (a.b.c.d or a.b.c.d/N, N from 0 to 32)" },
	{ "match dst prefix of 33 bits",
	  HEAD UPA "[class lan]\nmatch = dst 10.0.0.0/33\n", 7,
	  "match: dst '10.0.0.0/33' is not an IPv4 address or prefix" },
	{ "match dst prefix without a length",
	  HEAD UPA "[class lan]\nmatch = dst 10.0.0.0/\n", 7,
	  "match: dst '10.0.0.0/' is not an IPv4 address or prefix" },
	{ "match src with host bits set",
	  HEAD UPA "[class guests]\nmatch = src 10.77.0.129/25\n", 7,
	  "match: src '10.77.0.129/25': host bits set, did you mean 10.77.0.128/25?" },
	{ "match proto unknown",
	  HEAD UPA "[class voip]\nmatch = proto sctp\n", 7,
	  "match: proto 'sctp' is not tcp, udp, icmp or a protocol number from 1 to 255" },
	{ "match proto 0",
	  HEAD UPA "[class voip]\nmatch = proto 0\n", 7,
	  "match: proto '0' is not tcp, udp, icmp or a protocol number from 1 to 255" },
	{ "match proto 256",
	  HEAD UPA "[class voip]\nmatch = proto 256\n", 7,
	  "match: proto '256' is not tcp, udp" },
	{ "match port 0",
	  HEAD UPA "[class voip]\nmatch = proto tcp dport 0\n", 7,
	  "match: dport '0' is not a port or a range P-Q of ports (1 to 65535, P <= Q)" },
	{ "match port 65536",
	  HEAD UPA "[class voip]\nmatch = sport 65536\n", 7,
	  "match: sport '65536' is not a port or a range P-Q of ports" },
	{ "match port range upside down",
	  HEAD UPA "[class voip]\nmatch = proto udp dport 5061-5060\n", 7,
	  "match: dport '5061-5060' is not a port or a range P-Q of ports (1 to 65535, P <= Q)" },
	{ "match port range without its end",
	  HEAD UPA "[class voip]\nmatch = proto udp dport 5060-\n", 7,
	  "match: dport '5060-' is not a port or a range" },
	{ "match ports with proto icmp",
	  HEAD UPA "[class dns]\nmatch = proto icmp dport 53\n", 7,
	  "match: ports need proto tcp or udp (not proto icmp)" },
	{ "match ports before a protocol number without ports",
	  HEAD UPA "[class gre]\nmatch = sport 10 proto 47\n", 7,
	  "match: ports need proto tcp or udp (not proto 47)" },
	{ "match dscp 64",
	  HEAD UPA "[class voip]\nmatch = dscp 64\n", 7,
	  "match: dscp '64' is not a DSCP: 0 to 63, ef, afXY (X 1-4, Y 1-3) or csN (N 0-7)" },
	{ "match dscp af14",
	  HEAD UPA "[class voip]\nmatch = dscp af14\n", 7,
	  "match: dscp 'af14' is not a DSCP" },
	{ "match dscp af51",
	  HEAD UPA "[class voip]\nmatch = dscp af51\n", 7,
	  "match: dscp 'af51' is not a DSCP" },
	{ "match dscp cs8",
	  HEAD UPA "[class voip]\nmatch = dscp cs8\n", 7,
	  "match: dscp 'cs8' is not a DSCP" },
	{ "match mac of five bytes",
	  HEAD UPA "[class guests]\nmatch = mac 02:00:00:00:42\n", 7,
	  "match: mac '02:00:00:00:42' is not a MAC address XX:XX:XX:XX:XX:XX" },
	{ "match mac with dashes",
	  HEAD UPA "[class guests]\nmatch = mac 02-00-00-00-00-42\n", 7,
	  "match: mac '02-00-00-00-00-42' is not a MAC address XX:XX:XX:XX:XX:XX" },
	{ "match mac not hexadecimal",
	  HEAD UPA "[class guests]\nmatch = mac 02:00:00:00:00:4g\n", 7,
	  "match: mac '02:00:00:00:00:4g' is not a MAC address" },
	{ "match mac multicast",
	  HEAD UPA "[class guests]\nmatch = mac 01:00:5e:00:00:01\n", 7,
	  "match: mac '01:00:5e:00:00:01' is a multicast or zero address, never a LAN host's" },
	{ "match mac zero",
	  HEAD UPA "[class guests]\nmatch = mac 00:00:00:00:00:00\n", 7,
	  "match: mac '00:00:00:00:00:00' is a multicast or zero address" },
	{ "129 match lines",
	  HEAD UPA "[class many]\n" MATCH_128 "match = dscp 2\n", 7 + 128,
	  "match: at most 128 match lines in all" },
	{ "uplinks naming no [uplink]",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks = a cell5\n", 8,
	  "uplinks: no [uplink cell5] in this file" },
	{ "default class uplinks naming no [uplink]",
	  HEAD "[class default]\nuplinks = fiber\n" UPA, 4,
	  "uplinks: no [uplink fiber] in this file" },
	{ "uplinks empty",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks =\n", 8,
	  "uplinks: empty (expected 1 to 8 [uplink] names, in the order to use them)" },
	{ "uplinks listing one twice",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks = a a\n", 8,
	  "uplinks: 'a' listed twice" },
	{ "uplinks of nine names",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks = a b c d e f g h i\n", 8,
	  "uplinks: more than 8 names (there are at most 8 uplinks)" },
	{ "uplinks separated by commas",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks = a,b\n", 8,
	  "uplinks: 'a,b' is not an uplink's name (1-15 of a-z A-Z 0-9 - _; the names are separated by spaces)" },
	{ "uplinks twice in a class",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks = a\nuplinks = a\n", 9,
	  "'uplinks' given twice in [class guests] (first at line 8)" },
	{ "balance and uplinks in one class",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nuplinks = a\nbalance = a\n", 9,
	  "balance: this class already has an uplinks list (line 8): a class either fails over (uplinks) or balances (balance)" },
	{ "balance weight zero",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nbalance = a:0\n", 8,
	  "balance: 'a:0': the weight is a number from 1 to 1000" },
	{ "balance weight not a number",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nbalance = a:x\n", 8,
	  "balance: 'a:x': the weight is a number from 1 to 1000" },
	{ "balance naming no uplink of the file",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nbalance = a:2 z\n", 8,
	  "uplinks: no [uplink z] in this file" },
	{ "balance in the default class",
	  HEAD UPA "[class default]\nbalance = a\n", 7,
	  "class default: balance is for a class with match lines (the default class fails over: uplinks = ...)" },
	{ "persist without balance",
	  HEAD UPA "[class guests]\nmatch = dscp 0\npersist = source\n", 6,
	  "class guests: persist = source needs a balance line (it says how a balance spreads flows)" },
	{ "persist neither source nor flow",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nbalance = a\npersist = host\n", 9,
	  "persist: 'host' is not source (all of a LAN host's flows on one uplink) or flow" },
	{ "failback none of stay, move-udp, reset-tcp",
	  HEAD UPA "[class tunnel]\nmatch = dport 1194\nfailback = move-tcp\n", 8,
	  "failback: 'move-tcp' is not stay (existing flows stay), move-udp (UDP and ICMP flows move back) or reset-tcp (TCP flows reset too)" },
	{ "fallback neither any nor none",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nfallback = some\n", 8,
	  "fallback: 'some' is not any or none" },
	{ "class metered not a boolean",
	  HEAD UPA "[class guests]\nmatch = dscp 0\nmetered = never\n", 8,
	  "metered: 'never' is not yes or no" },
	{ "class metered = no on metered uplinks only",
	  HEAD UPA "metered = yes\n"
	  "[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\nmetered = yes\n"
	  "[class guests]\nmatch = dscp 0\nuplinks = b a\nmetered = no\n", 14,
	  "class guests: metered = no, and every uplink it lists is metered: it could never be online" },
	{ "class metered = no and every uplink of the file metered",
	  HEAD UPA "metered = yes\n[class default]\nmetered = no\n", 8,
	  "class default: metered = no, and every uplink of this file is metered: it could never be online" },
	{ "class without a match line",
	  HEAD UPA "[class voip]\nuplinks = a\n", 6,
	  "class voip has no match line: no flow can fall in it" },
	{ "unknown key in a class",
	  HEAD UPA "[class voip]\nmatch = dscp ef\nweight = 3\n", 8,
	  "unknown key 'weight' in [class voip] (expected match, uplinks, balance, persist, fallback, metered, failback)" },
	{ "unknown key in the default class",
	  HEAD UPA "[class default]\nshare = a:1\n", 7,
	  "unknown key 'share' in [class default] (expected match, uplinks, balance, persist, fallback, metered, failback)" },
};

static void test_config_rejects(void **state)
{
	const struct bad_config *b = *state;
	struct bsc_cfg cfg;

	assert_int_equal(parse(b->text, &cfg), -1);
	assert_error_at(errbuf, CONF_NAME, b->line, b->frag);
	assert_int_equal(errbuf[strlen(errbuf) - 1], '\n');
}

/* ------------------------------------------------------------------ */
/* config: several errors, files, buffers                             */
/* ------------------------------------------------------------------ */

static void test_config_reports_every_value_error(void **state)
{
	struct bsc_cfg cfg;

	assert_int_equal(parse("[bascule]\n"                   /* 1 */
			       "lan = lan0\n"                  /* 2 */
			       "colour = blue\n"               /* 3 */
			       "[uplink a]\n"                  /* 4 */
			       "interface = wan/0\n"           /* 5 */
			       "gateway = 10.0.0.300\n"        /* 6 */
			       "priority = abc\n"              /* 7 */
			       "[uplink b]\n"                  /* 8 */
			       "interface = wan1\n"            /* 9 */
			       "gateway = 0.0.0.0\n",          /* 10 */
			       &cfg), -1);
	assert_error_at(errbuf, CONF_NAME, 3, "unknown key 'colour'");
	assert_error_at(errbuf, CONF_NAME, 5, "interface: 'wan/0'");
	assert_error_at(errbuf, CONF_NAME, 6, "gateway: '10.0.0.300'");
	assert_error_at(errbuf, CONF_NAME, 7, "priority: 'abc'");
	assert_error_at(errbuf, CONF_NAME, 10, "gateway: '0.0.0.0'");
	assert_int_equal(count_lines(errbuf), 5);
}

static void test_config_reports_every_missing_piece(void **state)
{
	struct bsc_cfg cfg;

	assert_int_equal(parse("[bascule]\n"
			       "flow_table_size = 4096\n"
			       "[uplink a]\n"
			       "gateway = 192.0.2.1\n"
			       "[uplink b]\n"
			       "interface = wan1\n",
			       &cfg), -1);
	assert_non_null(strstr(errbuf, CONF_NAME ":1: [bascule] needs 'lan = IFNAME'"));
	assert_non_null(strstr(errbuf, "[uplink a] needs 'interface = IFNAME'"));
	assert_non_null(strstr(errbuf, "[uplink b] needs 'gateway = IPv4 address'"));
	assert_int_equal(count_lines(errbuf), 3);
}

static void test_config_reports_syntax_error_among_others(void **state)
{
	struct bsc_cfg cfg;

	assert_int_equal(parse("[bascule]\n"
			       "lan = lan0\n"
			       "colour = blue\n"
			       "garbage without equals\n"
			       UPA, &cfg), -1);
	assert_error_at(errbuf, CONF_NAME, 3, "unknown key 'colour'");
	assert_error_at(errbuf, CONF_NAME, 4, "syntax error");
}

/* A second [bascule] or [drill], a single-valued key given twice, a
 * damp_reuse that is never reached, a control_group that does not exist:
 * each an error at its line, never silently merged or overwritten. */
static void test_config_refuses_repeats_and_dead_values(void **state)
{
	struct bsc_cfg cfg;

	assert_int_equal(parse("[bascule]\n"                      /* 1 */
			       "lan = lan0\n"                      /* 2 */
			       "flow_table_size = 4096\n"          /* 3 */
			       "flow_table_size = 8192\n"          /* 4 */
			       "hook = /bin/true\n"                /* 5 */
			       "hook = /bin/false\n"               /* 6: repeatable */
			       "[uplink a]\n"                      /* 7 */
			       "interface = wan0\n"                /* 8 */
			       "gateway = 192.0.2.1\n"             /* 9 */
			       "priority = 10\n"                   /* 10 */
			       "priority = 20\n"                   /* 11 */
			       "probe = icmp 192.0.2.9\n"          /* 12 */
			       "probe = icmp 192.0.2.10\n"         /* 13: repeatable */
			       "damp_reuse = 0\n"                  /* 14 */
			       "[uplink b]\n"                      /* 15 */
			       "interface = wan1\n"                /* 16 */
			       "gateway = 198.51.100.1\n"          /* 17: another section */
			       "priority = 10\n"                   /* 18: another section */
			       "[drill]\n"                         /* 19 */
			       "interval_ms = 5\n"                 /* 20 */
			       "[drill]\n"                         /* 21 */
			       "interval_ms = 7\n"                 /* 22 */
			       "[bascule]\n"                       /* 23 */
			       "lan = lan1\n",                     /* 24 */
			       &cfg), -1);
	assert_error_at(errbuf, CONF_NAME, 4, "'flow_table_size' given twice in [bascule] (first at line 3)");
	assert_error_at(errbuf, CONF_NAME, 11, "'priority' given twice in [uplink a] (first at line 10)");
	assert_error_at(errbuf, CONF_NAME, 14, "damp_reuse");
	assert_error_at(errbuf, CONF_NAME, 21, "[drill] defined twice (first at line 19)");
	assert_error_at(errbuf, CONF_NAME, 23, "[bascule] defined twice (first at line 1)");
	assert_int_equal(count_lines(errbuf), 5);

	assert_int_equal(parse("[bascule]\nlan = lan0\ncontrol_group = bsc-no-such-group\n" UPA, &cfg), -1);
	assert_error_at(errbuf, CONF_NAME, 3, "control_group: group 'bsc-no-such-group' does not exist");
	assert_int_equal(parse("[bascule]\nlan = lan0\ncontrol_group = root\n" UPA, &cfg), 0);
}

static void test_config_small_error_buffer_is_terminated(void **state)
{
	struct bsc_cfg cfg;
	char small[24];
	size_t i;

	memset(small, '#', sizeof(small));
	assert_int_equal(bsc_config_parse_string("[bascule]\nlan = lan0\ncolour = blue\nshape = round\n" UPA,
						 CONF_NAME, &cfg, small, 16), -1);
	assert_true(strlen(small) < 16);
	assert_memory_equal(small, CONF_NAME ":3: ", strlen(CONF_NAME ":3: "));
	for (i = 16; i < sizeof(small); i++)
		assert_int_equal(small[i], '#'); /* nothing written past errlen */
	/* no buffer at all is allowed too */
	assert_int_equal(bsc_config_parse_string("[bascule]\ncolour = blue\n", CONF_NAME, &cfg,
						 NULL, 0), -1);
}

static void test_config_load_missing_file_names_the_path(void **state)
{
	struct bsc_cfg cfg;
	const char *path = "/nonexistent/bascule-test/bascule.conf";

	memset(errbuf, 0, sizeof(errbuf));
	assert_int_equal(bsc_config_load(path, &cfg, errbuf, sizeof(errbuf)), -1);
	assert_non_null(strstr(errbuf, path));
	assert_non_null(strstr(errbuf, "No such file or directory"));
	assert_memory_equal(errbuf, path, strlen(path)); /* the path leads the message */
}

static void write_temp(char *path, const char *text)
{
	int fd = mkstemp(path);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_config_load_reads_a_file(void **state)
{
	char path[] = "/tmp/bascule-unit-XXXXXX";
	struct bsc_cfg cfg;
	int rc;

	write_temp(path, lab_conf);
	rc = bsc_config_load(path, &cfg, errbuf, sizeof(errbuf));
	unlink(path);
	if (rc)
		fail_msg("lab config rejected from a file:\n%s", errbuf);
	check_lab_values(&cfg);
	assert_string_equal(cfg.path, path);
}

static void test_config_load_errors_name_file_and_line(void **state)
{
	char path[] = "/tmp/bascule-unit-XXXXXX";
	struct bsc_cfg cfg;
	int rc;

	write_temp(path, "; comment\n[bascule]\nlan = lan0\nflow_table_size = 12\n" UPA
		   "priority = high\n");
	rc = bsc_config_load(path, &cfg, errbuf, sizeof(errbuf));
	unlink(path);
	assert_int_equal(rc, -1);
	assert_error_at(errbuf, path, 4, "flow_table_size: '12'");
	assert_error_at(errbuf, path, 8, "priority: 'high'");
	assert_int_equal(count_lines(errbuf), 2);
}

/* [site], [contact NAME] and the uplinks' report keys, all read. */
static void test_config_site_contacts_costs_are_read(void **state)
{
	struct bsc_cfg cfg;

	parse_ok("[bascule]\nlan = lan0\nhistory = /srv/b/h.db\nhistory_retention_days = 30\n"
		 "[site]\n"
		 "name = Boulangerie \"Chez Léa\" & fils\n"
		 "address = 1 rue X, Lyon\n"
		 "rto_ms = 750\n"
		 "downtime_cost_per_hour = 180.5\n"
		 "currency = CHF\n"
		 "staff_check = Card terminal: pay 1 CHF\n"
		 "staff_check = Phone rings\n"
		 "[contact Zoé Martin]\nrole = Owner\nphone = +41 1\nescalation = 2\n"
		 "[contact IT desk]\nemail = it@example.net\nescalation = 1\nhours = 8-18\n"
		 "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\npriority = 20\n"
		 "provider = FibreCo\nequipment = box, ONT\nsupport = https://x.example/help\n"
		 "monthly_cost = 49.90\n"
		 "[uplink b]\ninterface = wan1\ngateway = 192.0.2.9\npriority = 10\n"
		 "cost_per_gb = 0\n", &cfg);
	assert_string_equal(cfg.history, "/srv/b/h.db");
	assert_int_equal(cfg.history_retention_days, 30);
	assert_string_equal(cfg.site.name, "Boulangerie \"Chez Léa\" & fils");
	assert_string_equal(cfg.site.address, "1 rue X, Lyon");
	assert_int_equal(cfg.site.rto_ms, 750);
	assert_true(cfg.site.downtime_cost_per_hour == 180.5);
	assert_string_equal(cfg.site.currency, "CHF");
	assert_int_equal(cfg.site.n_checks, 2);
	assert_string_equal(cfg.site.staff_check[1], "Phone rings");
	assert_int_equal(cfg.n_contacts, 2);
	assert_string_equal(cfg.contacts[0].name, "Zoé Martin");
	assert_string_equal(cfg.contacts[0].role, "Owner");
	assert_string_equal(cfg.contacts[0].phone, "+41 1");
	assert_int_equal(cfg.contacts[0].escalation, 2);
	assert_string_equal(cfg.contacts[1].email, "it@example.net");
	assert_string_equal(cfg.contacts[1].hours, "8-18");
	assert_string_equal(cfg.uplinks[0].provider, "FibreCo");
	assert_string_equal(cfg.uplinks[0].equipment, "box, ONT");
	assert_string_equal(cfg.uplinks[0].support, "https://x.example/help");
	assert_true(cfg.uplinks[0].monthly_cost == 49.90);
	assert_true(cfg.uplinks[0].cost_per_gb == BSC_COST_UNSET);
	assert_true(cfg.uplinks[1].monthly_cost == BSC_COST_UNSET);
	assert_true(cfg.uplinks[1].cost_per_gb == 0);
	assert_int_equal(bsc_config_primary(&cfg), 1); /* the lower priority value */
}

/* Without them: the history at its default place, a 1 s RTO, EUR, no
 * costs; `history = off` keeps none. */
static void test_config_report_defaults(void **state)
{
	struct bsc_cfg cfg;

	parse_ok("[bascule]\nlan = lan0\n" UPA, &cfg);
	assert_string_equal(cfg.history, BSC_DEFAULT_HISTORY);
	assert_int_equal(cfg.history_retention_days, 400);
	assert_int_equal(cfg.site.rto_ms, 1000);
	assert_string_equal(cfg.site.currency, "EUR");
	assert_true(cfg.site.downtime_cost_per_hour == BSC_COST_UNSET);
	assert_string_equal(cfg.site.name, "");
	assert_int_equal(cfg.n_contacts, 0);
	assert_true(cfg.uplinks[0].monthly_cost == BSC_COST_UNSET);
	assert_int_equal(bsc_config_primary(&cfg), 0);
	parse_ok("[bascule]\nlan = lan0\nhistory = off\n" UPA, &cfg);
	assert_string_equal(cfg.history, "");
}

/* inih reads at most 199 characters a line: a longer one is an error at its
 * own line, and the next line is still read as itself. */
static void test_config_load_line_too_long(void **state)
{
	char path[] = "/tmp/bascule-unit-XXXXXX", text[1024];
	struct bsc_cfg cfg;
	char longv[301];
	int rc;

	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	snprintf(text, sizeof(text), "[bascule]\nlan = lan0\n" UPA "[site]\nstaff_check = %s\n"
		 "colour = blue\n", longv);
	write_temp(path, text);
	rc = bsc_config_load(path, &cfg, errbuf, sizeof(errbuf));
	unlink(path);
	assert_int_equal(rc, -1);
	assert_error_at(errbuf, path, 7, "line too long (at most 198 characters)");
	assert_error_at(errbuf, path, 8, "unknown key 'colour' in [site]");
	assert_int_equal(count_lines(errbuf), 2);
}

int main(void)
{
	T_ADD(test_config_lab_conf_parses);
	T_ADD(test_config_unset_keys_get_defaults);
	T_ADD(test_config_nat_ports);
	T_ADD(test_config_host_flow_budget);
	T_ADD(test_config_shipped_files_parse);
	T_ADD(test_config_every_global_key_is_read);
	T_ADD(test_config_limits_are_inclusive);
	T_ADD(test_config_comments_and_spacing);
	T_ADD(test_config_eight_uplinks_fit);
	T_ADD(test_config_parse_starts_from_defaults);
	T_ADD(test_config_find_uplink);
	T_ADD(test_config_site_contacts_costs_are_read);
	T_ADD(test_config_report_defaults);
	T_ADD(test_config_load_line_too_long);
	T_ADD(test_config_drill);
	T_ADD(test_config_classes_are_read);
	T_ADD(test_config_class_match_forms);
	T_ADD(test_config_class_default_section);
	T_ADD(test_config_class_balance);
	T_ADD(test_config_class_failback);
	T_ADD(test_config_class_limits_fit);
	T_ADD_ROWS("config rejects", bad_configs, test_config_rejects);
	T_ADD(test_config_reports_every_value_error);
	T_ADD(test_config_reports_every_missing_piece);
	T_ADD(test_config_reports_syntax_error_among_others);
	T_ADD(test_config_refuses_repeats_and_dead_values);
	T_ADD(test_config_small_error_buffer_is_terminated);
	T_ADD(test_config_load_missing_file_names_the_path);
	T_ADD(test_config_load_reads_a_file);
	T_ADD(test_config_load_errors_name_file_and_line);

	return t_run("bascule_config", NULL, NULL) ? 1 : 0;
}
