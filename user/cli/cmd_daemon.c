// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/cmd_daemon.c - the commands that run the daemon or talk to it over
 * its control socket: `run`, `check-config`, `events`, `health`,
 * `reload`, `drill`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "config/config.h"
#include "control/ctl.h"
#include "daemon/daemon.h"

static int cmd_run(int argc, char **argv, const struct bsc_cli *cli)
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
			return bsc_cli_usage(NULL);
	}
	if (!file)
		return bsc_cli_usage("run needs -c FILE");
	if (bsc_config_load(file, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	return bsc_daemon_run(&cfg, &o) ? 1 : 0;
}

static int cmd_check_config(int argc, char **argv, const struct bsc_cli *cli)
{
	struct bsc_cfg cfg;
	char err[4096];

	if (argc != 2)
		return bsc_cli_usage("check-config needs FILE");
	if (bsc_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	printf("%s: ok (lan %s, %d uplink(s))\n", argv[1], cfg.lan_ifname, cfg.n_uplinks);
	return 0;
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
static int ask_daemon(const char *control, const char *req, int json)
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

static int cmd_events(int argc, char **argv, const struct bsc_cli *cli)
{
	return ask_daemon(cli->control, argv[0], argc > 1 && (!strcmp(argv[1], "--json") ||
							       !strcmp(argv[1], "-j")));
}

static int cmd_reload(int argc, char **argv, const struct bsc_cli *cli)
{
	char *buf;
	int ret = bsc_cli_ask(cli->control, "reload", &buf);

	if (ret) {
		fprintf(stderr, "bascule: cannot reach the daemon at %s: %s\n", cli->control,
			strerror(-ret));
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

static int cmd_drill(int argc, char **argv, const struct bsc_cli *cli)
{
	const char *control = cli->control;
	cookie_io_functions_t io = { .write = drill_write };
	struct drill_out o = { .json = argc > 1 && !strcmp(argv[1], "--json") };
	struct json_object *root, *v;
	FILE *f;
	int ret;

	if (argc > 2 || (argc == 2 && !o.json))
		return bsc_cli_usage("drill takes no argument but --json");
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

const struct bsc_cli_cmd bsc_cli_daemon_cmds[] = {
	{ "run", cmd_run },
	{ "check-config", cmd_check_config },
	{ "events", cmd_events },
	{ "health", cmd_events },
	{ "reload", cmd_reload },
	{ "drill", cmd_drill },
	{ NULL },
};
