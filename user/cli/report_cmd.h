/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli/report_cmd.h - the `bascule report` subcommand (report_cmd.c); the report
 * it writes is report/report.h's.
 */
#ifndef BSC_CLI_REPORT_CMD_H
#define BSC_CLI_REPORT_CMD_H

/* `bascule report -c FILE [--db PATH] [--days N | --from DATE --to DATE]
 * [--format html|md] [-o FILE]`: exit code 0, 1 (failed) or 2 (usage). */
int bsc_report_cli(int argc, char **argv);

#endif
