// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_daemon.c - unit tests of the daemon (user/daemon/), cmocka.
 *
 *   nat ranges  refused where they meet the kernel's ephemeral ports
 *   drill       the synthetic echo frame, checksums from scratch
 *   failover    on maps made by hand (root, else skipped): the decision as a
 *               pure function; the order of the map writes when an uplink
 *               fails or is drained, and its TCP kick in slices; the
 *               operator's requests over the control socket
 *   hooks       on a real loop: a fresh signal state, no leaked descriptor,
 *               at most N at once, killed with their group at the deadline
 *
 * Everything runs in one group so that CMOCKA_MESSAGE_OUTPUT=TAP prints a
 * single plan.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "bascule.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/events.h"
#include "daemon/state.h"
#include "dataplane/maps.h"
#include "lib/clock.h"
#include "lib/handmaps.h"
#include "lib/runner.h"
#include "lib/unit.h"

/* ------------------------------------------------------------------ */
/* configuration the daemon checks, the drill's frame                 */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* on maps made by hand: failover                                     */
/* ------------------------------------------------------------------ */

/* maps_make() and REAL(): lib/handmaps.h.  bpf_map_update_elem and sendto
 * below take the place of libbpf's and libc's for the controller's objects. */

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

/* ------------------------------------------------------------------ */
/* hooks                                                              */
/* ------------------------------------------------------------------ */

/* Hooks: a fresh process's signals (the daemon blocks SIGINT/SIGTERM/SIGHUP
 * and ignores SIGPIPE), none of its descriptors, at most hook_max_running at
 * once, and one past hook_timeout_ms killed with what it started. */
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

int main(void)
{
	T_ADD(test_nat_ranges_clear_of_ephemeral);
	T_ADD(test_drill_echo_frame);
	T_ADD(test_failover_always_an_uplink);
	T_ADD(test_plan_is_pure_decision);
	T_ADD(test_uplink_requests_to_the_daemon);
	T_ADD(test_failover_drain_always_an_uplink);
	T_ADD(test_failover_kicks_in_slices);
	T_ADD(test_hooks_clean_and_bounded);

	return t_run("bascule_daemon", NULL, NULL) ? 1 : 0;
}
