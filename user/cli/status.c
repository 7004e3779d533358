// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/status.c - `bascule status`: the pinned maps (uplinks, policy, flows,
 * counters, drop reasons) as a table or as JSON, with the running daemon's
 * health merged in when it answers.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <json-c/json.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "cli/status.h"
#include "control/admin.h"
#include "dataplane/flows.h"
#include "health/health.h"

struct status_row {
	struct bsc_uplink u;
	struct bsc_uplink_stats st;
	long flows;
};

/* A traffic class: its policy (name, active uplink) and its counters,
 * summed over the uplinks. */
struct status_class {
	struct bsc_policy pol;
	struct bsc_uplink_stats st;
	uint32_t slots[BSC_MAX_UPLINKS]; /* a balance class: its table's slots per uplink */
};

struct status {
	struct bsc_config cfg;
	struct bsc_policy pol;
	struct status_row rows[BSC_MAX_UPLINKS];
	uint64_t reasons[BSC_R_MAX];
	long flows;
	uint32_t n_classes;     /* at least 1 (the default); more: classes configured */
	struct status_class cls[BSC_MAX_CLASSES];
};

static void class_read(const struct bsc_maps *m, struct status *s, uint32_t c)
{
	struct status_class *k = &s->cls[c];
	struct bsc_uplink_stats one;
	uint32_t i;

	if (bsc_policy_read(m, c, &k->pol))
		k->pol.active = BSC_NO_UPLINK;
	if (k->pol.balance)
		bsc_balance_shares(m, c, k->slots);
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		if (s->rows[i].u.ifindex && !bsc_class_stats_sum(m, i, c, &one))
			bsc_uplink_stats_add(&k->st, &one);
	}
}

/* The name of class c's active uplink, or what happens without one. */
static const char *class_active(const struct status *s, uint32_t c)
{
	uint32_t a = s->cls[c].pol.active;

	return a < BSC_MAX_UPLINKS && s->rows[a].u.ifindex ? s->rows[a].u.name : NULL;
}

/* A balance class's members with their shares ("fiber 75%, cell 25%"),
 * into buf; "" for another class. */
static const char *class_members(const struct status *s, uint32_t c, char *buf, size_t len)
{
	uint32_t i;

	buf[0] = 0;
	for (i = 0; i < BSC_MAX_UPLINKS; i++)
		if (s->cls[c].slots[i] && s->rows[i].u.ifindex)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s %.0f%%", buf[0] ? ", " : "",
				 s->rows[i].u.name, 100.0 * s->cls[c].slots[i] / BSC_BALANCE_SLOTS);
	return buf;
}

static int status_read(const struct bsc_maps *m, struct status *s)
{
	long per[BSC_MAX_UPLINKS];
	uint32_t i, zero = 0;

	memset(s, 0, sizeof(*s));
	if (bpf_map_lookup_elem(m->config, &zero, &s->cfg) || bsc_policy_read(m, 0, &s->pol))
		return -errno;
	s->flows = bsc_flows_count(m, per);
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		if (bsc_uplink_read(m, i, &s->rows[i].u))
			continue;
		bsc_uplink_stats_sum(m, i, &s->rows[i].st);
		s->rows[i].flows = per[i];
	}
	bsc_reasons_sum(m, s->reasons);
	s->n_classes = s->cfg.n_classes < BSC_MAX_CLASSES ? s->cfg.n_classes : BSC_MAX_CLASSES;
	if (!s->n_classes)
		s->n_classes = 1;
	for (i = 0; i < s->n_classes; i++)
		class_read(m, s, i);
	return 0;
}

static const char *ip_str(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, 16);
}

static const char *mac_str(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* The daemon's view of one uplink (list "uplinks") or class ("classes"),
 * by name, from its "health" answer. */
static struct json_object *daemon_view(struct json_object *health, const char *list, const char *name)
{
	struct json_object *arr, *u, *n;
	size_t i;

	if (!health || !json_object_object_get_ex(health, list, &arr))
		return NULL;
	for (i = 0; i < json_object_array_length(arr); i++) {
		u = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(u, "name", &n) && !strcmp(json_object_get_string(n), name))
			return u;
	}
	return NULL;
}

static const char *jstr(struct json_object *o, const char *k, const char *def)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : def;
}

static double jnum(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

int bsc_status_print(const struct bsc_maps *m, const char *pin_root, struct json_object *health,
		     FILE *out)
{
	struct status s, s2;
	char a[16], g[16], lan[IF_NAMESIZE] = "?";
	double dt = 0.25;
	uint32_t i;
	int ret = status_read(m, &s);

	if (ret)
		return ret;
	/* rates: a second reading a quarter of a second later */
	usleep((useconds_t)(dt * 1e6));
	if (status_read(m, &s2))
		s2 = s;
	if (!if_indextoname(s.cfg.lan_ifindex, lan))
		snprintf(lan, sizeof(lan), "#%u", s.cfg.lan_ifindex);
	if (health)
		fprintf(out, "daemon: running, active uplink %s\n", jstr(health, "active", "?"));
	else
		fprintf(out, "daemon: NOT running (no answer on its control socket): what follows is the data plane, read from the pinned maps; it keeps forwarding as they say\n");
	fprintf(out, "data plane: pinned at %s, LAN %s, %ld flow(s)\n", pin_root, lan, s.flows);
	fprintf(out, "%-8s %-6s %-8s %-9s %8s %-6s %-15s %-15s %7s %7s %5s %8s %8s %8s %8s %6s %5s\n",
		"UPLINK", "IFACE", "STATE", "HEALTH", "SINCE", "ACTIVE", "ADDRESS", "GATEWAY",
		"RTT-MS", "JIT-MS", "LOSS%", "TX-PPS", "RX-PPS", "TX-MBPS", "RX-MBPS", "FLOWS",
		"PORT%");
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		struct status_row *r = &s.rows[i], *r2 = &s2.rows[i];
		struct json_object *h;
		char ifn[IF_NAMESIZE] = "?", since[16] = "-";

		if (!r->u.ifindex)
			continue;
		h = daemon_view(health, "uplinks", r->u.name);
		if (!if_indextoname(r->u.ifindex, ifn))
			snprintf(ifn, sizeof(ifn), "#%u", r->u.ifindex);
		if (h)
			snprintf(since, sizeof(since), "%.1fs", jnum(h, "since_s"));
		fprintf(out, "%-8s %-6s %-8s %-9s %8s %-6s %-15s %-15s %7.2f %7.2f %5.0f %8.0f %8.0f %8.2f %8.2f %6ld %5.1f\n",
			r->u.name, ifn, bsc_uplink_state_name(r->u.state), jstr(h, "health", "-"), since,
			s.pol.active == i ? "*" : (s.pol.preferred == i ? "pref" : ""),
			ip_str(r->u.addr, a), ip_str(r->u.gateway, g), jnum(h, "rtt_ms"),
			jnum(h, "jitter_ms"), jnum(h, "loss_pct"),
			(double)(r2->st.tx_packets - r->st.tx_packets) / dt,
			(double)(r2->st.rx_packets - r->st.rx_packets) / dt,
			(double)(r2->st.tx_bytes - r->st.tx_bytes) * 8 / dt / 1e6,
			(double)(r2->st.rx_bytes - r->st.rx_bytes) * 8 / dt / 1e6, r->flows,
			100.0 * (double)r->flows / bsc_uplink_nat_ports(&r->u));
		if (h)
			fprintf(out, "         %s; probe targets answering: %.0f of %.0f%s\n",
				jstr(h, "reason", ""), jnum(h, "targets_answering"), jnum(h, "probes"),
				!strcmp(jstr(h, "held", "false"), "true") ? " [held down: flapping]" : "");
		if (h && *jstr(h, "path_warning", ""))
			fprintf(out, "         warning: %s\n", jstr(h, "path_warning", ""));
	}
	if (s.n_classes > 1)
		fprintf(out, "%-16s %-10s %10s %10s %10s %8s %8s\n", "CLASS", "UPLINK", "NEW-FLOWS",
			"TX-PKTS", "RX-PKTS", "TX-PPS", "RX-PPS");
	for (i = 0; s.n_classes > 1 && i < s.n_classes; i++) {
		const char *a = class_active(&s, i);
		char mem[128];

		const char *why = jstr(daemon_view(health, "classes", s.cls[i].pol.name), "why", "");

		class_members(&s, i, mem, sizeof(mem));
		fprintf(out, "%-16s %-10s %10llu %10llu %10llu %8.0f %8.0f%s%s%s%s%s%s\n",
			*s.cls[i].pol.name ? s.cls[i].pol.name : "?", !a ? "none" : mem[0] ? "balance" : a,
			(unsigned long long)s.cls[i].st.new_flows,
			(unsigned long long)s.cls[i].st.tx_packets,
			(unsigned long long)s.cls[i].st.rx_packets,
			(double)(s2.cls[i].st.tx_packets - s.cls[i].st.tx_packets) / dt,
			(double)(s2.cls[i].st.rx_packets - s.cls[i].st.rx_packets) / dt,
			a ? "" : "  (no uplink it may use: its new flows are dropped)",
			mem[0] ? "  over " : "", mem, a && !mem[0] && *why ? "  (" : "",
			a && !mem[0] ? why : "", a && !mem[0] && *why ? ")" : "");
	}
	fprintf(out, "reasons:");
	for (i = 0; i < BSC_R_MAX; i++)
		if (s.reasons[i])
			fprintf(out, " %s=%llu", bsc_reason_names[i], (unsigned long long)s.reasons[i]);
	fprintf(out, "\n");
	return 0;
}

int bsc_status_json(const struct bsc_maps *m, const char *pin_root, struct json_object *health,
		    FILE *out)
{
	struct json_object *root, *ups, *rs;
	struct status s;
	char a[16], mac[18];
	uint32_t i;
	int ret = status_read(m, &s);

	if (ret)
		return ret;
	root = json_object_new_object();
	json_object_object_add(root, "daemon_running", json_object_new_boolean(health != NULL));
	json_object_object_add(root, "pin_root", json_object_new_string(pin_root));
	json_object_object_add(root, "lan_ifindex", json_object_new_int64(s.cfg.lan_ifindex));
	json_object_object_add(root, "flows", json_object_new_int64(s.flows));
	ups = json_object_new_array();
	for (i = 0; i < BSC_MAX_UPLINKS; i++) {
		struct status_row *r = &s.rows[i];
		struct json_object *o, *h;

		if (!r->u.ifindex)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(r->u.name));
		json_object_object_add(o, "index", json_object_new_int64(i));
		json_object_object_add(o, "ifindex", json_object_new_int64(r->u.ifindex));
		json_object_object_add(o, "state", json_object_new_string(bsc_uplink_state_name(r->u.state)));
		json_object_object_add(o, "active", json_object_new_boolean(s.pol.active == i));
		json_object_object_add(o, "preferred", json_object_new_boolean(s.pol.preferred == i));
		json_object_object_add(o, "priority", json_object_new_int64(r->u.priority));
		json_object_object_add(o, "address", json_object_new_string(ip_str(r->u.addr, a)));
		json_object_object_add(o, "gateway", json_object_new_string(ip_str(r->u.gateway, a)));
		json_object_object_add(o, "gateway_mac", json_object_new_string(mac_str(r->u.gw_mac, mac)));
		json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)r->st.tx_packets));
		json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)r->st.tx_bytes));
		json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)r->st.rx_packets));
		json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)r->st.rx_bytes));
		json_object_object_add(o, "new_flows", json_object_new_int64((int64_t)r->st.new_flows));
		json_object_object_add(o, "rebound_flows", json_object_new_int64((int64_t)r->st.rebound));
		json_object_object_add(o, "nat_exhausted", json_object_new_int64((int64_t)r->st.nat_exhausted));
		json_object_object_add(o, "flows", json_object_new_int64(r->flows));
		json_object_object_add(o, "nat_port_use_ratio",
				       json_object_new_double((double)r->flows / bsc_uplink_nat_ports(&r->u)));
		h = daemon_view(health, "uplinks", r->u.name);
		if (h)
			json_object_object_add(o, "health", json_object_get(h));
		json_object_array_add(ups, o);
	}
	json_object_object_add(root, "uplinks", ups);
	ups = json_object_new_array();
	for (i = 0; i < s.n_classes; i++) {
		struct json_object *o = json_object_new_object();
		const char *a = class_active(&s, i);

		json_object_object_add(o, "name", json_object_new_string(*s.cls[i].pol.name ? s.cls[i].pol.name : "default"));
		json_object_object_add(o, "index", json_object_new_int64(i));
		struct json_object *bal = json_object_new_array();
		uint32_t u;

		struct json_object *cv = daemon_view(health, "classes", s.cls[i].pol.name), *why;

		json_object_object_add(o, "active", a ? json_object_new_string(a) : NULL);
		json_object_object_add(o, "why", cv && json_object_object_get_ex(cv, "why", &why) ?
						 json_object_get(why) : NULL);
		/* a balance class: each member with its share of the new flows */
		for (u = 0; u < BSC_MAX_UPLINKS; u++) {
			struct json_object *mo;

			if (!s.cls[i].slots[u] || !s.rows[u].u.ifindex)
				continue;
			mo = json_object_new_object();
			json_object_object_add(mo, "uplink", json_object_new_string(s.rows[u].u.name));
			json_object_object_add(mo, "share", json_object_new_double((double)s.cls[i].slots[u] /
											 BSC_BALANCE_SLOTS));
			json_object_array_add(bal, mo);
		}
		json_object_object_add(o, "balance", bal);
		json_object_object_add(o, "new_flows", json_object_new_int64((int64_t)s.cls[i].st.new_flows));
		json_object_object_add(o, "rebound_flows", json_object_new_int64((int64_t)s.cls[i].st.rebound));
		json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)s.cls[i].st.tx_packets));
		json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)s.cls[i].st.tx_bytes));
		json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)s.cls[i].st.rx_packets));
		json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)s.cls[i].st.rx_bytes));
		json_object_array_add(ups, o);
	}
	json_object_object_add(root, "classes", ups);
	rs = json_object_new_object();
	for (i = 0; i < BSC_R_MAX; i++)
		json_object_object_add(rs, bsc_reason_names[i], json_object_new_int64((int64_t)s.reasons[i]));
	json_object_object_add(root, "reasons", rs);
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	json_object_put(root);
	return 0;
}
