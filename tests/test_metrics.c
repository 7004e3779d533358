// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_metrics.c - the Prometheus exposition: rendered from real maps (the
 * data plane's BPF object loaded, unattached, in a private network
 * namespace) holding known values and from a known view; checked line by
 * line, for its structure, and by `promtool check metrics`; then served over
 * HTTP by libmicrohttpd and fetched with a plain socket.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bascule.h"
#include "lib/bpfload.h"
#include "lib/runner.h"
#include "health/health.h"
#include "dataplane/maps.h"
#include "metrics/metrics.h"

#define WEIRD_NAME "x\"y\\z"            /* a name that needs escaping */
#define WEIRD_LABEL "x\\\"y\\\\z"       /* ... and how it must appear */
#define START_TIME 1700000000ull

struct env {
	struct bascule_bpf *skel;
	struct bsc_maps m;
	int ncpu;
	struct bsc_metrics_view view;
	int view_calls;
	/* expected sums, per uplink index */
	struct bsc_uplink_stats st[BSC_MAX_UPLINKS];
	uint64_t reasons[BSC_R_MAX];
};
static struct env E;

/* ------------------------------------------------------------ fixture */

static void put_uplink(uint32_t i, const char *name, uint32_t ifindex, uint32_t state)
{
	struct bsc_uplink u = { 0 };

	snprintf(u.name, sizeof(u.name), "%s", name);
	u.ifindex = ifindex;
	u.state = state;
	u.priority = 10 * (i + 1);
	assert_int_equal(bsc_uplink_write(&E.m, i, &u), 0);
}

/* Different values on every CPU, so a sum that misses one shows. */
static void put_stats(uint32_t i)
{
	struct bsc_uplink_stats *v = calloc((size_t)E.ncpu, sizeof(*v));
	uint64_t k = i + 1;
	int c;

	assert_non_null(v);
	memset(&E.st[i], 0, sizeof(E.st[i]));
	for (c = 0; c < E.ncpu; c++) {
		v[c].tx_packets = k * (1000 + (uint64_t)c);
		v[c].tx_bytes = k * 1500 * (1000 + (uint64_t)c);
		v[c].rx_packets = k * (2000 + 3 * (uint64_t)c);
		v[c].rx_bytes = k * 1400 * (2000 + 3 * (uint64_t)c);
		v[c].new_flows = k * (5 + (uint64_t)c);
		v[c].rebound = k;
		v[c].nat_exhausted = (uint64_t)c + i;
		E.st[i].tx_packets += v[c].tx_packets;
		E.st[i].tx_bytes += v[c].tx_bytes;
		E.st[i].rx_packets += v[c].rx_packets;
		E.st[i].rx_bytes += v[c].rx_bytes;
		E.st[i].new_flows += v[c].new_flows;
		E.st[i].rebound += v[c].rebound;
		E.st[i].nat_exhausted += v[c].nat_exhausted;
	}
	assert_int_equal(bpf_map_update_elem(E.m.uplink_stats, &i, v, BPF_ANY), 0);
	free(v);
}

static void put_reasons(void)
{
	uint64_t *v = calloc((size_t)E.ncpu, sizeof(*v));
	uint32_t r;
	int c;

	assert_non_null(v);
	for (r = 0; r < BSC_R_MAX; r++) {
		E.reasons[r] = 0;
		for (c = 0; c < E.ncpu; c++) {
			v[c] = r % 3 ? 10 * (uint64_t)r + (uint64_t)c : 0; /* some stay 0 */
			E.reasons[r] += v[c];
		}
		assert_int_equal(bpf_map_update_elem(E.m.reasons, &r, v, BPF_ANY), 0);
	}
	free(v);
	/* forwarded packets are reported from the per-uplink counters */
	for (r = 0; r < 4; r++) {
		E.reasons[BSC_R_FWD_LAN] += E.st[r].tx_packets;
		E.reasons[BSC_R_FWD_WAN] += E.st[r].rx_packets;
	}
}

static void put_flow(uint32_t n, uint8_t uplink)
{
	struct bsc_flow_key k = { 0 };
	struct bsc_flow f = { 0 };

	k.saddr = htonl(0x0a4d000a);
	k.daddr = htonl(0xcb007100 + n);
	k.sport = htons((uint16_t)(40000 + n));
	k.dport = htons(443);
	k.proto = IPPROTO_UDP;
	f.uplink = uplink;
	f.nat_port = k.sport;
	assert_int_equal(bpf_map_update_elem(E.m.flows, &k, &f, BPF_NOEXIST), 0);
}

static void set_view_uplink(int i, const char *name, int health, int held, int carrier,
			    int active, double rtt, double jitter, unsigned loss, uint64_t trans,
			    uint64_t sent, uint64_t ok, uint64_t failed)
{
	struct bsc_metrics_uplink *u = &E.view.up[i];

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->health = health;
	u->held = held;
	u->carrier = carrier;
	u->active = active;
	u->rtt_ms = rtt;
	u->jitter_ms = jitter;
	u->loss_pct = loss;
	u->transitions = trans;
	u->probes_sent = sent;
	u->probes_ok = ok;
	u->probes_failed = failed;
	u->priority = 10 * ((uint32_t)i + 1);
}

static void view_cb(void *data, struct bsc_metrics_view *v)
{
	struct env *e = data;

	__atomic_add_fetch(&e->view_calls, 1, __ATOMIC_RELAXED);
	*v = e->view;
}

static int group_setup(void **state)
{
	struct bsc_policy p = { .active = 1, .preferred = BSC_NO_UPLINK };
	uint32_t zero = 0, i;

	(void)state;
	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET) (the metrics tests need root)");
		return -1;
	}
	if (system("ip link set lo up")) {
		fprintf(stderr, "cannot bring lo up\n");
		return -1;
	}
	E.ncpu = libbpf_num_possible_cpus();
	if (E.ncpu <= 0)
		return -1;
	E.skel = t_bpf_load(&E.m, 4096, 4096);
	if (!E.skel)
		return -1;

	/* The data plane's side.  Policy 0 says cell is active while the view
	 * says fiber: the metric must follow the map. */
	put_uplink(0, "fiber", 11, BSC_UPLINK_UP);
	put_uplink(1, "cell", 12, BSC_UPLINK_DOWN);
	put_uplink(2, "sat", 13, BSC_UPLINK_DRAINED);
	put_uplink(3, WEIRD_NAME, 14, 7); /* out of range: shown as unknown */
	for (i = 0; i < 4; i++)
		put_stats(i);
	put_reasons();
	if (bpf_map_update_elem(E.m.policy, &zero, &p, BPF_ANY))
		return -1;
	for (i = 0; i < 3; i++)
		put_flow(i, 0);
	put_flow(3, 1);

	/* The controller's side. */
	E.view.n = 4;
	set_view_uplink(0, "fiber", BSC_H_UP, 0, 1, 1, 12.5, 2.25, 25, 3, 100, 90, 10);
	set_view_uplink(1, "cell", BSC_H_DEGRADED, 0, 1, 0, 480, 150, 45, 5, 50, 27, 23);
	set_view_uplink(2, "sat", BSC_H_DOWN, 1, 0, 0, 0, 0, 100, 9, 40, 0, 40);
	set_view_uplink(3, WEIRD_NAME, BSC_H_UNKNOWN, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
	E.view.up[1].path_warning = 1;
	E.view.active_changes = 7;
	E.view.start_time_s = START_TIME;
	E.view.drills = 2;
	E.view.drill_known = 1;
	E.view.drill_passed = 0;
	E.view.drill_end_s = START_TIME + 60.5;
	E.view.drill_cutover_ms = 1234.5;
	E.view.loop_lag_ns = 3250000;
	E.view.hist_on = 1;
	E.view.hist_failed = 3;
	E.view.hist_dropped = 5;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	bascule_bpf__destroy(E.skel);
	return 0;
}

/* ------------------------------------------------------------ helpers */

static char *render(const struct bsc_metrics_view *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	bsc_metrics_render(f, &E.m, v);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

static void expect_line(const char *text, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!has_line(text, line)) {
		print_error("missing line: %s\n--- got ---\n%s", line, text);
		fail();
	}
}

static void expect_no(const char *text, const char *needle)
{
	if (strstr(text, needle)) {
		print_error("unexpected '%s' in:\n%s", needle, text);
		fail();
	}
}

/* Sum and count of the samples of a state-set family for one uplink. */
static void state_set(const char *text, const char *family, const char *label, double *sum,
		      int *count)
{
	char prefix[256];
	const char *p = text;
	size_t n;

	n = (size_t)snprintf(prefix, sizeof(prefix), "%s{uplink=\"%s\",", family, label);
	*sum = 0;
	*count = 0;
	while ((p = strstr(p, prefix))) {
		if (p == text || p[-1] == '\n') {
			const char *sp = strchr(p + n, ' ');

			assert_non_null(sp);
			*sum += strtod(sp + 1, NULL);
			(*count)++;
		}
		p++;
	}
}

/* Run promtool on the text; returns its exit status, its output in out. */
static int promtool(const char *text, char *out, size_t outlen)
{
	char in[] = "/tmp/bsc-metrics-XXXXXX", cmd[256], res[64];
	FILE *f;
	int fd, st;
	size_t n;

	if (system("command -v promtool >/dev/null 2>&1")) {
		snprintf(out, outlen, "promtool not found (apt-get install prometheus)");
		return -1;
	}
	fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(res, sizeof(res), "%s.out", in);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s 2>&1", in, res);
	st = system(cmd);
	out[0] = '\0';
	f = fopen(res, "r");
	if (f) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	unlink(in);
	unlink(res);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static uint16_t free_port(int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	uint16_t port;
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return 0;
	}
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					: ((struct sockaddr_in *)&ss)->sin_port);
	close(fd);
	return port;
}

struct http_resp {
	int status;
	char ctype[128];
	char allow[64];
	char *body;
	char *raw;
};

static void http_free(struct http_resp *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

static void header(const char *head, const char *name, char *out, size_t outlen)
{
	const char *p = head;
	size_t n = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(out, outlen, "%.*s", (int)(e ? e - v : (ptrdiff_t)strlen(v)), v);
			return;
		}
	}
}

/* One request over a fresh connection (Connection: close), read to EOF. */
static void http(int family, uint16_t port, const char *method, const char *path,
		 const char *body, struct http_resp *r)
{
	struct sockaddr_storage ss = { 0 };
	struct timeval tv = { .tv_sec = 5 };
	char req[512], *sep;
	size_t cap = 65536, len = 0;
	socklen_t alen;
	ssize_t n;
	int fd = socket(family, SOCK_STREAM, 0);

	memset(r, 0, sizeof(*r));
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		alen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		alen = sizeof(*a);
	}
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, alen), 0);
	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, path, body ? strlen(body) : 0, body ? body : "");
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	r->raw = malloc(cap);
	assert_non_null(r->raw);
	for (;;) {
		if (len + 1 == cap) {
			cap *= 2;
			r->raw = realloc(r->raw, cap);
			assert_non_null(r->raw);
		}
		n = recv(fd, r->raw + len, cap - len - 1, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	r->raw[len] = '\0';
	assert_true(n == 0); /* EOF, not a timeout */
	assert_true(sscanf(r->raw, "HTTP/1.%*d %d", &r->status) == 1);
	sep = strstr(r->raw, "\r\n\r\n");
	assert_non_null(sep);
	*sep = '\0';
	header(r->raw, "Content-Type", r->ctype, sizeof(r->ctype));
	header(r->raw, "Allow", r->allow, sizeof(r->allow));
	r->body = sep + 4;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------ rendering */

static void test_render_values(void **state)
{
	char *t = render(&E.view);

	(void)state;
	/* from the view */
	expect_line(t, "bascule_uplink_up{uplink=\"fiber\"} 1");
	expect_line(t, "bascule_uplink_up{uplink=\"cell\"} 1"); /* degraded still carries */
	expect_line(t, "bascule_uplink_up{uplink=\"sat\"} 0");
	expect_line(t, "bascule_uplink_up{uplink=\"" WEIRD_LABEL "\"} 0");
	expect_line(t, "bascule_uplink_health{uplink=\"fiber\",health=\"up\"} 1");
	expect_line(t, "bascule_uplink_health{uplink=\"fiber\",health=\"down\"} 0");
	expect_line(t, "bascule_uplink_health{uplink=\"cell\",health=\"degraded\"} 1");
	expect_line(t, "bascule_uplink_health{uplink=\"sat\",health=\"down\"} 1");
	expect_line(t, "bascule_uplink_held{uplink=\"sat\"} 1");
	expect_line(t, "bascule_uplink_held{uplink=\"fiber\"} 0");
	expect_line(t, "bascule_uplink_carrier{uplink=\"sat\"} 0");
	expect_line(t, "bascule_uplink_carrier{uplink=\"fiber\"} 1");
	expect_line(t, "bascule_uplink_path_warning{uplink=\"cell\"} 1");
	expect_line(t, "bascule_uplink_path_warning{uplink=\"fiber\"} 0");
	expect_line(t, "bascule_uplink_rtt_seconds{uplink=\"fiber\"} 0.0125");
	expect_line(t, "bascule_uplink_rtt_seconds{uplink=\"cell\"} 0.48");
	expect_line(t, "bascule_uplink_jitter_seconds{uplink=\"fiber\"} 0.00225");
	expect_line(t, "bascule_uplink_loss_ratio{uplink=\"fiber\"} 0.25");
	expect_line(t, "bascule_uplink_loss_ratio{uplink=\"sat\"} 1");
	expect_line(t, "bascule_uplink_transitions_total{uplink=\"sat\"} 9");
	expect_line(t, "bascule_probes_sent_total{uplink=\"fiber\"} 100");
	expect_line(t, "bascule_probes_ok_total{uplink=\"fiber\"} 90");
	expect_line(t, "bascule_probes_failed_total{uplink=\"cell\"} 23");
	expect_line(t, "bascule_active_uplink_changes_total 7");
	expect_line(t, "bascule_start_time_seconds 1700000000");
	expect_line(t, "bascule_drills_total 2");
	expect_line(t, "bascule_drill_last_end_time_seconds 1700000060.500");
	expect_line(t, "bascule_drill_last_passed 0");
	expect_line(t, "bascule_drill_last_cutover_seconds 1.234500");
	expect_line(t, "bascule_uplink_priority{uplink=\"fiber\"} 10");
	expect_line(t, "bascule_uplink_priority{uplink=\"sat\"} 30");
	expect_line(t, "bascule_loop_lag_seconds 0.003250");
	expect_line(t, "bascule_history_write_failures_total 3");
	expect_line(t, "bascule_history_records_dropped_total 5");

	/* from the maps */
	expect_line(t, "bascule_uplink_dataplane_state{uplink=\"fiber\",state=\"up\"} 1");
	expect_line(t, "bascule_uplink_dataplane_state{uplink=\"cell\",state=\"down\"} 1");
	expect_line(t, "bascule_uplink_dataplane_state{uplink=\"sat\",state=\"drained\"} 1");
	expect_line(t, "bascule_uplink_dataplane_state{uplink=\"sat\",state=\"up\"} 0");
	expect_line(t, "bascule_uplink_dataplane_state{uplink=\"" WEIRD_LABEL "\",state=\"unknown\"} 1");
	expect_line(t, "bascule_uplink_active{uplink=\"cell\"} 1");  /* the map, */
	expect_line(t, "bascule_uplink_active{uplink=\"fiber\"} 0"); /* not the view */
	expect_line(t, "bascule_uplink_packets_total{uplink=\"fiber\",direction=\"tx\"} %" PRIu64,
		    (uint64_t)E.st[0].tx_packets);
	expect_line(t, "bascule_uplink_packets_total{uplink=\"fiber\",direction=\"rx\"} %" PRIu64,
		    (uint64_t)E.st[0].rx_packets);
	expect_line(t, "bascule_uplink_bytes_total{uplink=\"cell\",direction=\"tx\"} %" PRIu64,
		    (uint64_t)E.st[1].tx_bytes);
	expect_line(t, "bascule_uplink_bytes_total{uplink=\"sat\",direction=\"rx\"} %" PRIu64,
		    (uint64_t)E.st[2].rx_bytes);
	expect_line(t, "bascule_uplink_new_flows_total{uplink=\"cell\"} %" PRIu64,
		    (uint64_t)E.st[1].new_flows);
	expect_line(t, "bascule_uplink_rebound_flows_total{uplink=\"sat\"} %" PRIu64,
		    (uint64_t)E.st[2].rebound);
	expect_line(t, "bascule_uplink_nat_exhausted_total{uplink=\"fiber\"} %" PRIu64,
		    (uint64_t)E.st[0].nat_exhausted);
	expect_line(t, "bascule_uplink_flows{uplink=\"fiber\"} 3");
	expect_line(t, "bascule_uplink_flows{uplink=\"cell\"} 1");
	expect_line(t, "bascule_uplink_flows{uplink=\"sat\"} 0");
	expect_line(t, "bascule_flows 4");
	expect_line(t, "bascule_uplink_nat_port_use_ratio{uplink=\"fiber\"} 0.000183105469");
	expect_line(t, "bascule_uplink_nat_port_use_ratio{uplink=\"sat\"} 0");
	expect_line(t, "bascule_packets_total{reason=\"fwd_lan_to_uplink\"} %" PRIu64,
		    E.reasons[BSC_R_FWD_LAN]);
	expect_line(t, "bascule_packets_total{reason=\"drop_no_uplink\"} %" PRIu64,
		    E.reasons[BSC_R_DROP_NO_UPLINK]);
	expect_line(t, "bascule_packets_total{reason=\"pass_vlan\"} %" PRIu64,
		    E.reasons[BSC_R_PASS_VLAN]);

	/* headers */
	expect_line(t, "# TYPE bascule_packets_total counter");
	expect_line(t, "# TYPE bascule_uplink_health gauge");
	expect_line(t, "# TYPE bascule_flows gauge");
	expect_line(t, "# TYPE bascule_start_time_seconds gauge");
	free(t);
}

/* The classes' families, from the maps: a failover class's uplink, a
 * balance class's members and shares (from its table), and a class's own
 * counters on an uplink (its row of uplink_stats, summed over the CPUs). */
static void test_render_classes(void **state)
{
	struct bsc_uplink_stats *v = calloc((size_t)E.ncpu, sizeof(*v));
	static struct bsc_balance b;
	struct bsc_policy voip = { .active = 1, .preferred = BSC_NO_UPLINK };
	struct bsc_policy bulk = { .active = 0, .preferred = BSC_NO_UPLINK, .balance = 1 };
	struct bsc_config cfg, saved;
	uint32_t zero = 0, one = 1, two = 2, row = 1 * BSC_MAX_UPLINKS + 1, k;
	uint64_t tx = 0;
	char *t;
	int c;

	(void)state;
	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(E.m.config, &zero, &saved), 0);
	cfg = saved;
	cfg.n_classes = 3;
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &cfg, BPF_ANY), 0);
	snprintf(voip.name, sizeof(voip.name), "voip");
	snprintf(bulk.name, sizeof(bulk.name), "bulk");
	assert_int_equal(bpf_map_update_elem(E.m.policy, &one, &voip, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(E.m.policy, &two, &bulk, BPF_ANY), 0);
	for (k = 0; k < BSC_BALANCE_SLOTS; k++)
		b.slot[k] = k % 4 ? 0 : 2; /* fiber 3/4, sat 1/4 */
	assert_int_equal(bpf_map_update_elem(E.m.balance, &two, &b, BPF_ANY), 0);
	for (c = 0; c < E.ncpu; c++) {
		v[c].tx_packets = 7 + (uint64_t)c;
		v[c].rx_bytes = 1000 * (uint64_t)(c + 1);
		v[c].new_flows = 1;
		tx += v[c].tx_packets;
	}
	assert_int_equal(bpf_map_update_elem(E.m.uplink_stats, &row, v, BPF_ANY), 0);
	t = render(&E.view);
	expect_line(t, "bascule_class_uplink_active{class=\"voip\",uplink=\"cell\"} 1");
	expect_line(t, "bascule_class_uplink_active{class=\"voip\",uplink=\"fiber\"} 0");
	expect_line(t, "bascule_class_uplink_active{class=\"bulk\",uplink=\"fiber\"} 1");
	expect_line(t, "bascule_class_uplink_active{class=\"bulk\",uplink=\"sat\"} 1");
	expect_line(t, "bascule_class_uplink_active{class=\"bulk\",uplink=\"cell\"} 0");
	expect_line(t, "bascule_class_balance_share{class=\"bulk\",uplink=\"fiber\"} 0.750000");
	expect_line(t, "bascule_class_balance_share{class=\"bulk\",uplink=\"sat\"} 0.250000");
	expect_line(t, "bascule_class_packets_total{class=\"voip\",uplink=\"cell\",direction=\"tx\"} %" PRIu64, tx);
	expect_line(t, "bascule_class_bytes_total{class=\"voip\",uplink=\"cell\",direction=\"rx\"} %" PRIu64,
		    (uint64_t)(1000 * E.ncpu * (E.ncpu + 1) / 2));
	expect_line(t, "bascule_class_new_flows_total{class=\"voip\",uplink=\"cell\"} %d", E.ncpu);
	expect_line(t, "bascule_class_packets_total{class=\"voip\",uplink=\"fiber\",direction=\"tx\"} 0");
	assert_null(strstr(t, "bascule_class_balance_share{class=\"voip\""));
	free(t);
	/* as it was, for the other tests' sums */
	memset(v, 0, (size_t)E.ncpu * sizeof(*v));
	assert_int_equal(bpf_map_update_elem(E.m.uplink_stats, &row, v, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(E.m.config, &zero, &saved, BPF_ANY), 0);
	free(v);
}

static void test_render_every_reason(void **state)
{
	char *t = render(&E.view);
	int r;

	(void)state;
	for (r = 0; r < BSC_R_MAX; r++) {
		assert_non_null(bsc_reason_names[r]);
		expect_line(t, "bascule_packets_total{reason=\"%s\"} %" PRIu64, bsc_reason_names[r],
			    E.reasons[r]);
	}
	free(t);
}

static void test_render_state_sets(void **state)
{
	char *t = render(&E.view);
	double sum;
	int i, count;

	(void)state;
	for (i = 0; i < E.view.n; i++) {
		const char *label = i == 3 ? WEIRD_LABEL : E.view.up[i].name;

		state_set(t, "bascule_uplink_health", label, &sum, &count);
		assert_int_equal(count, 4);
		assert_true(sum == 1.0);
		state_set(t, "bascule_uplink_dataplane_state", label, &sum, &count);
		assert_int_equal(count, 4);
		assert_true(sum == 1.0);
	}
	free(t);
}

/* Every sample belongs to the family whose HELP and TYPE came just before;
 * no family twice; names prefixed, counters ending in _total. */
static void test_render_structure(void **state)
{
	char *t = render(&E.view), *save = NULL, *line;
	static const char *const families_expected[] = {
		"bascule_uplink_up", "bascule_uplink_health", "bascule_uplink_dataplane_state",
		"bascule_uplink_held", "bascule_uplink_carrier", "bascule_uplink_path_warning",
		"bascule_uplink_active",
		"bascule_active_uplink_changes_total", "bascule_uplink_rtt_seconds",
		"bascule_uplink_jitter_seconds", "bascule_uplink_loss_ratio",
		"bascule_uplink_transitions_total", "bascule_probes_sent_total",
		"bascule_probes_ok_total", "bascule_probes_failed_total",
		"bascule_uplink_packets_total", "bascule_uplink_bytes_total",
		"bascule_uplink_new_flows_total", "bascule_uplink_rebound_flows_total",
		"bascule_uplink_nat_exhausted_total", "bascule_flows", "bascule_uplink_flows",
		"bascule_uplink_nat_port_use_ratio", "bascule_packets_total",
		"bascule_start_time_seconds", "bascule_drills_total",
		"bascule_drill_last_end_time_seconds", "bascule_drill_last_passed",
		"bascule_drill_last_cutover_seconds", "bascule_uplink_priority",
		"bascule_loop_lag_seconds", "bascule_history_write_failures_total",
		"bascule_history_records_dropped_total",
		"bascule_class_uplink_active", "bascule_class_balance_share",
		"bascule_class_packets_total", "bascule_class_bytes_total",
		"bascule_class_new_flows_total",
	};
	char fam[128] = "", seen[4096] = " ";
	int samples = 0, families = 0, help_ok = 0;
	size_t i;

	(void)state;
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32], key[140];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line, "# HELP %127s", name), 1);
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key)) {
				print_error("family %s twice\n", name);
				fail();
			}
			assert_true(strlen(seen) + strlen(key) < sizeof(seen));
			strcat(seen, name);
			strcat(seen, " ");
			assert_true(strlen(line) > 8 + strlen(name)); /* has a text */
			snprintf(fam, sizeof(fam), "%s", name);
			help_ok = 1;
			families++;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line, "# TYPE %127s %31s", name, type), 2);
			assert_true(help_ok);
			assert_string_equal(name, fam);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge"));
			if (!strcmp(type, "counter"))
				assert_true(strlen(name) > 6 &&
					    !strcmp(name + strlen(name) - 6, "_total"));
			else
				assert_false(strlen(name) > 6 &&
					     !strcmp(name + strlen(name) - 6, "_total"));
			help_ok = 0;
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(strncmp(line, "bascule_", 8), 0);
		assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
		if (strcmp(name, fam)) {
			print_error("sample '%s' outside its family (current: %s)\n", line, fam);
			fail();
		}
		samples++;
	}
	assert_int_equal(families, (int)(sizeof(families_expected) / sizeof(families_expected[0])));
	for (i = 0; i < sizeof(families_expected) / sizeof(families_expected[0]); i++) {
		char key[140];

		snprintf(key, sizeof(key), " %s ", families_expected[i]);
		if (!strstr(seen, key)) {
			print_error("family %s missing\n", families_expected[i]);
			fail();
		}
	}
	assert_true(samples > 100);
	free(t);
}

static void test_render_promtool(void **state)
{
	char out[8192];
	char *t = render(&E.view);
	int st = promtool(t, out, sizeof(out));

	(void)state;
	if (st != 0) {
		print_error("promtool check metrics: status %d\n%s\n--- input ---\n%s", st, out, t);
		free(t);
		fail();
	}
	free(t);
	/* and promtool does catch what it should (a counter without _total) */
	st = promtool("# HELP bascule_x x\n# TYPE bascule_x counter\nbascule_x 1\n", out, sizeof(out));
	assert_true(st > 0);
	assert_non_null(strstr(out, "_total"));
}

/* With the daemon's count from its last expiry pass in the view, the flow
 * figures are that count, not a walk of the table (the maps hold 4 flows):
 * a scrape of a million flows costs no walk. */
static void test_render_flows_from_the_last_pass(void **state)
{
	struct bsc_metrics_view v = E.view;
	char *t;

	(void)state;
	v.flows_known = 1;
	v.flows_total = 1000000;
	v.flows_per[0] = 999000;
	v.flows_per[1] = 1000;
	v.flows_per[2] = 0;
	t = render(&v);
	expect_line(t, "bascule_flows 1000000");
	expect_line(t, "bascule_uplink_flows{uplink=\"fiber\"} 999000");
	expect_line(t, "bascule_uplink_flows{uplink=\"cell\"} 1000");
	expect_line(t, "bascule_uplink_flows{uplink=\"sat\"} 0");
	expect_no(t, "bascule_flows 4");
	free(t);
}

/* Without a view (no daemon): the uplinks of the maps, map figures only. */
static void test_render_without_view(void **state)
{
	char out[8192];
	char *t = render(NULL);
	int st;

	(void)state;
	expect_line(t, "bascule_uplink_dataplane_state{uplink=\"sat\",state=\"drained\"} 1");
	expect_line(t, "bascule_uplink_active{uplink=\"cell\"} 1");
	expect_line(t, "bascule_flows 4");
	expect_line(t, "bascule_uplink_flows{uplink=\"fiber\"} 3");
	expect_no(t, "bascule_uplink_health{");
	expect_no(t, "bascule_start_time_seconds ");
	expect_no(t, "bascule_drill_last_passed ");
	st = promtool(t, out, sizeof(out));
	if (st != 0) {
		print_error("promtool check metrics: status %d\n%s", st, out);
		free(t);
		fail();
	}
	free(t);
}

/* ------------------------------------------------------------ HTTP */

static void test_http_ipv4(void **state)
{
	char err[256] = "", url[64];
	struct bsc_metrics *m;
	struct http_resp r;
	uint16_t port = free_port(AF_INET);
	int calls;
	char *t;

	(void)state;
	assert_true(port > 0);
	snprintf(url, sizeof(url), "127.0.0.1:%u", port);
	m = bsc_metrics_start(url, &E.m, view_cb, &E, err, sizeof(err));
	if (!m) {
		print_error("start %s: %s\n", url, err);
		fail();
	}

	calls = E.view_calls;
	http(AF_INET, port, "GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	t = render(&E.view);
	assert_string_equal(r.body, t);
	free(t);
	assert_int_equal(E.view_calls, calls + 1);
	http_free(&r);

	http(AF_INET, port, "HEAD", "/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(r.body, "");
	http_free(&r);

	http(AF_INET, port, "GET", "/other", NULL, &r);
	assert_int_equal(r.status, 404);
	http_free(&r);

	http(AF_INET, port, "GET", "/", NULL, &r);
	assert_int_equal(r.status, 404);
	http_free(&r);

	http(AF_INET, port, "GET", "/metrics/x", NULL, &r);
	assert_int_equal(r.status, 404);
	http_free(&r);

	http(AF_INET, port, "POST", "/metrics", "a=1&b=2", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	http_free(&r);

	http(AF_INET, port, "DELETE", "/metrics", NULL, &r);
	assert_int_equal(r.status, 405);
	http_free(&r);

	/* still serving after all that */
	http(AF_INET, port, "GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "bascule_flows 4\n"));
	http_free(&r);

	/* a second server cannot take the same address */
	err[0] = '\0';
	assert_null(bsc_metrics_start(url, &E.m, view_cb, &E, err, sizeof(err)));
	assert_non_null(strstr(err, url));
	assert_non_null(strstr(err, "cannot listen"));

	bsc_metrics_stop(m);
}

static void test_http_ipv6(void **state)
{
	char err[256] = "", url[64];
	struct bsc_metrics *m;
	struct http_resp r;
	uint16_t port = free_port(AF_INET6);

	(void)state;
	if (!port) {
		/* No IPv6 on this kernel: a skip, which tests/run.sh counts
		 * apart and shows with this reason (and which fails the run). */
		print_message("# ::1 unavailable (IPv6 disabled), [v6]:PORT not tested\n");
		skip();
	}
	snprintf(url, sizeof(url), "[::1]:%u", port);
	m = bsc_metrics_start(url, &E.m, view_cb, &E, err, sizeof(err));
	if (!m) {
		print_error("start %s: %s\n", url, err);
		fail();
	}
	http(AF_INET6, port, "GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(r.body, "bascule_uplink_active{uplink=\"cell\"} 1\n"));
	http_free(&r);
	http(AF_INET6, port, "PUT", "/metrics", "x", &r);
	assert_int_equal(r.status, 405);
	http_free(&r);
	bsc_metrics_stop(m);
}

static void test_bad_listen(void **state)
{
	static const struct {
		const char *listen, *says;
	} bad[] = {
		{ "nonsense", "no port" },
		{ "1.2.3.4", "no port" },
		{ "127.0.0.1:99999", "1-65535" },
		{ "127.0.0.1:", "1-65535" },
		{ "127.0.0.1:0", "1-65535" },
		{ "127.0.0.1:80x", "1-65535" },
		{ "127.0.0.1:-1", "1-65535" },
		{ "127.0.0.1: 80", "1-65535" },
		{ ":9901", "IPV4:PORT" },
		{ "300.1.1.1:9901", "not an IPv4 address" },
		{ "localhost:9901", "not an IPv4 address" },
		{ "::1:9901", "brackets" },
		{ "[::1]", "IPV4:PORT" },
		{ "[::1]9901", "IPV4:PORT" },
		{ "[1.2.3.4]:9901", "not an IPv6 address" },
		{ "[::1]:70000", "1-65535" },
		{ "", "empty" },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 0, sizeof(err));
		if (bsc_metrics_start(bad[i].listen, &E.m, view_cb, &E, err, sizeof(err))) {
			print_error("'%s' was accepted\n", bad[i].listen);
			fail();
		}
		if (!strstr(err, bad[i].says) || (bad[i].listen[0] && !strstr(err, bad[i].listen))) {
			print_error("'%s': message '%s' should say '%s' and quote the address\n",
				    bad[i].listen, err, bad[i].says);
			fail();
		}
	}
	memset(err, 0, sizeof(err));
	assert_null(bsc_metrics_start(NULL, &E.m, view_cb, &E, err, sizeof(err)));
	assert_true(err[0] != '\0');
}

/* Start, scrape, stop, again and again on the same port: no fd left behind
 * (and, under valgrind, no memory). */
static void test_start_stop_repeatedly(void **state)
{
	char err[256] = "", url[64];
	uint16_t port = free_port(AF_INET);
	int fds, i;

	(void)state;
	assert_true(port > 0);
	snprintf(url, sizeof(url), "127.0.0.1:%u", port);
	fds = count_fds();
	for (i = 0; i < 20; i++) {
		struct bsc_metrics *m = bsc_metrics_start(url, &E.m, view_cb, &E, err, sizeof(err));
		struct http_resp r;

		if (!m) {
			print_error("round %d: start %s: %s\n", i, url, err);
			fail();
		}
		if (i % 2 == 0) { /* every other round stops with no request served */
			http(AF_INET, port, "GET", "/metrics", NULL, &r);
			assert_int_equal(r.status, 200);
			http_free(&r);
		}
		bsc_metrics_stop(m);
	}
	bsc_metrics_stop(NULL);
	assert_int_equal(count_fds(), fds);
}

int main(void)
{
	T_ADD(test_render_values);
	T_ADD(test_render_every_reason);
	T_ADD(test_render_state_sets);
	T_ADD(test_render_structure);
	T_ADD(test_render_classes);
	T_ADD(test_render_promtool);
	T_ADD(test_render_flows_from_the_last_pass);
	T_ADD(test_render_without_view);
	T_ADD(test_http_ipv4);
	T_ADD(test_http_ipv6);
	T_ADD(test_bad_listen);
	T_ADD(test_start_stop_repeatedly);
	return t_run("metrics", group_setup, group_teardown);
}
