// SPDX-License-Identifier: GPL-2.0
/*
 * linkemu - Bascule's own link emulator (this kernel has no netem).
 *
 * It carries every Ethernet frame between two interfaces of an ISP namespace
 * of the lab, in both directions, and applies a link profile on the way:
 * fixed delay, jitter (no reordering unless --reorder), random loss, periodic
 * bursts of loss and/or extra delay, a rate limit, and an outage switch (drop
 * everything, carrier stays up) that can be flipped at run time.
 *
 *   linkemu [options]                   emulate between --a and --b
 *   linkemu flood IFACE DSTMAC SECS [LEN]   blast UDP frames out of IFACE
 *                                       (throughput test helper), prints pps
 *
 * Where it sits (tests/linkemu_test.sh, linkemu_insert, does the wiring):
 *
 *   edge wanX ==veth== down0 [linkemu] emu0 ==veth== emu1 (ISP IP stack) ... up0
 *
 * The ISP namespace keeps its IP routing: its edge-side address (and down0's
 * MAC address, so the edge's neighbour cache stays valid) move to emu1, the
 * new inner end of a veth pair; down0 and emu0 become pure layer-2 ports
 * owned by linkemu, which bridges them (no learning: everything is carried).
 *
 * No double forwarding: frames arriving on down0 or emu0 must reach linkemu
 * and nothing else. AF_PACKET taps (ptype_all) run in __netif_receive_skb_core
 * before the tc and netfilter ingress hooks, so an nftables netdev ingress
 * chain with policy drop on down0 and emu0 (installed by linkemu_insert)
 * hides every frame from the namespace's own stack while linkemu still gets
 * its copy. Those two ports also carry no IP address, so the stack never
 * sends anything through them itself. Frames that linkemu transmits use
 * PACKET_QDISC_BYPASS and never loop back to it (PACKET_IGNORE_OUTGOING).
 *
 * Frame size: linkemu carries frames up to --mtu (1500) + Ethernet header.
 * GRO on down0/emu0 would hand it 64 KB aggregates, so linkemu_insert turns
 * GRO off there; because a veth that receives XDP_REDIRECTed frames (Bascule
 * redirecting out of wanX) needs GRO *or* an XDP program on its peer, linkemu
 * attaches a two-instruction XDP_PASS program to --a (down0) unless --no-xdp.
 * Transmit checksum offload is off on the lab's veths (and on emu1), so
 * frames carry full checksums and need no fix-up.
 *
 * I/O: AF_PACKET TPACKET_V2 rings, an RX ring per port (per-frame status, so
 * no block-retire latency as with V3) and a TX ring per port kicked once per
 * batch. Frames are copied into a pool and queued per direction in a heap
 * ordered by release time; the loop sleeps with ppoll() until the next
 * release (timer slack 1 ns) and busy-polls the last --spin-us microseconds.
 *
 * Link model, per direction (a->b is edge->Internet, b->a the reverse):
 *   --rtt MS      round-trip base delay; each direction delays rtt/2.
 *   --jitter MS   standard deviation of the round-trip delay; each direction
 *                 adds a zero-mean gaussian of sd jitter/sqrt(2), clamped so
 *                 the delay is never negative. With --jitter-corr MS > 0 the
 *                 jitter is a smooth process (random knots every MS,
 *                 linearly interpolated, same marginal sd) so that dense
 *                 traffic is not all pushed to the upper tail by the
 *                 no-reordering rule; 0 draws independently per frame.
 *   no reordering: a frame's release time is max(its own, previous frame's)
 *                 in its direction, unless --reorder.
 *   --loss PCT    Bernoulli loss per frame and per direction (a ping round
 *                 trip is then lost with 1-(1-p)^2).
 *   --rate BPS    serialisation rate per direction (k/M/G suffixes), a token
 *                 bucket of --burst-bytes; frames wait for tokens, up to
 *                 --queue-ms of backlog, then tail drop.
 *   --burst-every S --burst-len MS --burst-loss PCT --burst-delay MS
 *                 every S seconds (first one S seconds after start), for MS
 *                 milliseconds, frames are lost with PCT and/or get extra
 *                 delay (both directions).
 *   outage        drop everything, in both directions, including frames
 *                 already queued whose release falls inside the outage;
 *                 carrier stays up. SIGUSR1 = on, SIGUSR2 = off, or the
 *                 datagram control socket --ctl PATH ("outage on",
 *                 "outage off", "stats"; a reply goes to a bound sender).
 *                 Each switch appends a line to --log with the
 *                 CLOCK_MONOTONIC and CLOCK_REALTIME instants at which it
 *                 took effect:  outage on mono=S.NNNNNNNNN real=S.NNNNNNNNN
 *   SIGHUP appends a "stats ..." line to --log; SIGTERM/SIGINT exit (after
 *   a last stats line).
 *
 * Named profiles (--profile; later flags override single values). "±X" of
 * the real links is read as about two standard deviations:
 *   perfect  rtt 0, nothing else (a plain bridge)
 *   fiber    rtt 10 ms, jitter 0.5 ms
 *   cell     rtt 40 ms, jitter 8 ms, loss 0.5 %/direction, jitter-corr 20
 *   sat      rtt 45 ms, jitter 12 ms, loss 0.5 %/direction (~1 % per round
 *            trip), jitter-corr 20, a burst every 15 s of 300 ms with 50 %
 *            loss and 80 ms extra delay
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL
#define FRAME_SZ 2048		/* ring frame size */
#define SLOT_SZ 1600		/* pool slot payload size */
#define RX_FRAMES 8192
#define TX_FRAMES 4096
#define BATCH 256

struct profile {
	const char *name;
	double rtt_ms, jitter_ms, loss_pct, jitter_corr_ms;
	double burst_every_s, burst_len_ms, burst_loss_pct, burst_delay_ms;
};

static const struct profile profiles[] = {
	{ "perfect", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "fiber", 10, 0.5, 0, 0, 0, 0, 0, 0 },
	{ "cell", 40, 8, 0.5, 20, 0, 0, 0, 0 },
	{ "sat", 45, 12, 0.5, 20, 15, 300, 50, 80 },
};

static struct cfg {
	const char *if_a, *if_b, *log_path, *ctl_path, *pid_path;
	struct profile p;
	double rate_bps, burst_bytes, queue_ms, spin_us;
	bool reorder, no_xdp;
	unsigned pool;
	uint64_t seed;
} cfg = {
	.if_a = "down0", .if_b = "emu0", .queue_ms = 50, .spin_us = 50,
	.pool = 32768,
};

/* ---- time, random --------------------------------------------------- */

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static uint64_t mono(void) { return now_ns(CLOCK_MONOTONIC); }

static uint64_t rng_s[2];

static uint64_t rng_next(void)	/* xorshift128+ */
{
	uint64_t s1 = rng_s[0];
	const uint64_t s0 = rng_s[1];

	rng_s[0] = s0;
	s1 ^= s1 << 23;
	rng_s[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return rng_s[1] + s0;
}

static double rng_unit(void) { return (rng_next() >> 11) * (1.0 / 9007199254740992.0); }

static double rng_gauss(void)
{
	double u1 = rng_unit(), u2 = rng_unit();

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* ---- logging -------------------------------------------------------- */

static FILE *log_fp;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "linkemu: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void logline(const char *fmt, ...)
{
	va_list ap;

	if (!log_fp)
		return;
	va_start(ap, fmt);
	vfprintf(log_fp, fmt, ap);
	va_end(ap);
	fputc('\n', log_fp);
	fflush(log_fp);
}

/* ---- AF_PACKET rings ------------------------------------------------ */

struct ring {
	int fd;
	uint8_t *map;
	unsigned nframes, idx, pending;
};

struct port {
	const char *name;
	int ifindex;
	struct ring rx, tx;
};

static void ring_setup(struct ring *r, int ifindex, bool is_tx, unsigned nframes)
{
	int ver = TPACKET_V2, one = 1;
	struct tpacket_req req = {
		.tp_block_size = FRAME_SZ * 64,
		.tp_frame_size = FRAME_SZ,
		.tp_block_nr = nframes / 64,
		.tp_frame_nr = nframes,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		/* a TX-only socket binds protocol 0: it receives nothing */
		.sll_protocol = is_tx ? 0 : htons(ETH_P_ALL),
	};

	r->fd = socket(AF_PACKET, SOCK_RAW, is_tx ? 0 : htons(ETH_P_ALL));
	if (r->fd < 0)
		die("socket: %s", strerror(errno));
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)))
		die("PACKET_VERSION: %s", strerror(errno));
	if (is_tx) {
		if (setsockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
			die("PACKET_QDISC_BYPASS: %s", strerror(errno));
		/* malformed frames are skipped, not stopped at: how tx_kick
		 * drops what was queued when the link went down */
		if (setsockopt(r->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)))
			die("PACKET_LOSS: %s", strerror(errno));
	} else {
		struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };

		if (setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))
			die("PACKET_IGNORE_OUTGOING: %s", strerror(errno));
		if (setsockopt(r->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			die("PACKET_MR_PROMISC: %s", strerror(errno));
	}
	if (setsockopt(r->fd, SOL_PACKET, is_tx ? PACKET_TX_RING : PACKET_RX_RING, &req, sizeof(req)))
		die("PACKET ring: %s", strerror(errno));
	r->map = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_LOCKED, r->fd, 0);
	if (r->map == MAP_FAILED)
		r->map = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
			      PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED)
		die("mmap ring: %s", strerror(errno));
	r->nframes = nframes;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind ifindex %d: %s", ifindex, strerror(errno));
	fcntl(r->fd, F_SETFL, O_NONBLOCK);
}

static inline struct tpacket2_hdr *ring_frame(struct ring *r, unsigned i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * FRAME_SZ);
}

#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))

static uint64_t tx_fail;

static void tx_kick(struct ring *r)
{
	if (!r->pending)
		return;
	if (send(r->fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) {
		/* link down (ENETDOWN, ENXIO): drop what is pending rather
		 * than deliver it late when the carrier comes back.  The
		 * frames stay queued but empty: the kernel walks the ring
		 * from its own position, so handing them back as AVAILABLE
		 * would leave it stuck there; an empty frame is skipped
		 * (PACKET_LOSS) and the kernel moves on. */
		for (unsigned i = 0; i < r->nframes; i++) {
			struct tpacket2_hdr *h = ring_frame(r, i);

			if (h->tp_status == TP_STATUS_SEND_REQUEST && h->tp_len) {
				h->tp_len = 0;
				tx_fail++;
			}
		}
		int err;
		socklen_t l = sizeof(err);

		getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &l);
	}
	r->pending = 0;
}

/* Queue one frame on a TX ring; false if the ring is full. */
static bool tx_put(struct ring *r, const uint8_t *data, unsigned len)
{
	struct tpacket2_hdr *h = ring_frame(r, r->idx);

	if (h->tp_status != TP_STATUS_AVAILABLE) {
		tx_kick(r);
		if (h->tp_status != TP_STATUS_AVAILABLE)
			return false;
	}
	memcpy((uint8_t *)h + TX_DATA_OFF, data, len);
	h->tp_len = len;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	r->idx = (r->idx + 1) % r->nframes;
	if (++r->pending >= BATCH)
		tx_kick(r);
	return true;
}

/* ---- XDP_PASS on the edge-side port (see header) ---------------------- */

static int xdp_ifindex;

static void xdp_pass_attach(int ifindex)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "linkemu_pass", "GPL", insns, 2, NULL);

	if (fd < 0) {
		fprintf(stderr, "linkemu: warning: XDP_PASS load failed: %s\n", strerror(-fd));
		return;
	}
	if (bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL)) {
		fprintf(stderr, "linkemu: warning: XDP_PASS attach failed (another program?)\n");
		close(fd);
		return;
	}
	xdp_ifindex = ifindex;
}

/* ---- the link model ----------------------------------------------------- */

struct pkt {
	uint64_t due, seq;
	uint16_t len;
	uint8_t data[SLOT_SZ];
};

struct stats {
	uint64_t rx, tx, lost, burst_lost, outage, qdrop, oversize, txfull;
};

struct dir {
	const char *name;
	struct port *in, *out;
	uint32_t *heap;		/* pool indices, min-heap on (due, seq) */
	unsigned n;
	uint64_t last_due, seq, link_free;
	/* smooth jitter */
	uint64_t knot_t;
	double knot_prev, knot_next;
	struct stats st;
	uint64_t ring_drops;
};

static struct pkt *pool;
static uint32_t *freelist;
static unsigned nfree;
static bool outage;
static uint64_t t_start;

static double dir_sd_ns(void) { return cfg.p.jitter_ms * NS_PER_MS / M_SQRT2; }

static bool pkt_less(uint32_t a, uint32_t b)
{
	return pool[a].due < pool[b].due || (pool[a].due == pool[b].due && pool[a].seq < pool[b].seq);
}

static void heap_push(struct dir *d, uint32_t i)
{
	unsigned k = d->n++;

	while (k) {
		unsigned p = (k - 1) / 2;

		if (!pkt_less(i, d->heap[p]))
			break;
		d->heap[k] = d->heap[p];
		k = p;
	}
	d->heap[k] = i;
}

static uint32_t heap_pop(struct dir *d)
{
	uint32_t top = d->heap[0], last = d->heap[--d->n];
	unsigned k = 0;

	for (;;) {
		unsigned c = 2 * k + 1;

		if (c >= d->n)
			break;
		if (c + 1 < d->n && pkt_less(d->heap[c + 1], d->heap[c]))
			c++;
		if (!pkt_less(d->heap[c], last))
			break;
		d->heap[k] = d->heap[c];
		k = c;
	}
	if (d->n)
		d->heap[k] = last;
	return top;
}

static double jitter_ns(struct dir *d, uint64_t now)
{
	double sd = dir_sd_ns();

	if (sd <= 0)
		return 0;
	if (cfg.p.jitter_corr_ms <= 0)
		return sd * rng_gauss();
	/* knots of sd*sqrt(1.5): linear interpolation between two independent
	 * knots has on average 2/3 of their variance */
	uint64_t per = (uint64_t)(cfg.p.jitter_corr_ms * NS_PER_MS);
	double ks = sd * sqrt(1.5);

	if (!d->knot_t) {
		d->knot_t = now;
		d->knot_prev = ks * rng_gauss();
		d->knot_next = ks * rng_gauss();
	}
	while (now >= d->knot_t + per) {
		d->knot_t += per;
		d->knot_prev = d->knot_next;
		d->knot_next = ks * rng_gauss();
		if (now - d->knot_t > 4 * per)	/* long idle: resync */
			d->knot_t = now - (now - d->knot_t) % per;
	}
	double f = (double)(now - d->knot_t) / per;

	return d->knot_prev * (1 - f) + d->knot_next * f;
}

static bool in_burst(uint64_t now)
{
	if (cfg.p.burst_every_s <= 0 || cfg.p.burst_len_ms <= 0)
		return false;
	uint64_t per = (uint64_t)(cfg.p.burst_every_s * NS_PER_S);
	uint64_t t = now - t_start;

	return t >= per && t % per < (uint64_t)(cfg.p.burst_len_ms * NS_PER_MS);
}

/* One received frame: decide its fate and queue it. */
static void admit(struct dir *d, const uint8_t *data, unsigned len, uint64_t now)
{
	d->st.rx++;
	if (outage) {
		d->st.outage++;
		return;
	}
	if (len > SLOT_SZ) {
		d->st.oversize++;
		return;
	}
	bool burst = in_burst(now);

	if (cfg.p.loss_pct > 0 && rng_unit() * 100 < cfg.p.loss_pct) {
		d->st.lost++;
		return;
	}
	if (burst && cfg.p.burst_loss_pct > 0 && rng_unit() * 100 < cfg.p.burst_loss_pct) {
		d->st.burst_lost++;
		return;
	}
	uint64_t start = now;

	if (cfg.rate_bps > 0) {
		double ns_per_byte = 8e9 / cfg.rate_bps;
		uint64_t credit = (uint64_t)(cfg.burst_bytes * ns_per_byte);

		if (d->link_free + credit < now)
			d->link_free = now - credit;
		if (d->link_free > now + (uint64_t)(cfg.queue_ms * NS_PER_MS)) {
			d->st.qdrop++;
			return;
		}
		d->link_free += (uint64_t)((len + 24) * ns_per_byte); /* + preamble, IFG, FCS */
		if (d->link_free > now)
			start = d->link_free;
	}
	if (!nfree) {
		d->st.qdrop++;
		return;
	}
	double delay = cfg.p.rtt_ms * NS_PER_MS / 2 + jitter_ns(d, now);

	if (burst)
		delay += cfg.p.burst_delay_ms * NS_PER_MS;
	if (delay < 0)
		delay = 0;
	uint64_t due = start + (uint64_t)delay;

	if (!cfg.reorder && due < d->last_due)
		due = d->last_due;
	d->last_due = due;

	uint32_t i = freelist[--nfree];
	struct pkt *p = &pool[i];

	p->due = due;
	p->seq = d->seq++;
	p->len = len;
	memcpy(p->data, data, len);
	heap_push(d, i);
}

/* Drain a port's RX ring into its direction. */
static unsigned rx_drain(struct dir *d, uint64_t now)
{
	struct ring *r = &d->in->rx;
	unsigned n = 0;

	while (n < BATCH) {
		struct tpacket2_hdr *h = ring_frame(r, r->idx);

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		uint8_t *data = (uint8_t *)h + h->tp_mac;
		unsigned len = h->tp_snaplen;

		if (h->tp_snaplen < h->tp_len) {
			d->st.rx++;
			d->st.oversize++;
		} else if (h->tp_status & TP_STATUS_VLAN_VALID && len + 4 <= SLOT_SZ) {
			uint8_t buf[SLOT_SZ];

			memcpy(buf, data, 12);
			uint16_t tpid = htons(h->tp_vlan_tpid ? h->tp_vlan_tpid : ETH_P_8021Q);
			uint16_t tci = htons(h->tp_vlan_tci);

			memcpy(buf + 12, &tpid, 2);
			memcpy(buf + 14, &tci, 2);
			memcpy(buf + 16, data + 12, len - 12);
			admit(d, buf, len + 4, now);
		} else {
			admit(d, data, len, now);
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->idx = (r->idx + 1) % r->nframes;
		n++;
	}
	return n;
}

/* Send what is due; return the next release time (0 if none). */
static uint64_t release(struct dir *d, uint64_t now)
{
	while (d->n) {
		struct pkt *p = &pool[d->heap[0]];

		if (p->due > now)
			break;
		uint32_t i = heap_pop(d);

		if (outage)
			d->st.outage++;
		else if (tx_put(&d->out->tx, p->data, p->len))
			d->st.tx++;
		else
			d->st.txfull++;
		freelist[nfree++] = i;
	}
	tx_kick(&d->out->tx);
	return d->n ? pool[d->heap[0]].due : 0;
}

/* ---- control ---------------------------------------------------------- */

static struct dir dirs[2];

static void fmt_stats(char *buf, size_t sz)
{
	size_t o = 0;

	o += snprintf(buf + o, sz - o, "stats mono=%.9f outage=%d", mono() / 1e9, outage);
	for (int i = 0; i < 2; i++) {
		struct stats *s = &dirs[i].st;

		o += snprintf(buf + o, sz - o,
			      " %s_rx=%" PRIu64 " %s_tx=%" PRIu64 " %s_lost=%" PRIu64
			      " %s_burst_lost=%" PRIu64 " %s_outage=%" PRIu64 " %s_qdrop=%" PRIu64
			      " %s_oversize=%" PRIu64 " %s_txfull=%" PRIu64,
			      dirs[i].name, s->rx, dirs[i].name, s->tx, dirs[i].name, s->lost,
			      dirs[i].name, s->burst_lost, dirs[i].name, s->outage, dirs[i].name,
			      s->qdrop, dirs[i].name, s->oversize, dirs[i].name, s->txfull);
		if (o >= sz)
			break;
	}
	/* frames the kernel could not put into our RX rings (ring full) */
	for (int i = 0; i < 2 && o < sz; i++) {
		struct tpacket_stats tp;
		socklen_t l = sizeof(tp);

		if (!getsockopt(dirs[i].in->rx.fd, SOL_PACKET, PACKET_STATISTICS, &tp, &l))
			dirs[i].ring_drops += tp.tp_drops;
		o += snprintf(buf + o, sz - o, " %s_ringdrop=%" PRIu64, dirs[i].name,
			      dirs[i].ring_drops);
	}
	if (o < sz)
		snprintf(buf + o, sz - o, " txfail=%" PRIu64, tx_fail);
}

static void set_outage(bool on)
{
	/* the instant is taken before the flag flips: nothing is released
	 * by this thread between the two */
	uint64_t m = mono(), r = now_ns(CLOCK_REALTIME);

	if (on == outage)
		return;
	outage = on;
	logline("outage %s mono=%" PRIu64 ".%09" PRIu64 " real=%" PRIu64 ".%09" PRIu64,
		on ? "on" : "off", m / NS_PER_S, m % NS_PER_S, r / NS_PER_S, r % NS_PER_S);
}

static void ctl_handle(int fd)
{
	char buf[256], out[1536];
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);

	if (n <= 0)
		return;
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	if (!strcmp(buf, "outage on") || !strcmp(buf, "on")) {
		set_outage(true);
		snprintf(out, sizeof(out), "ok outage on");
	} else if (!strcmp(buf, "outage off") || !strcmp(buf, "off")) {
		set_outage(false);
		snprintf(out, sizeof(out), "ok outage off");
	} else if (!strcmp(buf, "stats")) {
		fmt_stats(out, sizeof(out));
	} else {
		snprintf(out, sizeof(out), "error: unknown command");
	}
	if (fl > sizeof(sa_family_t))
		sendto(fd, out, strlen(out), MSG_DONTWAIT, (struct sockaddr *)&from, fl);
}

/* ---- flood (throughput test helper) ------------------------------------ */

static int flood(int argc, char **argv)
{
	if (argc < 4)
		die("usage: linkemu flood IFACE DSTMAC SECONDS [FRAMELEN]");
	int ifindex = if_nametoindex(argv[1]);
	unsigned mac[6], flen = argc > 4 ? atoi(argv[4]) : 64;
	double secs = atof(argv[3]);
	uint8_t f[1514] = { 0 };

	if (!ifindex)
		die("no interface %s", argv[1]);
	if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		   &mac[5]) != 6)
		die("bad MAC %s", argv[2]);
	if (flen < 60 || flen > sizeof(f))
		die("bad frame length");
	for (int i = 0; i < 6; i++)
		f[i] = mac[i];
	memcpy(f + 6, "\x02\x00\x00\x00\xee\x01", 6);
	f[12] = 0x08;
	struct iphdr *ip = (struct iphdr *)(f + 14);

	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(flen - 14);
	ip->saddr = inet_addr("192.0.2.2");
	ip->daddr = inet_addr("203.0.113.9");
	uint32_t sum = 0;

	for (int i = 0; i < 10; i++)
		sum += ((uint16_t *)ip)[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	struct udphdr *uh = (struct udphdr *)(ip + 1);

	uh->source = htons(9999);
	uh->dest = htons(9);
	uh->len = htons(flen - 34);

	struct ring r = { 0 };

	ring_setup(&r, ifindex, true, TX_FRAMES);
	uint64_t t0 = mono(), end = t0 + (uint64_t)(secs * NS_PER_S), sent = 0;

	while (mono() < end) {
		for (int i = 0; i < BATCH; i++) {
			if (!tx_put(&r, f, flen))
				break;
			sent++;
		}
		tx_kick(&r);
	}
	double el = (mono() - t0) / 1e9;

	printf("flood sent=%" PRIu64 " secs=%.3f pps=%.0f\n", sent, el, sent / el);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static double parse_rate(const char *s)
{
	char *e;
	double v = strtod(s, &e);

	switch (*e) {
	case 'k': case 'K': v *= 1e3; break;
	case 'm': case 'M': v *= 1e6; break;
	case 'g': case 'G': v *= 1e9; break;
	default: break;
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: linkemu [--a IF] [--b IF] [--profile perfect|fiber|cell|sat]\n"
		"  [--rtt MS] [--jitter MS] [--jitter-corr MS] [--loss PCT] [--reorder]\n"
		"  [--rate BPS] [--burst-bytes B] [--queue-ms MS]\n"
		"  [--burst-every S] [--burst-len MS] [--burst-loss PCT] [--burst-delay MS]\n"
		"  [--log FILE] [--ctl SOCKPATH] [--pidfile FILE] [--seed N] [--pool N]\n"
		"  [--spin-us US] [--no-xdp] [--outage]\n"
		"       linkemu flood IFACE DSTMAC SECONDS [FRAMELEN]\n"
		"(see the header of tests/linkemu/linkemu.c)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "a", 1, 0, 'a' }, { "b", 1, 0, 'b' }, { "profile", 1, 0, 'P' },
		{ "rtt", 1, 0, 'd' }, { "jitter", 1, 0, 'j' }, { "jitter-corr", 1, 0, 'J' },
		{ "loss", 1, 0, 'l' }, { "reorder", 0, 0, 'R' }, { "rate", 1, 0, 'r' },
		{ "burst-bytes", 1, 0, 'B' }, { "queue-ms", 1, 0, 'q' },
		{ "burst-every", 1, 0, 'E' }, { "burst-len", 1, 0, 'L' },
		{ "burst-loss", 1, 0, 'X' }, { "burst-delay", 1, 0, 'D' },
		{ "log", 1, 0, 'o' }, { "ctl", 1, 0, 'c' }, { "pidfile", 1, 0, 'p' },
		{ "seed", 1, 0, 's' }, { "pool", 1, 0, 'n' }, { "spin-us", 1, 0, 'S' },
		{ "no-xdp", 0, 0, 'x' }, { "outage", 0, 0, 'O' }, { "help", 0, 0, 'h' },
		{ 0 },
	};
	bool start_outage = false;
	int c;

	if (argc > 1 && !strcmp(argv[1], "flood"))
		return flood(argc - 1, argv + 1);
	cfg.p = profiles[0];
	/* the profile first, whatever its place, so that flags override it */
	for (int i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--profile"))
			continue;
		unsigned k;

		for (k = 0; k < sizeof(profiles) / sizeof(profiles[0]); k++)
			if (!strcmp(argv[i + 1], profiles[k].name))
				break;
		if (k == sizeof(profiles) / sizeof(profiles[0]))
			die("unknown profile '%s' (perfect, fiber, cell, sat)", argv[i + 1]);
		cfg.p = profiles[k];
	}
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'a': cfg.if_a = optarg; break;
		case 'b': cfg.if_b = optarg; break;
		case 'P': break;
		case 'd': cfg.p.rtt_ms = atof(optarg); break;
		case 'j': cfg.p.jitter_ms = atof(optarg); break;
		case 'J': cfg.p.jitter_corr_ms = atof(optarg); break;
		case 'l': cfg.p.loss_pct = atof(optarg); break;
		case 'R': cfg.reorder = true; break;
		case 'r': cfg.rate_bps = parse_rate(optarg); break;
		case 'B': cfg.burst_bytes = atof(optarg); break;
		case 'q': cfg.queue_ms = atof(optarg); break;
		case 'E': cfg.p.burst_every_s = atof(optarg); break;
		case 'L': cfg.p.burst_len_ms = atof(optarg); break;
		case 'X': cfg.p.burst_loss_pct = atof(optarg); break;
		case 'D': cfg.p.burst_delay_ms = atof(optarg); break;
		case 'o': cfg.log_path = optarg; break;
		case 'c': cfg.ctl_path = optarg; break;
		case 'p': cfg.pid_path = optarg; break;
		case 's': cfg.seed = strtoull(optarg, NULL, 0); break;
		case 'n': cfg.pool = atoi(optarg); break;
		case 'S': cfg.spin_us = atof(optarg); break;
		case 'x': cfg.no_xdp = true; break;
		case 'O': start_outage = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (cfg.rate_bps > 0 && cfg.burst_bytes <= 0)
		cfg.burst_bytes = 3028;
	if (cfg.pool < 64)
		die("--pool too small");

	rng_s[0] = cfg.seed ? cfg.seed : now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);
	rng_s[1] = 0x9e3779b97f4a7c15ULL ^ rng_s[0] * 31;
	for (int i = 0; i < 16; i++)
		rng_next();

	if (cfg.log_path && !(log_fp = fopen(cfg.log_path, "a")))
		die("%s: %s", cfg.log_path, strerror(errno));
	prctl(PR_SET_TIMERSLACK, 1UL);

	static struct port pa, pb;

	pa.name = cfg.if_a;
	pb.name = cfg.if_b;
	if (!(pa.ifindex = if_nametoindex(pa.name)))
		die("no interface %s", pa.name);
	if (!(pb.ifindex = if_nametoindex(pb.name)))
		die("no interface %s", pb.name);
	if (!cfg.no_xdp)
		xdp_pass_attach(pa.ifindex);
	ring_setup(&pa.rx, pa.ifindex, false, RX_FRAMES);
	ring_setup(&pb.rx, pb.ifindex, false, RX_FRAMES);
	ring_setup(&pa.tx, pa.ifindex, true, TX_FRAMES);
	ring_setup(&pb.tx, pb.ifindex, true, TX_FRAMES);

	pool = calloc(cfg.pool, sizeof(*pool));
	freelist = calloc(cfg.pool, sizeof(*freelist));
	if (!pool || !freelist)
		die("out of memory for a pool of %u frames", cfg.pool);
	for (unsigned i = 0; i < cfg.pool; i++)
		freelist[nfree++] = cfg.pool - 1 - i;
	dirs[0] = (struct dir){ .name = "a2b", .in = &pa, .out = &pb };
	dirs[1] = (struct dir){ .name = "b2a", .in = &pb, .out = &pa };
	for (int i = 0; i < 2; i++)
		if (!(dirs[i].heap = calloc(cfg.pool, sizeof(uint32_t))))
			die("out of memory");

	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGUSR2);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	int sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);

	if (sfd < 0)
		die("signalfd: %s", strerror(errno));

	int cfd = -1;

	if (cfg.ctl_path) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(cfg.ctl_path) >= sizeof(sun.sun_path))
			die("--ctl path too long");
		strcpy(sun.sun_path, cfg.ctl_path);
		unlink(cfg.ctl_path);
		cfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (cfd < 0 || bind(cfd, (struct sockaddr *)&sun, sizeof(sun)))
			die("ctl socket %s: %s", cfg.ctl_path, strerror(errno));
	}

	t_start = mono();
	if (start_outage)
		set_outage(true);
	if (cfg.pid_path) {
		FILE *f = fopen(cfg.pid_path, "w");

		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
	}
	logline("start pid=%d a=%s b=%s rtt=%g jitter=%g jitter_corr=%g loss=%g rate=%g reorder=%d"
		" burst_every=%g burst_len=%g burst_loss=%g burst_delay=%g",
		getpid(), pa.name, pb.name, cfg.p.rtt_ms, cfg.p.jitter_ms, cfg.p.jitter_corr_ms,
		cfg.p.loss_pct, cfg.rate_bps, cfg.reorder, cfg.p.burst_every_s,
		cfg.p.burst_len_ms, cfg.p.burst_loss_pct, cfg.p.burst_delay_ms);

	struct pollfd pfd[4] = {
		{ .fd = pa.rx.fd, .events = POLLIN },
		{ .fd = pb.rx.fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
		{ .fd = cfd, .events = POLLIN },
	};
	uint64_t spin = (uint64_t)(cfg.spin_us * 1000);
	bool running = true;

	while (running) {
		uint64_t now = mono();
		unsigned got = rx_drain(&dirs[0], now) + rx_drain(&dirs[1], now);
		uint64_t n0 = release(&dirs[0], now), n1 = release(&dirs[1], now);
		uint64_t next = n0 && n1 ? (n0 < n1 ? n0 : n1) : (n0 | n1);

		if (got)
			continue;	/* keep draining while busy */
		now = mono();
		if (next && next <= now + spin) {
			/* busy-poll the last microseconds: only the rings */
			continue;
		}
		struct timespec ts, *tsp = NULL;

		if (next) {
			uint64_t w = next - now - spin;

			ts.tv_sec = w / NS_PER_S;
			ts.tv_nsec = w % NS_PER_S;
			tsp = &ts;
		}
		int r = ppoll(pfd, cfd >= 0 ? 4 : 3, tsp, NULL);

		if (r <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & POLLERR) {
				int err;
				socklen_t l = sizeof(err);

				getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &l);
			}
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					set_outage(true);
				else if (si.ssi_signo == SIGUSR2)
					set_outage(false);
				else if (si.ssi_signo == SIGHUP) {
					char b[1536];

					fmt_stats(b, sizeof(b));
					logline("%s", b);
				} else
					running = false;
			}
		}
		if (cfd >= 0 && pfd[3].revents & POLLIN)
			ctl_handle(cfd);
	}
	char b[1536];

	fmt_stats(b, sizeof(b));
	logline("%s", b);
	logline("exit");
	if (xdp_ifindex)
		bpf_xdp_detach(xdp_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (cfg.ctl_path)
		unlink(cfg.ctl_path);
	return 0;
}
