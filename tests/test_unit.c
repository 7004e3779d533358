// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_unit.c - unit tests of the controller's userspace logic (cmocka).
 *
 *   config      INI parsing, validation, "file:line: what" messages
 *   select      which uplink new flows take (bsc_select_uplink)
 *   oper state  an uplink's state from what is known of it
 *   timeouts    how long an idle flow lives
 *   csum        the data plane's incremental checksum helpers (bpf/lib/csum.h)
 *               against an independent full RFC 1071 recomputation
 *   kick        the out-of-window ACK sent to stranded TCP hosts
 *   gen         on maps made by hand (root, else skipped), as all below:
 *               the flow generation's bump against the data plane's
 *   sweep       against a rebind between its look and its delete
 *   failover    the order of the daemon's map writes when an uplink fails
 *               or is drained, and its TCP kick in slices
 *
 * Table-driven groups register one cmocka test per row, named after the
 * row, so a failure names the case that broke.  Everything runs in one group
 * so that CMOCKA_MESSAGE_OUTPUT=TAP prints a single plan.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bascule.h"
#include "config/config.h"
#include "daemon/drill.h"
#include "daemon/events.h"
#include "control/admin.h"
#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/state.h"
#include "dataplane/flows.h"
#include "lib/checksum.h"
#include "lib/clock.h"
#include "dataplane/maps.h"
#include "lib/csum.h"
#include "lib/runner.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

#define CONF_NAME "t.conf"

static char errbuf[8192];

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s ? s : 0x9e3779b97f4a7c15ull;
}

static uint32_t rng32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void rng_fill(uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rng32();
}

/* Independent RFC 1071 arithmetic: bytes taken as big-endian 16-bit words,
 * an odd tail padded with a zero byte, carries folded at the end. */
static uint64_t ref_add(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Checksum value (numeric, to be stored big-endian) of data whose own
 * checksum field is zero. */
static uint16_t ref_checksum(uint64_t sum)
{
	return (uint16_t)~ref_fold(sum);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Pseudo-header sum of TCP/UDP over IPv4; addresses as they sit in memory. */
static uint64_t ref_pseudo(const uint8_t saddr[4], const uint8_t daddr[4], uint8_t proto,
			   uint16_t l4len)
{
	uint8_t ph[12];

	memcpy(ph, saddr, 4);
	memcpy(ph + 4, daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	put_be16(ph + 10, l4len);
	return ref_add(0, ph, sizeof(ph));
}

/* Two checksum values are the same one's complement number (0 and 0xffff
 * both stand for zero). */
static int csum_same(uint16_t a, uint16_t b)
{
	if (a == b)
		return 1;
	return (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

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

static int parse(const char *text, struct bsc_cfg *cfg)
{
	memset(errbuf, 0, sizeof(errbuf));
	return bsc_config_parse_string(text, CONF_NAME, cfg, errbuf, sizeof(errbuf));
}

static void parse_ok(const char *text, struct bsc_cfg *cfg)
{
	if (parse(text, cfg))
		fail_msg("config rejected:\n%s", errbuf);
	assert_string_equal(errbuf, "");
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad address in test: %s", s);
	return a.s_addr;
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

/* The daemon refuses a NAT range that meets the kernel's ephemeral ports
 * (the box's own connections would be given the NAT's ports), naming the
 * uplink, its line, both ranges and the sysctl. */
static void test_nat_ranges_clear_of_ephemeral(void **state)
{
	char path[] = "/tmp/bsc-port-range.XXXXXX", err[512];
	struct bsc_cfg cfg;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "32768\t60999\n", 12), 12);
	close(fd);
	parse_ok("[bascule]\nlan = lan0\n[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n[uplink b]\ninterface = wan1\ngateway = 198.51.100.1\nnat_ports = 30000-40000\n",
		 &cfg);
	assert_int_equal(bsc_nat_ranges_check(&cfg, path, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, CONF_NAME ":6: uplink b: nat_ports 30000-40000 overlap the kernel's ephemeral ports 32768-60999"));
	assert_non_null(strstr(err, "net.ipv4.ip_local_port_range"));
	cfg.uplinks[1].nat_port_max = 32767;
	assert_int_equal(bsc_nat_ranges_check(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_not_equal(bsc_nat_ranges_check(&cfg, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, path));
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

/* The drill's synthetic echo: a frame any stack would accept, checksums
 * verified here from scratch (the sum over a header with its checksum in
 * place folds to 0xffff). */
static uint16_t fold_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_drill_echo_frame(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 1, 0 };
	uint8_t f[128];
	size_t n = bsc_drill_build_echo(f, sizeof(f), mac, inet_addr("10.77.0.1"),
					inet_addr("203.0.113.1"), 0xd123, 7);

	assert_int_equal(n, 14 + 20 + 8 + 56);
	assert_memory_equal(f, mac, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(f[12] << 8 | f[13], 0x0800);
	assert_int_equal(f[14], 0x45);
	assert_int_equal(f[16] << 8 | f[17], 20 + 8 + 56);
	assert_int_equal(f[22], 64);
	assert_int_equal(f[23], 1);
	assert_memory_equal(f + 26, &(uint32_t){ inet_addr("10.77.0.1") }, 4);
	assert_memory_equal(f + 30, &(uint32_t){ inet_addr("203.0.113.1") }, 4);
	assert_int_equal(fold_sum(f + 14, 20), 0xffff);
	assert_int_equal(f[34], 8);     /* echo request */
	assert_int_equal(f[38] << 8 | f[39], 0xd123);
	assert_int_equal(f[40] << 8 | f[41], 7);
	assert_int_equal(fold_sum(f + 34, 8 + 56), 0xffff);
	assert_int_equal(bsc_drill_build_echo(f, 97, mac, 1, 2, 3, 4), 0);
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
#define UPA "[uplink a]\ninterface = wan0\ngateway = 192.0.2.1\n"        /* 3 lines */

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

/* ------------------------------------------------------------------ */
/* uplink selection                                                   */
/* ------------------------------------------------------------------ */

struct slot {
	uint32_t ifindex, state, priority;
};

#define UP       BSC_UPLINK_UP
#define DOWN     BSC_UPLINK_DOWN
#define DRAINED  BSC_UPLINK_DRAINED
#define UNKNOWN  BSC_UPLINK_UNKNOWN

struct select_case {
	const char *what;
	int n;
	struct slot s[BSC_MAX_UPLINKS];
	uint32_t preferred;
	uint32_t want;
};

static struct select_case select_cases[] = {
	{ "lowest priority value wins", 3,
	  { { 2, UP, 30 }, { 3, UP, 10 }, { 4, UP, 20 } }, BSC_NO_UPLINK, 1 },
	{ "priority 0 beats everything", 3,
	  { { 2, UP, 1 }, { 3, UP, 1000000 }, { 4, UP, 0 } }, BSC_NO_UPLINK, 2 },
	{ "tie goes to the lowest index", 4,
	  { { 2, DOWN, 5 }, { 3, UP, 10 }, { 4, UP, 10 }, { 5, UP, 10 } }, BSC_NO_UPLINK, 1 },
	{ "DOWN is skipped", 2,
	  { { 2, DOWN, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "DRAINED is skipped", 2,
	  { { 2, DRAINED, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "UNKNOWN is skipped", 2,
	  { { 2, UNKNOWN, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "out-of-range state is skipped", 2,
	  { { 2, 7, 1 }, { 3, UP, 50 } }, BSC_NO_UPLINK, 1 },
	{ "preferred UP uplink beats a better priority", 3,
	  { { 2, UP, 10 }, { 3, UP, 20 }, { 4, UP, 30 } }, 2, 2 },
	{ "preferred DOWN falls back to priority", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, DOWN, 1 } }, 2, 1 },
	{ "preferred DRAINED falls back to priority", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, DRAINED, 1 } }, 2, 1 },
	{ "preferred UNKNOWN falls back to priority", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, UNKNOWN, 1 } }, 2, 1 },
	{ "preferred empty slot is ignored", 3,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 0, UP, 1 } }, 2, 1 },
	{ "preferred == n is out of range", 2,
	  { { 2, UP, 20 }, { 3, UP, 10 }, { 4, UP, 1 } }, 2, 1 },
	{ "preferred far out of range", 2,
	  { { 2, UP, 20 }, { 3, UP, 10 } }, 1000, 1 },
	{ "BSC_NO_UPLINK means priority order", 2,
	  { { 2, UP, 20 }, { 3, UP, 10 } }, BSC_NO_UPLINK, 1 },
	{ "empty slots are skipped", 4,
	  { { 0, UP, 0 }, { 0, UP, 0 }, { 7, UP, 40 }, { 0, UP, 0 } }, BSC_NO_UPLINK, 2 },
	{ "slots beyond n are not looked at", 2,
	  { { 2, DOWN, 1 }, { 3, DOWN, 1 }, { 4, UP, 1 } }, BSC_NO_UPLINK, BSC_NO_UPLINK },
	{ "none up gives BSC_NO_UPLINK", 4,
	  { { 2, DOWN, 1 }, { 3, DRAINED, 1 }, { 4, UNKNOWN, 1 }, { 0, UP, 1 } }, 0,
	  BSC_NO_UPLINK },
	{ "no uplinks at all", 0, { { 0 } }, BSC_NO_UPLINK, BSC_NO_UPLINK },
	{ "only the last of eight is up", 8,
	  { { 1, DOWN, 1 }, { 2, DOWN, 1 }, { 3, DOWN, 1 }, { 4, DOWN, 1 },
	    { 5, DOWN, 1 }, { 6, DOWN, 1 }, { 7, DOWN, 1 }, { 8, UP, 999 } }, BSC_NO_UPLINK, 7 },
};

static void test_select_uplink(void **state)
{
	const struct select_case *c = *state;
	struct bsc_uplink u[BSC_MAX_UPLINKS];
	int i;

	memset(u, 0, sizeof(u));
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		snprintf(u[i].name, sizeof(u[i].name), "up%d", i);
		u[i].ifindex = c->s[i].ifindex;
		u[i].state = c->s[i].state;
		u[i].priority = c->s[i].priority;
	}
	assert_int_equal(bsc_select_uplink(u, c->n, c->preferred), c->want);
}

/* ------------------------------------------------------------------ */
/* operational state                                                  */
/* ------------------------------------------------------------------ */

struct oper_case {
	const char *what;
	uint32_t admin;
	int carrier;
	const char *addr;
	uint8_t gw_mac[6];
	uint32_t want;
};

#define MAC { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 }
#define NOMAC { 0, 0, 0, 0, 0, 0 }

static struct oper_case oper_cases[] = {
	{ "all known, auto: UP", BSC_ADMIN_AUTO, 1, "192.0.2.2", MAC, BSC_UPLINK_UP },
	{ "any nonzero carrier counts", BSC_ADMIN_AUTO, 2, "192.0.2.2", MAC, BSC_UPLINK_UP },
	{ "gateway MAC with one nonzero byte", BSC_ADMIN_AUTO, 1, "192.0.2.2",
	  { 0, 0, 0, 0, 0, 1 }, BSC_UPLINK_UP },
	{ "admin down: DOWN", BSC_ADMIN_DOWN, 1, "192.0.2.2", MAC, BSC_UPLINK_DOWN },
	{ "no carrier: DOWN", BSC_ADMIN_AUTO, 0, "192.0.2.2", MAC, BSC_UPLINK_DOWN },
	{ "no address: DOWN", BSC_ADMIN_AUTO, 1, "0.0.0.0", MAC, BSC_UPLINK_DOWN },
	{ "gateway MAC unknown: DOWN", BSC_ADMIN_AUTO, 1, "192.0.2.2", NOMAC, BSC_UPLINK_DOWN },
	{ "admin drain: DRAINED", BSC_ADMIN_DRAIN, 1, "192.0.2.2", MAC, BSC_UPLINK_DRAINED },
	{ "drain without carrier: DOWN", BSC_ADMIN_DRAIN, 0, "192.0.2.2", MAC, BSC_UPLINK_DOWN },
	{ "drain without gateway MAC: DOWN", BSC_ADMIN_DRAIN, 1, "192.0.2.2", NOMAC,
	  BSC_UPLINK_DOWN },
	{ "admin down beats everything fine", BSC_ADMIN_DOWN, 1, "10.0.0.1", MAC,
	  BSC_UPLINK_DOWN },
};

static void test_oper_state(void **state)
{
	const struct oper_case *c = *state;

	assert_int_equal(bsc_uplink_oper_state(c->admin, c->carrier, ip(c->addr), c->gw_mac),
			 c->want);
}

/* ------------------------------------------------------------------ */
/* flow timeouts                                                      */
/* ------------------------------------------------------------------ */

struct timeout_case {
	const char *what;
	uint8_t proto, tcp;
	uint32_t want;
};

/* distinctive values, so a mix-up of two timeouts shows */
#define T_EST   7001
#define T_TRANS 301
#define T_CLOSE 17
#define T_UDP   181
#define T_ICMP  43

static struct timeout_case timeout_cases[] = {
	{ "TCP established", IPPROTO_TCP, BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB, T_EST },
	{ "TCP reply seen without SYN (picked up mid-stream)", IPPROTO_TCP, BSC_TCP_ESTAB, T_EST },
	{ "TCP SYN only", IPPROTO_TCP, BSC_TCP_SYN_SEEN, T_TRANS },
	{ "TCP nothing seen", IPPROTO_TCP, 0, T_TRANS },
	{ "TCP FIN from the LAN", IPPROTO_TCP,
	  BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_FIN_LAN, T_TRANS },
	{ "TCP FIN from the remote", IPPROTO_TCP,
	  BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_FIN_WAN, T_TRANS },
	{ "TCP both FINs", IPPROTO_TCP,
	  BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_FIN_LAN | BSC_TCP_FIN_WAN, T_CLOSE },
	{ "TCP RST", IPPROTO_TCP, BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB | BSC_TCP_RST, T_CLOSE },
	{ "TCP RST on a SYN", IPPROTO_TCP, BSC_TCP_SYN_SEEN | BSC_TCP_RST, T_CLOSE },
	{ "UDP", IPPROTO_UDP, 0, T_UDP },
	{ "UDP ignores TCP bits", IPPROTO_UDP, BSC_TCP_RST | BSC_TCP_ESTAB, T_UDP },
	{ "ICMP", IPPROTO_ICMP, 0, T_ICMP },
};

static void test_flow_timeout(void **state)
{
	const struct timeout_case *c = *state;
	struct bsc_timeouts t;
	struct bsc_cfg cfg;

	parse_ok("[bascule]\nlan = lan0\n"
		 "tcp_established_timeout = 7001\n"
		 "tcp_transitory_timeout = 301\n"
		 "tcp_closed_timeout = 17\n"
		 "udp_timeout = 181\n"
		 "icmp_timeout = 43\n" UPA, &cfg);
	memset(&t, 0, sizeof(t));
	bsc_timeouts_from_cfg(&t, &cfg);
	assert_int_equal(bsc_flow_timeout(&t, c->proto, c->tcp), c->want);
}

/* Idleness from a tick stamp: counted from the end of the tick, so a flow
 * is never older than it is; at most one tick younger. */
static void test_flow_idle_from_tick(void **state)
{
	const uint64_t T = 1ull << BSC_TICK_SHIFT;

	(void)state;
	assert_int_equal(bsc_flow_idle_ns(10, 10 * T), 0);          /* start of the tick */
	assert_int_equal(bsc_flow_idle_ns(10, 11 * T - 1), 0);      /* its last ns */
	assert_int_equal(bsc_flow_idle_ns(10, 11 * T), 0);
	assert_int_equal(bsc_flow_idle_ns(10, 11 * T + 5), 5);
	assert_int_equal(bsc_flow_idle_ns(10, 21 * T), 10 * T);
	assert_int_equal(bsc_flow_idle_ns(10, 3 * T), 0);           /* a stamp ahead of now */
	/* a packet at any instant t of tick 10: idle at t + d is at most d */
	assert_true(bsc_flow_idle_ns(10, 10 * T + 12345 + 7000000000ull) <= 7000000000ull);
	/* the largest stamp does not overflow */
	assert_int_equal(bsc_flow_idle_ns(UINT32_MAX, ((uint64_t)UINT32_MAX + 1) * T + 9), 9);
}

/* ------------------------------------------------------------------ */
/* checksums                                                          */
/* ------------------------------------------------------------------ */

/* The helpers take fields as they sit in memory: read and write them
 * with memcpy, never through a host-order conversion. */
static uint16_t mem16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t mem32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void set16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void set32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Replace the field at off (2 or 4 bytes) with random bytes, updating the
 * checksum at sum_off incrementally; udp selects the UDP flavour. */
static void replace_field(uint8_t *buf, size_t off, int width, uint8_t *sum_p, int udp)
{
	uint16_t sum = mem16(sum_p);

	if (width == 2) {
		uint16_t from = mem16(buf + off), to = (uint16_t)rng32();

		if (udp)
			udp_csum_replace2(&sum, from, to);
		else
			csum_replace2(&sum, from, to);
		set16(buf + off, to);
	} else {
		uint32_t from = mem32(buf + off), to = rng32();

		if (udp)
			udp_csum_replace4(&sum, from, to);
		else
			csum_replace4(&sum, from, to);
		set32(buf + off, to);
	}
	set16(sum_p, sum);
}

static void test_bsc_csum_rfc1071_example(void **state)
{
	/* RFC 1071 section 3: these words sum to 0xddf2 */
	static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = bsc_csum(data, sizeof(data), 0);
	uint8_t b[2];

	memcpy(b, &c, 2); /* returned ready to store in the packet */
	assert_int_equal(b[0], 0x22);
	assert_int_equal(b[1], 0x0d);
}

static void test_bsc_csum_matches_reference(void **state)
{
	uint8_t buf[80];
	int iter;

	rng_seed(1);
	for (iter = 0; iter < 2000; iter++) {
		size_t len = 2 + rng32() % (sizeof(buf) - 1);      /* odd and even */
		uint32_t init = rng32() & 0xfffff;
		uint16_t c;

		rng_fill(buf, len);
		c = bsc_csum(buf, len, init);
		assert_int_equal(get_be16((uint8_t *)&c), ref_checksum(ref_add(init, buf, len)));
	}
}

/* IPv4 header: random fields, valid checksum; change 16-bit words and the
 * addresses one at a time, 40 changes per header, and after every change
 * the header must verify and carry the recomputed checksum. */
static void test_csum_replace_ipv4_header(void **state)
{
	static const size_t f16[] = { 2, 4, 6, 8 };   /* tot_len, id, frag, ttl|proto */
	static const size_t f32[] = { 12, 16 };       /* saddr, daddr */
	uint8_t h[20];
	int iter, step;

	rng_seed(2);
	for (iter = 0; iter < 1000; iter++) {
		rng_fill(h, sizeof(h));
		h[0] = 0x45;
		put_be16(h + 10, 0);
		put_be16(h + 10, ref_checksum(ref_add(0, h, 20)));
		assert_int_equal(ref_fold(ref_add(0, h, 20)), 0xffff);
		for (step = 0; step < 40; step++) {
			uint16_t want;

			if (rng32() & 1)
				replace_field(h, f16[rng32() % ARRAY_SIZE(f16)], 2, h + 10, 0);
			else
				replace_field(h, f32[rng32() % ARRAY_SIZE(f32)], 4, h + 10, 0);
			if (ref_fold(ref_add(0, h, 20)) != 0xffff)
				fail_msg("header %d step %d: checksum %04x does not verify", iter, step,
					 get_be16(h + 10));
			{
				uint8_t z[20];

				memcpy(z, h, 20);
				put_be16(z + 10, 0);
				want = ref_checksum(ref_add(0, z, 20));
			}
			if (!csum_same(get_be16(h + 10), want))
				fail_msg("header %d step %d: %04x, recomputed %04x", iter, step,
					 get_be16(h + 10), want);
		}
	}
}

/* An IPv4 packet with a TCP or UDP segment (odd and even payloads): NAT
 * rewrites the source address (IP and L4 checksums, the latter through the
 * pseudo-header) and the source port (L4 checksum only). */
static void l4_nat_rounds(uint8_t proto, uint64_t seed)
{
	uint8_t pkt[20 + 20 + 64];
	const int udp = proto == IPPROTO_UDP;
	const size_t hl = udp ? 8 : 20, csum_off = udp ? 6 : 16;
	int iter, step;

	rng_seed(seed);
	for (iter = 0; iter < 1000; iter++) {
		size_t l4len = hl + rng32() % 64;
		uint8_t *l4 = pkt + 20;
		uint16_t c;

		rng_fill(pkt, 20 + l4len);
		pkt[0] = 0x45;
		pkt[9] = proto;
		put_be16(pkt + 2, (uint16_t)(20 + l4len));
		if (udp)
			put_be16(l4 + 4, (uint16_t)l4len);
		put_be16(pkt + 10, 0);
		put_be16(pkt + 10, ref_checksum(ref_add(0, pkt, 20)));
		put_be16(l4 + csum_off, 0);
		c = ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto, (uint16_t)l4len),
					 l4, l4len));
		if (udp && c == 0)
			c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
		put_be16(l4 + csum_off, c);

		for (step = 0; step < 20; step++) {
			uint32_t from, to;
			uint16_t ipsum, l4sum, want;

			switch (rng32() % 3) {
			case 0: /* source address */
			case 1: /* destination address (reply direction) */
				{
					size_t off = 12 + 4 * (rng32() & 1);

					from = mem32(pkt + off);
					to = rng32();
					ipsum = mem16(pkt + 10);
					l4sum = mem16(l4 + csum_off);
					csum_replace4(&ipsum, from, to);
					if (udp)
						udp_csum_replace4(&l4sum, from, to);
					else
						csum_replace4(&l4sum, from, to);
					set32(pkt + off, to);
					set16(pkt + 10, ipsum);
					set16(l4 + csum_off, l4sum);
				}
				break;
			default: /* a port */
				replace_field(l4, 2 * (rng32() & 1), 2, l4 + csum_off, udp);
				break;
			}
			if (ref_fold(ref_add(0, pkt, 20)) != 0xffff)
				fail_msg("packet %d step %d: IPv4 checksum does not verify", iter, step);
			if (ref_fold(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto, (uint16_t)l4len),
					     l4, l4len)) != 0xffff)
				fail_msg("packet %d step %d (%zu bytes): %s checksum %04x does not verify",
					 iter, step, l4len, udp ? "UDP" : "TCP", get_be16(l4 + csum_off));
			if (udp && get_be16(l4 + csum_off) == 0)
				fail_msg("packet %d step %d: UDP checksum became 0 (\"none\")", iter, step);
			{
				uint8_t save[2];

				memcpy(save, l4 + csum_off, 2);
				put_be16(l4 + csum_off, 0);
				want = ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto,
								       (uint16_t)l4len), l4, l4len));
				memcpy(l4 + csum_off, save, 2);
			}
			if (!csum_same(get_be16(l4 + csum_off), want))
				fail_msg("packet %d step %d: L4 checksum %04x, recomputed %04x", iter,
					 step, get_be16(l4 + csum_off), want);
		}
	}
}

static void test_csum_replace_tcp_nat(void **state)
{
	l4_nat_rounds(IPPROTO_TCP, 3);
}

static void test_csum_replace_udp_nat(void **state)
{
	l4_nat_rounds(IPPROTO_UDP, 4);
}

/* The one-fold update of the fast path (nat_rewrite): an address, a port
 * and the TTL word changed at once, each checksum updated with the sum of
 * their diffs, against a recomputation. */
static void test_csum_apply_nat_and_ttl(void **state)
{
	uint8_t pkt[20 + 20 + 64];
	int iter;

	rng_seed(8);
	for (iter = 0; iter < 3000; iter++) {
		const uint8_t proto = iter % 3 == 0 ? IPPROTO_TCP : iter % 3 == 1 ? IPPROTO_UDP : IPPROTO_ICMP;
		const int udp = proto == IPPROTO_UDP, icmp = proto == IPPROTO_ICMP;
		const size_t hl = proto == IPPROTO_TCP ? 20 : 8, csum_off = udp ? 6 : icmp ? 2 : 16;
		size_t l4len = hl + rng32() % 64, aoff = 12 + 4 * (rng32() & 1);
		size_t poff = icmp ? 4 : 2 * (rng32() & 1);
		uint8_t *l4 = pkt + 20;
		uint32_t from, to, d;
		uint16_t c, want, ipsum, l4sum, pfrom, pto, tfrom;

		rng_fill(pkt, 20 + l4len);
		pkt[0] = 0x45;
		pkt[8] = (uint8_t)(2 + rng32() % 254);
		pkt[9] = proto;
		put_be16(pkt + 2, (uint16_t)(20 + l4len));
		if (udp)
			put_be16(l4 + 4, (uint16_t)l4len);
		put_be16(pkt + 10, 0);
		put_be16(pkt + 10, ref_checksum(ref_add(0, pkt, 20)));
		put_be16(l4 + csum_off, 0);
		c = icmp ? ref_checksum(ref_add(0, l4, l4len))
			 : ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto,
						   (uint16_t)l4len), l4, l4len));
		if (udp && c == 0)
			c = 0xffff;
		if (udp && iter % 7 == 0)
			c = 0; /* "no checksum" */
		put_be16(l4 + csum_off, c);

		from = mem32(pkt + aoff);
		to = rng32();
		pfrom = mem16(l4 + poff);
		pto = (uint16_t)rng32();
		tfrom = mem16(pkt + 8);
		d = csum_diff4(from, to);
		ipsum = mem16(pkt + 10);
		l4sum = mem16(l4 + csum_off);
		if (icmp)
			csum_apply(&l4sum, csum_diff2(pfrom, pto));
		else if (udp)
			udp_csum_apply(&l4sum, d + csum_diff2(pfrom, pto));
		else
			csum_apply(&l4sum, d + csum_diff2(pfrom, pto));
		set32(pkt + aoff, to);
		set16(l4 + poff, pto);
		pkt[8]--;
		csum_apply(&ipsum, d + csum_diff2(tfrom, mem16(pkt + 8)));
		set16(pkt + 10, ipsum);
		set16(l4 + csum_off, l4sum);

		if (ref_fold(ref_add(0, pkt, 20)) != 0xffff)
			fail_msg("packet %d: IPv4 checksum does not verify", iter);
		if (udp && c == 0) {
			assert_int_equal(l4sum, 0);
			continue;
		}
		if (udp && l4sum == 0)
			fail_msg("packet %d: UDP checksum became 0", iter);
		if (icmp ? ref_fold(ref_add(0, l4, l4len)) != 0xffff
			 : ref_fold(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto, (uint16_t)l4len),
					    l4, l4len)) != 0xffff)
			fail_msg("packet %d (proto %u, %zu bytes): L4 checksum does not verify", iter,
				 proto, l4len);
		put_be16(l4 + csum_off, 0);
		want = icmp ? ref_checksum(ref_add(0, l4, l4len))
			    : ref_checksum(ref_add(ref_pseudo(pkt + 12, pkt + 16, proto,
						      (uint16_t)l4len), l4, l4len));
		if (!csum_same(get_be16((uint8_t *)&l4sum), want))
			fail_msg("packet %d: L4 checksum %04x, recomputed %04x", iter,
				 get_be16((uint8_t *)&l4sum), want);
	}
}

static void test_udp_zero_checksum_stays_zero(void **state)
{
	int iter;

	rng_seed(5);
	for (iter = 0; iter < 1000; iter++) {
		uint16_t sum = 0;

		udp_csum_replace2(&sum, (uint16_t)rng32(), (uint16_t)rng32());
		assert_int_equal(sum, 0);
		udp_csum_replace4(&sum, rng32(), rng32());
		assert_int_equal(sum, 0);
	}
}

/* Choose the new value of a field so that the updated checksum comes out as
 * zero: the UDP helpers must send 0xffff instead, which still verifies. */
static void test_udp_computed_zero_becomes_ffff(void **state)
{
	uint8_t seg[8 + 24];
	const size_t len = sizeof(seg);
	uint8_t saddr[4] = { 10, 1, 2, 3 }, daddr[4] = { 198, 51, 100, 9 };
	int iter;

	rng_seed(6);
	for (iter = 0; iter < 200; iter++) {
		uint16_t c, sum, plain, from16, to16, t;
		uint32_t from32, to32, s;

		rng_fill(seg, len);
		put_be16(seg + 4, (uint16_t)len);
		put_be16(seg + 6, 0);
		c = ref_checksum(ref_add(ref_pseudo(saddr, daddr, IPPROTO_UDP, (uint16_t)len), seg, len));
		put_be16(seg + 6, c ? c : 0xffff);

		/* 16-bit field (source port): to = ~fold(~sum + ~from) */
		sum = mem16(seg + 6);
		from16 = mem16(seg);
		t = csum_fold32((uint32_t)(uint16_t)~sum + (uint16_t)~from16);
		to16 = (uint16_t)~t;
		plain = sum;
		csum_replace2(&plain, from16, to16);
		assert_int_equal(plain, 0);       /* the plain helper gives 0 ... */
		udp_csum_replace2(&sum, from16, to16);
		assert_int_equal(sum, 0xffff);    /* ... the UDP one 0xffff */
		set16(seg, to16);
		set16(seg + 6, sum);
		assert_int_equal(ref_fold(ref_add(ref_pseudo(saddr, daddr, IPPROTO_UDP,
							     (uint16_t)len), seg, len)), 0xffff);

		/* 32-bit field (source address in the pseudo-header) */
		sum = mem16(seg + 6);
		memcpy(&from32, saddr, 4);
		to32 = rng32();
		s = (uint16_t)~sum;
		s += (uint16_t)~(from32 & 0xffff);
		s += (uint16_t)~(from32 >> 16);
		s += to32 >> 16;
		t = csum_fold32(s);
		to32 = (to32 & 0xffff0000u) | (uint16_t)~t;
		plain = sum;
		csum_replace4(&plain, from32, to32);
		assert_int_equal(plain, 0);
		udp_csum_replace4(&sum, from32, to32);
		assert_int_equal(sum, 0xffff);
		memcpy(saddr, &to32, 4);
		set16(seg + 6, sum);
		assert_int_equal(ref_fold(ref_add(ref_pseudo(saddr, daddr, IPPROTO_UDP,
							     (uint16_t)len), seg, len)), 0xffff);
	}
}

/* ------------------------------------------------------------------ */
/* TCP kick frame                                                     */
/* ------------------------------------------------------------------ */

struct kick_case {
	const char *what;
	const char *lan_host, *remote;
	uint16_t lan_port, remote_port;
	uint32_t seq;
};

static struct kick_case kick_cases[] = {
	{ "https download", "10.1.2.3", "203.0.113.7", 40000, 443, 0x12345678 },
	{ "seq 0", "192.168.1.20", "198.51.100.200", 1024, 80, 0 },
	{ "seq all ones, high ports", "172.16.255.254", "8.8.4.4", 65535, 65534, 0xffffffffu },
	{ "seq with the top bit set", "10.0.0.1", "1.1.1.1", 5555, 22, 0x80000001u },
};

static void test_kick_frame(void **state)
{
	const struct kick_case *c = *state;
	static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc };
	static const uint8_t edge_mac[6] = { 0x02, 0x00, 0x00, 0x11, 0x22, 0x33 };
	struct bsc_config cfg;
	struct bsc_flow_key k;
	struct bsc_flow f;
	uint8_t frame[64];
	const uint8_t *iph = frame + 14, *th = frame + 34;
	uint32_t lan = ip(c->lan_host), remote = ip(c->remote);
	size_t len, i;

	memset(&cfg, 0, sizeof(cfg));
	memset(&k, 0, sizeof(k));
	memset(&f, 0, sizeof(f));
	memcpy(cfg.lan_mac, edge_mac, 6);
	cfg.lan_ifindex = 3;
	cfg.lan_addr = ip("10.1.2.1");
	k.saddr = lan;
	k.daddr = remote;
	k.sport = htons(c->lan_port);
	k.dport = htons(c->remote_port);
	k.proto = IPPROTO_TCP;
	memcpy(f.lan_mac, host_mac, 6);
	f.nat_addr = ip("192.0.2.2");
	f.nat_port = htons(50000);
	f.tcp = BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB;

	memset(frame, 0xa5, sizeof(frame));
	len = bsc_kick_frame(frame, &cfg, &k, &f, c->seq);
	assert_int_equal(len, 54);
	for (i = 54; i < sizeof(frame); i++)
		assert_int_equal(frame[i], 0xa5); /* nothing past the frame */

	/* Ethernet: to the LAN host, from the edge's LAN side */
	assert_memory_equal(frame, host_mac, 6);
	assert_memory_equal(frame + 6, edge_mac, 6);
	assert_int_equal(get_be16(frame + 12), 0x0800);

	/* IPv4: from the remote end to the LAN host */
	assert_int_equal(iph[0], 0x45);
	assert_int_equal(iph[1], 0);                  /* tos */
	assert_int_equal(get_be16(iph + 2), 40);      /* total length */
	assert_int_equal(get_be16(iph + 6) & 0x3fff, 0); /* not a fragment */
	assert_int_equal(iph[8], 64);
	assert_int_equal(iph[9], IPPROTO_TCP);
	assert_memory_equal(iph + 12, &remote, 4);
	assert_memory_equal(iph + 16, &lan, 4);
	assert_int_equal(ref_fold(ref_add(0, iph, 20)), 0xffff);

	/* TCP: ports swapped, a bare ACK carrying seq */
	assert_int_equal(get_be16(th), c->remote_port);
	assert_int_equal(get_be16(th + 2), c->lan_port);
	assert_int_equal(get_be32(th + 4), c->seq);
	assert_int_equal(th[12], 0x50);               /* data offset 5, no options */
	assert_int_equal(th[13], 0x10);               /* ACK and nothing else */
	assert_true(get_be16(th + 14) > 0);           /* a window */
	assert_int_equal(get_be16(th + 18), 0);       /* urgent pointer */
	assert_int_equal(ref_fold(ref_add(ref_pseudo(iph + 12, iph + 16, IPPROTO_TCP, 20), th, 20)),
			 0xffff);
}

static void test_kick_frame_checksums_random(void **state)
{
	struct bsc_config cfg;
	struct bsc_flow_key k;
	struct bsc_flow f;
	uint8_t frame[64];
	int iter;

	rng_seed(7);
	for (iter = 0; iter < 2000; iter++) {
		memset(&cfg, 0, sizeof(cfg));
		memset(&k, 0, sizeof(k));
		memset(&f, 0, sizeof(f));
		rng_fill(cfg.lan_mac, 6);
		rng_fill(f.lan_mac, 6);
		k.saddr = rng32();
		k.daddr = rng32();
		k.sport = (uint16_t)rng32();
		k.dport = (uint16_t)rng32();
		k.proto = IPPROTO_TCP;
		assert_int_equal(bsc_kick_frame(frame, &cfg, &k, &f, rng32()), 54);
		if (ref_fold(ref_add(0, frame + 14, 20)) != 0xffff)
			fail_msg("iteration %d: IPv4 checksum does not verify", iter);
		if (ref_fold(ref_add(ref_pseudo(frame + 26, frame + 30, IPPROTO_TCP, 20),
				     frame + 34, 20)) != 0xffff)
			fail_msg("iteration %d: TCP checksum does not verify", iter);
	}
}

/* ------------------------------------------------------------------ */
/* names shown to the operator                                        */
/* ------------------------------------------------------------------ */

static void test_reason_names_complete_and_unique(void **state)
{
	int i, j;

	for (i = 0; i < BSC_R_MAX; i++) {
		if (!bsc_reason_names[i] || !*bsc_reason_names[i])
			fail_msg("reason %d has no name (bsc_reason_names out of step with enum bsc_reason)", i);
		for (j = 0; j < i; j++)
			if (!strcmp(bsc_reason_names[i], bsc_reason_names[j]))
				fail_msg("reasons %d and %d are both called %s", j, i, bsc_reason_names[i]);
	}
}

static void test_state_names_match_enum(void **state)
{
	assert_string_equal(bsc_state_names[BSC_UPLINK_UNKNOWN], "unknown");
	assert_string_equal(bsc_state_names[BSC_UPLINK_UP], "up");
	assert_string_equal(bsc_state_names[BSC_UPLINK_DOWN], "down");
	assert_string_equal(bsc_state_names[BSC_UPLINK_DRAINED], "drained");
}

/* ------------------------------------------------------------------ */
/* on maps made by hand: the flow generation, the sweep, failover       */
/* ------------------------------------------------------------------ */

/* The data plane's maps, made by hand (no program loaded; root only, else
 * the test is skipped).  flow_gen is mmapable here, unlike the data
 * plane's: a test adds to it in place, as the data plane does. */
static int mkmap(enum bpf_map_type type, size_t ksz, size_t vsz, uint32_t n, uint32_t flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);

	return bpf_map_create(type, NULL, (uint32_t)ksz, (uint32_t)vsz, n, &o);
}

static void maps_make(struct bsc_maps *m)
{
	bsc_maps_init(m);
	m->config = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct bsc_config), 1, 0);
	if (m->config < 0)
		skip(); /* not root: no maps */
	m->uplinks = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct bsc_uplink), BSC_MAX_UPLINKS, 0);
	m->policy = mkmap(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct bsc_policy), BSC_MAX_POLICIES, 0);
	m->flows = mkmap(BPF_MAP_TYPE_HASH, sizeof(struct bsc_flow_key), sizeof(struct bsc_flow),
			 65536, 0);
	m->rev = mkmap(BPF_MAP_TYPE_HASH, sizeof(struct bsc_rev_key), sizeof(struct bsc_rev),
		       65536 + 65536 / 16, 0);
	m->uplink_stats = mkmap(BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct bsc_uplink_stats),
				BSC_MAX_UPLINKS, 0);
	m->flow_gen = mkmap(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_MMAPABLE);
	assert_true(m->uplinks >= 0 && m->policy >= 0 && m->flows >= 0 && m->rev >= 0 &&
		    m->uplink_stats >= 0 && m->flow_gen >= 0);
}

/* Calls into libbpf and libc seen on their way: the controller's objects
 * are linked into this program, so the definitions below take the place of
 * the libraries' for them, look at what goes by and hand over (RTLD_NEXT). */
#define REAL(fn) ({                                                     \
	static __typeof__(&fn) real_;                                   \
	if (!real_)                                                     \
		real_ = (__typeof__(&fn))dlsym(RTLD_NEXT, #fn);         \
	real_;                                                          \
})

/* The flow generation: the data plane bumps it (an atomic add, on another
 * CPU) right after each read of the controller, as it may at any time. */
static struct {
	const struct bsc_maps *m;       /* watched: NULL, none */
	uint32_t *gen, dp_bumps;        /* flow_gen, mapped; the data plane's bumps */
} gen_spy;

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	int ret = REAL(bpf_map_lookup_elem)(fd, key, value);

	if (gen_spy.m && fd == gen_spy.m->flow_gen) {
		__atomic_fetch_add(gen_spy.gen, 1, __ATOMIC_SEQ_CST); /* the data plane's */
		gen_spy.dp_bumps++;
	}
	return ret;
}

/* Neither the controller's bumps nor the data plane's are lost.
 * (Deterministic: two threads on this machine's two CPUs turned out to take
 * turns more often than run together, and then no race shows.) */
static void test_flow_gen_bump_loses_nothing(void **state)
{
	struct bsc_maps m;
	uint32_t *gen, i;

	maps_make(&m);
	gen = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m.flow_gen, 0);
	assert_true(gen != MAP_FAILED);
	*gen = 41;
	gen_spy.gen = gen;
	gen_spy.dp_bumps = 0;
	gen_spy.m = &m;
	for (i = 0; i < 100; i++)
		bsc_flows_invalidate(&m);
	gen_spy.m = NULL;
	assert_int_equal(*gen, 41 + 100 + gen_spy.dp_bumps);
	munmap(gen, 4096);
	bsc_maps_close(&m);
}

/* The sweep judges a flow idle; before it deletes it, the data plane
 * rebinds it (the flow_bind of a UDP flow off a failed uplink: a reverse
 * entry on the new uplink, with the same port where it is free, the flow
 * moved, the old reverse entry released).  The flow, live again, stays
 * with its new reverse entry, and no reverse entry is left without its
 * flow. */
static struct {
	const struct bsc_maps *m;       /* watched: NULL, none */
	struct bsc_flow_key k;
	struct bsc_flow f;              /* as rebound */
	struct bsc_rev_key old_rk, new_rk;
	int rebound;
} rb;

static void rebind_now(int fd)
{
	struct bsc_rev rv = { .lan_addr = rb.k.saddr, .lan_port = rb.k.sport };

	if (!rb.m || fd != rb.m->flows || rb.rebound++)
		return; /* once, before the first deletion from flows */
	rb.f.last = (uint32_t)(bsc_now_ns() >> BSC_TICK_SHIFT);
	assert_int_equal(bpf_map_update_elem(rb.m->rev, &rb.new_rk, &rv, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(rb.m->flows, &rb.k, &rb.f, BPF_EXIST), 0);
	assert_int_equal(REAL(bpf_map_delete_elem)(rb.m->rev, &rb.old_rk), 0);
}

int bpf_map_delete_elem(int fd, const void *key)
{
	rebind_now(fd);
	return REAL(bpf_map_delete_elem)(fd, key);
}

int bpf_map_delete_batch(int fd, const void *keys, __u32 *count,
			 const struct bpf_map_batch_opts *opts)
{
	rebind_now(fd);
	return REAL(bpf_map_delete_batch)(fd, keys, count, opts);
}

int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value)
{
	rebind_now(fd);
	return REAL(bpf_map_lookup_and_delete_elem)(fd, key, value);
}

static void test_sweep_spares_a_flow_rebound_meanwhile(void **state)
{
	struct bsc_timeouts to = { 7440, 240, 10, 30, 30 };
	struct bsc_rev_key rk, next, *prev = NULL;
	struct bsc_rev rv = { 0 };
	struct bsc_flow f = { 0 };
	struct bsc_maps m;
	int orphans = 0;

	maps_make(&m);
	memset(&rb, 0, sizeof(rb));
	rb.k.saddr = htonl(0x0a000005);
	rb.k.daddr = htonl(0x08080808);
	rb.k.sport = htons(5060);
	rb.k.dport = htons(5060);
	rb.k.proto = IPPROTO_UDP;
	f.nat_addr = htonl(0xc6336401);
	f.nat_port = htons(20000);
	f.uplink = 0;
	f.created = f.last = 1; /* idle for ages */
	rb.old_rk = (struct bsc_rev_key){ .raddr = rb.k.daddr, .rport = rb.k.dport,
					  .nat_port = f.nat_port, .proto = IPPROTO_UDP,
					  .uplink = 0 };
	rv.lan_addr = rb.k.saddr;
	rv.lan_port = rb.k.sport;
	assert_int_equal(bpf_map_update_elem(m.flows, &rb.k, &f, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(m.rev, &rb.old_rk, &rv, BPF_NOEXIST), 0);
	rb.f = f;
	rb.f.uplink = 1;
	rb.f.nat_addr = htonl(0xc6336501);
	rb.new_rk = rb.old_rk;
	rb.new_rk.uplink = 1; /* the same port, on the new uplink */

	rb.m = &m;
	assert_int_equal(bsc_flows_gc(&m, &to, bsc_now_ns()), 0);
	rb.m = NULL;
	assert_int_equal(rb.rebound, 1); /* the rebind did come in between */

	assert_int_equal(bpf_map_lookup_elem(m.flows, &rb.k, &f), 0);
	assert_int_equal(f.uplink, 1);
	assert_int_equal(f.nat_port, rb.f.nat_port);
	assert_int_equal(bpf_map_lookup_elem(m.rev, &rb.new_rk, &rv), 0);
	/* every reverse entry left leads to its flow */
	while (!bpf_map_get_next_key(m.rev, prev, &next)) {
		struct bsc_flow_key fk = { .daddr = next.raddr, .dport = next.rport,
					   .proto = next.proto };

		rk = next;
		prev = &rk;
		assert_int_equal(bpf_map_lookup_elem(m.rev, &rk, &rv), 0);
		fk.saddr = rv.lan_addr;
		fk.sport = rv.lan_port;
		if (bpf_map_lookup_elem(m.flows, &fk, &f) || f.uplink != rk.uplink ||
		    f.nat_port != rk.nat_port)
			orphans++;
	}
	assert_int_equal(orphans, 0);
	bsc_maps_close(&m);
}

/* Failover: every write to `uplinks` and `policy` is looked at as the data
 * plane would see the maps just after it, and the TCP kick's frames are
 * counted instead of sent. */
static struct {
	const struct bsc_maps *m;       /* watched: NULL, none */
	int writes, stranded;           /* writes of uplinks/policy; those after
					 * which new flows had no uplink */
	int sends;                      /* kick frames (none leaves) */
	uint8_t kicked[65536];          /* per LAN port: kick frames to it */
} fo_spy;

/* What the data plane does with a packet (bascule_lan in bpf/bascule.bpf.c,
 * policy_uplink in bpf/lib/nat.h): a new flow takes policy 0's active
 * uplink if it is UP with an address, else it is dropped (drop_no_uplink);
 * so does a UDP flow whose uplink no longer keeps it. */
static int active_takes_flows(const struct bsc_maps *m)
{
	struct bsc_policy p;
	struct bsc_uplink u;

	return !bsc_policy_read(m, 0, &p) && p.active < BSC_MAX_UPLINKS &&
	       !bsc_uplink_read(m, p.active, &u) && u.state == BSC_UPLINK_UP && u.addr;
}

int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	int ret = REAL(bpf_map_update_elem)(fd, key, value, flags);

	if (fo_spy.m && (fd == fo_spy.m->uplinks || fd == fo_spy.m->policy)) {
		fo_spy.writes++;
		if (!active_takes_flows(fo_spy.m))
			fo_spy.stranded++;
	}
	return ret;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	const uint8_t *f = buf;

	if (!fo_spy.m || !to || to->sa_family != AF_PACKET || len != 54)
		return REAL(sendto)(fd, buf, len, flags, to, tolen);
	fo_spy.sends++; /* a kick frame: counted by the LAN port it goes to */
	fo_spy.kicked[f[36] << 8 | f[37]]++;
	return (ssize_t)len;
}

/* The decision as a pure function (daemon/decide.c): from the uplinks'
 * health, facts and the operator's word to each entry and the active
 * uplink, with no map in sight.  Two uplinks, 0 preferred by priority. */
static void plan_daemon(struct daemon *d, struct bsc_cfg *cfg, struct bsc_uplink cur[2])
{
	static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0x99, 0x01 };
	int i;

	memset(d, 0, sizeof(*d));
	bsc_config_defaults(cfg);
	cfg->failback_hold_ms = 1000;
	d->cfg = cfg;
	d->n = 2;
	for (i = 0; i < 2; i++) {
		struct uplink_rt *u = &d->up[i];

		cfg->uplinks[i].priority = (uint32_t)i + 1;
		u->cfg = &cfg->uplinks[i];
		u->idx = (uint32_t)i;
		u->ifindex = 100 + (uint32_t)i;
		u->addr = htonl(0xc6336401u + ((uint32_t)i << 8));
		u->gateway = u->addr + htonl(1);
		memcpy(u->gw_mac, gw_mac, 6);
		u->hs.health = BSC_H_UP;
		u->healthy_since = 1;
		memset(&cur[i], 0, sizeof(cur[i]));
		cur[i].ifindex = u->ifindex;
		cur[i].addr = u->addr;
		cur[i].gateway = u->gateway;
		memcpy(cur[i].gw_mac, gw_mac, 6);
		cur[i].mac[5] = 0;
		cur[i].state = BSC_UPLINK_UP;
		cur[i].admin = BSC_ADMIN_AUTO;
	}
}

static void test_plan_is_pure_decision(void **state)
{
	const uint64_t now = 100ull * 1000000000;
	struct bsc_uplink cur[2];
	struct daemon *d = calloc(1, sizeof(*d));
	struct daemon_plan p;
	struct bsc_cfg *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(d);
	assert_non_null(cfg);
	/* nothing changed: no write, the active stays */
	plan_daemon(d, cfg, cur);
	daemon_plan(d, cur, 3, 0, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.changed, 0);
	assert_int_equal(p.active, 0);
	/* the active uplink fails: its entry goes down, it loses new flows and
	 * its flows, uplink 1 takes over */
	d->up[0].hs.health = BSC_H_DOWN;
	daemon_plan(d, cur, 3, 0, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.changed, 1);
	assert_int_equal(p.losing, 1);
	assert_int_equal(p.failed, 1);
	assert_int_equal(p.back, 0);
	assert_int_equal(p.next[0].state, BSC_UPLINK_DOWN);
	assert_int_equal(p.active, 1);
	/* an unreadable entry (have bit clear) is left alone */
	daemon_plan(d, cur, 2, 0, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.changed, 0);
	/* drained by the operator: no new flows, its flows stay */
	plan_daemon(d, cfg, cur);
	cur[0].admin = BSC_ADMIN_DRAIN;
	daemon_plan(d, cur, 3, 0, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.losing, 1);
	assert_int_equal(p.failed, 0);
	assert_int_equal(p.next[0].state, BSC_UPLINK_DRAINED);
	assert_int_equal(p.active, 1);
	/* back, but healthy for less than the failback hold: 1 stays active */
	plan_daemon(d, cfg, cur);
	cur[0].state = BSC_UPLINK_DOWN;
	d->up[0].healthy_since = now - 500ull * 1000000;
	daemon_plan(d, cur, 3, 1, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.changed, 1);
	assert_int_equal(p.back, 1);
	assert_int_equal(p.next[0].state, BSC_UPLINK_UP);
	assert_int_equal(p.active, 1);
	/* past the hold: failback to 0 */
	d->up[0].healthy_since = now - 1500ull * 1000000;
	daemon_plan(d, cur, 3, 1, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.active, 0);
	/* ... unless the operator prefers 1 */
	daemon_plan(d, cur, 3, 1, 1, now, &p);
	assert_int_equal(p.active, 1);
	/* probes say up, but the gateway's MAC is unknown: it cannot carry */
	plan_daemon(d, cfg, cur);
	memset(d->up[0].gw_mac, 0, 6);
	daemon_plan(d, cur, 3, 0, BSC_NO_UPLINK, now, &p);
	assert_int_equal(p.next[0].state, BSC_UPLINK_DOWN);
	assert_int_equal(p.failed, 1);
	assert_int_equal(p.active, 1);
	free(d);
	free(cfg);
}

/* A daemon on the maps of the test, not started: two uplinks, both up,
 * uplink 0 the active one. */
static struct bsc_cfg fo_cfg;

static struct daemon *fo_daemon(const struct bsc_maps *m)
{
	static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0x99, 0x01 };
	struct bsc_policy p = { .active = BSC_NO_UPLINK, .preferred = BSC_NO_UPLINK };
	struct daemon *d = calloc(1, sizeof(*d));
	uint32_t zero = 0;
	int i;

	assert_non_null(d);
	bsc_config_defaults(&fo_cfg);
	fo_cfg.manage_routes = 0;
	fo_cfg.n_uplinks = 2;
	d->cfg = &fo_cfg;
	d->dp.maps = *m;
	d->n = 2;
	d->active = BSC_NO_UPLINK;
	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];

		snprintf(fo_cfg.uplinks[i].name, BSC_NAME_LEN, "up%d", i);
		fo_cfg.uplinks[i].priority = (uint32_t)i + 1;
		u->d = d;
		u->idx = (uint32_t)i;
		u->cfg = &fo_cfg.uplinks[i];
		u->ifindex = 100 + (uint32_t)i;
		u->addr = htonl(0xc6336401u + ((uint32_t)i << 8)); /* 198.51.100.1, .101.1 */
		u->gateway = u->addr + htonl(1);
		memcpy(u->gw_mac, gw_mac, 6);
		u->mac[5] = (uint8_t)i;
		u->hs.health = BSC_H_UP;
		u->healthy_since = 1;
	}
	assert_int_equal(bpf_map_update_elem(m->policy, &zero, &p, BPF_ANY), 0);
	daemon_reevaluate(d);
	assert_int_equal(bsc_policy_read(m, 0, &p), 0);
	assert_int_equal(p.active, 0);
	memset(&fo_spy, 0, sizeof(fo_spy));
	return d;
}

/* The active uplink fails (a), or the operator drains it (b): after every
 * write that follows, new flows, and the UDP flows of the uplink left, have
 * an uplink to take.  (The old order wrote the uplink DOWN, kicked the TCP
 * flows, and only then wrote the policy.) */
static void failover_case(int drain)
{
	struct bsc_policy p;
	struct bsc_uplink u;
	struct bsc_maps m;
	struct daemon *d;
	uint32_t zero = 0;

	maps_make(&m);
	d = fo_daemon(&m);
	if (drain) {
		assert_int_equal(bsc_uplink_read(&m, zero, &u), 0);
		u.admin = BSC_ADMIN_DRAIN;
		assert_int_equal(bsc_uplink_write(&m, zero, &u), 0);
	} else {
		d->up[0].hs.health = BSC_H_DOWN;
	}
	fo_spy.m = &m;
	daemon_reevaluate(d);
	fo_spy.m = NULL;
	assert_int_equal(bsc_uplink_read(&m, 0, &u), 0);
	assert_int_equal(u.state, drain ? BSC_UPLINK_DRAINED : BSC_UPLINK_DOWN);
	assert_int_equal(bsc_policy_read(&m, 0, &p), 0);
	assert_int_equal(p.active, 1);
	assert_int_equal(fo_spy.writes, 2);
	assert_int_equal(fo_spy.stranded, 0);
	free(d);
	bsc_maps_close(&m);
}

/* The operator's word over the control socket ("uplink VERB NAME"): the
 * daemon applies it and decides; a malformed or hostile request changes
 * nothing and is answered in JSON with ok false. */
static char *ask(struct daemon *d, const char *req)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	daemon_on_request(d, req, f);
	fclose(f);
	return buf;
}

static void test_uplink_requests_to_the_daemon(void **state)
{
	static const char *const refused[] = {
		"uplink", "uplink frob up0", "uplink down", "uplink down nosuch",
		"uplink down up0 up1", "uplink auto up0", "uplink activate",
		"uplink down \"up0\"", "uplink down up0%s%n",
	};
	struct bsc_policy p;
	struct bsc_uplink u;
	struct bsc_maps m;
	struct daemon *d;
	size_t i;
	char *a;

	maps_make(&m);
	d = fo_daemon(&m);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		a = ask(d, refused[i]);
		if (!strstr(a, "\"ok\":false")) {
			print_error("'%s' answered %s\n", refused[i], a);
			fail();
		}
		assert_int_equal(bsc_uplink_read(&m, 0, &u), 0);
		assert_int_equal(u.admin, BSC_ADMIN_AUTO);
		assert_int_equal(bsc_policy_read(&m, 0, &p), 0);
		assert_int_equal(p.active, 0);
	}
	/* an unknown request is still an error object */
	assert_non_null(strstr(ask(d, "uplinks down up0"), "\"error\""));
	/* down: the admin word in the map, the state and the choice by the
	 * daemon, the answer as the CLI prints it */
	a = ask(d, "uplink down up0");
	assert_non_null(strstr(a, "\"ok\":true"));
	assert_non_null(strstr(a, "uplink up0: up -> down; active uplink: up1 (changed)"));
	assert_int_equal(bsc_uplink_read(&m, 0, &u), 0);
	assert_int_equal(u.admin, BSC_ADMIN_DOWN);
	assert_int_equal(u.state, BSC_UPLINK_DOWN);
	assert_int_equal(bsc_policy_read(&m, 0, &p), 0);
	assert_int_equal(p.active, 1);
	/* activate a down uplink: refused, nothing moves */
	a = ask(d, "uplink activate up0");
	assert_non_null(strstr(a, "\"ok\":false"));
	assert_non_null(strstr(a, "cannot take new flows"));
	/* up, then activate up1 and back to auto: up0 by priority (its
	 * health never left up, so no failback hold) */
	assert_non_null(strstr(ask(d, "uplink up up0"), "active uplink: up0 (changed)"));
	assert_non_null(strstr(ask(d, "uplink activate up1"), "active uplink: up1 (changed)"));
	assert_int_equal(bsc_policy_read(&m, 0, &p), 0);
	assert_int_equal(p.preferred, 1);
	assert_non_null(strstr(ask(d, "uplink auto"), "active uplink: up0 (changed)"));
	assert_int_equal(bsc_policy_read(&m, 0, &p), 0);
	assert_int_equal(p.preferred, BSC_NO_UPLINK);
	/* drain: no new flows, the choice moves */
	a = ask(d, "uplink drain up0");
	assert_non_null(strstr(a, "up -> drained; active uplink: up1"));
	free(d);
	bsc_maps_close(&m);
}

static void test_failover_always_an_uplink(void **state)
{
	failover_case(0);
}

static void test_failover_drain_always_an_uplink(void **state)
{
	failover_case(1);
}

static void put_flow(const struct bsc_maps *m, uint32_t i, uint8_t proto, uint32_t uplink)
{
	struct bsc_flow_key k = { .saddr = htonl(0x0a000000u + i), .daddr = htonl(0xcb007107u),
				  .sport = htons((uint16_t)i), .dport = htons(443), .proto = proto };
	struct bsc_flow f = { .nat_addr = htonl(0xc6336401u + (uplink << 8)),
			      .nat_port = htons((uint16_t)i), .uplink = (uint8_t)uplink,
			      .tcp = BSC_TCP_SYN_SEEN | BSC_TCP_ESTAB,
			      .created = (uint32_t)(bsc_now_ns() >> BSC_TICK_SHIFT) };

	f.last = f.created;
	assert_int_equal(bpf_map_update_elem(m->flows, &k, &f, BPF_NOEXIST), 0);
}

/* The TCP flows of a failed uplink are kicked from the event loop, a slice
 * a turn (at most BSC_SLICE_ACTS kicks), each exactly once, and none during
 * the failover itself; nor the failed uplink's UDP flows, nor the other
 * uplink's TCP flows. */
static void test_failover_kicks_in_slices(void **state)
{
	const uint32_t n = 2 * BSC_SLICE_ACTS + 1000;
	struct bsc_config cfg = { .lan_ifindex = 1 }; /* no frame leaves: sendto above */
	struct bsc_maps m;
	struct daemon *d;
	uint32_t zero = 0, i;
	int turns = 0, during, last;

	maps_make(&m);
	assert_int_equal(bpf_map_update_elem(m.config, &zero, &cfg, BPF_ANY), 0);
	for (i = 1; i <= n; i++)
		put_flow(&m, i, IPPROTO_TCP, 0);
	for (i = n + 1; i <= n + 100; i++)
		put_flow(&m, i, i % 2 ? IPPROTO_TCP : IPPROTO_UDP, i % 2 ? 1 : 0);
	d = fo_daemon(&m);
	assert_true(sd_event_new(&d->ev) >= 0);
	fo_spy.m = &m;
	d->up[0].hs.health = BSC_H_DOWN;
	daemon_reevaluate(d);
	during = last = fo_spy.sends;
	while (turns < 1000 && sd_event_run(d->ev, 200000) > 0) {
		assert_in_range(fo_spy.sends - last, 0, BSC_SLICE_ACTS);
		last = fo_spy.sends;
		turns++;
	}
	fo_spy.m = NULL;
	assert_int_equal(during, 0);
	assert_int_equal(fo_spy.sends, n);
	assert_true(turns >= 3);
	for (i = 1; i <= n + 100; i++)
		assert_int_equal(fo_spy.kicked[i], i <= n);
	sd_event_source_disable_unref(d->kick.timer);
	sd_event_unref(d->ev);
	free(d);
	bsc_maps_close(&m);
}

/* The control socket's directory: created when missing, left alone when
 * there (its mode is not the daemon's to change), refused when others may
 * write to it or it is not root's. */
static void ctl_handler_nop(void *data, const char *request, FILE *out)
{
}

static mode_t dir_mode(const char *d)
{
	struct stat st;

	assert_int_equal(stat(d, &st), 0);
	return st.st_mode & 07777;
}

static void test_ctl_socket_directory(void **state)
{
	char base[] = "/tmp/bsc-ctl-XXXXXX", sub[96], sock[128], err[512];
	struct bsc_ctl *c;
	sd_event *ev = NULL;

	if (geteuid())
		skip();
	assert_non_null(mkdtemp(base));
	assert_true(sd_event_new(&ev) >= 0);

	/* Missing: created 0750. */
	snprintf(sub, sizeof(sub), "%s/run", base);
	snprintf(sock, sizeof(sock), "%s/control.sock", sub);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(dir_mode(sub), 0750);
	bsc_ctl_close(c);

	/* There, 0755 root's: used, and still 0755 afterwards. */
	assert_int_equal(chmod(sub, 0755), 0);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(dir_mode(sub), 0755);
	bsc_ctl_close(c);

	/* World-writable, even sticky as /tmp: refused, and left 1777. */
	assert_int_equal(chmod(sub, 01777), 0);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "refused: its directory"));
	assert_non_null(strstr(err, "writable by others (mode 1777"));
	assert_int_equal(dir_mode(sub), 01777);

	/* Someone else's: refused. */
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chown(sub, 65534, 65534), 0);
	c = bsc_ctl_listen(ev, sock, NULL, ctl_handler_nop, NULL, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "not root's"));

	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(base), 0);
	sd_event_unref(ev);
}

/* Hooks: a fresh process's signals (the daemon blocks SIGINT/SIGTERM/SIGHUP
 * and ignores SIGPIPE), none of its descriptors, at most hook_max_running at
 * once, and one past hook_timeout_ms killed with what it started. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

static char *slurp(const char *path)
{
	static char buf[2048];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void raw_sigaction(int sig, void (*handler)(int))
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} k = { handler, 0, NULL, 0 };

	assert_int_equal(syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask)), 0);
}

static int proc_alive(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* "pid (comm) S ..." */
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void test_hooks_clean_and_bounded(void **state)
{
	char dir[] = "/tmp/bsc-hooks-XXXXXX", clean[96], slow[96], body[1024], p[128];
	const char hooks[2][256];
	struct bsc_event e = { .kind = "uplink", .uplink = "fiber", .old_state = "up",
			       .new_state = "down", .reason = "test" };
	struct bsc_hook_stats st;
	struct bsc_hooks *h;
	sigset_t ss, old;
	sd_event *ev = NULL;
	uint64_t t0, t_done = 0;
	char *out;
	long child = 0;
	int fd, status;

	assert_non_null(mkdtemp(dir));
	snprintf(clean, sizeof(clean), "%s/clean.sh", dir);
	snprintf(slow, sizeof(slow), "%s/slow.sh", dir);
	snprintf(body, sizeof(body),
		 "{ grep -E '^(SigBlk|SigIgn):' /proc/self/status\n"
		 "  [ -e /proc/$$/fd/50 ] && echo leaked-fd-50\n"
		 "  s=$(date +%%s%%N); timeout 0.2 sleep 3; e=$(date +%%s%%N)\n"
		 "  echo \"timeout_ms $(( (e - s) / 1000000 ))\"\n"
		 "  echo \"event $BASCULE_EVENT $BASCULE_UPLINK $BASCULE_NEW_STATE\"; } >%s/out.tmp\n"
		 "mv %s/out.tmp %s/out", dir, dir, dir);
	write_script(clean, body);
	snprintf(body, sizeof(body), "sleep 30 & echo $! >%s/child\nwait", dir);
	write_script(slow, body);
	memset((void *)hooks, 0, sizeof(hooks));
	strcpy((char *)hooks[0], clean);
	strcpy((char *)hooks[1], slow);

	/* The daemon's state: signals blocked and ignored, a descriptor open
	 * without O_CLOEXEC. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &ss, &old), 0);
	signal(SIGPIPE, SIG_IGN);
	/* and glibc's two reserved signals ignored, as a parent may leave
	 * them (seen under make test): only the kernel's call resets them */
	raw_sigaction(32, SIG_IGN);
	raw_sigaction(33, SIG_IGN);
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 50), 50);
	close(fd);

	assert_true(sd_event_new(&ev) >= 0);
	h = bsc_hooks_new(ev, 2, 500);
	assert_non_null(h);
	t0 = now_ns();
	bsc_hooks_run(h, &e, "cell", hooks, 2);  /* both start */
	bsc_hooks_run(h, &e, "cell", hooks, 1);  /* a third at once: not started */
	bsc_hooks_stats(h, &st);
	assert_int_equal(st.started, 2);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.running, 2);
	while (now_ns() - t0 < 10000000000ull) {
		assert_true(sd_event_run(ev, 50000) >= 0);
		bsc_hooks_stats(h, &st);
		if (!st.running) {
			t_done = now_ns();
			break;
		}
	}
	close(50);
	raw_sigaction(32, SIG_DFL);
	raw_sigaction(33, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);

	assert_int_not_equal(t_done, 0);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.killed, 1);
	assert_int_equal(st.failed, 0);
	/* killed at its deadline (500 ms), not when its sleep ended (30 s) */
	print_message("# hooks: the slow one killed after %.0f ms (hook_timeout_ms 500)\n",
		      (double)(t_done - t0) / 1e6);
	assert_true(t_done - t0 >= 450000000ull && t_done - t0 < 5000000000ull);
	snprintf(p, sizeof(p), "%s/out", dir);
	out = slurp(p);
	assert_non_null(out);
	print_message("# hook saw: %s", out);
	assert_non_null(strstr(out, "SigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(out, "SigIgn:\t0000000000000000\n"));
	assert_null(strstr(out, "leaked-fd-50"));
	assert_non_null(strstr(out, "event uplink fiber down"));
	{
		/* `timeout 0.2 sleep 3` in the hook took 0.2 s, not 3 */
		const char *t = strstr(out, "timeout_ms ");

		assert_non_null(t);
		assert_true(atol(t + 11) < 2000);
	}
	/* what the slow hook started went with it (its process group) */
	snprintf(p, sizeof(p), "%s/child", dir);
	out = slurp(p);
	assert_non_null(out);
	child = atol(out);
	assert_true(child > 1);
	/* gone, or a zombie left to whoever reaps orphans here */
	for (status = 0; status < 50 && proc_alive(child); status++)
		usleep(20000);
	assert_false(proc_alive(child));
	bsc_hooks_free(h);
	sd_event_unref(ev);
	snprintf(body, sizeof(body), "rm -rf %s", dir);
	assert_int_equal(system(body), 0);
}

/* The control socket: nothing a client does stalls the loop. */
static void ctl_handler_ping(void *data, const char *request, FILE *out)
{
	fprintf(out, "%s\n", !strcmp(request, "ping") ? "pong" : "unknown");
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Run the loop for ms; the longest single iteration, in ns. */
static uint64_t ctl_loop(sd_event *ev, unsigned ms)
{
	uint64_t end = now_ns() + ms * 1000000ull, worst = 0;

	while (now_ns() < end) {
		uint64_t t = now_ns();

		assert_true(sd_event_run(ev, 5000) >= 0);
		if (now_ns() - t > worst)
			worst = now_ns() - t;
	}
	return worst;
}

static void test_ctl_clients_cannot_stall(void **state)
{
	char dir[] = "/tmp/bsc-ctl2-XXXXXX", sock[96], buf[64];
	int hung[20], c, i, n;
	struct bsc_ctl *ctl;
	sd_event *ev = NULL;
	uint64_t worst, t0;
	char err[256];

	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	assert_true(sd_event_new(&ev) >= 0);
	ctl = bsc_ctl_listen(ev, sock, NULL, ctl_handler_ping, NULL, err, sizeof(err));
	assert_non_null(ctl);

	/* Five clients that connect and send nothing: the loop never waits
	 * on them (the blocking socket waited 200 ms for each). */
	for (i = 0; i < 5; i++)
		hung[i] = ctl_connect(sock);
	worst = ctl_loop(ev, 300);
	print_message("# 5 silent clients: the longest loop iteration %.1f ms\n", worst / 1e6);
	assert_true(worst < 100000000ull);

	/* Meanwhile a request in two writes is read whole and answered. */
	c = ctl_connect(sock);
	assert_int_equal(send(c, "pi", 2, 0), 2);
	ctl_loop(ev, 50);
	assert_int_equal(send(c, "ng\n", 3, 0), 3);
	ctl_loop(ev, 50);
	n = (int)recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "pong\n");
	close(c);

	/* At most 16 at once: the 17th is closed at once, not queued. */
	for (i = 5; i < 16; i++)
		hung[i] = ctl_connect(sock);
	c = ctl_connect(sock);
	ctl_loop(ev, 50);
	assert_int_equal(recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(c);

	/* The silent ones are closed at their deadline (2 s). */
	t0 = now_ns();
	ctl_loop(ev, 2500);
	for (i = 0; i < 16; i++) {
		assert_int_equal(recv(hung[i], buf, sizeof(buf), MSG_DONTWAIT), 0);
		close(hung[i]);
	}
	print_message("# the silent clients closed within %.0f ms\n", (now_ns() - t0) / 1e6);

	/* and the socket serves again */
	c = ctl_connect(sock);
	assert_int_equal(send(c, "ping\n", 5, 0), 5);
	ctl_loop(ev, 50);
	n = (int)recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_int_equal(n, 5);
	close(c);
	bsc_ctl_close(ctl);
	sd_event_unref(ev);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	T_ADD(test_config_lab_conf_parses);
	T_ADD(test_config_unset_keys_get_defaults);
	T_ADD(test_config_nat_ports);
	T_ADD(test_nat_ranges_clear_of_ephemeral);
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
	T_ADD(test_drill_echo_frame);
	T_ADD_ROWS("config rejects", bad_configs, test_config_rejects);
	T_ADD(test_config_reports_every_value_error);
	T_ADD(test_config_reports_every_missing_piece);
	T_ADD(test_config_reports_syntax_error_among_others);
	T_ADD(test_config_refuses_repeats_and_dead_values);
	T_ADD(test_config_small_error_buffer_is_terminated);
	T_ADD(test_config_load_missing_file_names_the_path);
	T_ADD(test_config_load_reads_a_file);
	T_ADD(test_config_load_errors_name_file_and_line);
	T_ADD_ROWS("select uplink", select_cases, test_select_uplink);
	T_ADD_ROWS("oper state", oper_cases, test_oper_state);
	T_ADD_ROWS("flow timeout", timeout_cases, test_flow_timeout);
	T_ADD(test_flow_idle_from_tick);
	T_ADD(test_bsc_csum_rfc1071_example);
	T_ADD(test_bsc_csum_matches_reference);
	T_ADD(test_csum_replace_ipv4_header);
	T_ADD(test_csum_replace_tcp_nat);
	T_ADD(test_csum_replace_udp_nat);
	T_ADD(test_csum_apply_nat_and_ttl);
	T_ADD(test_udp_zero_checksum_stays_zero);
	T_ADD(test_udp_computed_zero_becomes_ffff);
	T_ADD_ROWS("kick frame", kick_cases, test_kick_frame);
	T_ADD(test_kick_frame_checksums_random);
	T_ADD(test_reason_names_complete_and_unique);
	T_ADD(test_state_names_match_enum);
	T_ADD(test_flow_gen_bump_loses_nothing);
	T_ADD(test_sweep_spares_a_flow_rebound_meanwhile);
	T_ADD(test_failover_always_an_uplink);
	T_ADD(test_plan_is_pure_decision);
	T_ADD(test_uplink_requests_to_the_daemon);
	T_ADD(test_failover_drain_always_an_uplink);
	T_ADD(test_failover_kicks_in_slices);
	T_ADD(test_ctl_socket_directory);
	T_ADD(test_hooks_clean_and_bounded);
	T_ADD(test_ctl_clients_cannot_stall);

	return t_run("bascule_unit", NULL, NULL) ? 1 : 0;
}
