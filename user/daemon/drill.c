// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/drill.c - a continuity drill, run inside the daemon's event loop.
 *
 *   BASELINE  a synthetic flow (ICMP echo from the edge's LAN address, sent
 *             into bascule_lan with BPF_PROG_RUN in live-frame mode, so it
 *             is forwarded, translated and redirected like a LAN host's)
 *             must come back through the primary;
 *   OUTAGE    the primary is played dead: the data plane drops what arrives
 *             on it (drop_drill) until a deadline pushed forward every tick.
 *             Probes and traffic go unanswered, the state machine detects
 *             it, the active uplink flips, the flow moves.  Cut-over = from
 *             the fault to the first echo reply through the backup;
 *   CHECKS    the site's service checks (DNS, HTTP, SIP, VPN peer...) over
 *             the backup, each with its result and time;
 *   RESTORE   the primary is given back; the failback must come within the
 *             failback hold plus detection;
 *   VERIFY    a new flow must leave and come back through the primary.
 *
 * The backup failing, the client going away (Ctrl-C), or the daemon
 * stopping abort the drill and give the primary back at once; a daemon that
 * dies gives it back by the deadline, and a new daemon clears it at start.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/drill.h"
#include "daemon/drill_priv.h"
#include "dataplane/dataplane.h"
#include "dataplane/flows.h"
#include "dataplane/maps.h"
#include "history/history.h"
#include "lib/checksum.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"

static const char *const phase_names[] = { "baseline", "outage", "checks", "restore", "verify",
					   "done" };


void bsc_drill_say(struct bsc_drill *x, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line[0] = '#';
	line[1] = ' ';
	bsc_log(LOG_INFO, "drill: %s", line + 2);
	if (x->client < 0)
		return;
	n = (int)strlen(line);
	line[n++] = '\n';
	/* a slow reader loses progress lines, never the final result; a
	 * gone one is noticed by its io source */
	(void)!send(x->client, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

const char *bsc_drill_uname(struct bsc_drill *x, uint32_t i)
{
	return i < (uint32_t)x->d->n ? x->d->up[i].cfg->name : "none";
}

double bsc_drill_ms_between(uint64_t a, uint64_t b)
{
	return a && b && b >= a ? (double)(b - a) / 1e6 : -1;
}

static void iso_time(uint64_t real_ns, char *buf, size_t len)
{
	time_t t = (time_t)(real_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(real_ns / 1000000ull % 1000));
}

/* Milliseconds to 0.1, written as such (not 192.19999999999999). */
static struct json_object *ms_or_null(double ms)
{
	char s[32];

	if (ms < 0)
		return NULL;
	snprintf(s, sizeof(s), "%.1f", ms);
	return json_object_new_double_s(strtod(s, NULL), s);
}

static char *result_json(struct bsc_drill *x)
{
	const struct bsc_drill_cfg *dc = &x->dc;
	struct json_object *o = json_object_new_object(), *f = json_object_new_object();
	struct json_object *checks = json_object_new_array(), *fb = json_object_new_object();
	uint64_t end = bsc_real_ns();
	char t[80], a[INET_ADDRSTRLEN], spec[256];
	char *s;
	int i;

	json_object_object_add(o, "drill", json_object_new_string(x->result));
	json_object_object_add(o, "reason", json_object_new_string(x->reason));
	json_object_object_add(o, "exit_code", json_object_new_int(x->exit_code));
	iso_time(x->real_start, t, sizeof(t));
	json_object_object_add(o, "started", json_object_new_string(t));
	iso_time(end, t, sizeof(t));
	json_object_object_add(o, "ended", json_object_new_string(t));
	json_object_object_add(o, "primary", json_object_new_string(bsc_drill_uname(x, x->primary)));
	json_object_object_add(o, "backup", json_object_new_string(bsc_drill_uname(x, x->backup)));
	json_object_object_add(o, "rto_ms", json_object_new_int((int)x->d->cfg->site.rto_ms));
	json_object_object_add(o, "cutover_ms", ms_or_null(bsc_drill_ms_between(x->t_fault, x->t_cut)));
	json_object_object_add(o, "detection_ms", ms_or_null(bsc_drill_ms_between(x->t_fault, x->t_detect)));
	json_object_object_add(o, "flip_ms", ms_or_null(bsc_drill_ms_between(x->t_fault, x->t_flip)));
	json_object_object_add(o, "phase_reached", json_object_new_string(phase_names[x->ph]));

	inet_ntop(AF_INET, &x->target, a, sizeof(a));
	json_object_object_add(f, "target", json_object_new_string(a));
	json_object_object_add(f, "interval_ms", json_object_new_int((int)dc->interval_ms));
	json_object_object_add(f, "sent", json_object_new_int64((int64_t)x->sent));
	json_object_object_add(f, "answered", json_object_new_int64((int64_t)x->answered));
	json_object_object_add(f, "answered_via_primary", json_object_new_int64((int64_t)x->via_primary));
	json_object_object_add(f, "answered_via_backup", json_object_new_int64((int64_t)x->via_backup));
	json_object_object_add(f, "unanswered", json_object_new_int64((int64_t)(x->sent - x->answered)));
	json_object_object_add(f, "send_errors", json_object_new_int64((int64_t)x->send_errors));
	json_object_object_add(f, "rtt_via_backup_ms", ms_or_null(x->rtt_backup_ms));
	json_object_object_add(o, "synthetic_flow", f);

	for (i = 0; i < dc->n_checks; i++) {
		struct json_object *c = json_object_new_object();

		bsc_probe_target_format(&dc->checks[i].t, spec, sizeof(spec));
		json_object_object_add(c, "name", json_object_new_string(dc->checks[i].name));
		json_object_object_add(c, "probe", json_object_new_string(spec));
		json_object_object_add(c, "ran", json_object_new_boolean(x->check[i].done));
		json_object_object_add(c, "ok", json_object_new_boolean(x->check[i].ok));
		json_object_object_add(c, "ms", x->check[i].ok ? ms_or_null(x->check[i].ms) : NULL);
		json_object_object_add(c, "error", json_object_new_string(x->check[i].why));
		json_object_object_add(c, "attempts", json_object_new_int(x->check[i].attempt));
		json_object_array_add(checks, c);
	}
	json_object_object_add(o, "checks", checks);

	json_object_object_add(fb, "ok", json_object_new_boolean(x->t_failback && x->t_verified));
	json_object_object_add(fb, "ms", ms_or_null(bsc_drill_ms_between(x->t_restore, x->t_failback)));
	json_object_object_add(fb, "hold_ms", json_object_new_int((int)x->d->cfg->failback_hold_ms));
	json_object_object_add(fb, "new_flow_via_primary", json_object_new_boolean(x->t_verified != 0));
	json_object_object_add(o, "failback", fb);

	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static void play_dead(struct bsc_drill *x, uint64_t until_ns)
{
	const struct bsc_maps *m = &x->d->dp.maps;
	struct bsc_uplink e;

	if (x->primary >= (uint32_t)x->d->n || bsc_uplink_read(m, x->primary, &e))
		return;
	e.drill_until_ns = until_ns;
	if (bsc_uplink_write(m, x->primary, &e))
		bsc_log(LOG_ERR, "drill: cannot write uplink %s: %s", bsc_drill_uname(x, x->primary),
			strerror(errno));
}

/* The primary's damping back to what it was before the drill. */
static void forgive(struct bsc_drill *x)
{
	struct bsc_health_state *hs;

	if (x->forgiven || x->primary >= (uint32_t)x->d->n)
		return;
	hs = &x->d->up[x->primary].hs;
	hs->penalty = x->penalty;
	hs->penalty_ns = x->penalty_ns;
	x->forgiven = 1;
}

static void drill_free(struct bsc_drill *x)
{
	sd_event_source_disable_unref(x->send_timer);
	sd_event_source_disable_unref(x->raw_io);
	sd_event_source_disable_unref(x->client_io);
	bsc_prober_free(x->prober);
	if (x->raw >= 0)
		close(x->raw);
	if (x->client >= 0)
		close(x->client);
	free(x);
}

/* The end, whatever it is: the primary back, the result out. */
__attribute__((format(printf, 4, 5)))
static void finish(struct bsc_drill *x, int code, const char *result, const char *fmt, ...)
{
	va_list ap;
	char *json;

	play_dead(x, 0);
	forgive(x);
	x->exit_code = code;
	snprintf(x->result, sizeof(x->result), "%s", result);
	va_start(ap, fmt);
	vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
	va_end(ap);
	json = result_json(x);
	x->ph = DONE;
	bsc_drill_say(x, "%s: %s", result, x->reason);
	daemon_record(x->d, "drill", bsc_drill_uname(x, x->primary), "drill", result, x->reason);
	if (x->client >= 0 && json) {
		size_t l = strlen(json);

		/* the final line: blocking, with the socket's send timeout */
		(void)!send(x->client, json, l, MSG_NOSIGNAL);
		(void)!send(x->client, "\n", 1, MSG_NOSIGNAL);
	}
	if (x->t_fault) { /* it ran: the metrics' last drill */
		x->d->last_drill.runs++;
		x->d->last_drill.known = 1;
		x->d->last_drill.passed = code == BSC_DRILL_PASSED;
		x->d->last_drill.end_s = (double)bsc_real_ns() / 1e9;
		x->d->last_drill.cutover_ms = x->t_cut ? bsc_drill_ms_between(x->t_fault, x->t_cut) : -1;
	}
	/* the history keeps the drills that ran (a refusal changed nothing) */
	if (x->d->hist && json && x->t_fault &&
	    bsc_history_drill(x->d->hist, (int64_t)(x->real_start / 1000000ull),
			      (int64_t)(bsc_real_ns() / 1000000ull), code == BSC_DRILL_PASSED,
			      x->t_cut ? bsc_drill_ms_between(x->t_fault, x->t_cut) : -1,
			      x->d->cfg->site.rto_ms, json))
		bsc_log(LOG_WARNING, "drill: its result could not be kept in the history");
	free(json);
	if (x->d->drill == x)
		x->d->drill = NULL;
	drill_free(x);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct bsc_drill *x = data;
	char b[64];
	ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

	if (n > 0)
		return 0; /* nothing more is expected; ignore it */
	if (n < 0 && errno == EAGAIN)
		return 0;
	/* The operator pressed Ctrl-C, or the connection broke. */
	close(x->client);
	x->client = -1;
	x->client_io = sd_event_source_disable_unref(x->client_io);
	finish(x, BSC_DRILL_ABORTED, "aborted",
	       "interrupted: the client went away (Ctrl-C?); %s given back", bsc_drill_uname(x, x->primary));
	return 0;
}

static void enter(struct bsc_drill *x, enum phase p)
{
	x->ph = p;
	x->t_phase = bsc_now_ns();
}

static uint32_t first_icmp_target(const struct bsc_uplink_cfg *u)
{
	int i;

	for (i = 0; i < u->n_probes; i++)
		if (u->probes[i].kind == BSC_PROBE_ICMP)
			return u->probes[i].addr;
	return 0;
}

static void refuse(struct daemon *d, int fd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(struct daemon *d, int fd, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	bsc_log(LOG_WARNING, "drill refused: %s", reason);
	json_object_object_add(o, "drill", json_object_new_string("refused"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "exit_code", json_object_new_int(BSC_DRILL_REFUSED));
	dprintf(fd, "# refused: %s\n%s\n", reason,
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	close(fd);
}

void bsc_drill_start(struct daemon *d, int fd)
{
	const struct bsc_drill_cfg *dc = &d->cfg->drill;
	struct bsc_config c;
	struct bsc_drill *x;
	uint32_t zero = 0, primary = d->active, backup;
	char why[160];

	if (d->drill) {
		refuse(d, fd, "a drill is already running (since %.1f s ago)",
		       (double)(bsc_now_ns() - d->drill->t_start) / 1e9);
		return;
	}
	if (primary >= (uint32_t)d->n) {
		refuse(d, fd, "no uplink carries the site's traffic now");
		return;
	}
	if (d->up[primary].hs.health != BSC_H_UP) {
		refuse(d, fd, "the active uplink %s is %s (%s): not the moment for a drill",
		       d->up[primary].cfg->name, bsc_health_names[d->up[primary].hs.health],
		       d->up[primary].hs.reason);
		return;
	}
	backup = daemon_backup_for(d, primary);
	if (backup >= (uint32_t)d->n) {
		refuse(d, fd, "no healthy backup uplink: playing %s dead would take the site offline",
		       d->up[primary].cfg->name);
		return;
	}
	if (d->up[backup].hs.health != BSC_H_UP) {
		refuse(d, fd, "the backup %s is %s (%s): the drill would leave the site on a weak link",
		       d->up[backup].cfg->name, bsc_health_names[d->up[backup].hs.health],
		       d->up[backup].hs.reason);
		return;
	}
	if (bpf_map_lookup_elem(d->dp.maps.config, &zero, &c) || !c.lan_ifindex) {
		refuse(d, fd, "the data plane is not configured yet");
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		refuse(d, fd, "out of memory");
		return;
	}
	x->d = d;
	x->dc = *dc;
	x->client = fd;
	x->raw = -1;
	x->primary = primary;
	x->backup = backup;
	x->penalty = d->up[primary].hs.penalty;
	x->penalty_ns = d->up[primary].hs.penalty_ns;
	x->target = dc->target ? dc->target : first_icmp_target(d->up[primary].cfg);
	x->lan_ifindex = c.lan_ifindex;
	x->lan_addr = c.lan_addr;
	memcpy(x->lan_mac, c.lan_mac, 6);
	x->prog_fd = bsc_dp_lan_prog_fd(&d->dp);
	x->t_start = x->t_heartbeat = bsc_now_ns();
	x->real_start = bsc_real_ns();
	/* identifiers unlikely to meet a LAN host's or a probe's */
	x->id = (uint16_t)(0xd000 | (x->t_start >> 10 & 0x0fff));
	x->verify_id = (uint16_t)(x->id ^ 0x0800);
	if (!x->target) {
		free(x);
		refuse(d, fd, "no target for the synthetic flow: set [drill] target, or give %s an icmp probe",
		       d->up[primary].cfg->name);
		return;
	}
	/* The synthetic flow's replies come in on the backup, to the LAN
	 * address, which only the main table routes.  With manage_routes its
	 * default route follows the active uplink, so the reverse-path filter
	 * lets them in after the cut-over; without it, ask the kernel now. */
	if (!d->cfg->manage_routes && d->up[backup].ifindex) {
		struct nl_route r;
		char t[INET_ADDRSTRLEN];
		int ret = nl_route_get(x->lan_addr, x->target, d->up[backup].ifindex, 0, &r);

		if (ret) {
			inet_ntop(AF_INET, &x->target, t, sizeof(t));
			free(x);
			refuse(d, fd, "the kernel would drop the synthetic flow's replies from %s coming in on %s (%s): a strict rp_filter with no route back through %s, and manage_routes is off; set net.ipv4.conf.all.rp_filter and net.ipv4.conf.%s.rp_filter to 2 (loose)",
			       t, d->up[backup].cfg->ifname, strerror(-ret), d->up[backup].cfg->name,
			       d->up[backup].cfg->ifname);
			return;
		}
	}
	if (bsc_drill_flow_open(x, why, sizeof(why))) {
		x->client = -1;
		drill_free(x);
		refuse(d, fd, "%s", why);
		return;
	}
	sd_event_add_io(d->ev, &x->client_io, fd, EPOLLIN | EPOLLRDHUP, on_client, x);
	d->drill = x;
	enter(x, BASELINE);
	bsc_drill_say(x, "drill: %s is the primary, %s the backup; RTO %u ms; synthetic flow every %u ms",
	    bsc_drill_uname(x, primary), bsc_drill_uname(x, backup), x->d->cfg->site.rto_ms, dc->interval_ms);
	daemon_record(d, "drill", bsc_drill_uname(x, primary), "-", "started", "continuity drill");
}

static int backup_failed(struct bsc_drill *x)
{
	struct uplink_rt *b = &x->d->up[x->backup];

	if (b->hs.health == BSC_H_UP || b->hs.health == BSC_H_DEGRADED)
		return 0;
	finish(x, BSC_DRILL_ABORTED, "aborted", "the backup %s failed during the drill (%s): %s given back at once",
	       b->cfg->name, b->hs.reason, bsc_drill_uname(x, x->primary));
	return 1;
}

void bsc_drill_tick(struct daemon *d)
{
	struct bsc_drill *x = d->drill;
	const struct bsc_drill_cfg *dc;
	struct uplink_rt *p;
	uint64_t now = bsc_now_ns(), in_phase;
	uint32_t fb_timeout;
	int i, failed;

	if (!x)
		return;
	dc = &x->dc;
	p = &d->up[x->primary];
	in_phase = now - x->t_phase;
	if (x->ph == OUTAGE || x->ph == CHECKS)
		play_dead(x, now + DEADMAN_NS);
	if (now - x->t_heartbeat >= HEARTBEAT_NS) {
		x->t_heartbeat = now;
		bsc_drill_say(x, "%s: active %s, %s %s, synthetic flow %llu sent / %llu answered",
		    phase_names[x->ph], daemon_active_name(d), p->cfg->name,
		    bsc_health_names[p->hs.health], (unsigned long long)x->sent,
		    (unsigned long long)x->answered);
	}

	switch (x->ph) {
	case BASELINE:
		if (x->via_primary >= BASELINE_NEED) {
			enter(x, OUTAGE);
			x->t_fault = now;
			play_dead(x, now + DEADMAN_NS);
			bsc_drill_say(x, "%s played dead (its replies are dropped in the data plane)",
			    p->cfg->name);
			daemon_record(d, "drill", p->cfg->name, "up", "played dead", "drill outage");
		} else if (in_phase > BASELINE_NS) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &x->target, a, sizeof(a));
			finish(x, BSC_DRILL_REFUSED, "refused",
			       "the synthetic flow to %s got %llu of %llu answers through %s (%llu send errors): set [drill] target to an address that answers pings",
			       a, (unsigned long long)x->via_primary, (unsigned long long)x->sent,
			       p->cfg->name, (unsigned long long)x->send_errors);
		}
		return;
	case OUTAGE:
		if (!x->t_detect && p->hs.health == BSC_H_DOWN)
			x->t_detect = now;
		if (!x->t_flip && d->active == x->backup)
			x->t_flip = now;
		if (backup_failed(x))
			return;
		if (x->t_cut) {
			bsc_drill_say(x, "cut-over: the synthetic flow answers through %s %.1f ms after the fault (%s declared down after %.1f ms)",
			    bsc_drill_uname(x, x->backup), bsc_drill_ms_between(x->t_fault, x->t_cut), p->cfg->name,
			    bsc_drill_ms_between(x->t_fault, x->t_detect));
			enter(x, CHECKS);
			if (bsc_drill_checks_start(x)) {
				finish(x, BSC_DRILL_ABORTED, "aborted", "cannot run the checks over %s",
				       bsc_drill_uname(x, x->backup));
			}
		} else if (in_phase > (uint64_t)dc->cutover_timeout_ms * 1000000ull) {
			finish(x, BSC_DRILL_FAILED, "failed",
			       "no cut-over within %u ms: the synthetic flow never answered through %s",
			       dc->cutover_timeout_ms, bsc_drill_uname(x, x->backup));
		}
		return;
	case CHECKS:
		if (backup_failed(x))
			return;
		if (x->checks_pending > 0 &&
		    in_phase > ((uint64_t)dc->check_timeout_ms + 5000) * 1000000ull) {
			/* every probe ends by its own timer: this is a safety net */
			for (i = 0; i < dc->n_checks; i++)
				if (!x->check[i].done) {
					x->check[i].done = 1;
					x->check[i].attempt = x->check[i].sent;
					snprintf(x->check[i].why, sizeof(x->check[i].why),
						 "no result within %u ms", dc->check_timeout_ms + 5000);
				}
			x->checks_pending = 0;
		}
		if (x->checks_pending > 0) {
			bsc_drill_checks_retry(x, now);
			return;
		}
		enter(x, RESTORE);
		x->t_restore = now;
		play_dead(x, 0);
		forgive(x);
		bsc_drill_say(x, "%s given back; waiting for the failback (hold %u ms)", p->cfg->name,
		    d->cfg->failback_hold_ms);
		daemon_record(d, "drill", p->cfg->name, "played dead", "given back", "drill restore");
		return;
	case RESTORE:
		fb_timeout = dc->failback_timeout_ms ? dc->failback_timeout_ms :
						       d->cfg->failback_hold_ms + 30000;
		if (d->active == x->primary) {
			x->t_failback = now;
			bsc_drill_say(x, "failback to %s %.1f ms after it was given back", p->cfg->name,
			    bsc_drill_ms_between(x->t_restore, now));
			enter(x, VERIFY);
		} else if (in_phase > (uint64_t)fb_timeout * 1000000ull) {
			finish(x, BSC_DRILL_FAILED, "failed",
			       "no failback to %s within %u ms: it is %s (%s)", p->cfg->name,
			       fb_timeout, bsc_health_names[p->hs.health], p->hs.reason);
		}
		return;
	case VERIFY:
		if (!x->t_verified && in_phase <= VERIFY_NS)
			return;
		if (!x->t_verified) {
			finish(x, BSC_DRILL_FAILED, "failed",
			       "after the failback, a new flow does not come back through %s",
			       p->cfg->name);
			return;
		}
		failed = 0;
		for (i = 0; i < dc->n_checks; i++)
			failed += !x->check[i].ok;
		{
			double cut = bsc_drill_ms_between(x->t_fault, x->t_cut);

			if (cut > x->d->cfg->site.rto_ms)
				finish(x, BSC_DRILL_FAILED, "failed",
				       "cut-over took %.1f ms, over the site's RTO of %u ms%s", cut,
				       x->d->cfg->site.rto_ms, failed ? "; and a service check failed" : "");
			else if (failed)
				finish(x, BSC_DRILL_FAILED, "failed",
				       "%d of %d service check(s) failed over %s", failed, dc->n_checks,
				       bsc_drill_uname(x, x->backup));
			else
				finish(x, BSC_DRILL_PASSED, "passed",
				       "cut-over %.1f ms (RTO %u ms), %d check(s) ok over %s, failback ok",
				       cut, x->d->cfg->site.rto_ms, dc->n_checks, bsc_drill_uname(x, x->backup));
		}
		return;
	case DONE:
		return;
	}
}

double bsc_drill_running_s(const struct daemon *d)
{
	return d->drill ? (double)(bsc_now_ns() - d->drill->t_start) / 1e9 : -1;
}

void bsc_drill_stop(struct daemon *d, const char *why)
{
	if (d->drill)
		finish(d->drill, BSC_DRILL_ABORTED, "aborted", "%s; %s given back", why,
		       bsc_drill_uname(d->drill, d->drill->primary));
}
