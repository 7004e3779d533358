// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - the `bascule` command: the daemon (`run`) and the operator's CLI.
 *
 * Exit codes: 0 done, 1 the action failed, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <time.h>

#include "config/config.h"
#include "control/ctl.h"
#include "probe/probe.h"
#include "control/control.h"
#include "daemon/daemon.h"
#include "dataplane/dataplane.h"
#include "dataplane/flows.h"
#include "lib/log.h"
#include "dataplane/maps.h"
#include "net/netlink.h"
#include "report/report.h"

static const char usage[] =
	"usage: bascule [-p PIN_ROOT] COMMAND [ARGS]\n"
	"\n"
	"  run -c FILE [--keep]          run the controller: load and attach the data plane,\n"
	"                                follow the uplinks; --keep leaves the data plane\n"
	"                                forwarding on exit (for a restart or an upgrade)\n"
	"  check-config FILE             validate a configuration file\n"
	"  status [--json]               uplinks, active uplink, counters, flows\n"
	"  flows [N]                     list up to N flows (default 50)\n"
	"  uplink activate NAME          send new flows through NAME while it is up\n"
	"  uplink auto                   back to priority order\n"
	"  uplink down NAME              take NAME out: UDP/ICMP flows move, TCP flows are reset\n"
	"  uplink drain NAME             no new flows on NAME, existing ones stay\n"
	"  uplink up NAME                put NAME back into service\n"
	"  purge [-c FILE]               detach and remove everything pinned (after --keep),\n"
	"                                and the uplinks' rules and tables of manage_routes\n"
	"                                (FILE: default " BSC_DEFAULT_CONFIG ", if present)\n"
	"  reload                        make the daemon re-read its configuration; a bad file\n"
	"                                is refused and the running configuration stays\n"
	"  events [--json]               recent uplink transitions and flips (from the daemon)\n"
	"  health [--json]               probe figures and health per uplink (from the daemon)\n"
	"  drill [--json]                continuity drill on the live site: play the active\n"
	"                                uplink dead inside Bascule, measure the cut-over of a\n"
	"                                synthetic flow, run the [drill] checks over the backup,\n"
	"                                give it back, check the failback.  Exit: 0 passed,\n"
	"                                1 failed (RTO, check, failback), 3 refused, 4 aborted\n"
	"  probe IFACE SOURCE TARGET...  send probes through IFACE from SOURCE once, e.g.\n"
	"                                'icmp 203.0.113.1' 'tcp 203.0.113.10:443'\n"
	"                                'dns 203.0.113.53 example.com' 'http 203.0.113.10/ 200'\n"
	"  report -c FILE [--db PATH] [--days N | --from YYYY-MM-DD [--to YYYY-MM-DD]]\n"
	"         [--format html|md] [-o OUTPUT]\n"
	"                                the site's continuity plan (HTML, or Markdown) with\n"
	"                                its outages, drills, availability and costs from the\n"
	"                                history; the last 30 days by default\n"
	"\n"
	"  -p, --pin-root DIR            where the maps are pinned (default " BSC_DEFAULT_PIN_ROOT
	",\n"
	"                                or $BASCULE_PIN_ROOT); `run` takes pin_root from FILE\n"
	"  -S, --control PATH            the daemon's control socket (default " BSC_DEFAULT_CONTROL ",\n"
	"                                or $BASCULE_CONTROL)\n"
	"  -v, --verbose                 debug logging\n";

static int bad_usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "bascule: %s\n", msg);
	fputs(usage, stderr);
	return 2;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 },
	};
	struct bsc_run_opts o = { 0 };
	const char *file = NULL;
	struct bsc_cfg cfg;
	char err[4096];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:k", opts, NULL)) != -1) {
		if (c == 'c')
			file = optarg;
		else if (c == 'k')
			o.keep = 1;
		else
			return bad_usage(NULL);
	}
	if (!file)
		return bad_usage("run needs -c FILE");
	if (bsc_config_load(file, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	return bsc_daemon_run(&cfg, &o) ? 1 : 0;
}

static int cmd_check_config(int argc, char **argv)
{
	struct bsc_cfg cfg;
	char err[4096];

	if (argc != 2)
		return bad_usage("check-config needs FILE");
	if (bsc_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	printf("%s: ok (lan %s, %d uplink(s))\n", argv[1], cfg.lan_ifname, cfg.n_uplinks);
	return 0;
}

static int open_maps(struct bsc_maps *m, const char *pin_root)
{
	char err[512];

	if (bsc_maps_open_pinned(m, pin_root, err, sizeof(err))) {
		fprintf(stderr, "bascule: %s\n", err);
		return -1;
	}
	return 0;
}

/* The daemon's health answer, or NULL when it does not run. */
static struct json_object *daemon_health(const char *control)
{
	struct json_object *h = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		return NULL;
	if (!bsc_ctl_request(control, "health", mem)) {
		fclose(mem);
		h = json_tokener_parse(buf);
	} else {
		fclose(mem);
	}
	free(buf);
	return h;
}

static int cmd_status(int argc, char **argv, const char *pin_root, const char *control)
{
	struct json_object *health;
	struct bsc_maps m;
	int json = argc > 1 && (!strcmp(argv[1], "--json") || !strcmp(argv[1], "-j"));
	int ret;

	if (open_maps(&m, pin_root))
		return 1;
	health = daemon_health(control);
	ret = json ? bsc_status_json(&m, pin_root, health, stdout) :
		     bsc_status_print(&m, pin_root, health, stdout);
	json_object_put(health);
	bsc_maps_close(&m);
	return ret ? 1 : 0;
}

static int cmd_flows(int argc, char **argv, const char *pin_root)
{
	struct bsc_maps m;
	int limit = argc > 1 ? atoi(argv[1]) : 50;

	if (open_maps(&m, pin_root))
		return 1;
	bsc_flows_print(&m, stdout, limit > 0 ? limit : 50);
	bsc_maps_close(&m);
	return 0;
}

static int cmd_uplink(int argc, char **argv, const char *pin_root)
{
	struct bsc_maps m;
	const char *verb = argc > 1 ? argv[1] : "", *name = argc > 2 ? argv[2] : NULL;
	int ret;

	if (strcmp(verb, "auto") && !name)
		return bad_usage("uplink needs a verb and a NAME");
	if (open_maps(&m, pin_root))
		return 1;
	if (!strcmp(verb, "activate"))
		ret = bsc_ctl_uplink_activate(&m, name, stdout);
	else if (!strcmp(verb, "auto"))
		ret = bsc_ctl_uplink_activate(&m, NULL, stdout);
	else if (!strcmp(verb, "down"))
		ret = bsc_ctl_uplink_admin(&m, name, BSC_ADMIN_DOWN, stdout);
	else if (!strcmp(verb, "drain"))
		ret = bsc_ctl_uplink_admin(&m, name, BSC_ADMIN_DRAIN, stdout);
	else if (!strcmp(verb, "up") || !strcmp(verb, "undrain"))
		ret = bsc_ctl_uplink_admin(&m, name, BSC_ADMIN_AUTO, stdout);
	else {
		bsc_maps_close(&m);
		return bad_usage("uplink verbs: activate, auto, down, drain, up");
	}
	bsc_maps_close(&m);
	return ret ? 1 : 0;
}

static const char *fmt_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	localtime_r(&s, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((t - (double)s) * 1000));
	return buf;
}

/* Ask the daemon; print its JSON, or the table made from it. */
static int cmd_daemon(const char *control, const char *req, int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct json_object *root, *arr;
	int ret, i;

	if (!mem)
		return 1;
	ret = bsc_ctl_request(control, req, mem);
	fclose(mem);
	if (ret) {
		fprintf(stderr, "bascule: cannot reach the daemon at %s: %s\n", control, strerror(-ret));
		free(buf);
		return 1;
	}
	if (json) {
		fputs(buf, stdout);
		free(buf);
		return 0;
	}
	root = json_tokener_parse(buf);
	free(buf);
	if (!root) {
		fprintf(stderr, "bascule: the daemon's answer is not JSON\n");
		return 1;
	}
	if (!strcmp(req, "events")) {
		printf("%-12s %-7s %-8s %-9s    %-9s %s\n", "TIME", "KIND", "UPLINK", "FROM", "TO", "REASON");
		for (i = 0; i < (int)json_object_array_length(root); i++) {
			struct json_object *e = json_object_array_get_idx(root, i), *f[6];
			static const char *const k[6] = { "time", "kind", "uplink", "old", "new",
							  "reason" };
			char tb[32];
			int j;

			for (j = 0; j < 6; j++)
				json_object_object_get_ex(e, k[j], &f[j]);
			printf("%-12s %-7s %-8s %-9s -> %-9s %s\n",
			       fmt_time(json_object_get_double(f[0]), tb, sizeof(tb)),
			       json_object_get_string(f[1]), json_object_get_string(f[2]),
			       json_object_get_string(f[3]), json_object_get_string(f[4]),
			       json_object_get_string(f[5]));
		}
	} else if (json_object_object_get_ex(root, "uplinks", &arr)) {
		struct json_object *v;

		json_object_object_get_ex(root, "active", &v);
		printf("active: %s\n", json_object_get_string(v));
		printf("%-8s %-9s %9s %8s %10s %5s %6s  %s\n", "UPLINK", "HEALTH", "SINCE", "RTT-MS",
		       "JITTER-MS", "LOSS%", "PROBES", "REASON");
		for (i = 0; i < (int)json_object_array_length(arr); i++) {
			struct json_object *u = json_object_array_get_idx(arr, i), *f[8];
			static const char *const k[8] = { "name", "health", "since_s", "rtt_ms",
							  "jitter_ms", "loss_pct", "probes", "reason" };
			int j;

			for (j = 0; j < 8; j++)
				json_object_object_get_ex(u, k[j], &f[j]);
			printf("%-8s %-9s %8.1fs %8.2f %10.2f %5d %6d  %s\n",
			       json_object_get_string(f[0]), json_object_get_string(f[1]),
			       json_object_get_double(f[2]), json_object_get_double(f[3]),
			       json_object_get_double(f[4]), json_object_get_int(f[5]),
			       json_object_get_int(f[6]), json_object_get_string(f[7]));
		}
		for (i = 0; i < (int)json_object_array_length(arr); i++) {
			struct json_object *u = json_object_array_get_idx(arr, i), *n, *w;

			if (json_object_object_get_ex(u, "path_warning", &w) &&
			    json_object_object_get_ex(u, "name", &n))
				printf("warning: %s: %s\n", json_object_get_string(n),
				       json_object_get_string(w));
		}
	}
	json_object_put(root);
	return 0;
}

static int cmd_reload(const char *control)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ret;

	if (!mem)
		return 1;
	ret = bsc_ctl_request(control, "reload", mem);
	fclose(mem);
	if (ret) {
		fprintf(stderr, "bascule: cannot reach the daemon at %s: %s\n", control, strerror(-ret));
		free(buf);
		return 1;
	}
	fputs(buf, stdout);
	ret = strncmp(buf, "reloaded", 8) ? 1 : 0;
	free(buf);
	return ret;
}

/* The drill's progress lines ("# ...") are shown as they come; the last
 * line is its JSON result. */
struct drill_out {
	int json;
	char line[4096];
	size_t len;
	char *result;
};

static ssize_t drill_write(void *cookie, const char *buf, size_t size)
{
	struct drill_out *o = cookie;
	size_t i;

	for (i = 0; i < size; i++) {
		if (buf[i] != '\n') {
			if (o->len < sizeof(o->line) - 1)
				o->line[o->len++] = buf[i];
			continue;
		}
		o->line[o->len] = '\0';
		if (o->line[0] == '{') {
			free(o->result);
			o->result = strdup(o->line);
		} else if (!o->json) {
			printf("%s\n", o->line[0] == '#' && o->line[1] == ' ' ? o->line + 2 : o->line);
			fflush(stdout);
		}
		o->len = 0;
	}
	return (ssize_t)size;
}

static int cmd_drill(int argc, char **argv, const char *control)
{
	cookie_io_functions_t io = { .write = drill_write };
	struct drill_out o = { .json = argc > 1 && !strcmp(argv[1], "--json") };
	struct json_object *root, *v;
	FILE *f;
	int ret;

	if (argc > 2 || (argc == 2 && !o.json))
		return bad_usage("drill takes no argument but --json");
	f = fopencookie(&o, "w", io);
	if (!f)
		return 1;
	setvbuf(f, NULL, _IONBF, 0);
	ret = bsc_ctl_request(control, "drill", f);
	fclose(f);
	if (!o.result) {
		fprintf(stderr, "bascule: %s at %s%s%s\n",
			ret ? "cannot reach the daemon" : "the drill gave no result",
			control, ret ? ": " : "", ret ? strerror(-ret) : "");
		return 1;
	}
	root = json_tokener_parse(o.result);
	if (o.json)
		printf("%s\n", o.result);
	free(o.result);
	if (!root || !json_object_object_get_ex(root, "exit_code", &v)) {
		fprintf(stderr, "bascule: the drill's result is not what was expected\n");
		json_object_put(root);
		return 1;
	}
	ret = json_object_get_int(v);
	json_object_put(root);
	return ret;
}

/* A daemon stopped with --keep leaves its routing in place (the box's own
 * traffic and the probes keep working across a restart): purge takes it
 * out with the data plane.  The rules are found from the pinned uplinks
 * (their addresses) and the configuration (the table base); the main
 * table's default route stays, since the box still needs one. */
static int purge_routes(const char *pin_root, const char *conf)
{
	struct bsc_maps m;
	struct bsc_cfg *cfg = calloc(1, sizeof(*cfg));
	char err[4096];
	uint32_t i;
	int n = 0;

	if (!cfg)
		return -ENOMEM;
	if (bsc_config_load(conf, cfg, err, sizeof(err))) {
		fprintf(stderr, "bascule: routes left alone: %s", err);
		free(cfg);
		return -EINVAL;
	}
	bsc_maps_init(&m);
	if (cfg->manage_routes && !bsc_maps_open_pinned(&m, pin_root, err, sizeof(err))) {
		for (i = 0; i < BSC_MAX_UPLINKS; i++) {
			struct bsc_uplink u;
			uint32_t table = cfg->route_table_base + i;

			if (bsc_uplink_read(&m, i, &u) || !u.ifindex)
				continue;
			if (u.addr && !nl_rule_from(u.addr, table, BSC_RULE_PRIO_BASE + i, 0))
				n++;
			if (!nl_route_default_del(table, 0))
				n++;
		}
	}
	bsc_maps_close(&m);
	free(cfg);
	return n;
}

static int cmd_purge(int argc, char **argv, const char *pin_root)
{
	const char *conf = NULL;
	char err[512];
	int n, r = 0;

	if (argc == 3 && !strcmp(argv[1], "-c"))
		conf = argv[2];
	else if (argc != 1)
		return bad_usage("purge takes only -c FILE");
	if (!conf && !access(BSC_DEFAULT_CONFIG, R_OK))
		conf = BSC_DEFAULT_CONFIG;
	/* Routes first: they are found through the pinned uplinks map. */
	if (conf)
		r = purge_routes(pin_root, conf);
	n = bsc_dp_purge(pin_root, err, sizeof(err));
	if (n <= 0) {
		fprintf(stderr, "bascule: %s\n", err);
		return 1;
	}
	printf("removed %d pin(s) under %s", n, pin_root);
	if (r > 0)
		printf(", %d rule(s) and route(s) of manage_routes", r);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-root", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "control", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *pin_root = getenv("BASCULE_PIN_ROOT");
	const char *control = getenv("BASCULE_CONTROL");
	const char *cmd;
	int c;

	if (!pin_root || !*pin_root)
		pin_root = BSC_DEFAULT_PIN_ROOT;
	if (!control || !*control)
		control = BSC_DEFAULT_CONTROL;
	while ((c = getopt_long(argc, argv, "+p:vhS:", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			control = optarg;
			break;
		case 'p':
			pin_root = optarg;
			break;
		case 'v':
			bsc_log_level = LOG_DEBUG;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return bad_usage(NULL);
		}
	}
	if (optind >= argc)
		return bad_usage("a COMMAND is needed");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "run"))
		return cmd_run(argc, argv);
	if (!strcmp(cmd, "check-config"))
		return cmd_check_config(argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc, argv, pin_root, control);
	if (!strcmp(cmd, "flows"))
		return cmd_flows(argc, argv, pin_root);
	if (!strcmp(cmd, "uplink"))
		return cmd_uplink(argc, argv, pin_root);
	if (!strcmp(cmd, "purge"))
		return cmd_purge(argc, argv, pin_root);
	if (!strcmp(cmd, "events") || !strcmp(cmd, "health"))
		return cmd_daemon(control, cmd, argc > 1 && (!strcmp(argv[1], "--json") ||
							      !strcmp(argv[1], "-j")));
	if (!strcmp(cmd, "reload"))
		return cmd_reload(control);
	if (!strcmp(cmd, "drill"))
		return cmd_drill(argc, argv, control);
	if (!strcmp(cmd, "probe"))
		return bsc_probe_cli(argc, argv);
	if (!strcmp(cmd, "report"))
		return bsc_report_cli(argc, argv);
	if (!strcmp(cmd, "help"))
		return fputs(usage, stdout), 0;
	return bad_usage("unknown command");
}
