// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probe/prober.c - the prober: health probes through one given uplink (ICMP
 * echo, TCP connect, DNS query, HTTP GET, SIP OPTIONS), their life cycle,
 * the sockets they use, and their results.  The engines of each kind are
 * in icmp.c, tcp.c, http.c, dns.c and sip.c; what they share is in
 * probe_priv.h.
 *
 * The controller must know whether each uplink works, not only the active
 * one, so every socket is pinned to its uplink's device (SO_BINDTODEVICE)
 * and source address: the reply then comes back on that uplink and the
 * per-uplink routing rule ("from ADDR lookup TABLE") applies, whichever
 * uplink carries the default route.
 *
 * Everything runs on the caller's sd-event loop.  A probe is one struct
 * with one timer (its deadline) and, except for ICMP, one socket of its own;
 * ICMP probes share the prober's raw socket and are told apart by echo
 * identifier (per prober) and sequence (per probe).  Each probe ends exactly
 * once, in bsc_probe_finish(), which releases everything before it calls
 * back.  Results known before the loop can deliver them (a send that fails
 * at once) are "posted": stored in the probe, and its timer moved to now.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe_priv.h"

#define TIMER_ACCURACY_US 1000 /* sd-event's default (250 ms) would blur RTT-scale deadlines */

uint64_t bsc_probe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint16_t bsc_probe_random16(void)
{
	uint16_t v;

	/* getrandom() of 2 bytes never blocks once the pool is initialised, and
	 * a short read only weakens unpredictability, not correctness. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint16_t)(bsc_probe_now_ns() ^ (uint64_t)getpid());
	return v;
}

/* ------------------------------------------------------------------ */
/* probe life cycle                                                   */
/* ------------------------------------------------------------------ */

static void close_socket(struct probe *pr)
{
	/* An abortive close: a prober that connects every few seconds must not
	 * pile up TIME_WAIT sockets on the uplink's address. */
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	if (pr->fd < 0)
		return;
	if (pr->t.kind == BSC_PROBE_TCP || pr->t.kind == BSC_PROBE_HTTP)
		setsockopt(pr->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(pr->fd);
	pr->fd = -1;
}

static void probe_release(struct probe *pr)
{
	struct probe **pp;

	for (pp = &pr->p->probes; *pp; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			pr->p->n_probes--;
			break;
		}
	pr->io = sd_event_source_disable_unref(pr->io);
	pr->timer = sd_event_source_disable_unref(pr->timer);
	close_socket(pr);
	free(pr);
}

/* The one way a probe ends.  The callback comes last, once nothing of the
 * probe is left: it may send again, or free the prober. */
void bsc_probe_finish(struct probe *pr, int ok, uint64_t rtt_ns, const char *why)
{
	bsc_probe_cb cb = pr->p->cb;
	void *userdata = pr->p->userdata;
	unsigned idx = pr->idx;
	char reason[WHY_LEN];

	snprintf(reason, sizeof(reason), "%s", ok ? "" : (why && *why ? why : "failed"));
	probe_release(pr);
	if (cb)
		cb(userdata, idx, ok, ok ? rtt_ns : 0, reason);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe *pr = userdata;

	if (pr->posted)
		bsc_probe_finish(pr, pr->posted_ok, pr->posted_rtt, pr->why);
	else
		bsc_probe_finish(pr, 0, 0, "timeout");
	return 0;
}

/* Settle a probe now, report it from the loop: bsc_prober_send() must never
 * call back synchronously.  Its socket goes at once; the probe, with its
 * timer, at the next loop iteration. */
void bsc_probe_post(struct probe *pr, int ok)
{
	pr->posted = 1;
	pr->posted_ok = ok;
	pr->posted_rtt = ok ? bsc_probe_now_ns() - pr->start_ns : 0;
	pr->io = sd_event_source_disable_unref(pr->io);
	close_socket(pr);
	/* Should this fail, the deadline still delivers the posted result. */
	if (sd_event_source_set_time_relative(pr->timer, 0) >= 0)
		sd_event_source_set_enabled(pr->timer, SD_EVENT_ONESHOT);
}

__attribute__((format(printf, 2, 3)))
void bsc_probe_set_why(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pr->why, sizeof(pr->why), fmt, ap);
	va_end(ap);
}

/* "connect 203.0.113.10:80: Connection timed out" */
int bsc_probe_set_why_errno(struct probe *pr, const char *what, int err)
{
	char a[INET_ADDRSTRLEN];

	bsc_probe_set_why(pr, "%s %s:%u: %s", what, bsc_probe_addr_str(pr->t.addr, a),
			  bsc_probe_default_port(&pr->t), strerror(err));
	return -err;
}

/* A socket that can only use the prober's uplink and address. */
int bsc_probe_open_bound_socket(struct bsc_prober *p, int type, int proto, char *why)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = p->src };
	char a[INET_ADDRSTRLEN];
	int fd, err;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		err = errno;
		snprintf(why, WHY_LEN, "socket: %s", strerror(err));
		return -err;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname, strlen(p->ifname))) {
		err = errno;
		snprintf(why, WHY_LEN, "SO_BINDTODEVICE %s: %s", p->ifname, strerror(err));
		close(fd);
		return -err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		snprintf(why, WHY_LEN, "bind %s: %s", bsc_probe_addr_str(p->src, a), strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

struct sockaddr_in bsc_probe_target_sockaddr(const struct bsc_probe_target *t)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = t->addr,
				  .sin_port = htons(bsc_probe_default_port(t)) };
	return sa;
}

/* A UDP probe: its own socket, bound to the uplink, connected to the
 * target (only the target's answers get in). */
int bsc_probe_udp_open(struct probe *pr, const char *what)
{
	struct sockaddr_in dst = bsc_probe_target_sockaddr(&pr->t);

	pr->fd = bsc_probe_open_bound_socket(pr->p, SOCK_DGRAM, 0, pr->why);
	if (pr->fd < 0)
		return pr->fd;
	if (connect(pr->fd, (struct sockaddr *)&dst, sizeof(dst))) {
		char w[32];

		snprintf(w, sizeof(w), "%s connect", what);
		return bsc_probe_set_why_errno(pr, w, errno);
	}
	return 0;
}

/* ... then the request, its answers going to `on_readable`. */
int bsc_probe_udp_send(struct probe *pr, const void *req, size_t len,
		       sd_event_io_handler_t on_readable, const char *what)
{
	int r = sd_event_add_io(pr->p->ev, &pr->io, pr->fd, EPOLLIN, on_readable, pr);

	if (r < 0) {
		bsc_probe_set_why(pr, "sd_event_add_io: %s", strerror(-r));
		return r;
	}
	pr->start_ns = bsc_probe_now_ns();
	if (send(pr->fd, req, len, 0) < 0) {
		char w[32];

		snprintf(w, sizeof(w), "%s send", what);
		return bsc_probe_set_why_errno(pr, w, errno);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* prober                                                             */
/* ------------------------------------------------------------------ */

struct bsc_prober *bsc_prober_new(sd_event *ev, const char *ifname, bsc_probe_cb cb,
				  void *userdata)
{
	/* Identifiers follow each other from a random start: unique among this
	 * process's probers, unlikely to match another pinger's. */
	static uint16_t next_icmp_id;
	static int seeded;
	struct bsc_prober *p;

	if (!ev || !ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (!seeded) {
		next_icmp_id = bsc_probe_random16();
		seeded = 1;
	}
	p->ev = sd_event_ref(ev);
	strcpy(p->ifname, ifname);
	p->cb = cb;
	p->userdata = userdata;
	p->icmp_fd = -1;
	p->echo_id = next_icmp_id++;
	p->echo_seq = bsc_probe_random16();
	return p;
}

void bsc_prober_echo_id_below(struct bsc_prober *p, uint16_t limit)
{
	if (limit > 1)
		p->echo_id = (uint16_t)(1 + bsc_probe_random16() % (limit - 1));
}

void bsc_prober_free(struct bsc_prober *p)
{
	if (!p)
		return;
	while (p->probes)
		probe_release(p->probes); /* cancelled: no callback */
	bsc_probe_icmp_close(p);
	sd_event_unref(p->ev);
	free(p);
}

void bsc_prober_set_source(struct bsc_prober *p, uint32_t addr)
{
	if (addr == p->src)
		return;
	p->src = addr;
	/* The raw socket is bound to the old address: open a new one on the
	 * next ICMP probe.  Echoes in flight then time out, as their replies go
	 * to an address the uplink no longer has. */
	bsc_probe_icmp_close(p);
}

static int probe_start(struct probe *pr)
{
	switch (pr->t.kind) {
	case BSC_PROBE_ICMP:
		return bsc_probe_icmp_start(pr);
	case BSC_PROBE_TCP:
	case BSC_PROBE_HTTP:
		return bsc_probe_tcp_start(pr);
	case BSC_PROBE_DNS:
		return bsc_probe_dns_start(pr);
	case BSC_PROBE_SIP:
		return bsc_probe_sip_start(pr);
	}
	bsc_probe_set_why(pr, "unknown probe kind %d", (int)pr->t.kind);
	return -EINVAL;
}

int bsc_prober_send(struct bsc_prober *p, unsigned idx, const struct bsc_probe_target *t,
		    uint64_t timeout_ns)
{
	struct probe *pr;
	int r;

	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	pr->p = p;
	pr->idx = idx;
	pr->t = *t;
	pr->fd = -1;
	pr->start_ns = bsc_probe_now_ns();
	/* Only these two failures cannot be reported through the callback:
	 * there is no probe or no timer to deliver it. */
	r = sd_event_add_time_relative(p->ev, &pr->timer, CLOCK_MONOTONIC,
				       timeout_ns / 1000 + (timeout_ns % 1000 != 0), TIMER_ACCURACY_US,
				       on_deadline, pr);
	if (r < 0) {
		/* no timer, no callback: the one case callers tell by -ENOMEM */
		free(pr);
		return -ENOMEM;
	}
	pr->next = p->probes;
	p->probes = pr;
	p->n_probes++;

	if (!p->src) {
		bsc_probe_set_why(pr, "no source address");
		r = -EADDRNOTAVAIL;
	} else {
		r = probe_start(pr);
	}
	if (r < 0)
		bsc_probe_post(pr, 0);
	/* the callback comes: never -ENOMEM, which means it does not */
	return r == -ENOMEM ? -ENOBUFS : r < 0 ? r : 0;
}

unsigned bsc_prober_pending(const struct bsc_prober *p)
{
	return p->n_probes;
}
