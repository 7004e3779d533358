// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics/metrics.c - Prometheus metrics (text exposition format 0.0.4) over HTTP.
 *
 * libmicrohttpd serves GET /metrics from its own thread.  Every scrape reads
 * the data plane's maps afresh (uplinks, policy 0, the per-CPU counters
 * summed over the CPUs, the flow table) and asks the daemon, through the view
 * callback, for what only the controller knows (health, probe figures,
 * transitions).  Nothing is cached, so two scrapes never disagree with the
 * maps, and the data plane is never slowed down: reading a map is a syscall
 * on the controller's side only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/flows.h"
#include "health/health.h"
#include "lib/log.h"
#include "metrics/expo.h"
#include "metrics/metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ------------------------------------------------------------ rendering */

struct row {
	char label[BSC_NAME_LEN * 2 + 1];       /* escaped label value */
	int idx;                                /* index in the maps, or -1 */
	const struct bsc_metrics_uplink *vu;    /* NULL without a view */
	struct bsc_uplink u;                    /* zero when not in the maps */
	struct bsc_uplink_stats st;
	int have_st;
	long flows;
};

/* Label values escape backslash, double quote and newline. */
void bsc_expo_escape(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t i, o = 0;

	for (i = 0; i < slen && src[i] && o + 3 < dlen; i++) {
		char ch = src[i];

		if (ch == '\\' || ch == '"' || ch == '\n') {
			dst[o++] = '\\';
			dst[o++] = ch == '\n' ? 'n' : ch;
		} else {
			dst[o++] = ch;
		}
	}
	dst[o] = '\0';
}

static const char *fmt_double(char *buf, size_t len, double d)
{
	if (isnan(d))
		return "NaN";
	if (isinf(d))
		return d > 0 ? "+Inf" : "-Inf";
	snprintf(buf, len, "%.9g", d);
	return buf;
}

void bsc_expo_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u64(FILE *out, const char *name, const struct row *r, uint64_t v)
{
	fprintf(out, "%s{uplink=\"%s\"} %" PRIu64 "\n", name, r->label, v);
}

static void sample_dbl(FILE *out, const char *name, const struct row *r, double v)
{
	char b[40];

	fprintf(out, "%s{uplink=\"%s\"} %s\n", name, r->label, fmt_double(b, sizeof(b), v));
}

/* Find the map entry of an uplink of the view: by name, trying its own
 * position first (the daemon writes uplink i of its config at index i). */
static int match_idx(const struct bsc_uplink *mu, const int *have, int pos, const char *name)
{
	int i;

	if (pos < BSC_MAX_UPLINKS && have[pos] && mu[pos].name[0] &&
	    !strncmp(mu[pos].name, name, BSC_NAME_LEN))
		return pos;
	for (i = 0; i < BSC_MAX_UPLINKS; i++)
		if (have[i] && mu[i].name[0] && !strncmp(mu[i].name, name, BSC_NAME_LEN))
			return i;
	return -1;
}

static int collect_rows(struct row *rows, const struct bsc_maps *maps,
			const struct bsc_metrics_view *v, long *total)
{
	struct bsc_uplink mu[BSC_MAX_UPLINKS];
	long per[BSC_MAX_UPLINKS] = { 0 };
	int have[BSC_MAX_UPLINKS] = { 0 };
	int i, n = 0;

	memset(mu, 0, sizeof(mu));
	if (maps)
		for (i = 0; i < BSC_MAX_UPLINKS; i++)
			have[i] = !bsc_uplink_read(maps, (uint32_t)i, &mu[i]);

	if (v) {
		int vn = v->n < 0 ? 0 : v->n > BSC_MAX_UPLINKS ? BSC_MAX_UPLINKS : v->n;

		for (i = 0; i < vn; i++) {
			const struct bsc_metrics_uplink *vu = &v->up[i];
			char name[BSC_NAME_LEN + 1];
			struct row *r = &rows[n++];

			memcpy(name, vu->name, BSC_NAME_LEN);
			name[BSC_NAME_LEN] = '\0';
			memset(r, 0, sizeof(*r));
			bsc_expo_escape(r->label, sizeof(r->label), name, BSC_NAME_LEN);
			r->vu = vu;
			r->idx = match_idx(mu, have, i, name);
			if (r->idx >= 0)
				r->u = mu[r->idx];
		}
	} else {
		/* No view: the uplinks the data plane knows. */
		for (i = 0; i < BSC_MAX_UPLINKS; i++) {
			struct row *r;

			if (!have[i] || !mu[i].ifindex)
				continue;
			r = &rows[n++];
			memset(r, 0, sizeof(*r));
			bsc_expo_escape(r->label, sizeof(r->label), mu[i].name, BSC_NAME_LEN);
			r->idx = i;
			r->u = mu[i];
		}
	}

	if (v && v->flows_known) {
		*total = v->flows_total;
		memcpy(per, v->flows_per, sizeof(per));
	} else {
		*total = maps ? bsc_flows_count(maps, per) : 0;
	}
	for (i = 0; i < n; i++) {
		struct row *r = &rows[i];

		if (r->idx < 0)
			continue;
		r->flows = per[r->idx];
		r->have_st = maps && !bsc_uplink_stats_sum(maps, (uint32_t)r->idx, &r->st);
	}
	return n;
}

static void render_view(FILE *out, const struct row *rows, int n)
{
	int i, h;

	bsc_expo_family(out, "bascule_uplink_up", "gauge",
	       "Whether the probes find the uplink working: 1 when its health is up or degraded, else 0.");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_up", &rows[i],
			   rows[i].vu->health == BSC_H_UP || rows[i].vu->health == BSC_H_DEGRADED);

	bsc_expo_family(out, "bascule_uplink_health", "gauge",
	       "Health of the uplink as the controller judges it: 1 for the current health, 0 for the others.");
	for (i = 0; i < n; i++) {
		int cur = rows[i].vu->health;

		if (cur < 0 || cur > 3)
			cur = BSC_H_UNKNOWN;
		for (h = 0; h < 4; h++)
			fprintf(out, "bascule_uplink_health{uplink=\"%s\",health=\"%s\"} %d\n",
				rows[i].label, bsc_health_names[h], h == cur);
	}

	bsc_expo_family(out, "bascule_uplink_priority", "gauge",
	       "The uplink's configured priority: the lowest is the primary, the others backups.");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_priority", &rows[i], rows[i].vu->priority);
	bsc_expo_family(out, "bascule_uplink_held", "gauge",
	       "Whether the uplink is held down by flap damping (1) or not (0).");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_held", &rows[i], !!rows[i].vu->held);

	bsc_expo_family(out, "bascule_uplink_carrier", "gauge",
	       "Whether the uplink's interface has carrier (1) or not (0).");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_carrier", &rows[i], !!rows[i].vu->carrier);

	bsc_expo_family(out, "bascule_uplink_path_warning", "gauge",
	       "Whether the kernel's routing cannot carry the uplink's probes (1: the reason is in `bascule health`) or can (0).");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_path_warning", &rows[i], !!rows[i].vu->path_warning);

	bsc_expo_family(out, "bascule_uplink_rtt_seconds", "gauge",
	       "Mean probe round-trip time over the uplink's loss/RTT window, in seconds.");
	for (i = 0; i < n; i++)
		sample_dbl(out, "bascule_uplink_rtt_seconds", &rows[i], rows[i].vu->rtt_ms / 1000.0);

	bsc_expo_family(out, "bascule_uplink_jitter_seconds", "gauge",
	       "Mean change of the probe round-trip time between consecutive probes, in seconds.");
	for (i = 0; i < n; i++)
		sample_dbl(out, "bascule_uplink_jitter_seconds", &rows[i],
			   rows[i].vu->jitter_ms / 1000.0);

	bsc_expo_family(out, "bascule_uplink_loss_ratio", "gauge",
	       "Fraction of probes lost over the uplink's loss/RTT window (0 to 1).");
	for (i = 0; i < n; i++)
		sample_dbl(out, "bascule_uplink_loss_ratio", &rows[i], rows[i].vu->loss_pct / 100.0);

	bsc_expo_family(out, "bascule_uplink_transitions_total", "counter",
	       "Health changes of the uplink since the controller started.");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_transitions_total", &rows[i], rows[i].vu->transitions);

	bsc_expo_family(out, "bascule_probes_sent_total", "counter", "Probes sent through the uplink.");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_probes_sent_total", &rows[i], rows[i].vu->probes_sent);

	bsc_expo_family(out, "bascule_probes_ok_total", "counter",
	       "Probes through the uplink answered in time.");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_probes_ok_total", &rows[i], rows[i].vu->probes_ok);

	bsc_expo_family(out, "bascule_probes_failed_total", "counter",
	       "Probes through the uplink not answered in time, or failed.");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_probes_failed_total", &rows[i], rows[i].vu->probes_failed);
}

static void render_maps(FILE *out, const struct bsc_maps *maps, const struct row *rows, int n,
			long total)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} simple[] = {
		{ "bascule_uplink_new_flows_total",
		  "Flows (NAT bindings) created on the uplink by the data plane.",
		  offsetof(struct bsc_uplink_stats, new_flows) },
		{ "bascule_uplink_rebound_flows_total",
		  "UDP and ICMP flows moved onto the uplink from a failed one.",
		  offsetof(struct bsc_uplink_stats, rebound) },
		{ "bascule_uplink_nat_exhausted_total",
		  "New flows on the uplink that found no free NAT port after the bounded retries.",
		  offsetof(struct bsc_uplink_stats, nat_exhausted) },
	};
	struct bsc_policy pol;
	uint64_t reasons[BSC_R_MAX];
	int have_pol = maps && !bsc_policy_read(maps, 0, &pol);
	int have_reasons = maps && !bsc_reasons_sum(maps, reasons);
	size_t k;
	int i, s;

	bsc_expo_family(out, "bascule_uplink_dataplane_state", "gauge",
	       "State of the uplink in the data plane's map: 1 for the current state, 0 for the others.");
	for (i = 0; i < n; i++) {
		uint32_t cur = rows[i].u.state;

		if (cur > 3)
			cur = BSC_UPLINK_UNKNOWN;
		for (s = 0; s < 4; s++)
			fprintf(out, "bascule_uplink_dataplane_state{uplink=\"%s\",state=\"%s\"} %d\n",
				rows[i].label, bsc_state_names[s], (uint32_t)s == cur);
	}

	bsc_expo_family(out, "bascule_uplink_active", "gauge",
	       "Whether new flows of the default policy leave through the uplink (1) or not (0), from the data plane's policy map.");
	if (have_pol)
		for (i = 0; i < n; i++)
			sample_u64(out, "bascule_uplink_active", &rows[i],
				   rows[i].idx >= 0 && pol.active == (uint32_t)rows[i].idx);

	bsc_expo_family(out, "bascule_uplink_packets_total", "counter",
	       "Packets forwarded by the data plane through the uplink: tx is LAN to uplink, rx is uplink to LAN.");
	for (i = 0; i < n; i++)
		if (rows[i].have_st)
			fprintf(out,
				"bascule_uplink_packets_total{uplink=\"%s\",direction=\"tx\"} %" PRIu64 "\n"
				"bascule_uplink_packets_total{uplink=\"%s\",direction=\"rx\"} %" PRIu64 "\n",
				rows[i].label, (uint64_t)rows[i].st.tx_packets,
				rows[i].label, (uint64_t)rows[i].st.rx_packets);

	bsc_expo_family(out, "bascule_uplink_bytes_total", "counter",
	       "Bytes forwarded by the data plane through the uplink (frames as seen by XDP): tx is LAN to uplink, rx is uplink to LAN.");
	for (i = 0; i < n; i++)
		if (rows[i].have_st)
			fprintf(out,
				"bascule_uplink_bytes_total{uplink=\"%s\",direction=\"tx\"} %" PRIu64 "\n"
				"bascule_uplink_bytes_total{uplink=\"%s\",direction=\"rx\"} %" PRIu64 "\n",
				rows[i].label, (uint64_t)rows[i].st.tx_bytes,
				rows[i].label, (uint64_t)rows[i].st.rx_bytes);

	for (k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		bsc_expo_family(out, simple[k].name, "counter", simple[k].help);
		for (i = 0; i < n; i++) {
			uint64_t val;

			if (!rows[i].have_st)
				continue;
			memcpy(&val, (const char *)&rows[i].st + simple[k].off, sizeof(val));
			sample_u64(out, simple[k].name, &rows[i], val);
		}
	}

	bsc_expo_family(out, "bascule_uplink_flows", "gauge", "Flows bound to the uplink, as the daemon's last expiry pass counted them (every gc_interval_ms; a scrape does not walk the table).");
	for (i = 0; i < n; i++)
		sample_u64(out, "bascule_uplink_flows", &rows[i], (uint64_t)rows[i].flows);

	bsc_expo_family(out, "bascule_flows", "gauge", "Flows in the flow table, all uplinks together, as of the last expiry pass.");
	if (maps)
		fprintf(out, "bascule_flows %ld\n", total);

	bsc_expo_family(out, "bascule_uplink_nat_port_use_ratio", "gauge",
	       "Flows on the uplink divided by the ports of its NAT range (nat_ports, 16384-32767 by default) available per remote endpoint. "
	       "An upper-bound indicator only: ports run out towards one remote address, port and protocol, "
	       "so this overstates the pressure when flows go to many endpoints.");
	for (i = 0; i < n; i++)
		sample_dbl(out, "bascule_uplink_nat_port_use_ratio", &rows[i],
			   (double)rows[i].flows / (double)bsc_uplink_nat_ports(&rows[i].u));

	bsc_expo_family(out, "bascule_packets_total", "counter",
	       "Packets seen by the data plane, by reason: fwd_* forwarded by XDP, pass_* handed to the kernel (XDP_PASS), "
	       "drop_* dropped (XDP_DROP), tx_rst_* answered with a TCP reset, flow_rebound and icmp_error_translated "
	       "forwarded with that special handling.");
	if (have_reasons)
		for (k = 0; k < BSC_R_MAX; k++)
			fprintf(out, "bascule_packets_total{reason=\"%s\"} %" PRIu64 "\n",
				bsc_reason_names[k], reasons[k]);
}

void bsc_metrics_render(FILE *out, const struct bsc_maps *maps, const struct bsc_metrics_view *v)
{
	struct row rows[BSC_MAX_UPLINKS];
	long total;
	int n = collect_rows(rows, maps, v, &total);

	if (v)
		render_view(out, rows, n);
	render_maps(out, maps, rows, n, total);
	if (maps)
		bsc_expo_classes(out, maps);
	if (v) {
		bsc_expo_family(out, "bascule_active_uplink_changes_total", "counter",
		       "Changes of the default policy's active uplink made by the controller since it started.");
		fprintf(out, "bascule_active_uplink_changes_total %" PRIu64 "\n", v->active_changes);
		bsc_expo_family(out, "bascule_start_time_seconds", "gauge",
		       "Start time of the controller since the Unix epoch, in seconds.");
		fprintf(out, "bascule_start_time_seconds %" PRIu64 "\n", v->start_time_s);
		bsc_expo_family(out, "bascule_drills_total", "counter",
		       "Continuity drills run since the controller started (a refused one is not counted).");
		fprintf(out, "bascule_drills_total %" PRIu64 "\n", v->drills);
		bsc_expo_family(out, "bascule_loop_lag_seconds", "gauge",
		       "How late the controller's event loop ran its tick, worst of the last 5 to 10 s: what held the loop (probes and failover wait behind it).");
		fprintf(out, "bascule_loop_lag_seconds %.6f\n", (double)v->loop_lag_ns / 1e9);
		if (v->hist_on) {
			bsc_expo_family(out, "bascule_history_write_failures_total", "counter",
			       "History records the database refused (SQLite errors) since the start.");
			fprintf(out, "bascule_history_write_failures_total %" PRIu64 "\n",
				v->hist_failed);
			bsc_expo_family(out, "bascule_history_records_dropped_total", "counter",
			       "History records dropped since the start because the writer's queue was full (a disk that does not keep up).");
			fprintf(out, "bascule_history_records_dropped_total %" PRIu64 "\n",
				v->hist_dropped);
		}
		if (v->drill_known) {
			bsc_expo_family(out, "bascule_drill_last_end_time_seconds", "gauge",
			       "End of the last continuity drill since the Unix epoch, in seconds.");
			fprintf(out, "bascule_drill_last_end_time_seconds %.3f\n", v->drill_end_s);
			bsc_expo_family(out, "bascule_drill_last_passed", "gauge",
			       "Whether the last continuity drill passed (1) or not (0).");
			fprintf(out, "bascule_drill_last_passed %d\n", !!v->drill_passed);
			if (v->drill_cutover_ms >= 0) {
				bsc_expo_family(out, "bascule_drill_last_cutover_seconds", "gauge",
				       "Cut-over measured by the last continuity drill, in seconds.");
				fprintf(out, "bascule_drill_last_cutover_seconds %.6f\n",
					v->drill_cutover_ms / 1000.0);
			}
		}
	}
}

/* ------------------------------------------------------------ HTTP */

struct bsc_metrics {
	struct MHD_Daemon *mhd;
	const struct bsc_maps *maps;
	bsc_metrics_view_fn view;
	void *data;
	int started;            /* atomic: logs go to bsc_log once set */
	char startmsg[256];     /* what MHD said while starting */
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct bsc_metrics *m = cls;
	char buf[256];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (__atomic_load_n(&m->started, __ATOMIC_ACQUIRE))
		bsc_log(LOG_WARNING, "metrics: %s", buf);
	else if (!m->startmsg[0])
		snprintf(m->startmsg, sizeof(m->startmsg), "%s", buf);
}

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned status, const char *body,
				    const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct bsc_metrics *m = cls;
	struct bsc_metrics_view *v = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* Answer at once, on the first call: a request body (which no valid
	 * request has) is then discarded by MHD rather than read. */
	if (strcmp(url, "/metrics"))
		return reply_static(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
	*upload_data_size = 0;

	if (m->view) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return MHD_NO;
		m->view(m->data, v);
	}
	out = open_memstream(&buf, &len);
	if (!out) {
		free(v);
		return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	bsc_metrics_render(out, m->maps, v);
	free(v);
	if (fclose(out)) {
		free(buf);
		return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* "ADDR:PORT" (IPv4 literal) or "[ADDR]:PORT" (IPv6 literal), port 1-65535. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	const char *usage = "expected IPV4:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9901 or [::1]:9901";
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s, *h;
	size_t hlen;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s) {
		snprintf(err, errlen, "metrics_listen is empty: %s", usage);
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "metrics_listen '%s': %s", s, usage);
			return -EINVAL;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		port_s = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon) {
			snprintf(err, errlen, "metrics_listen '%s' has no port: %s", s, usage);
			return -EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			snprintf(err, errlen,
				 "metrics_listen '%s': an IPv6 address goes in brackets: [ADDR]:PORT",
				 s);
			return -EINVAL;
		}
		h = s;
		hlen = (size_t)(colon - s);
		port_s = colon + 1;
	}
	if (!hlen || hlen >= sizeof(host)) {
		snprintf(err, errlen, "metrics_listen '%s': %s", s, usage);
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	errno = 0;
	port = *port_s >= '0' && *port_s <= '9' ? strtoul(port_s, &end, 10) : 0;
	if (*port_s < '0' || *port_s > '9' || *end || errno || port < 1 || port > 65535) {
		snprintf(err, errlen, "metrics_listen '%s': port '%s' is not in 1-65535", s,
			 port_s);
		return -EINVAL;
	}

	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			snprintf(err, errlen, "metrics_listen '%s': '%s' is not an IPv6 address",
				 s, host);
			return -EINVAL;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			snprintf(err, errlen, "metrics_listen '%s': '%s' is not an IPv4 address",
				 s, host);
			return -EINVAL;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	}
	return 0;
}

struct bsc_metrics *bsc_metrics_start(const char *listen, const struct bsc_maps *maps,
				      bsc_metrics_view_fn view, void *data, char *err,
				      size_t errlen)
{
	struct sockaddr_storage ss;
	struct bsc_metrics *m;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;

	if (parse_listen(listen, &ss, err, errlen))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->maps = maps;
	m->view = view;
	m->data = data;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  /* a scrape is one short request: bound what a
				   * misbehaving client can hold, all of it (16),
				   * from one address (4), and for how long it may
				   * sit idle (2 s: a scrape sends its request at
				   * once) */
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)2,
				  MHD_OPTION_END);
	if (!m->mhd) {
		const char *why = m->startmsg[0] ? m->startmsg : "libmicrohttpd failed to start";

		/* "Failed to bind to port 0: Address already in use": the port
		 * it names is the unused port argument, keep only the cause. */
		if (!strncmp(why, "Failed to bind to port ", 23) && strstr(why, ": "))
			why = strstr(why, ": ") + 2;
		snprintf(err, errlen, "cannot listen on %s: %s", listen, why);
		free(m);
		return NULL;
	}
	__atomic_store_n(&m->started, 1, __ATOMIC_RELEASE);
	return m;
}

void bsc_metrics_stop(struct bsc_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
