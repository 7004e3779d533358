// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/main.c - the `bascule` command: its global options, its usage, and
 * the command table (one per subcommand family: cmd_daemon.c, cmd_maps.c,
 * probe_cmd.c, report_cmd.c) it dispatches from.
 *
 * Exit codes: 0 done, 1 the action failed, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "control/ctl.h"
#include "dataplane/maps.h"
#include "lib/log.h"
#include "cli/probe_cmd.h"
#include "cli/report_cmd.h"

static const char usage[] =
	"usage: bascule [-p PIN_ROOT] COMMAND [ARGS]\n"
	"\n"
	"  run -c FILE [--keep]          run the controller: load and attach the data plane,\n"
	"                                follow the uplinks; --keep leaves the data plane\n"
	"                                forwarding on exit (for a restart or an upgrade)\n"
	"  check-config FILE             validate a configuration file\n"
	"  status [--json]               uplinks, active uplink, counters, flows\n"
	"  flows [N]                     list up to N flows (default 50)\n"
	"  explain SRC DST PROTO [PORT] [sport N] [dscp N|ef] [mac MAC]\n"
	"                                which class a new flow would fall in, which uplink\n"
	"                                it would take now, and why\n"
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

int bsc_cli_usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "bascule: %s\n", msg);
	fputs(usage, stderr);
	return 2;
}

int bsc_cli_open_maps(struct bsc_maps *m, const char *pin_root)
{
	char err[512];

	if (bsc_maps_open_pinned(m, pin_root, err, sizeof(err))) {
		fprintf(stderr, "bascule: %s\n", err);
		return -1;
	}
	return 0;
}

int bsc_cli_ask(const char *control, const char *req, char **answer)
{
	size_t len = 0;
	FILE *mem;
	int ret;

	*answer = NULL;
	mem = open_memstream(answer, &len);
	if (!mem)
		return -ENOMEM;
	ret = bsc_ctl_request(control, req, mem);
	fclose(mem);
	if (ret) {
		free(*answer);
		*answer = NULL;
	}
	return ret;
}

static int cmd_probe(int argc, char **argv, const struct bsc_cli *cli)
{
	return bsc_probe_cli(argc, argv);
}

static int cmd_report(int argc, char **argv, const struct bsc_cli *cli)
{
	return bsc_report_cli(argc, argv);
}

static int cmd_help(int argc, char **argv, const struct bsc_cli *cli)
{
	fputs(usage, stdout);
	return 0;
}

static const struct bsc_cli_cmd other_cmds[] = {
	{ "probe", cmd_probe },
	{ "report", cmd_report },
	{ "help", cmd_help },
	{ NULL },
};

static const struct bsc_cli_cmd *const families[] = {
	bsc_cli_daemon_cmds, bsc_cli_maps_cmds, other_cmds,
};

static const struct bsc_cli_cmd *find_cmd(const char *name)
{
	const struct bsc_cli_cmd *c;
	size_t f;

	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		for (c = families[f]; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
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
	struct bsc_cli cli = { getenv("BASCULE_PIN_ROOT"), getenv("BASCULE_CONTROL") };
	const struct bsc_cli_cmd *c;
	const char *cmd;
	int o;

	if (!cli.pin_root || !*cli.pin_root)
		cli.pin_root = BSC_DEFAULT_PIN_ROOT;
	if (!cli.control || !*cli.control)
		cli.control = BSC_DEFAULT_CONTROL;
	while ((o = getopt_long(argc, argv, "+p:vhS:", opts, NULL)) != -1) {
		switch (o) {
		case 'S':
			cli.control = optarg;
			break;
		case 'p':
			cli.pin_root = optarg;
			break;
		case 'v':
			bsc_log_level = LOG_DEBUG;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return bsc_cli_usage(NULL);
		}
	}
	if (optind >= argc)
		return bsc_cli_usage("a COMMAND is needed");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	c = find_cmd(cmd);
	if (!c)
		return bsc_cli_usage("unknown command");
	return c->fn(argc, argv, &cli);
}
