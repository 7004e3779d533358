// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/loop.c - the controller's sd-event loop: start-up (data plane,
 * history, LAN, uplinks, control socket, metrics), its timers (the tick,
 * the refresh, the flow expiry in slices, the history's minute), the
 * loop's own lateness gauge, the metrics' snapshot, signals, and a clean
 * stop.
 */
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/state.h"
#include "dataplane/flows.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"

const char *daemon_active_name(struct daemon *d)
{
	return d->active < (uint32_t)d->n ? d->up[d->active].cfg->name : "none";
}

int daemon_rearm(sd_event_source *s, uint64_t ms)
{
	sd_event_source_set_time_relative(s, ms * 1000);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* What the metrics thread may see: copied under the lock, never shared. */
static void snapshot(struct daemon *d)
{
	struct bsc_metrics_view v = { .n = d->n };
	int i;

	v.active_changes = d->active_changes;
	v.start_time_s = d->start_time_s;
	v.drills = d->last_drill.runs;
	v.drill_known = d->last_drill.known;
	v.drill_passed = d->last_drill.passed;
	v.drill_end_s = d->last_drill.end_s;
	v.drill_cutover_ms = d->last_drill.cutover_ms;
	v.flows_known = d->flows_known;
	v.flows_total = d->flows_total;
	memcpy(v.flows_per, d->flows_per, sizeof(v.flows_per));
	v.loop_lag_ns = d->lag_max_ns[0] > d->lag_max_ns[1] ? d->lag_max_ns[0] : d->lag_max_ns[1];
	if (d->hist) {
		struct bsc_history_writer_stats ws;

		bsc_history_writer_stats(d->hist, &ws);
		v.hist_on = 1;
		v.hist_failed = ws.failed;
		v.hist_dropped = ws.dropped;
	}
	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];
		struct bsc_metrics_uplink *m = &v.up[i];

		snprintf(m->name, sizeof(m->name), "%s", u->cfg->name);
		m->health = u->hs.health;
		m->held = u->hs.held;
		m->carrier = u->carrier;
		m->path_warning = u->path_warning[0] != 0;
		m->active = d->active == u->idx;
		m->priority = u->cfg->priority;
		m->rtt_ms = u->hs.rtt_us / 1000.0;
		m->jitter_ms = u->hs.jitter_us / 1000.0;
		m->loss_pct = u->hs.loss_pct;
		m->transitions = u->transitions;
		m->probes_sent = u->probes_sent;
		m->probes_ok = u->probes_ok;
		m->probes_failed = u->probes_failed;
	}
	pthread_mutex_lock(&d->view_lock);
	d->view = v;
	pthread_mutex_unlock(&d->view_lock);
}

static void metrics_view(void *data, struct bsc_metrics_view *v)
{
	struct daemon *d = data;

	pthread_mutex_lock(&d->view_lock);
	*v = d->view;
	pthread_mutex_unlock(&d->view_lock);
}

/* The tick was due at `due_us` (CLOCK_MONOTONIC): anything that held the
 * loop shows here as lateness. */
static void loop_lag(struct daemon *d, uint64_t due_us)
{
	uint64_t now = bsc_now_ns(), due = due_us * 1000, lag = now > due ? now - due : 0;

	if (now - d->lag_win_start_ns >= LAG_WINDOW_S * 1000000000ull) {
		d->lag_max_ns[1] = d->lag_max_ns[0];
		d->lag_max_ns[0] = 0;
		d->lag_win_start_ns = now;
	}
	if (lag > d->lag_max_ns[0])
		d->lag_max_ns[0] = lag;
	if (lag > d->lag_max_all_ns)
		d->lag_max_all_ns = lag;
	d->lag_last_ns = lag;
}

static int tick_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;

	loop_lag(d, usec);
	daemon_passive_signal(d, bsc_now_ns());
	daemon_reevaluate(d);
	bsc_drill_tick(d);
	daemon_history_settle(d);
	snapshot(d);
	return daemon_rearm(s, TICK_MS);
}

static int refresh_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;
	int i;

	for (i = 0; i < d->n; i++)
		daemon_refresh_uplink(d, &d->up[i]);
	daemon_reevaluate(d);
	return daemon_rearm(s, d->cfg->refresh_interval_ms);
}

static int history_timer(sd_event_source *s, uint64_t usec, void *data)
{
	daemon_history_sample(data);
	return daemon_rearm(s, 60000);
}

static int gc_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct daemon *d = data;
	int n = bsc_flows_gc_step(&d->dp.maps, &d->to, bsc_now_ns(), &d->gc, BSC_GC_SLICE);

	if (n > 0)
		d->gc_expired += n;
	if (!d->gc.done)
		return daemon_rearm(s, 1);
	if (n >= 0) {
		/* the table as this pass saw it, for the metrics */
		d->flows_known = 1;
		d->flows_total = d->gc.kept;
		memcpy(d->flows_per, d->gc.kept_per, sizeof(d->flows_per));
	}
	if (d->gc_expired > 0)
		bsc_log(LOG_DEBUG, "expired %d flow(s)", d->gc_expired);
	d->gc_expired = 0;
	return daemon_rearm(s, d->cfg->gc_interval_ms);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *data)
{
	struct daemon *d = data;

	bsc_log(LOG_INFO, "signal %u: %s", si->ssi_signo,
		d->o->keep ? "leaving the data plane running (pinned)" : "detaching");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int add_timer(struct daemon *d, uint64_t ms, sd_event_time_handler_t cb)
{
	return sd_event_add_time_relative(d->ev, NULL, CLOCK_MONOTONIC, ms * 1000, 1000, cb, d);
}

/* The NAT's ports and the box's own must never meet: the kernel hands its
 * ephemeral ports (net.ipv4.ip_local_port_range of this namespace) to the
 * box's connections (probes, DNS, a VPN), and a NAT binding on one of them
 * would take their replies.  0 when every uplink's range is clear of it. */
int bsc_nat_ranges_check(const struct bsc_cfg *cfg, const char *range_file,
			 char *err, size_t errlen)
{
	unsigned lo, hi;
	FILE *f = fopen(range_file, "r");
	int i, n;

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", range_file, strerror(e));
		return -e;
	}
	n = fscanf(f, "%u %u", &lo, &hi);
	fclose(f);
	if (n != 2) {
		snprintf(err, errlen, "%s: not two port numbers", range_file);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_uplinks; i++) {
		const struct bsc_uplink_cfg *u = &cfg->uplinks[i];

		if (u->nat_port_max < lo || u->nat_port_min > hi)
			continue;
		snprintf(err, errlen,
			 "%s:%d: uplink %s: nat_ports %u-%u overlap the kernel's ephemeral ports %u-%u (%s): the box's own connections could be given the NAT's ports; move nat_ports, or the sysctl net.ipv4.ip_local_port_range",
			 cfg->path, u->line, u->name, u->nat_port_min, u->nat_port_max, lo, hi,
			 range_file);
		return -EADDRINUSE;
	}
	return 0;
}

int bsc_daemon_run(const struct bsc_cfg *cfg, const struct bsc_run_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));
	char err[512];
	sigset_t ss;
	int i, ret;

	if (!d)
		return -ENOMEM;
	d->cfg_store = *cfg;
	d->cfg = &d->cfg_store;
	cfg = d->cfg;
	pthread_mutex_init(&d->view_lock, NULL);
	d->start_time_s = (uint64_t)time(NULL);
	d->o = o;
	d->n = cfg->n_uplinks;
	d->active = BSC_NO_UPLINK;
	bsc_timeouts_from_cfg(&d->to, cfg);
	/* Hooks are reaped by the hook runner, from the loop (pidfd). */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);

	ret = bsc_nat_ranges_check(cfg, BSC_PORT_RANGE_SYSCTL, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		free(d);
		return ret;
	}
	ret = sd_event_new(&d->ev);
	if (ret < 0) {
		bsc_log(LOG_ERR, "event loop: %s", strerror(-ret));
		free(d);
		return ret;
	}
	d->hooks = bsc_hooks_new(d->ev, cfg->hook_max_running, cfg->hook_timeout_ms);
	if (!d->hooks)
		bsc_log(LOG_WARNING, "hooks: out of memory: none will run");
	ret = bsc_dp_load(&d->dp, cfg, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		goto out_ev;
	}
	if (cfg->history[0] && bsc_history_open(cfg->history, cfg->history_retention_days, &d->hist,
						err, sizeof(err)))
		bsc_log(LOG_ERR, "%s: running without a history", err);
	if (d->hist) {
		struct bsc_drill_rec *dr = NULL;
		int ndr = 0;

		bsc_history_daemon(d->hist, (int64_t)(bsc_real_ns() / 1000000), 1);
		bsc_history_prune(d->hist, (int64_t)(bsc_real_ns() / 1000000));
		/* the last drill, for the metrics, until the next one */
		if (!bsc_history_drills(d->hist, INT64_MAX, 1, &dr, &ndr) && ndr == 1) {
			d->last_drill.known = 1;
			d->last_drill.passed = dr[0].passed;
			d->last_drill.end_s = (double)dr[0].end_ms / 1000.0;
			d->last_drill.cutover_ms = dr[0].cutover_ms;
		}
		free(dr);
		/* from here on the disk cannot hold the loop: a thread writes */
		if (bsc_history_start_writer(d->hist, HISTORY_QUEUE))
			bsc_log(LOG_WARNING, "history: no writer thread: the loop writes it");
	}
	daemon_init_policy(&d->dp.maps);
	/* The generation's bump program is made on the first bump: made now,
	 * its descriptor is there from the start, not after the first flow
	 * that goes (an adopted data plane's caches are renewed: harmless). */
	bsc_flows_invalidate(&d->dp.maps);
	daemon_clear_stale_uplinks(cfg, &d->dp.maps);
	if (cfg->manage_routes)
		d->saved_route = !nl_main_default(cfg->route_metric, &d->saved_gw, &d->saved_oif);
	ret = daemon_setup_lan(cfg, &d->dp.maps);
	if (ret)
		goto out;
	/* The monitor first: the gateways' MACs asked for while the uplinks
	 * are set up come back on it. */
	d->mon = nl_monitor_open();
	if (d->mon)
		sd_event_add_io(d->ev, NULL, mnl_socket_get_fd(d->mon), EPOLLIN, daemon_monitor_io, d);
	else
		bsc_log(LOG_WARNING, "no netlink monitor: link and gateway changes seen every %u ms only",
			cfg->refresh_interval_ms);
	for (i = 0; i < d->n; i++)
		daemon_setup_uplink(d, i);
	daemon_reevaluate(d);
	ret = daemon_classes_load(d);
	if (ret) {
		bsc_log(LOG_ERR, "cannot load the traffic classes' rules: %s", strerror(-ret));
		goto out;
	}
	/* Where the site stands, flipped or adopted.  A fresh start has no
	 * uplink usable until the first probes answer (milliseconds): the
	 * site is offline only if none is within the grace (daemon_history_settle). */
	if (d->hist && d->active < (uint32_t)d->n)
		bsc_history_active(d->hist, (int64_t)(bsc_real_ns() / 1000000), daemon_active_name(d),
				   "daemon started");
	else if (d->hist) {
		d->hist_start_ms = (int64_t)(bsc_real_ns() / 1000000);
		d->hist_start_mono = bsc_now_ns();
	}

	ret = bsc_dp_attach(&d->dp, cfg->lan_ifname, 1, err, sizeof(err));
	for (i = 0; !ret && i < cfg->n_uplinks; i++)
		ret = bsc_dp_attach(&d->dp, cfg->uplinks[i].ifname, 0, err, sizeof(err));
	if (ret) {
		bsc_log(LOG_ERR, "%s", err);
		goto out;
	}
	for (i = 0; i < d->dp.n_links; i++)
		bsc_log(LOG_INFO, "XDP %s on %s%s", i == 0 ? "bascule_lan" : "bascule_wan",
			d->dp.links[i].ifname, d->dp.links[i].adopted ? " (adopted running link)" : "");

	d->ctl = bsc_ctl_listen(d->ev, cfg->control_socket, cfg->control_group, daemon_on_request, d,
				err, sizeof(err));
	if (!d->ctl)
		bsc_log(LOG_WARNING, "%s", err);
	bsc_ctl_set_taker(d->ctl, daemon_take_request);
	add_timer(d, TICK_MS, tick_timer);
	add_timer(d, cfg->refresh_interval_ms, refresh_timer);
	add_timer(d, cfg->gc_interval_ms, gc_timer);
	if (d->hist)
		add_timer(d, 60000, history_timer);
	sd_event_add_signal(d->ev, NULL, SIGINT, on_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGTERM, on_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGHUP, daemon_on_sighup, d);
	snapshot(d);
	if (strcmp(cfg->metrics_listen, "off")) {
		d->metrics = bsc_metrics_start(cfg->metrics_listen, &d->dp.maps, metrics_view, d,
					       err, sizeof(err));
		if (!d->metrics)
			bsc_log(LOG_WARNING, "metrics: %s", err);
	}
	/* Under systemd: pings at half of WatchdogSec from the loop itself, so
	 * a stuck loop is restarted (the data plane keeps forwarding). */
	sd_event_set_watchdog(d->ev, 1);

	bsc_log(LOG_INFO, "running: pin root %s, %d uplink(s), flow table %u, control %s",
		cfg->pin_root, cfg->n_uplinks, cfg->flow_table_size, cfg->control_socket);
	printf("READY\n");
	fflush(stdout);
	sd_notifyf(0, "READY=1\nSTATUS=forwarding, %d uplink(s), active %s", d->n, daemon_active_name(d));
	ret = sd_event_loop(d->ev);
	if (ret < 0)
		bsc_log(LOG_ERR, "event loop: %s", strerror(-ret));
	ret = 0;
	bsc_drill_stop(d, "the daemon is stopping");
out:
	if (!(o->keep && !ret))
		daemon_routes_remove(d);
	sd_notify(0, "STOPPING=1");
	bsc_metrics_stop(d->metrics);
	sd_event_source_disable_unref(d->kick.timer);
	for (i = 0; i < d->n; i++) {
		sd_event_source_disable_unref(d->up[i].timer);
		bsc_prober_free(d->up[i].prober);
	}
	bsc_ctl_close(d->ctl);
	bsc_hooks_free(d->hooks);
	d->hooks = NULL;
	if (d->mon)
		mnl_socket_close(d->mon);
	if (d->hist) {
		daemon_history_sample(d);
		daemon_history_settle(d);
		bsc_history_daemon(d->hist, (int64_t)(bsc_real_ns() / 1000000), 0);
		bsc_history_close(d->hist);
	}
	bsc_dp_close(&d->dp, o->keep && !ret);
out_ev:
	sd_event_unref(d->ev);
	pthread_mutex_destroy(&d->view_lock);
	free(d);
	return ret;
}
