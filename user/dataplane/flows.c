// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dataplane/flows.c - flow expiry, counting and listing, and the walk of the
 * flow table they share with move.c.
 *
 * Expiry runs in the controller rather than the data plane: the LRU maps
 * already bound memory, and a periodic sweep keeps the per-packet path free
 * of timeout arithmetic.  Timeouts follow RFC 5382 / RFC 4787 by default and
 * shrink once a TCP connection has closed.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/flows.h"
#include "lib/clock.h"
#include "lib/log.h"

void bsc_timeouts_from_cfg(struct bsc_timeouts *t, const struct bsc_cfg *cfg)
{
	t->tcp_established = cfg->tcp_established_timeout;
	t->tcp_transitory = cfg->tcp_transitory_timeout;
	t->tcp_closed = cfg->tcp_closed_timeout;
	t->udp = cfg->udp_timeout;
	t->icmp = cfg->icmp_timeout;
}

uint32_t bsc_flow_timeout(const struct bsc_timeouts *t, uint8_t proto, uint8_t tcp)
{
	switch (proto) {
	case IPPROTO_TCP:
		if ((tcp & BSC_TCP_RST) ||
		    ((tcp & BSC_TCP_FIN_LAN) && (tcp & BSC_TCP_FIN_WAN)))
			return t->tcp_closed;
		if ((tcp & BSC_TCP_ESTAB) && !(tcp & (BSC_TCP_FIN_LAN | BSC_TCP_FIN_WAN)))
			return t->tcp_established;
		return t->tcp_transitory;
	case IPPROTO_UDP:
		return t->udp;
	default:
		return t->icmp;
	}
}

/* The walk (flows.h): the table is read in batches (BPF_MAP_LOOKUP_BATCH):
 * one system call per WALK_BATCH flows rather than two per flow, which is what a sweep of a
 * million flows needs.  A batch walks the hash buckets in order, so flows
 * created or deleted meanwhile are seen or not, but the walk never starts
 * over.  Kernels without batch operations on the map get the key-by-key
 * walk. */
#define WALK_BATCH 4096

static int collect(struct bsc_flow_key **keys, size_t *n, size_t *cap,
		   const struct bsc_flow_key *k)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct bsc_flow_key *nk = realloc(*keys, ncap * sizeof(**keys));

		if (!nk)
			return -ENOMEM;
		*keys = nk;
		*cap = ncap;
	}
	(*keys)[(*n)++] = *k;
	return 0;
}

static int flows_walk_keys(const struct bsc_maps *m, bsc_flow_cb cb, void *arg,
			   struct bsc_flow_key **keys, size_t *n, size_t *cap)
{
	struct bsc_flow_key key, next;
	struct bsc_flow f;
	void *prev = NULL;

	while (!bpf_map_get_next_key(m->flows, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->flows, &key, &f))
			continue; /* gone meanwhile */
		if (cb(&key, &f, arg) && keys && collect(keys, n, cap, &key))
			break;
	}
	return 0;
}

/* Walk up to `max` flows (0: all of them) from where *w stands; *w is
 * zero at the start of a walk and says when it reached the end.  The batch
 * token is a position in the hash table, so a walk can stop and go on
 * later.  With max_collected, a batch is begun only while all it holds
 * could be collected without passing that (the first batch aside: a walk
 * goes on), so no more are. */
int bsc_flows_walk_part(const struct bsc_maps *m, bsc_flow_cb cb, void *arg,
			struct bsc_flow_key **collected, size_t *ncollected,
			struct bsc_walk *w, uint32_t max, size_t max_collected)
{
	struct bsc_flow_key *keys = NULL, *bk;
	struct bsc_flow *bv;
	size_t n = 0, cap = 0;
	uint32_t batch = WALK_BATCH, walked = 0, out = 0, count, i, least = 0;
	int ret = 0;

	bk = malloc(batch * sizeof(*bk));
	bv = malloc(batch * sizeof(*bv));
	if (!bk || !bv)
		ret = -ENOMEM;
	while (!ret && !w->done && (!max || walked < max) && (!max_collected || n < max_collected)) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = max && max - walked < batch ? max - walked : batch;
		/* a batch may collect all it reads: never more than is left */
		if (max_collected && count > max_collected - n)
			count = (uint32_t)(max_collected - n);
		if (count < least)
			count = least;
		if (bpf_map_lookup_batch(m->flows, w->started ? &w->token : NULL, &out, bk, bv,
					 &count, &opts)) {
			if (errno == ENOENT) {
				w->done = 1; /* the last batch, possibly empty */
			} else if (errno == ENOSPC && walked) {
				break; /* the next bucket does not fit what is left
					* of this slice: the next slice takes it */
			} else if (errno == ENOSPC && least < batch) {
				least = batch; /* a slice smaller than a bucket */
				continue;
			} else if (errno == ENOSPC && batch < (1u << 20)) {
				/* a bucket holds more than a batch: grow */
				struct bsc_flow_key *nk = realloc(bk, 2 * batch * sizeof(*bk));
				struct bsc_flow *nv = nk ? realloc(bv, 2 * batch * sizeof(*bv)) : NULL;

				if (nk)
					bk = nk;
				if (nv)
					bv = nv;
				if (!nk || !nv)
					ret = -ENOMEM;
				else
					least = batch *= 2;
				continue;
			} else if (!w->started) {
				/* no batch operations here: key by key, all at once */
				ret = flows_walk_keys(m, cb, arg, collected ? &keys : NULL, &n, &cap);
				w->done = 1;
				break;
			} else {
				ret = -errno;
				break;
			}
		}
		for (i = 0; i < count; i++)
			if (cb(&bk[i], &bv[i], arg) && collected &&
			    collect(&keys, &n, &cap, &bk[i])) {
				ret = -ENOMEM;
				break;
			}
		walked += count;
		w->token = out;
		w->started = 1;
	}
	free(bk);
	free(bv);
	if (collected) {
		*collected = keys;
		*ncollected = n;
	} else {
		free(keys);
	}
	return ret;
}

int bsc_flows_walk(const struct bsc_maps *m, bsc_flow_cb cb, void *arg,
		   struct bsc_flow_key **collected, size_t *ncollected)
{
	struct bsc_walk w = { 0 };

	return bsc_flows_walk_part(m, cb, arg, collected, ncollected, &w, 0, 0);
}

/* Delete n keys from a hash map, in batches; a key already gone is skipped
 * (BPF_MAP_DELETE_BATCH stops at it).  Returns how many were deleted. */
static size_t delete_keys(int fd, const void *keys, size_t ksz, size_t n)
{
	size_t i = 0, deleted = 0;

	while (i < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		uint32_t count = n - i > WALK_BATCH ? WALK_BATCH : (uint32_t)(n - i);
		int err = bpf_map_delete_batch(fd, (const uint8_t *)keys + i * ksz, &count, &opts);

		deleted += count;
		i += count;
		if (!err)
			continue;
		if (errno != ENOENT && count == 0) {
			/* no batch delete here (or another error): one by one */
			for (; i < n; i++)
				if (!bpf_map_delete_elem(fd, (const uint8_t *)keys + i * ksz))
					deleted++;
			break;
		}
		i++; /* the key it stopped at is gone already */
	}
	return deleted;
}

struct gc_arg {
	const struct bsc_timeouts *t;
	uint64_t now;
	struct bsc_walk *w;     /* counts what stays; NULL: nothing counted */
};

/* The bump of flow_gen.  The data plane bumps it too (a rebind, a TCP flow
 * reset on a failed uplink), with an atomic add on the value in place
 * (flow_gen_bump in bpf/lib/nat.h).  A lookup, +1 and update from here
 * would race with that: a bump of the data plane between the read and the
 * write is overwritten, the generation comes back to a value that cached
 * copies of the binding it moved were filled with, and they serve on.
 *
 * The bpf() syscall has no atomic add on a map value (BPF_F_LOCK wants a
 * bpf_spin_lock in the value), and mmap() of the value needs BPF_F_MMAPABLE
 * in the map's definition: a change of the data plane's maps, and of every
 * map already pinned.  A counter of its own that userspace writes and the
 * data plane adds in would need a second lookup per packet in bpf/.  So the
 * add is made where the data plane makes its own: by a program of eleven
 * instructions, run with BPF_PROG_TEST_RUN on the map as it is, that adds 1
 * to the value with the same atomic instruction (BPF_ATOMIC | BPF_ADD).
 * Userspace never writes the value, so no bump is lost; and the generation
 * changes after whatever the caller deleted before the call (the run returns
 * once the add is done), which is the order the flow cache needs
 * (bascule.h, struct bsc_flow_cache).
 *
 * The program holds a reference to the map it was made for, so it is kept
 * for the map of the last call (by map id: an fd number may be reused) and
 * made again for another.  A socket filter, the type every kernel with BPF
 * runs with BPF_PROG_TEST_RUN; it needs the same privilege as the maps. */
static struct {
	pthread_mutex_t lock;
	int prog;               /* -1: none yet */
	uint32_t map_id;
	int warned;
} gen_bump = { PTHREAD_MUTEX_INITIALIZER, -1, 0, 0 };

static int gen_bump_prog(int map_fd)
{
	struct bpf_insn insns[] = {
		/* r1 = the map */
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		/* *(u32 *)(r10 - 4) = 0; r2 = r10 - 4: the key */
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		/* r0 = bpf_map_lookup_elem(r1, r2); if (!r0) return 0 */
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 4, .imm = 0 },
		/* lock *(u32 *)r0 += 1; return 1 */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_W, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_1,
		  .imm = BPF_ADD },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bsc_flow_gen", "Dual BSD/GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

/* 0 once the value was added to in the kernel, else -errno. */
static int gen_bump_atomic(int map_fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	uint8_t frame[ETH_HLEN] = { 0 }; /* a socket filter runs on a frame */
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame));
	int err;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (gen_bump.prog < 0 || gen_bump.map_id != info.id) {
		if (gen_bump.prog >= 0)
			close(gen_bump.prog);
		gen_bump.prog = gen_bump_prog(map_fd);
		if (gen_bump.prog < 0)
			return gen_bump.prog;
		gen_bump.map_id = info.id;
	}
	err = bpf_prog_test_run_opts(gen_bump.prog, &run);
	if (err)
		return err;
	return run.retval == 1 ? 0 : -ENOENT;
}

void bsc_flows_invalidate(const struct bsc_maps *m)
{
	uint32_t zero = 0, g = 0;
	int err;

	pthread_mutex_lock(&gen_bump.lock);
	err = gen_bump_atomic(m->flow_gen);
	if (err && !gen_bump.warned) {
		gen_bump.warned = 1;
		bsc_log(LOG_WARNING, "flow generation: no atomic bump (%s): a bump of the data plane "
			"may be lost now and then", strerror(-err));
	}
	pthread_mutex_unlock(&gen_bump.lock);
	if (!err)
		return;
	/* Where the program cannot run: the racy bump, better than none. */
	bpf_map_lookup_elem(m->flow_gen, &zero, &g);
	g++;
	bpf_map_update_elem(m->flow_gen, &zero, &g, BPF_ANY);
}

uint64_t bsc_flow_idle_ns(uint32_t last, uint64_t now_ns)
{
	uint64_t end = ((uint64_t)last + 1) << BSC_TICK_SHIFT;

	return now_ns > end ? now_ns - end : 0;
}

static int gc_cb(const struct bsc_flow_key *k, const struct bsc_flow *f, void *arg)
{
	struct gc_arg *g = arg;
	uint64_t to = (uint64_t)bsc_flow_timeout(g->t, k->proto, f->tcp) * 1000000000ull;

	if (bsc_flow_idle_ns(f->last, g->now) > to)
		return 1;
	if (g->w) {
		g->w->kept++;
		if (f->uplink < BSC_MAX_UPLINKS)
			g->w->kept_per[f->uplink]++;
	}
	return 0;
}

static void rev_key_from(struct bsc_rev_key *rk, const struct bsc_flow_key *k,
			 const struct bsc_flow *f)
{
	memset(rk, 0, sizeof(*rk));
	rk->raddr = k->daddr;
	rk->rport = k->dport;
	rk->nat_port = f->nat_port;
	rk->proto = k->proto;
	rk->uplink = f->uplink;
}

/* Take the flow at k out if cb still selects it.  BPF_MAP_LOOKUP_AND_DELETE_ELEM
 * removes it and hands back what it removed in one step, so the binding
 * judged is the binding deleted, and *rk is the reverse entry of that very
 * binding.  A packet since the walk may have changed it: a rebind (another
 * uplink, another NAT port, a reverse entry of its own, the old one gone),
 * or a refresh.  A separate look and delete would delete the rebound flow
 * and leave its new reverse entry behind.  Here cb judges what was taken,
 * and a flow it no longer selects goes back at once (BPF_NOEXIST: a binding
 * the data plane made in the microseconds it was out wins, and then the
 * taken one is gone after all).  Returns 1 when the flow went (*rk to
 * delete, unless *rk_keep: the new binding uses the same reverse entry),
 * 0 when it stays. */
static int take_unsupported; /* kernels before 5.14: no lookup-and-delete on a hash */

static int flow_take(const struct bsc_maps *m, const struct bsc_flow_key *k, bsc_flow_cb cb,
		     void *arg, struct bsc_rev_key *rk, int *rk_keep)
{
	struct bsc_flow f, now;

	*rk_keep = 0;
	if (!take_unsupported && bpf_map_lookup_and_delete_elem(m->flows, k, &f)) {
		if (errno == ENOENT)
			return 0; /* gone meanwhile */
		take_unsupported = 1;
	}
	if (take_unsupported) {
		/* look, then delete: the race stays open for the microseconds
		 * between the two system calls */
		if (bpf_map_lookup_elem(m->flows, k, &f) || !cb(k, &f, arg) ||
		    bpf_map_delete_elem(m->flows, k))
			return 0;
		rev_key_from(rk, k, &f);
		return 1;
	}
	if (!cb(k, &f, arg)) {
		if (!bpf_map_update_elem(m->flows, k, &f, BPF_NOEXIST))
			return 0;
		/* a new binding took its place: its reverse entry may be the
		 * taken one's (same uplink and port), and stays then */
		*rk_keep = !bpf_map_lookup_elem(m->flows, k, &now) && now.uplink == f.uplink &&
			   now.nat_port == f.nat_port;
	}
	rev_key_from(rk, k, &f);
	return 1;
}

/* Delete every flow cb selects, with its reverse entry; each one is judged
 * again as it is taken (flow_take), as a packet may have changed it since
 * the walk.  The flows go first: a reply in between finds no flow once its
 * reverse entry's tick has passed, and is passed, never sent to the wrong
 * host.  Returns how many went. */
static int flows_delete_part(const struct bsc_maps *m, bsc_flow_cb cb, void *arg,
			     struct bsc_walk *w, uint32_t max)
{
	struct bsc_flow_key *keys = NULL;
	struct bsc_rev_key *rks = NULL;
	size_t n = 0, i, nr = 0;
	int deleted = 0, keep;

	/* a slice holds BSC_SLICE_ACTS flows to delete at most: each is
	 * taken on its own, one system call apiece */
	bsc_flows_walk_part(m, cb, arg, &keys, &n, w, max, max ? BSC_SLICE_ACTS : 0);
	if (n)
		rks = malloc(n * sizeof(*rks));
	if (n && !rks) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!flow_take(m, &keys[i], cb, arg, &rks[nr], &keep))
			continue;
		deleted++;
		nr += !keep;
	}
	delete_keys(m->rev, rks, sizeof(*rks), nr);
	if (deleted > 0)
		bsc_flows_invalidate(m); /* after the deletions: bascule.h */
	free(keys);
	free(rks);
	return deleted;
}

static int flows_delete_where(const struct bsc_maps *m, bsc_flow_cb cb, void *arg)
{
	struct bsc_walk w = { 0 };

	return flows_delete_part(m, cb, arg, &w, 0);
}

int bsc_flows_gc_step(const struct bsc_maps *m, const struct bsc_timeouts *t, uint64_t now_ns,
		      struct bsc_walk *w, uint32_t max)
{
	struct gc_arg g = { .t = t, .now = now_ns, .w = w };

	if (w->done)
		memset(w, 0, sizeof(*w)); /* a new pass */
	return flows_delete_part(m, gc_cb, &g, w, max);
}

int bsc_flows_gc(const struct bsc_maps *m, const struct bsc_timeouts *t, uint64_t now_ns)
{
	struct gc_arg g = { .t = t, .now = now_ns };

	return flows_delete_where(m, gc_cb, &g);
}

struct count_arg {
	long total;
	long *per;
};

static int count_cb(const struct bsc_flow_key *k, const struct bsc_flow *f, void *arg)
{
	struct count_arg *c = arg;

	c->total++;
	if (c->per && f->uplink < BSC_MAX_UPLINKS)
		c->per[f->uplink]++;
	return 0;
}

long bsc_flows_count(const struct bsc_maps *m, long per_uplink[BSC_MAX_UPLINKS])
{
	struct count_arg c = { .per = per_uplink };

	if (per_uplink)
		memset(per_uplink, 0, sizeof(long) * BSC_MAX_UPLINKS);
	bsc_flows_walk(m, count_cb, &c, NULL, NULL);
	return c.total;
}

struct print_arg {
	FILE *out;
	int left;
	uint64_t now;
	char cls[BSC_MAX_CLASSES][BSC_NAME_LEN + 1]; /* the classes' names, from policy */
};

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" : "?";
}

static int print_cb(const struct bsc_flow_key *k, const struct bsc_flow *f, void *arg)
{
	struct print_arg *p = arg;
	char s[16], d[16], n[16];

	if (p->left-- <= 0)
		return 0;
	inet_ntop(AF_INET, &k->saddr, s, sizeof(s));
	inet_ntop(AF_INET, &k->daddr, d, sizeof(d));
	inet_ntop(AF_INET, &f->nat_addr, n, sizeof(n));
	fprintf(p->out, "%-4s %15s:%-5u -> %15s:%-5u via uplink %u as %s:%u  idle %.1fs  class %s%s\n",
		proto_name(k->proto), s, ntohs(k->sport), d, ntohs(k->dport), f->uplink, n,
		ntohs(f->nat_port),
		(double)bsc_flow_idle_ns(f->last, p->now) / 1e9,
		f->policy < BSC_MAX_CLASSES && p->cls[f->policy][0] ? p->cls[f->policy] :
		f->policy ? "?" : "default",
		f->nat_addr ? "" : "  (moving: rebound by its next packet)");
	return 0;
}

void bsc_flows_print(const struct bsc_maps *m, FILE *out, int limit)
{
	static struct print_arg p;
	struct bsc_walk w = { 0 };
	struct bsc_policy pol;
	uint32_t c;

	memset(&p, 0, sizeof(p));
	p.out = out;
	p.left = limit;
	p.now = bsc_now_ns();
	for (c = 0; c < BSC_MAX_CLASSES; c++)
		if (!bsc_policy_read(m, c, &pol))
			snprintf(p.cls[c], sizeof(p.cls[c]), "%.*s", BSC_NAME_LEN, pol.name);

	/* a batch at a time, up to the limit: 50 lines of a million flows
	 * read a few batches, not the table */
	while (!w.done && p.left > 0)
		if (bsc_flows_walk_part(m, print_cb, &p, NULL, NULL, &w, WALK_BATCH, 0))
			break;
}
