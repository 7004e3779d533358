// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench.c - the driver of `make bench` (scripts/bench.sh calls it; each
 * subcommand runs in the namespace the script chooses):
 *
 *   gen [-f FIRST] [-p CNTPIN] IFNAME DMAC NFLOWS SECONDS [NHOT HOT_OF_128]
 *                                     live-frames generator out of IFNAME
 *                                     (SECONDS 0: until SIGTERM/SIGINT), its
 *                                     counter pinned at CNTPIN
 *   sink-attach IFNAME DIR            counting sink on IFNAME; link and
 *                                     map pinned in DIR (rm -r DIR detaches)
 *   limit-attach IFNAME OUTIF SMAC DMAC DIR
 *                                     the bare MAC-swap + devmap redirect
 *   limit-load OUTIF SMAC DMAC DIR [FLOWSPIN]
 *                                     the same and the lookup limit, loaded
 *                                     but not attached: DIR/prog, DIR/lookup,
 *                                     its table DIR/flows sized as FLOWSPIN
 *   lookup-fill DIR FIRST N           the generator's flows FIRST.. into it
 *   lookup-misses DIR                 packets it did not find there
 *   link-save LINKPIN PROGPIN         pin the program of a pinned XDP link
 *   link-prog LINKPIN PROGPIN         swap a pinned program into that link
 *   rate [-g CNTPIN] DIR SECONDS [PIN]
 *                                     pps at a sink over SECONDS, offered by
 *                                     the generator (CNTPIN), busy % of each
 *                                     CPU, Bascule's new flows (PIN) and
 *                                     conntrack entries (this netns) created
 *   flip PIN FROM TO SINKDIR          move a running flow from uplink FROM to
 *                                     TO: time from the map write to the first
 *                                     packet at SINKDIR's sink (TO's far side)
 *   nsloop BASCULE_OBJ LANIF WANIF NFLOWS [REPEAT]
 *                                     ns per packet of bascule_lan and
 *                                     bascule_wan, the limit and the lookup
 *                                     limit over a large repeat
 *                                     (drive.bpf.c), NFLOWS flows
 *   gcsweep N                         the controller's flow sweep over N
 *                                     flows: nothing expired, all expired
 *   nsperpkt BASCULE_OBJ LANIF WANIF N
 *                                     ns per packet of bascule_lan (hit and
 *                                     miss) with BPF_PROG_TEST_RUN
 *
 * Output is key=value lines that the script parses.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bascule.h"
#include "bench.h"
#include "dataplane/flows.h"

#define PKT_LEN 60 /* a 64-byte frame on the wire, FCS excluded */
/* flows and rev of the bench's daemon (flow_table_size, scripts/bench.sh),
 * of its private copies (nsperpkt, nsloop) and of gcsweep's tables */
#define BENCH_TABLE 2097152

static char objdir[PATH_MAX];
static volatile sig_atomic_t stop;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned ifidx(const char *name)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		die("no interface %s here", name);
	return i;
}

static void ifmac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr))
		die("cannot read the MAC of %s", name);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static void parse_mac(const char *s, uint8_t mac[6])
{
	struct ether_addr *e = ether_aton(s);

	if (!e)
		die("bad MAC %s", s);
	memcpy(mac, e->ether_addr_octet, 6);
}

static struct bpf_object *open_obj(const char *file)
{
	char path[PATH_MAX + 64];
	struct bpf_object *o;

	snprintf(path, sizeof(path), "%s/%s", objdir, file);
	o = bpf_object__open_file(path, NULL);
	if (!o)
		die("cannot open %s", path);
	return o;
}

static int map_fd(struct bpf_object *o, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o, name);

	if (!m)
		die("no map %s", name);
	return bpf_map__fd(m);
}

static struct bpf_program *prog_of(struct bpf_object *o, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o, name);

	if (!p)
		die("no program %s", name);
	return p;
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0)
		die("cannot count CPUs");
	return n;
}

/* The per-CPU values of slot 0 of a per-CPU array (v: ncpus() of them). */
static void percpu_fd_read(int fd, void *v)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, v))
		die("cannot read a per-CPU counter: %s", strerror(errno));
}

static void percpu_read(const char *path, void *v)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		die("cannot open %s", path);
	percpu_fd_read(fd, v);
	close(fd);
}

/* Packets the lookup limit (limit_miss) dropped, not finding their flow. */
static uint64_t lookup_misses(int fd)
{
	int n = ncpus(), i;
	uint64_t v[n], s = 0;

	percpu_fd_read(fd, v);
	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Frames the generator whose counter is pinned at path has offered. */
static uint64_t gen_sent(const char *path)
{
	int n = ncpus(), i;
	struct gen_cnt v[n];
	uint64_t s = 0;

	percpu_read(path, v);
	for (i = 0; i < n; i++)
		s += v[i].sent;
	return s;
}

/* ------------------------------------------------------------ generator */

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

/* gen [-f FIRST] [-p CNTPIN] IFNAME DMAC NFLOWS SECONDS [NHOT HOT_OF_128]:
 * flows FIRST..FIRST+NFLOWS-1 (default 0); CNTPIN: its counter map pinned
 * there while it runs (`rate -g CNTPIN`: the offered rate). */
static int cmd_gen(int argc, char **argv)
{
	uint8_t pkt[PKT_LEN] = { 0 };
	struct bpf_object *o;
	struct gen_cfg c = { 0 };
	struct xdp_md ctx = { 0 };
	uint64_t sent = 0, t0, t1, deadline;
	uint32_t zero = 0;
	const char *cntpin = NULL;
	double secs;
	int fd, err;

	for (; argc >= 2 && argv[0][0] == '-'; argc -= 2, argv += 2) {
		if (!strcmp(argv[0], "-f"))
			c.first = (uint32_t)strtoul(argv[1], NULL, 0);
		else if (!strcmp(argv[0], "-p"))
			cntpin = argv[1];
		else
			die("gen: unknown option %s", argv[0]);
	}
	if (argc != 4 && argc != 6)
		die("gen [-f FIRST] [-p CNTPIN] IFNAME DMAC NFLOWS SECONDS [NHOT HOT_OF_128]");
	ctx.ingress_ifindex = ifidx(argv[0]);
	ctx.data_end = PKT_LEN;
	parse_mac(argv[1], pkt);
	ifmac(argv[0], pkt + 6);
	pkt[12] = 0x08;
	pkt[13] = 0x00;
	/* IPv4 10.77.0.10 -> 203.0.113.11, UDP; the program fills the rest. */
	pkt[14] = 0x45;
	pkt[16] = 0;
	pkt[17] = PKT_LEN - 14;
	pkt[22] = 64;
	pkt[23] = 17;
	{
		uint32_t d = htonl(BENCH_DADDR);

		memcpy(pkt + 30, &d, 4);
	}
	pkt[38] = 0;
	pkt[39] = PKT_LEN - 34;
	c.nflows = (uint32_t)strtoul(argv[2], NULL, 0);
	c.saddr0 = BENCH_SADDR0;
	c.sport0 = BENCH_SPORT0;
	c.dport0 = BENCH_DPORT0;
	if (!c.nflows || c.first >= BENCH_MAX_FLOWS || c.nflows > BENCH_MAX_FLOWS - c.first)
		die("FIRST + NFLOWS must be 1..%u", BENCH_MAX_FLOWS);
	if (argc == 6) {
		unsigned long nhot = strtoul(argv[4], NULL, 0), hot = strtoul(argv[5], NULL, 0);

		if (!nhot || nhot > c.nflows || nhot > BENCH_GROUP || hot > 128)
			die("NHOT must be 1..min(NFLOWS, %u), HOT_OF_128 0..128", BENCH_GROUP);
		c.nhot = (uint16_t)nhot;
		c.hot_of_128 = (uint16_t)hot;
	}
	secs = atof(argv[3]);
	memcpy(c.hdr, pkt, 42);

	o = open_obj("gen.bpf.o");
	if (bpf_object__load(o))
		die("cannot load gen.bpf.o");
	if (bpf_map_update_elem(map_fd(o, "gen_conf"), &zero, &c, BPF_ANY))
		die("gen_conf: %s", strerror(errno));
	fd = bpf_program__fd(prog_of(o, "bench_gen"));
	if (cntpin) {
		unlink(cntpin); /* a killed generator's */
		if (bpf_map__pin(bpf_object__find_map_by_name(o, "gen_ctr"), cntpin))
			die("cannot pin %s", cntpin);
	}

	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	t0 = now_ns();
	deadline = secs > 0 ? t0 + (uint64_t)(secs * 1e9) : UINT64_MAX;
	while (!stop && now_ns() < deadline) {
		LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = pkt, .data_size_in = PKT_LEN,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .repeat = 1 << 18, .batch_size = 256,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		err = bpf_prog_test_run_opts(fd, &ro);
		if (err && errno != EINTR)
			die("test_run live: %s", strerror(errno));
		if (!err)
			sent += ro.repeat;
	}
	t1 = now_ns();
	printf("gen_pkts=%llu gen_secs=%.3f gen_pps=%.0f\n", (unsigned long long)sent,
	       (t1 - t0) / 1e9, sent / ((t1 - t0) / 1e9));
	if (cntpin)
		unlink(cntpin);
	bpf_object__close(o);
	return 0;
}

/* ------------------------------------------------------------ bindings */

/* Bind the generator's flows first..first+n-1 (bench.h) as bascule_lan
 * does on uplink 0 (BENCH_NAT, the LAN port kept), at tick `tick`: into
 * flows_fd, and their reverse entries into rev_fd unless it is negative. */
static void bind_flows(int flows_fd, int rev_fd, uint32_t first, uint32_t n, uint32_t tick)
{
	const uint32_t chunk = 65536;
	struct bsc_flow_key *fk = calloc(chunk, sizeof(*fk));
	struct bsc_rev_key *rk = calloc(chunk, sizeof(*rk));
	struct bsc_flow *fv = calloc(chunk, sizeof(*fv));
	struct bsc_rev *rv = calloc(chunk, sizeof(*rv));
	uint32_t done, i, c, k;

	if (!fk || !rk || !fv || !rv)
		die("out of memory");
	for (done = 0; done < n; done += c) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		c = n - done < chunk ? n - done : chunk;
		for (i = 0; i < c; i++) {
			uint32_t f = first + done + i, g = f / BENCH_GROUP, r = f % BENCH_GROUP;

			memset(&fk[i], 0, sizeof(fk[i]));
			memset(&rk[i], 0, sizeof(rk[i]));
			memset(&fv[i], 0, sizeof(fv[i]));
			memset(&rv[i], 0, sizeof(rv[i]));
			fk[i].saddr = htonl(BENCH_SADDR0 + g);
			fk[i].daddr = htonl(BENCH_DADDR);
			fk[i].sport = htons((uint16_t)(BENCH_SPORT0 + r));
			fk[i].dport = htons((uint16_t)(BENCH_DPORT0 + g));
			fk[i].proto = IPPROTO_UDP;
			fv[i].nat_addr = htonl(BENCH_NAT);
			fv[i].nat_port = fk[i].sport;
			fv[i].created = fv[i].last = tick;
			rk[i].raddr = fk[i].daddr;
			rk[i].rport = fk[i].dport;
			rk[i].nat_port = fv[i].nat_port;
			rk[i].proto = IPPROTO_UDP;
			rv[i].lan_addr = fk[i].saddr;
			rv[i].lan_port = fk[i].sport;
			rv[i].checked = fv[i].last;
		}
		k = c;
		if (bpf_map_update_batch(flows_fd, fk, fv, &k, &bo))
			die("filling the flow table: %s", strerror(errno));
		k = c;
		if (rev_fd >= 0 && bpf_map_update_batch(rev_fd, rk, rv, &k, &bo))
			die("filling the reverse table: %s", strerror(errno));
	}
	free(fk);
	free(rk);
	free(fv);
	free(rv);
}

/* ------------------------------------------------------------ sink, limit */

static void attach_pin(struct bpf_object *o, const char *prog, const char *ifname,
		       const char *dir)
{
	char path[PATH_MAX + 16];
	struct bpf_link *l;

	l = bpf_program__attach_xdp(prog_of(o, prog), (int)ifidx(ifname));
	if (!l)
		die("cannot attach %s to %s: %s", prog, ifname, strerror(errno));
	snprintf(path, sizeof(path), "%s/link", dir);
	if (bpf_link__pin(l, path))
		die("cannot pin %s", path);
}

static int cmd_sink_attach(int argc, char **argv)
{
	char path[PATH_MAX + 16];
	struct bpf_object *o;

	if (argc != 2)
		die("sink-attach IFNAME DIR");
	o = open_obj("sink.bpf.o");
	if (bpf_object__load(o))
		die("cannot load sink.bpf.o");
	snprintf(path, sizeof(path), "%s/cnt", argv[1]);
	if (bpf_map__pin(bpf_object__find_map_by_name(o, "sink_cnt"), path))
		die("cannot pin %s", path);
	attach_pin(o, "bench_sink", argv[0], argv[1]);
	return 0;
}

/* What the lookup limit's table copies of Bascule's `flows` (its key and
 * value are bascule.h's, as the data plane's). */
struct table_shape {
	uint32_t type, flags, entries; /* entries 0: the object's small default */
};

/* The shape of Bascule's `flows` map in a loaded data-plane object. */
static struct table_shape shape_of(struct bpf_object *o)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o, "flows");

	if (!m)
		die("no map flows");
	return (struct table_shape){ bpf_map__type(m), bpf_map__map_flags(m),
				     bpf_map__max_entries(m) };
}

/* bench_limit and bench_limit_lookup loaded and configured: MACs smac and
 * dmac, redirect to ifindex out; the lookup's table shaped as t (type,
 * flags and size of Bascule's `flows`). */
static struct bpf_object *limit_load(uint32_t out, const uint8_t smac[6], const uint8_t dmac[6],
				     struct table_shape t)
{
	struct bpf_object *o = open_obj("limit.bpf.o");
	struct bpf_map *m = bpf_object__find_map_by_name(o, "limit_flows");
	struct limit_cfg c;
	uint32_t zero = 0;

	memcpy(c.smac, smac, 6);
	memcpy(c.dmac, dmac, 6);
	if (t.entries && (bpf_map__set_type(m, t.type) || bpf_map__set_map_flags(m, t.flags) ||
			  bpf_map__set_max_entries(m, t.entries)))
		die("cannot shape limit_flows");
	if (bpf_object__load(o))
		die("cannot load limit.bpf.o");
	if (bpf_map_update_elem(map_fd(o, "limit_conf"), &zero, &c, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(o, "limit_tx"), &zero, &out, BPF_ANY))
		die("limit maps: %s", strerror(errno));
	return o;
}

static struct bpf_object *limit_open(const char *outif, const char *smac, const char *dmac,
				     struct table_shape t)
{
	uint8_t s[6], d[6];

	parse_mac(smac, s);
	parse_mac(dmac, d);
	return limit_load(ifidx(outif), s, d, t);
}

static int cmd_limit_attach(int argc, char **argv)
{
	if (argc != 5)
		die("limit-attach IFNAME OUTIF SMAC DMAC DIR");
	attach_pin(limit_open(argv[1], argv[2], argv[3], (struct table_shape){ 0 }), "bench_limit",
		   argv[0], argv[4]);
	return 0;
}

/* The shape of Bascule's pinned `flows`, whose key and value must be the
 * bascule.h structs the lookup limit was built with. */
static struct table_shape pinned_shape(const char *pin)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		die("cannot read the map %s: %s", pin, strerror(errno));
	if (info.key_size != sizeof(struct bsc_flow_key) || info.value_size != sizeof(struct bsc_flow))
		die("%s is not laid out as struct bsc_flow_key -> struct bsc_flow", pin);
	close(fd);
	return (struct table_shape){ info.type, info.map_flags, info.max_entries };
}

static void pin_or_die(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path))
		die("cannot pin %s: %s", path, strerror(errno));
}

/* The object pinned as DIR/NAME. */
static int pinned(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	return fd;
}

/* limit-load OUTIF SMAC DMAC DIR [FLOWSPIN]: bench_limit and the lookup
 * limit loaded and configured, not attached, pinned as DIR/prog and
 * DIR/lookup (for link-prog), the lookup's table as DIR/flows (empty: see
 * lookup-fill) and its miss counter as DIR/miss.  FLOWSPIN: Bascule's
 * pinned `flows`, whose type, flags and size the lookup's table takes. */
static int cmd_limit_load(int argc, char **argv)
{
	struct bpf_object *o;

	if (argc != 4 && argc != 5)
		die("limit-load OUTIF SMAC DMAC DIR [FLOWSPIN]");
	o = limit_open(argv[0], argv[1], argv[2],
		       argc == 5 ? pinned_shape(argv[4]) : (struct table_shape){ 0 });
	pin_or_die(bpf_program__fd(prog_of(o, "bench_limit")), argv[3], "prog");
	pin_or_die(bpf_program__fd(prog_of(o, "bench_limit_lookup")), argv[3], "lookup");
	pin_or_die(map_fd(o, "limit_flows"), argv[3], "flows");
	pin_or_die(map_fd(o, "limit_miss"), argv[3], "miss");
	return 0;
}

/* lookup-fill DIR FIRST N: the generator's flows FIRST..FIRST+N-1 into the
 * lookup limit's table (limit-load), as Bascule binds them. */
static int cmd_lookup_fill(int argc, char **argv)
{
	if (argc != 3)
		die("lookup-fill DIR FIRST N");
	bind_flows(pinned(argv[0], "flows"), -1, (uint32_t)strtoul(argv[1], NULL, 0), (uint32_t)strtoul(argv[2], NULL, 0),
		   (uint32_t)(now_ns() >> BSC_TICK_SHIFT));
	return 0;
}

/* lookup-misses DIR: packets the lookup limit has not found in its table. */
static int cmd_lookup_misses(int argc, char **argv)
{
	if (argc != 1)
		die("lookup-misses DIR");
	printf("lookup_misses=%llu\n", (unsigned long long)lookup_misses(pinned(argv[0], "miss")));
	return 0;
}

/* link-save LINKPIN PROGPIN: pin the program a pinned XDP link runs. */
static int cmd_link_save(int argc, char **argv)
{
	struct bpf_link_info info = { 0 };
	uint32_t len = sizeof(info);
	int lfd, pfd;

	if (argc != 2)
		die("link-save LINKPIN PROGPIN");
	lfd = bpf_obj_get(argv[0]);
	if (lfd < 0 || bpf_obj_get_info_by_fd(lfd, &info, &len))
		die("cannot read the link %s: %s", argv[0], strerror(errno));
	pfd = bpf_prog_get_fd_by_id(info.prog_id);
	if (pfd < 0 || bpf_obj_pin(pfd, argv[1]))
		die("cannot pin program %u as %s: %s", info.prog_id, argv[1], strerror(errno));
	return 0;
}

/* link-prog LINKPIN PROGPIN: the pinned link runs the pinned program from
 * now on (an atomic swap: no packet sees no program). */
static int cmd_link_prog(int argc, char **argv)
{
	int lfd, pfd;

	if (argc != 2)
		die("link-prog LINKPIN PROGPIN");
	lfd = bpf_obj_get(argv[0]);
	pfd = bpf_obj_get(argv[1]);
	if (lfd < 0 || pfd < 0 || bpf_link_update(lfd, pfd, NULL))
		die("cannot put %s into %s: %s", argv[1], argv[0], strerror(errno));
	return 0;
}

/* Sum of the sink's counters; first_ns: the earliest non-zero. */
static int sink_read(const char *dir, uint64_t *pkts, uint64_t *first)
{
	char path[PATH_MAX + 16];
	int n = ncpus(), i;
	struct sink_cnt v[n];

	snprintf(path, sizeof(path), "%s/cnt", dir);
	percpu_read(path, v);
	*pkts = 0;
	*first = 0;
	for (i = 0; i < n; i++) {
		*pkts += v[i].pkts;
		if (v[i].first_ns && (!*first || v[i].first_ns < *first))
			*first = v[i].first_ns;
	}
	return 0;
}

static void sink_zero(const char *dir)
{
	char path[PATH_MAX + 16];
	int n = ncpus(), fd;
	struct sink_cnt v[n];
	uint32_t zero = 0;

	memset(v, 0, sizeof(v));
	snprintf(path, sizeof(path), "%s/cnt", dir);
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, v, BPF_ANY))
		die("cannot zero %s", path);
	close(fd);
}

/* Bascule's per-uplink counters summed over uplinks and CPUs. */
static void bsc_stats(const char *pin, uint64_t *new_flows, uint64_t *tx)
{
	char path[PATH_MAX + 32];
	int n = ncpus(), i, fd;
	struct bsc_uplink_stats v[n];
	uint32_t k;

	*new_flows = *tx = 0;
	snprintf(path, sizeof(path), "%s/uplink_stats", pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("cannot open %s", path);
	for (k = 0; k < BSC_MAX_UPLINKS; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (i = 0; i < n; i++) {
			*new_flows += v[i].new_flows;
			*tx += v[i].tx_packets;
		}
	}
	close(fd);
}

static long long ct_count(void)
{
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "r");
	long long v = -1;

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

#define MAXCPU 64
static int cpu_times(unsigned long long busy[MAXCPU], unsigned long long total[MAXCPU])
{
	FILE *f = fopen("/proc/stat", "r");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[10] = { 0 }, t = 0;
		int cpu, j;

		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 8 || cpu >= MAXCPU)
			continue;
		for (j = 0; j < 8; j++)
			t += v[j];
		total[cpu] = t;
		busy[cpu] = t - v[3] - v[4];
		if (cpu + 1 > n)
			n = cpu + 1;
	}
	fclose(f);
	return n;
}

/* rate [-g CNTPIN] DIR SECONDS [PIN]: CNTPIN, the generator's counter
 * (gen -p): its offered rate over the same interval. */
static int cmd_rate(int argc, char **argv)
{
	unsigned long long b0[MAXCPU], t0c[MAXCPU], b1[MAXCPU], t1c[MAXCPU];
	uint64_t p0, p1, f, nf0 = 0, nf1 = 0, tx0 = 0, tx1 = 0, g0 = 0, g1 = 0, t0, t1;
	const char *cntpin = NULL;
	long long ct0, ct1;
	double secs, dt;
	int n, i;

	if (argc >= 2 && !strcmp(argv[0], "-g")) {
		cntpin = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		die("rate [-g CNTPIN] DIR SECONDS [PIN]");
	secs = atof(argv[1]);
	if (argc > 2)
		bsc_stats(argv[2], &nf0, &tx0);
	ct0 = ct_count();
	if (cntpin)
		g0 = gen_sent(cntpin);
	sink_read(argv[0], &p0, &f);
	t0 = now_ns();
	cpu_times(b0, t0c);
	usleep((useconds_t)(secs * 1e6));
	sink_read(argv[0], &p1, &f);
	t1 = now_ns();
	if (cntpin)
		g1 = gen_sent(cntpin);
	n = cpu_times(b1, t1c);
	ct1 = ct_count();
	if (argc > 2)
		bsc_stats(argv[2], &nf1, &tx1);
	dt = (t1 - t0) / 1e9;
	printf("pps=%.0f pkts=%llu secs=%.3f", (p1 - p0) / dt, (unsigned long long)(p1 - p0), dt);
	if (cntpin)
		printf(" offered_pps=%.0f", (g1 - g0) / dt);
	for (i = 0; i < n; i++)
		printf(" cpu%d=%.0f", i,
		       t1c[i] > t0c[i] ? 100.0 * (b1[i] - b0[i]) / (t1c[i] - t0c[i]) : 0.0);
	if (argc > 2)
		printf(" new_flows_per_s=%.0f bsc_tx_pps=%.0f", (nf1 - nf0) / dt, (tx1 - tx0) / dt);
	if (ct0 >= 0)
		printf(" conntrack=%lld conntrack_new_per_s=%.0f", ct1, (ct1 - ct0) / dt);
	printf("\n");
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	uint64_t nf, tx;

	if (argc != 1)
		die("stats PIN");
	bsc_stats(argv[0], &nf, &tx);
	printf("new_flows=%llu tx_packets=%llu\n", (unsigned long long)nf, (unsigned long long)tx);
	return 0;
}

/* ------------------------------------------------------------ flip */

static int cmd_flip(int argc, char **argv)
{
	char path[PATH_MAX + 32];
	struct bsc_policy pol;
	struct bsc_uplink from_up, to_up;
	uint32_t zero = 0, from, to;
	uint64_t pk, first = 0, t0, tw, limit;
	int fu, fp;

	if (argc != 4)
		die("flip PIN FROM TO SINKDIR (uplink indexes)");
	from = (uint32_t)atoi(argv[1]);
	to = (uint32_t)atoi(argv[2]);
	snprintf(path, sizeof(path), "%s/uplinks", argv[0]);
	fu = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/policy", argv[0]);
	fp = bpf_obj_get(path);
	if (fu < 0 || fp < 0)
		die("cannot open the uplinks/policy maps under %s", argv[0]);
	if (bpf_map_lookup_elem(fu, &from, &from_up) || bpf_map_lookup_elem(fu, &to, &to_up) ||
	    bpf_map_lookup_elem(fp, &zero, &pol))
		die("cannot read uplinks/policy");
	/* The target in service (untimed).  Then what `bascule uplink down`
	 * and the controller do on a failure, timed from just before the first
	 * write: new flows to the target, then the failed uplink marked down
	 * (state and the operator's admin word, which the daemon keeps when it
	 * re-evaluates; a bare state write would be undone on its next tick). */
	to_up.state = BSC_UPLINK_UP;
	to_up.admin = BSC_ADMIN_AUTO;
	if (bpf_map_update_elem(fu, &to, &to_up, BPF_ANY))
		die("uplinks write: %s", strerror(errno));
	usleep(50000);
	sink_zero(argv[3]);
	if (bpf_map_lookup_elem(fu, &from, &from_up) || bpf_map_lookup_elem(fp, &zero, &pol))
		die("cannot read uplinks/policy");
	pol.active = to;
	from_up.state = BSC_UPLINK_DOWN;
	from_up.admin = BSC_ADMIN_DOWN;
	t0 = now_ns();
	if (bpf_map_update_elem(fp, &zero, &pol, BPF_ANY) ||
	    bpf_map_update_elem(fu, &from, &from_up, BPF_ANY))
		die("policy/uplinks write: %s", strerror(errno));
	tw = now_ns();
	limit = t0 + 2000000000ull;
	while (now_ns() < limit) {
		sink_read(argv[3], &pk, &first);
		if (first)
			break;
	}
	if (!first)
		die("no packet at the sink %s within 2 s of the flip", argv[3]);
	printf("flip_to_effect_us=%.1f write_us=%.1f\n", ((double)first - (double)t0) / 1e3,
	       (tw - t0) / 1e3);
	return 0;
}

/* ------------------------------------------------------------ ns per packet */

static size_t build_udp(uint8_t *p, const uint8_t smac[6], const uint8_t dmac[6], uint32_t saddr,
			uint32_t daddr, uint16_t sport, uint16_t dport)
{
	uint32_t sum = 0;
	uint16_t w;
	int k;

	memset(p, 0, PKT_LEN);
	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	p[12] = 0x08;
	p[14] = 0x45;
	p[17] = PKT_LEN - 14;
	p[22] = 64;
	p[23] = 17;
	memcpy(p + 26, &saddr, 4);
	memcpy(p + 30, &daddr, 4);
	for (k = 0; k < 10; k++) {
		memcpy(&w, p + 14 + 2 * k, 2);
		sum += w;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	w = (uint16_t)~sum;
	memcpy(p + 24, &w, 2);
	w = htons(sport);
	memcpy(p + 34, &w, 2);
	w = htons(dport);
	memcpy(p + 36, &w, 2);
	p[39] = PKT_LEN - 34;
	return PKT_LEN;
}

/* The generator's flow i (bench.h), from smac to dmac. */
static void flow_udp(uint8_t *p, const uint8_t smac[6], const uint8_t dmac[6], uint32_t i)
{
	uint32_t g = i / BENCH_GROUP;

	build_udp(p, smac, dmac, htonl(BENCH_SADDR0 + g), htonl(BENCH_DADDR),
		  (uint16_t)(BENCH_SPORT0 + i % BENCH_GROUP), (uint16_t)(BENCH_DPORT0 + g));
}

static int run1(int fd, const uint8_t *pkt, uint32_t repeat, uint32_t *ret, uint32_t *dur)
{
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = PKT_LEN,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("test_run: %s", strerror(errno));
	*ret = o.retval;
	*dur = o.duration;
	return 0;
}

static int cmpu32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A private copy of the data plane (nothing pinned), configured as the
 * bench's daemon runs it: LAN lanif, one uplink "fiber" on wanif, active,
 * flows/rev of nentries, no per-host budget. */
static struct bpf_object *bsc_private(const char *obj, unsigned lanif, unsigned wanif,
				      const uint8_t lan_mac[6], const uint8_t wan_mac[6],
				      uint32_t nentries)
{
	uint8_t gw_mac[6] = { 2, 0, 0, 0, 2, 0 };
	uint32_t zero = 0, slot = BSC_LAN_SLOT;
	struct bsc_config cfg = { 0 };
	struct bsc_uplink up = { 0 };
	struct bsc_policy pol = { .active = 0, .preferred = BSC_NO_UPLINK };
	struct bpf_object *o;
	struct bpf_map *m;

	o = bpf_object__open_file(obj, NULL);
	if (!o)
		die("cannot open %s", obj);
	bpf_object__for_each_map(m, o)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(bpf_object__find_map_by_name(o, "flows"), nentries);
	/* as the daemon sizes them (user/dataplane/dataplane.c) */
	bpf_map__set_max_entries(bpf_object__find_map_by_name(o, "rev"), nentries + nentries / 16);
	if (bpf_object__load(o))
		die("cannot load %s", obj);

	cfg.lan_ifindex = lanif;
	cfg.lan_addr = inet_addr("10.77.0.1");
	cfg.lan_net = inet_addr("10.77.0.0");
	cfg.lan_mask = inet_addr("255.255.255.0");
	memcpy(cfg.lan_mac, lan_mac, 6);
	cfg.host_flow_rate = 0; /* as the bench's daemon: no per-host budget */
	snprintf(up.name, sizeof(up.name), "fiber");
	up.ifindex = wanif;
	up.addr = inet_addr("192.0.2.2");
	up.gateway = inet_addr("192.0.2.1");
	up.state = BSC_UPLINK_UP;
	memcpy(up.mac, wan_mac, 6);
	memcpy(up.gw_mac, gw_mac, 6);
	up.priority = 10;
	if (bpf_map_update_elem(map_fd(o, "config"), &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(o, "uplinks"), &zero, &up, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(o, "tx_ports"), &zero, &wanif, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(o, "tx_ports"), &slot, &lanif, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(o, "policy"), &zero, &pol, BPF_ANY))
		die("bascule maps: %s", strerror(errno));
	return o;
}

static int cmd_nsperpkt(int argc, char **argv)
{
	uint8_t host_mac[6], lan_mac[6], wan_mac[6];
	uint8_t pkt[PKT_LEN];
	uint32_t lanif, wanif, i, n, ret;
	uint32_t *miss, *hit1, *nop1;
	struct bpf_object *o, *lo;
	double sum_miss = 0, sum_hit1 = 0, sum_nop1 = 0, sum_hot = 0;
	uint32_t nop_big, dur;
	int lan_fd, nop_fd;
	uint64_t t0, t1;

	if (argc != 4)
		die("nsperpkt BASCULE_OBJ LANIF WANIF N");
	n = (uint32_t)strtoul(argv[3], NULL, 0);
	lanif = ifidx(argv[1]);
	wanif = ifidx(argv[2]);
	ifmac(argv[1], lan_mac);
	ifmac(argv[2], wan_mac);
	parse_mac("02:00:00:00:00:10", host_mac);

	o = bsc_private(argv[0], lanif, wanif, lan_mac, wan_mac, BENCH_TABLE);
	lan_fd = bpf_program__fd(prog_of(o, "bascule_lan"));

	lo = open_obj("limit.bpf.o");
	if (bpf_object__load(lo))
		die("cannot load limit.bpf.o");
	nop_fd = bpf_program__fd(prog_of(lo, "bench_nop"));

	miss = calloc(n, sizeof(*miss));
	hit1 = calloc(n, sizeof(*hit1));
	nop1 = calloc(n, sizeof(*nop1));
	if (!miss || !hit1 || !nop1)
		die("out of memory");

	/* Miss: n distinct new flows, one run each (repeat = 1, so the
	 * kernel's duration is that one run plus the timer's own overhead,
	 * which bench_nop measured the same way gives). */
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		flow_udp(pkt, host_mac, lan_mac, i);
		run1(lan_fd, pkt, 1, &ret, &miss[i]);
		if (ret != XDP_REDIRECT)
			die("bascule_lan returned %u on new flow %u", ret, i);
	}
	t1 = now_ns();
	/* Hit: the same packets again (bindings exist now), one run each. */
	for (i = 0; i < n; i++) {
		flow_udp(pkt, host_mac, lan_mac, i);
		run1(lan_fd, pkt, 1, &ret, &hit1[i]);
		run1(nop_fd, pkt, 1, &ret, &nop1[i]);
	}
	for (i = 0; i < n; i++) {
		sum_miss += miss[i];
		sum_hit1 += hit1[i];
		sum_nop1 += nop1[i];
	}
	/* Hit on one hot flow: the same packet, one run per call (a large
	 * repeat cannot be used on bascule_lan: repeats run on the packet the
	 * previous run rewrote, which is a new flow, then TTL-expired). */
	flow_udp(pkt, host_mac, lan_mac, 0);
	for (i = 0; i < n; i++) {
		run1(lan_fd, pkt, 1, &ret, &dur);
		if (ret != XDP_REDIRECT)
			die("bascule_lan returned %u on a hit", ret);
		sum_hot += dur;
	}
	/* The empty program with a large repeat: the timer's per-call share. */
	run1(nop_fd, pkt, 10000000, &ret, &nop_big);
	qsort(miss, n, sizeof(*miss), cmpu32);
	qsort(nop1, n, sizeof(*nop1), cmpu32);
	printf("hit_net_ns=%.1f miss_net_ns=%.1f hot_net_ns=%.1f hit1_ns=%.1f miss1_ns=%.1f "
	       "hot1_ns=%.1f nop1_ns=%.1f nop_repeat_ns=%u miss_p50_ns=%u miss_p99_ns=%u n=%u "
	       "miss_wall_per_pkt_ns=%.0f\n",
	       sum_hit1 / n - sum_nop1 / n, sum_miss / n - sum_nop1 / n, sum_hot / n - sum_nop1 / n,
	       sum_hit1 / n, sum_miss / n, sum_hot / n, sum_nop1 / n, nop_big, miss[n / 2],
	       miss[(uint64_t)n * 99 / 100], n, (double)(t1 - t0) / n);
	return 0;
}

/* ------------------------------------------------------------ ns per packet, loop */

/* The driver's config (drive.bpf.c). */
struct drive_cfg {
	struct gen_cfg g;
	uint32_t dir;
	uint32_t daddr;
};

struct loop {
	int drive_fd, jmp_fd, ctr_fd, conf_fd;
	uint32_t ifindex; /* ingress_ifindex of the runs */
	struct drive_cfg c;
};

/* ns per repetition of bench_drive + slot 0 (target), over `repeat`
 * repetitions from flow 0; want: the verdict the last one must give. */
static double loop_run(struct loop *l, int target, uint32_t dir, uint32_t repeat, uint32_t want)
{
	uint8_t pkt[PKT_LEN], out[PKT_LEN];
	struct xdp_md ctx = { .data_end = PKT_LEN, .ingress_ifindex = l->ifindex };
	int n = ncpus();
	uint32_t zero = 0, ctr[n];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = PKT_LEN,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);

	memcpy(pkt, l->c.g.hdr, sizeof(l->c.g.hdr));
	memset(pkt + sizeof(l->c.g.hdr), 0, PKT_LEN - sizeof(l->c.g.hdr));
	l->c.dir = dir;
	memset(ctr, 0, sizeof(ctr));
	if (bpf_map_update_elem(l->conf_fd, &zero, &l->c, BPF_ANY) ||
	    bpf_map_update_elem(l->ctr_fd, &zero, ctr, BPF_ANY) ||
	    bpf_map_update_elem(l->jmp_fd, &zero, &target, BPF_ANY))
		die("drive maps: %s", strerror(errno));
	if (bpf_prog_test_run_opts(l->drive_fd, &o))
		die("test_run: %s", strerror(errno));
	if (o.retval != want)
		die("the driven program returned %u, not %u (dir %u)", o.retval, want, dir);
	return o.duration;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* median of three runs */
static double loop_med(struct loop *l, int target, uint32_t dir, uint32_t repeat, uint32_t want)
{
	double v[3];
	int i;

	for (i = 0; i < 3; i++)
		v[i] = loop_run(l, target, dir, repeat, want);
	qsort(v, 3, sizeof(v[0]), cmpd);
	return v[1];
}

/* NCLASSES traffic classes in a private copy's maps: a rule each, none of
 * which the bench's flows match (a destination they never have), so that a
 * new flow walks every rule before it falls in the default class: the
 * classifier's worst case.  Established flows are never classified. */
static void classes_install(struct bpf_object *o, uint32_t nclasses)
{
	uint32_t zero = 0, i;
	struct bsc_config cfg;

	if (nclasses >= BSC_MAX_CLASSES || nclasses > BSC_MAX_CLASS_RULES)
		die("at most %d classes", BSC_MAX_CLASSES - 1);
	for (i = 0; i < nclasses; i++) {
		struct bsc_class_rule r = {
			.dst = htonl(0xc6120000u + i), .dst_mask = 0xffffffffu, .proto = IPPROTO_UDP,
			.dscp = BSC_DSCP_ANY, .sport_hi = 0xffff, .dport_lo = 1, .dport_hi = 0xffff,
			.cls = (uint8_t)(1 + i),
		};
		struct bsc_policy pol = { .active = 0, .preferred = BSC_NO_UPLINK };
		uint32_t c = 1 + i;

		if (bpf_map_update_elem(map_fd(o, "class_rules"), &i, &r, BPF_ANY) ||
		    bpf_map_update_elem(map_fd(o, "policy"), &c, &pol, BPF_ANY))
			die("class %u: %s", i, strerror(errno));
	}
	if (bpf_map_lookup_elem(map_fd(o, "config"), &zero, &cfg))
		die("config: %s", strerror(errno));
	cfg.n_class_rules = (uint16_t)nclasses;
	cfg.n_classes = 1 + nclasses;
	if (bpf_map_update_elem(map_fd(o, "config"), &zero, &cfg, BPF_ANY))
		die("config: %s", strerror(errno));
}

/* nsloop BASCULE_OBJ LANIF WANIF NFLOWS [REPEAT [NCLASSES]]: bascule_lan and
 * bascule_wan timed over a large repeat (drive.bpf.c), net of the driver.
 * miss: NFLOWS new flows from an empty table (one pass); hit: REPEAT
 * packets cycling over the NFLOWS bindings; wan: as many replies.  The
 * bare limit and the lookup limit (its table holding the NFLOWS flows) on
 * the LAN packets, for the per-packet ratios.  With NCLASSES, that many
 * classes none of the flows fall in (classes_install). */
static int cmd_nsloop(int argc, char **argv)
{
	uint8_t host_mac[6], lan_mac[6], wan_mac[6], pkt[PKT_LEN];
	const uint8_t gw_mac[6] = { 2, 0, 0, 0, 2, 0 };
	struct bpf_object *o, *d, *lo;
	uint32_t lanif, wanif, nflows, repeat, nclasses;
	double base0, base1, miss = 0, hit, wan, lim, look;
	int lan_fd, wan_fd, nop_fd, lim_fd, look_fd, miss_fd;
	struct loop l = { 0 };

	if (argc < 4 || argc > 6)
		die("nsloop BASCULE_OBJ LANIF WANIF NFLOWS [REPEAT [NCLASSES]]");
	lanif = ifidx(argv[1]);
	wanif = ifidx(argv[2]);
	nflows = (uint32_t)strtoul(argv[3], NULL, 0);
	repeat = argc >= 5 ? (uint32_t)strtoul(argv[4], NULL, 0) : 10000000;
	nclasses = argc == 6 ? (uint32_t)strtoul(argv[5], NULL, 0) : 0;
	if (!nflows || nflows > BENCH_MAX_FLOWS || repeat < nflows)
		die("NFLOWS must be 1..%u and REPEAT at least NFLOWS", BENCH_MAX_FLOWS);
	ifmac(argv[1], lan_mac);
	ifmac(argv[2], wan_mac);
	parse_mac("02:00:00:00:00:10", host_mac);

	o = bsc_private(argv[0], lanif, wanif, lan_mac, wan_mac, BENCH_TABLE);
	if (nclasses)
		classes_install(o, nclasses);
	lan_fd = bpf_program__fd(prog_of(o, "bascule_lan"));
	wan_fd = bpf_program__fd(prog_of(o, "bascule_wan"));
	d = open_obj("drive.bpf.o");
	if (bpf_object__load(d))
		die("cannot load drive.bpf.o");
	/* the limits, the lookup's table shaped as flows and holding the
	 * same flows (as the live rounds have it) */
	lo = limit_load(wanif, wan_mac, gw_mac, shape_of(o));
	bind_flows(map_fd(lo, "limit_flows"), -1, 0, nflows, (uint32_t)(now_ns() >> BSC_TICK_SHIFT));
	nop_fd = bpf_program__fd(prog_of(lo, "bench_nop"));
	lim_fd = bpf_program__fd(prog_of(lo, "bench_limit"));
	look_fd = bpf_program__fd(prog_of(lo, "bench_limit_lookup"));
	miss_fd = map_fd(lo, "limit_miss");
	l.drive_fd = bpf_program__fd(prog_of(d, "bench_drive"));
	l.jmp_fd = map_fd(d, "drive_jmp");
	l.ctr_fd = map_fd(d, "drive_ctr");
	l.conf_fd = map_fd(d, "drive_conf");

	flow_udp(pkt, host_mac, lan_mac, 0);
	memcpy(l.c.g.hdr, pkt, 42);
	l.c.g.nflows = nflows;
	l.c.g.saddr0 = BENCH_SADDR0;
	l.c.g.sport0 = BENCH_SPORT0;
	l.c.g.dport0 = BENCH_DPORT0;
	l.c.daddr = inet_addr("192.0.2.2"); /* the uplink's, bsc_private() */

	l.ifindex = lanif;
	base0 = loop_med(&l, nop_fd, 0, repeat, XDP_PASS);
	lim = loop_med(&l, lim_fd, 0, repeat, XDP_REDIRECT) - base0;
	look = loop_med(&l, look_fd, 0, repeat, XDP_REDIRECT) - base0;
	if (lookup_misses(miss_fd))
		die("the lookup limit missed %llu of its flows",
		    (unsigned long long)lookup_misses(miss_fd));
	if (nflows > 1)
		miss = loop_run(&l, lan_fd, 0, nflows, XDP_REDIRECT) - base0;
	else
		loop_run(&l, lan_fd, 0, 1, XDP_REDIRECT);
	hit = loop_med(&l, lan_fd, 0, repeat, XDP_REDIRECT) - base0;
	l.ifindex = wanif;
	base1 = loop_med(&l, nop_fd, 1, repeat, XDP_PASS);
	wan = loop_med(&l, wan_fd, 1, repeat, XDP_REDIRECT) - base1;
	printf("loop_flows=%u loop_repeat=%u loop_classes=%u limit_ns=%.1f lookup_limit_ns=%.1f lan_hit_ns=%.1f "
	       "lan_miss_ns=%.1f wan_hit_ns=%.1f drive_lan_ns=%.1f drive_wan_ns=%.1f\n", nflows,
	       repeat, nclasses, lim, look, hit, miss, wan, base0, base1);
	return 0;
}

/* ------------------------------------------------------------ flow sweep */

/* gcsweep N: the controller's flow sweep (user/dataplane/flows.c) over N bindings in
 * flows/rev tables of 2097152 entries (the bench daemon's size): with
 * nothing to expire (the steady state: every pass walks the whole table),
 * whole (bsc_flows_gc) and in the daemon's slices; then with everything
 * expired (walk + delete), in slices. */
static int cmd_gcsweep(int argc, char **argv)
{
	const uint32_t size = BENCH_TABLE;
	struct bsc_timeouts to = { .tcp_established = 7440, .tcp_transitory = 240,
				   .tcp_closed = 10, .udp = 120, .icmp = 30 };
	struct bsc_maps m;
	uint64_t now, t0, t1, t1b, t2, slice_max = 0, xslice_max = 0;
	uint32_t n, slices = 0, xslices = 0;
	int expired, gone;

	if (argc != 1)
		die("gcsweep N");
	n = (uint32_t)strtoul(argv[0], NULL, 0);
	if (!n || n > size / 2)
		die("N must be 1..%u", size / 2);
	bsc_maps_init(&m);
	m.flows = bpf_map_create(BPF_MAP_TYPE_HASH, "flows", sizeof(struct bsc_flow_key),
				 sizeof(struct bsc_flow), size, NULL);
	m.rev = bpf_map_create(BPF_MAP_TYPE_HASH, "rev", sizeof(struct bsc_rev_key),
			       sizeof(struct bsc_rev), size, NULL);
	/* the generation the sweep bumps when it deletes, as the daemon's */
	m.flow_gen = bpf_map_create(BPF_MAP_TYPE_ARRAY, "flow_gen", sizeof(uint32_t),
				    sizeof(uint32_t), 1, NULL);
	if (m.flows < 0 || m.rev < 0 || m.flow_gen < 0)
		die("map create: %s", strerror(errno));
	now = now_ns();
	bind_flows(m.flows, m.rev, 0, n, (uint32_t)(now >> BSC_TICK_SHIFT));
	if (bsc_flows_count(&m, NULL) != (long)n)
		die("the tables hold %ld flows, not %u", bsc_flows_count(&m, NULL), n);
	t0 = now_ns();
	expired = bsc_flows_gc(&m, &to, now_ns());
	t1 = now_ns();
	if (expired != 0)
		die("a sweep of fresh flows expired %d", expired);
	/* the daemon's way: slices of BSC_GC_SLICE flows */
	{
		struct bsc_walk w = { 0 };
		uint64_t a, b;

		do {
			a = now_ns();
			expired += bsc_flows_gc_step(&m, &to, now_ns(), &w, BSC_GC_SLICE);
			b = now_ns();
			if (b - a > slice_max)
				slice_max = b - a;
			slices++;
		} while (!w.done);
		if (expired != 0)
			die("a sliced sweep of fresh flows expired %d", expired);
	}
	/* everything idle for longer than the UDP timeout, in slices */
	t1b = now_ns();
	expired = 0;
	{
		struct bsc_walk w = { 0 };
		uint64_t a, b;

		do {
			a = now_ns();
			expired += bsc_flows_gc_step(&m, &to, now + 200ull * 1000000000ull, &w,
						     BSC_GC_SLICE);
			b = now_ns();
			if (b - a > xslice_max)
				xslice_max = b - a;
			xslices++;
		} while (!w.done);
	}
	t2 = now_ns();
	gone = (int)bsc_flows_count(&m, NULL);
	if (expired != (int)n || gone != 0)
		die("expired %d of %u, %d left", expired, n, gone);
	{
		struct bsc_rev_key k;

		if (!bpf_map_get_next_key(m.rev, NULL, &k))
			die("reverse entries left after expiry");
	}
	printf("gc_flows=%u gc_sweep_ms=%.1f gc_slices=%u gc_slice_max_ms=%.1f gc_expire_all_ms=%.1f "
	       "gc_expire_slices=%u gc_expire_slice_max_ms=%.1f\n",
	       n, (t1 - t0) / 1e6, slices, slice_max / 1e6, (t2 - t1b) / 1e6, xslices,
	       xslice_max / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (l <= 0)
		die("readlink /proc/self/exe");
	self[l] = '\0';
	snprintf(objdir, sizeof(objdir), "%s", dirname(self));
	if (getenv("BENCH_OBJDIR"))
		snprintf(objdir, sizeof(objdir), "%s", getenv("BENCH_OBJDIR"));
	libbpf_set_print(NULL);
	if (argc < 2)
		die("usage: bench gen|sink-attach|limit-attach|limit-load|lookup-fill|lookup-misses|link-save|link-prog|rate|stats|flip|nsloop|gcsweep|nsperpkt ...");
	if (getenv("BENCH_VERBOSE"))
		libbpf_set_print(NULL);
#define CMD(s, f) if (!strcmp(argv[1], s)) return f(argc - 2, argv + 2)
	CMD("gen", cmd_gen);
	CMD("sink-attach", cmd_sink_attach);
	CMD("limit-attach", cmd_limit_attach);
	CMD("limit-load", cmd_limit_load);
	CMD("lookup-fill", cmd_lookup_fill);
	CMD("lookup-misses", cmd_lookup_misses);
	CMD("link-save", cmd_link_save);
	CMD("link-prog", cmd_link_prog);
	CMD("rate", cmd_rate);
	CMD("stats", cmd_stats);
	CMD("flip", cmd_flip);
	CMD("nsperpkt", cmd_nsperpkt);
	CMD("nsloop", cmd_nsloop);
	CMD("gcsweep", cmd_gcsweep);
	die("unknown command %s", argv[1]);
	return 1;
}
