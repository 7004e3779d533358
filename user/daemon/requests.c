// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon/requests.c - what the control socket and signals ask of the
 * running controller: health, events, reload (what may change live, what
 * needs a restart), and the operator's uplink actions, dispatched from one
 * table.
 */
#include <bpf/bpf.h>
#include <json-c/json.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/admin.h"
#include "control/ctl.h"
#include "daemon/daemon.h"
#include "daemon/drill.h"
#include "daemon/state.h"
#include "dataplane/flows.h"
#include "history/history.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "net/netlink.h"


static void add_count(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void add_ms(struct json_object *o, const char *key, uint64_t ns)
{
	json_object_object_add(o, key, json_object_new_double((double)ns / 1e6));
}

static void health_json(struct daemon *d, FILE *out)
{
	struct json_object *root = json_object_new_object(), *ups = json_object_new_array();
	uint64_t now = bsc_now_ns();
	int i, t;

	json_object_object_add(root, "active", json_object_new_string(daemon_active_name(d)));
	for (i = 0; i < d->n; i++) {
		struct uplink_rt *u = &d->up[i];
		const struct bsc_health_state *h = &u->hs;
		struct json_object *o = json_object_new_object(), *tg = json_object_new_array();
		int answering = 0;

		json_object_object_add(o, "name", json_object_new_string(u->cfg->name));
		json_object_object_add(o, "health", json_object_new_string(bsc_health_names[h->health]));
		json_object_object_add(o, "since_s", json_object_new_double((double)(now - h->since_ns) / 1e9));
		json_object_object_add(o, "reason", json_object_new_string(h->reason));
		json_object_object_add(o, "rtt_ms", json_object_new_double(h->rtt_us / 1000.0));
		json_object_object_add(o, "jitter_ms", json_object_new_double(h->jitter_us / 1000.0));
		json_object_object_add(o, "loss_pct", json_object_new_int(h->loss_pct));
		json_object_object_add(o, "probes", json_object_new_int(u->cfg->n_probes));
		if (u->path_warning[0])
			json_object_object_add(o, "path_warning", json_object_new_string(u->path_warning));
		for (t = 0; t < u->cfg->n_probes; t++) {
			struct json_object *x = json_object_new_object();
			char spec[256];

			bsc_probe_target_format(&u->cfg->probes[t], spec, sizeof(spec));
			json_object_object_add(x, "probe", json_object_new_string(spec));
			json_object_object_add(x, "answering", json_object_new_boolean(u->target[t].ok));
			json_object_object_add(x, "rtt_ms", json_object_new_double(u->target[t].rtt_ms));
			json_object_object_add(x, "last_error", json_object_new_string(u->target[t].why));
			json_object_array_add(tg, x);
			answering += u->target[t].ok;
		}
		json_object_object_add(o, "targets_answering", json_object_new_int(answering));
		json_object_object_add(o, "targets", tg);
		json_object_object_add(o, "held", json_object_new_boolean(h->held));
		json_object_object_add(o, "penalty", json_object_new_double(bsc_health_penalty(h, daemon_hcfg(u), now)));
		json_object_object_add(o, "carrier", json_object_new_boolean(u->carrier));
		json_object_array_add(ups, o);
	}
	json_object_object_add(root, "uplinks", ups);
	ups = json_object_new_array();
	for (i = 1; i < d->cfg->n_classes && i < BSC_MAX_CLASSES; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(d->cfg->classes[i].name));
		json_object_object_add(o, "why", json_object_new_string(d->cls_why[i]));
		json_object_array_add(ups, o);
	}
	json_object_object_add(root, "classes", ups);
	{
		struct bsc_hook_stats hs;
		struct json_object *h = json_object_new_object();

		bsc_hooks_stats(d->hooks, &hs);
		add_count(h, "started", hs.started);
		add_count(h, "ok", hs.ok);
		add_count(h, "failed", hs.failed);
		add_count(h, "killed", hs.killed);
		add_count(h, "skipped", hs.skipped);
		add_count(h, "running", hs.running);
		json_object_object_add(root, "hooks", h);
	}
	if (d->hist) {
		struct bsc_history_writer_stats ws;
		struct json_object *h = json_object_new_object();

		bsc_history_writer_stats(d->hist, &ws);
		add_count(h, "queued", ws.queued);
		add_count(h, "written", ws.written);
		add_count(h, "failed", ws.failed);
		add_count(h, "dropped", ws.dropped);
		add_count(h, "waiting", ws.depth);
		add_count(h, "waiting_max", ws.depth_max);
		add_ms(h, "last_write_ms", ws.last_write_ns);
		add_ms(h, "write_max_ms", ws.write_max_ns);
		json_object_object_add(root, "history", h);
	}
	{
		/* the tick timer's lateness: what held the loop, in ms */
		struct json_object *l = json_object_new_object();
		uint64_t recent = d->lag_max_ns[0] > d->lag_max_ns[1] ? d->lag_max_ns[0] : d->lag_max_ns[1];

		add_ms(l, "last_ms", d->lag_last_ns);
		add_ms(l, "max_recent_ms", recent);
		add_ms(l, "max_ms", d->lag_max_all_ns);
		json_object_object_add(l, "window_s", json_object_new_int(2 * LAG_WINDOW_S));
		json_object_object_add(root, "loop_lag", l);
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

/* Re-read the configuration.  What can change while running changes (probes
 * and their profiles, priorities, failback hold, timeouts, hooks, the
 * per-host budget); a file that does not parse, or that changes what only a
 * restart can (the LAN, the pin root, the flow table's size, the control
 * socket, the metrics address, the history file, the routes it manages,
 * the set of uplinks and their interfaces), is refused and the running configuration stays. */
static int reload(struct daemon *d, FILE *out)
{
	struct bsc_cfg *n = malloc(sizeof(*n));
	char err[4096];
	double drill_s;
	int i;

	if (!n)
		return -ENOMEM;
	/* A drill measures the configuration it started with (its uplinks'
	 * priorities, the RTO, the failback hold): not one changed under it. */
	drill_s = bsc_drill_running_s(d);
	if (drill_s >= 0) {
		snprintf(err, sizeof(err), "a drill is running (since %.1f s ago): reload when it has ended, or end it with Ctrl-C",
			 drill_s);
		goto refuse;
	}
	if (bsc_config_load(d->cfg_store.path, n, err, sizeof(err))) {
		fprintf(out, "refused, the running configuration stays:\n%s", err);
		bsc_log(LOG_WARNING, "reload refused: %s", err);
		free(n);
		return -EINVAL;
	}
	{
		/* What only a restart can change, named in the refusal. */
		const char *changed =
			strcmp(n->lan_ifname, d->cfg->lan_ifname) ? "lan" :
			strcmp(n->pin_root, d->cfg->pin_root) ? "pin_root" :
			n->flow_table_size != d->cfg->flow_table_size ? "flow_table_size" :
			strcmp(n->control_socket, d->cfg->control_socket) ? "control_socket" :
			/* the socket's group is set when it is made: taken
			 * silently, the old group would keep its access */
			strcmp(n->control_group, d->cfg->control_group) ? "control_group" :
			n->hook_timeout_ms != d->cfg->hook_timeout_ms ? "hook_timeout_ms" :
			n->hook_max_running != d->cfg->hook_max_running ? "hook_max_running" :
			strcmp(n->metrics_listen, d->cfg->metrics_listen) ? "metrics_listen" :
			strcmp(n->history, d->cfg->history) ? "history" :
			n->manage_routes != d->cfg->manage_routes ? "manage_routes" :
			n->route_table_base != d->cfg->route_table_base ? "route_table_base" :
			n->route_metric != d->cfg->route_metric ? "route_metric" :
			n->n_uplinks != d->cfg->n_uplinks ? "the number of uplinks" : NULL;

		if (changed) {
			snprintf(err, sizeof(err), "%s: %s changed: that needs a restart (`bascule run --keep` keeps forwarding across it)",
				 n->path, changed);
			goto refuse;
		}
	}
	for (i = 0; i < n->n_uplinks; i++) {
		if (strcmp(n->uplinks[i].name, d->cfg->uplinks[i].name) ||
		    strcmp(n->uplinks[i].ifname, d->cfg->uplinks[i].ifname)) {
			snprintf(err, sizeof(err), "%s: uplink %d is now '%s' on %s (was '%s' on %s): that needs a restart",
				 n->path, i + 1, n->uplinks[i].name, n->uplinks[i].ifname,
				 d->cfg->uplinks[i].name, d->cfg->uplinks[i].ifname);
			goto refuse;
		}
		if (n->uplinks[i].nat_port_min != d->cfg->uplinks[i].nat_port_min ||
		    n->uplinks[i].nat_port_max != d->cfg->uplinks[i].nat_port_max) {
			snprintf(err, sizeof(err), "%s: uplink %s: nat_ports changed: that needs a restart (the bindings hold ports of the old range)",
				 n->path, n->uplinks[i].name);
			goto refuse;
		}
	}
	for (i = 0; i < n->n_uplinks; i++) {
		struct uplink_rt *u = &d->up[i];

		if (!n->uplinks[i].gateway_auto && n->uplinks[i].gateway != u->gateway) {
			u->gateway = n->uplinks[i].gateway;
			memset(u->gw_mac, 0, 6);
		}
		if (n->uplinks[i].n_probes && !u->timer)
			sd_event_add_time_relative(d->ev, &u->timer, CLOCK_MONOTONIC, 0, 1,
						   daemon_round_timer, u);
	}
	{
		struct bsc_config c;
		uint32_t zero = 0;

		if (!bpf_map_lookup_elem(d->dp.maps.config, &zero, &c)) {
			c.host_flow_rate = n->host_flow_rate;
			c.host_flow_burst = n->host_flow_burst;
			c.flags = n->source_guard ? BSC_CFG_SOURCE_GUARD : 0;
			bpf_map_update_elem(d->dp.maps.config, &zero, &c, BPF_ANY);
		}
	}
	d->cfg_store = *n;
	bsc_timeouts_from_cfg(&d->to, d->cfg);
	/* The uplinks map shows each uplink's priority (status, bpftool):
	 * keep it the one in force. */
	for (i = 0; i < d->n; i++) {
		struct bsc_uplink w;

		if (!bsc_uplink_read(&d->dp.maps, d->up[i].idx, &w) &&
		    w.priority != d->up[i].cfg->priority) {
			w.priority = d->up[i].cfg->priority;
			bsc_uplink_write(&d->dp.maps, d->up[i].idx, &w);
		}
	}
	if (d->hist)
		bsc_history_set_retention(d->hist, d->cfg->history_retention_days);
	free(n);
	for (i = 0; i < d->n; i++)
		daemon_refresh_uplink(d, &d->up[i]);
	memset(d->bal_known, 0, sizeof(d->bal_known)); /* weights may have changed */
	daemon_reevaluate(d);
	/* new flows take the new classes at once; a flow keeps the class it
	 * was bound in (its number) */
	i = daemon_classes_load(d);
	if (i)
		bsc_log(LOG_ERR, "the traffic classes' rules could not be loaded: %s", strerror(-i));
	fprintf(out, "reloaded %s\n", d->cfg->path);
	daemon_record(d, "config", "-", "-", "reloaded", d->cfg->path);
	return 0;
refuse:
	fprintf(out, "refused, the running configuration stays:\n%s\n", err);
	bsc_log(LOG_WARNING, "reload refused: %s", err);
	free(n);
	return -EINVAL;
}

int daemon_on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *data)
{
	FILE *null = fopen("/dev/null", "w");

	reload(data, null ? null : stderr);
	if (null)
		fclose(null);
	return 0;
}

/* Requests answered over time, on their own connection. */
static void answer(FILE *out, int ok, const char *text)
{
	/* the text may hold the client's words: escaped by json-c, never
	 * pasted into the JSON */
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "message", json_object_new_string(text));
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* "uplink VERB [NAME]": the operator's word, applied by the one owner of
 * the decision.  The admin word (or policy 0's preference) goes into the
 * map, then the daemon re-evaluates with everything it knows: the uplink's
 * state from its health and that word, the active uplink by the chooser,
 * the TCP flows of an uplink that stopped carrying them reset in slices.
 * Answers {"ok": bool, "message": "..."}, the message as the CLI prints it. */
static void uplink_request(struct daemon *d, const char *args, FILE *out)
{
	const struct bsc_maps *m = &d->dp.maps;
	char verb[16] = "", name[64] = "", msg[320], extra;
	const char *drill_note = "";
	const struct bsc_uplink_verb *v;
	struct bsc_uplink e;
	struct bsc_policy pol;
	uint32_t pol0 = 0, old, before;
	int idx = -1, n;

	n = sscanf(args, "%15s %63s %c", verb, name, &extra);
	v = n >= 1 ? bsc_uplink_verb_find(verb) : NULL;
	if (!v || n > 2 || (v->needs_name != (n == 2))) {
		answer(out, 0, "usage: uplink down|drain|up|activate NAME, or uplink auto");
		return;
	}
	if (v->needs_name) {
		idx = bsc_config_find_uplink(d->cfg, name);
		if (idx < 0 || idx >= d->n || bsc_uplink_read(m, d->up[idx].idx, &e)) {
			snprintf(msg, sizeof(msg), "no uplink called '%s' (see `bascule status`)", name);
			answer(out, 0, msg);
			return;
		}
	}
	/* The operator's word comes first: a drill running is aborted (its
	 * primary given back) before the word is applied, so the site is in
	 * the state the operator asked for, not in a drill's outage. */
	if (bsc_drill_running_s(d) >= 0) {
		snprintf(msg, sizeof(msg), "the operator's `uplink %s%s%s` came during the drill", verb,
			 n == 2 ? " " : "", name);
		bsc_drill_stop(d, msg);
		drill_note = "; the drill that was running is aborted";
		if (idx >= 0 && bsc_uplink_read(m, d->up[idx].idx, &e)) {
			answer(out, 0, "the uplinks map cannot be read");
			return;
		}
	}
	if (bsc_policy_read(m, pol0, &pol)) {
		answer(out, 0, "the policy map cannot be read");
		return;
	}
	before = pol.active;
	if (v->kind == BSC_VERB_ADMIN) {
		old = e.state;
		e.admin = v->admin;
		if (bsc_uplink_write(m, (uint32_t)idx, &e)) {
			answer(out, 0, "the uplinks map cannot be written");
			return;
		}
		bsc_log(LOG_NOTICE, "operator: uplink %s %s", verb, name);
		daemon_reevaluate(d);
		if (bsc_uplink_read(m, (uint32_t)idx, &e))
			e.state = old;
		snprintf(msg, sizeof(msg), "uplink %s: %s -> %s; active uplink: %s%s%s%s", name,
			 bsc_uplink_state_name(old), bsc_uplink_state_name(e.state),
			 daemon_active_name(d), d->active != before ? " (changed)" : "",
			 d->kick.pending & (1u << idx) ? "; its TCP flows being reset" : "", drill_note);
		answer(out, 1, msg);
		return;
	}
	if (idx >= 0 && e.state != BSC_UPLINK_UP) {
		snprintf(msg, sizeof(msg), "uplink %s is %s: it cannot take new flows", name,
			 bsc_uplink_state_name(e.state));
		answer(out, 0, msg);
		return;
	}
	pol.preferred = idx < 0 ? BSC_NO_UPLINK : (uint32_t)idx;
	if (bpf_map_update_elem(m->policy, &pol0, &pol, BPF_ANY)) {
		answer(out, 0, "the policy map cannot be written");
		return;
	}
	bsc_log(LOG_NOTICE, "operator: uplink %s%s%s", verb, idx < 0 ? "" : " ", name);
	daemon_reevaluate(d);
	if (d->active < (uint32_t)d->n)
		snprintf(msg, sizeof(msg), "active uplink: %s%s%s", daemon_active_name(d),
			 d->active != before ? " (changed)" : "", drill_note);
	else
		snprintf(msg, sizeof(msg), "no uplink can take new flows%s", drill_note);
	answer(out, 1, msg);
}

static void events_request(struct daemon *d, const char *args, FILE *out)
{
	bsc_events_json(&d->events, out);
}

static void health_request(struct daemon *d, const char *args, FILE *out)
{
	health_json(d, out);
}

static void reload_request(struct daemon *d, const char *args, FILE *out)
{
	reload(d, out);
}

static void ping_request(struct daemon *d, const char *args, FILE *out)
{
	fprintf(out, "pong\n");
}

/* The control socket's requests: the first word names one. */
static const struct {
	const char *name;
	void (*fn)(struct daemon *d, const char *args, FILE *out);
	int args;               /* takes words after its name */
} requests[] = {
	{ "events", events_request, 0 },
	{ "health", health_request, 0 },
	{ "reload", reload_request, 0 },
	{ "ping", ping_request, 0 },
	{ "uplink", uplink_request, 1 },
};

/* Requests answered over time, on their own connection. */
int daemon_take_request(void *data, const char *req, int fd)
{
	if (strcmp(req, "drill"))
		return 0;
	bsc_drill_start(data, fd);
	return 1;
}

void daemon_on_request(void *data, const char *req, FILE *out)
{
	struct daemon *d = data;
	size_t i, len = strcspn(req, " ");
	char msg[400];

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		if (strlen(requests[i].name) != len || strncmp(req, requests[i].name, len))
			continue;
		if (req[len] && !requests[i].args)
			break;
		requests[i].fn(d, req[len] ? req + len + 1 : "", out);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "unknown request '%s' (events, health, reload, drill, ping, uplink VERB NAME)", req);
	{
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
}
