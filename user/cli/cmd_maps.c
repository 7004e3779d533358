// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/cmd_maps.c - the commands that read or act on the pinned maps:
 * `status`, `flows`, `uplink` (sent to the daemon when one runs: it owns
 * the decision; applied to the maps with the same chooser when none does)
 * and `purge`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/status.h"
#include "config/config.h"
#include "control/admin.h"
#include "control/ctl.h"
#include "dataplane/dataplane.h"
#include "dataplane/flows.h"
#include "dataplane/maps.h"
#include "net/netlink.h"

/* The daemon's health answer, or NULL when it does not run. */
static struct json_object *daemon_health(const char *control)
{
	struct json_object *h = NULL;
	char *buf;

	if (!bsc_cli_ask(control, "health", &buf)) {
		h = json_tokener_parse(buf);
		free(buf);
	}
	return h;
}

static int cmd_status(int argc, char **argv, const struct bsc_cli *cli)
{
	struct json_object *health;
	struct bsc_maps m;
	int json = argc > 1 && (!strcmp(argv[1], "--json") || !strcmp(argv[1], "-j"));
	int ret;

	if (bsc_cli_open_maps(&m, cli->pin_root))
		return 1;
	health = daemon_health(cli->control);
	ret = json ? bsc_status_json(&m, cli->pin_root, health, stdout) :
		     bsc_status_print(&m, cli->pin_root, health, stdout);
	json_object_put(health);
	bsc_maps_close(&m);
	return ret ? 1 : 0;
}

static int cmd_flows(int argc, char **argv, const struct bsc_cli *cli)
{
	struct bsc_maps m;
	int limit = argc > 1 ? atoi(argv[1]) : 50;

	if (bsc_cli_open_maps(&m, cli->pin_root))
		return 1;
	bsc_flows_print(&m, stdout, limit > 0 ? limit : 50);
	bsc_maps_close(&m);
	return 0;
}

/* `uplink VERB [NAME]`.  With a daemon running, the verb goes to it and it
 * decides (one owner of the active uplink: daemon/requests.c); only when
 * none answers on the control socket does the CLI apply it to the pinned
 * maps itself, with the same chooser, and say so. */
static int cmd_uplink(int argc, char **argv, const struct bsc_cli *cli)
{
	const struct bsc_uplink_verb *v = argc > 1 ? bsc_uplink_verb_find(argv[1]) : NULL;
	const char *name = argc > 2 ? argv[2] : NULL;
	struct json_object *a, *ok, *msg;
	struct bsc_maps m;
	char req[128], *buf;
	int ret;

	if (!v)
		return bsc_cli_usage("uplink verbs: activate, auto, down, drain, up");
	if (v->needs_name && !name)
		return bsc_cli_usage("uplink needs a verb and a NAME");
	if (argc > (v->needs_name ? 3 : 2))
		return bsc_cli_usage("uplink takes a verb and at most one NAME");
	snprintf(req, sizeof(req), "uplink %s%s%.64s", v->name, name ? " " : "", name ? name : "");
	ret = bsc_cli_ask(cli->control, req, &buf);
	if (!ret) {
		a = json_tokener_parse(buf);
		if (!a || !json_object_object_get_ex(a, "ok", &ok) ||
		    !json_object_object_get_ex(a, "message", &msg)) {
			fprintf(stderr, "bascule: the daemon at %s answered: %s", cli->control, buf);
			json_object_put(a);
			free(buf);
			return 1;
		}
		printf("%s\n", json_object_get_string(msg));
		ret = json_object_get_boolean(ok) ? 0 : 1;
		json_object_put(a);
		free(buf);
		return ret;
	}
	if (ret != -ENOENT && ret != -ECONNREFUSED) {
		fprintf(stderr, "bascule: cannot reach the daemon at %s: %s\n", cli->control,
			strerror(-ret));
		return 1;
	}
	/* No daemon: the pinned maps are all there is. */
	if (bsc_cli_open_maps(&m, cli->pin_root))
		return 1;
	fprintf(stderr, "bascule: no daemon at %s: applied to the pinned maps\n", cli->control);
	if (v->kind == BSC_VERB_PREFER)
		ret = bsc_ctl_uplink_activate(&m, v->needs_name ? name : NULL, stdout);
	else
		ret = bsc_ctl_uplink_admin(&m, name, v->admin, stdout);
	bsc_maps_close(&m);
	return ret ? 1 : 0;
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

static int cmd_purge(int argc, char **argv, const struct bsc_cli *cli)
{
	const char *conf = NULL;
	char err[512];
	int n, r = 0;

	if (argc == 3 && !strcmp(argv[1], "-c"))
		conf = argv[2];
	else if (argc != 1)
		return bsc_cli_usage("purge takes only -c FILE");
	if (!conf && !access(BSC_DEFAULT_CONFIG, R_OK))
		conf = BSC_DEFAULT_CONFIG;
	/* Routes first: they are found through the pinned uplinks map. */
	if (conf)
		r = purge_routes(cli->pin_root, conf);
	n = bsc_dp_purge(cli->pin_root, err, sizeof(err));
	if (n <= 0) {
		fprintf(stderr, "bascule: %s\n", err);
		return 1;
	}
	printf("removed %d pin(s) under %s", n, cli->pin_root);
	if (r > 0)
		printf(", %d rule(s) and route(s) of manage_routes", r);
	printf("\n");
	return 0;
}

const struct bsc_cli_cmd bsc_cli_maps_cmds[] = {
	{ "status", cmd_status },
	{ "flows", cmd_flows },
	{ "explain", cmd_explain },
	{ "uplink", cmd_uplink },
	{ "purge", cmd_purge },
	{ NULL },
};
