/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli/cli.h - what the `bascule` command's files share: the global options,
 * the command table's row, and the helpers every family uses.
 */
#ifndef BSC_CLI_H
#define BSC_CLI_H

#include "dataplane/maps.h"

struct bsc_cli {
	const char *pin_root;   /* -p, $BASCULE_PIN_ROOT */
	const char *control;    /* -S, $BASCULE_CONTROL */
};

/* A subcommand: argv[0] is its name. Returns the exit code. */
struct bsc_cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, const struct bsc_cli *cli);
};

/* the families, each ending with a NULL name */
extern const struct bsc_cli_cmd bsc_cli_daemon_cmds[]; /* cmd_daemon.c */
extern const struct bsc_cli_cmd bsc_cli_maps_cmds[];   /* cmd_maps.c */

/* `explain SRC DST PROTO [PORT] ...` (explain.c) */
int cmd_explain(int argc, char **argv, const struct bsc_cli *cli);

/* The message (may be NULL) and the usage on stderr; returns 2. */
int bsc_cli_usage(const char *msg);
/* Open the pinned maps, or say why not on stderr (-1). */
int bsc_cli_open_maps(struct bsc_maps *m, const char *pin_root);
/* Ask the daemon: its whole answer in *answer (malloc'd), or -errno. */
int bsc_cli_ask(const char *control, const char *req, char **answer);

#endif
