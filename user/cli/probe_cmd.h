/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli/probe_cmd.h - the `bascule probe` subcommand.
 */
#ifndef BSC_CLI_PROBE_CMD_H
#define BSC_CLI_PROBE_CMD_H

/* `bascule probe IFACE SOURCE TARGET...`: send each probe once, print. */
int bsc_probe_cli(int argc, char **argv);

#endif
