// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli/probe_cmd.c - `bascule probe [-t MS] IFACE SOURCE TARGET...`: parse every
 * target, send each probe once through the probe engine (probe/), wait for
 * all of them, print one line each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "cli/probe_cmd.h"
#include "probe/probe.h"
#include "probe/probe_priv.h"

struct cli_result {
	int done, ok;
	uint64_t rtt_ns;
	char why[WHY_LEN];
};

struct cli_state {
	sd_event *ev;
	unsigned n, done;
	struct cli_result *res;
};

static void cli_on_result(void *userdata, unsigned idx, int ok, uint64_t rtt_ns, const char *why)
{
	struct cli_state *st = userdata;
	struct cli_result *r = &st->res[idx];

	r->done = 1;
	r->ok = ok;
	r->rtt_ns = rtt_ns;
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
	if (++st->done == st->n)
		sd_event_exit(st->ev, 0);
}

static int cli_usage(FILE *out, const char *msg)
{
	if (msg)
		fprintf(stderr, "bascule probe: %s\n", msg);
	fputs("usage: bascule probe [-t MS] IFACE SOURCE TARGET...\n"
	      "  send each probe once from SOURCE through IFACE, whatever uplink is active\n"
	      "  TARGET: 'icmp ADDR' | 'tcp ADDR:PORT' | 'dns ADDR[:PORT] NAME'\n"
	      "          | 'http ADDR[:PORT][/PATH] [STATUS] [host=NAME]' | 'sip ADDR[:PORT] [STATUS]'\n"
	      "  -t, --timeout MS   per probe (default 1000)\n"
	      "exit: 0 all answered, 1 some failed, 2 usage error\n",
	      out);
	return 2;
}

/* Parse everything before sending anything: a typo is a usage error, not a
 * failed probe. */
static int cli_parse_targets(int n, char **specs, struct bsc_probe_target *targets,
			     char (*names)[256], int *width)
{
	char err[512];
	int i, len;

	*width = 0;
	for (i = 0; i < n; i++) {
		if (bsc_probe_target_parse(specs[i], &targets[i], err, sizeof(err))) {
			fprintf(stderr, "bascule probe: %s\n", err);
			return -1;
		}
		bsc_probe_target_format(&targets[i], names[i], sizeof(names[i]));
		len = (int)strlen(names[i]);
		if (len > *width)
			*width = len;
	}
	return 0;
}

static int cli_run(const char *ifname, uint32_t src, int n, const struct bsc_probe_target *targets,
		   uint64_t timeout_ns, struct cli_result *res)
{
	struct cli_state st = { .n = (unsigned)n, .res = res };
	struct bsc_prober *p;
	int i, r;

	r = sd_event_new(&st.ev);
	if (r < 0) {
		fprintf(stderr, "bascule probe: sd_event_new: %s\n", strerror(-r));
		return -1;
	}
	p = bsc_prober_new(st.ev, ifname, cli_on_result, &st);
	if (!p) {
		fprintf(stderr, "bascule probe: prober on %s: %s\n", ifname, strerror(errno));
		sd_event_unref(st.ev);
		return -1;
	}
	bsc_prober_set_source(p, src);
	for (i = 0; i < n; i++) {
		unsigned before = bsc_prober_pending(p);

		r = bsc_prober_send(p, (unsigned)i, &targets[i], timeout_ns);
		/* No probe in flight, no callback to come: out of memory. */
		if (r < 0 && bsc_prober_pending(p) == before)
			cli_on_result(&st, (unsigned)i, 0, 0, strerror(-r));
	}
	r = st.done < st.n ? sd_event_loop(st.ev) : 0;
	bsc_prober_free(p);
	sd_event_unref(st.ev);
	if (r < 0) {
		fprintf(stderr, "bascule probe: event loop: %s\n", strerror(-r));
		return -1;
	}
	return 0;
}

int bsc_probe_cli(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bsc_probe_target *targets = NULL;
	struct cli_result *res = NULL;
	char (*names)[256] = NULL;
	long timeout_ms = 1000;
	struct in_addr src;
	int c, n, i, width, rc = 2;

	optind = 0; /* main may have used getopt already: start afresh */
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (bsc_probe_parse_number(optarg, 1, 600000, &timeout_ms))
				return cli_usage(stderr, "-t takes milliseconds, from 1 to 600000");
			break;
		case 'h':
			cli_usage(stdout, NULL);
			return 0;
		default:
			return cli_usage(stderr, NULL);
		}
	}
	if (argc - optind < 3)
		return cli_usage(stderr, "expected IFACE SOURCE and at least one TARGET");
	if (strlen(argv[optind]) >= IFNAMSIZ)
		return cli_usage(stderr, "IFACE: interface name too long");
	if (inet_pton(AF_INET, argv[optind + 1], &src) != 1 || !src.s_addr)
		return cli_usage(stderr, "SOURCE must be the uplink's IPv4 address");

	n = argc - optind - 2;
	targets = calloc((size_t)n, sizeof(*targets));
	res = calloc((size_t)n, sizeof(*res));
	names = calloc((size_t)n, sizeof(*names));
	if (!targets || !res || !names) {
		fprintf(stderr, "bascule probe: %s\n", strerror(ENOMEM));
		rc = 1;
		goto out;
	}
	if (cli_parse_targets(n, argv + optind + 2, targets, names, &width))
		goto out; /* rc 2 */
	rc = 1;
	if (cli_run(argv[optind], src.s_addr, n, targets, timeout_ms * 1000000ull, res))
		goto out;

	rc = 0;
	for (i = 0; i < n; i++) {
		if (res[i].ok) {
			printf("ok   %-*s  rtt %.3f ms\n", width, names[i], res[i].rtt_ns / 1e6);
		} else {
			printf("FAIL %-*s  %s\n", width, names[i], res[i].why);
			rc = 1;
		}
	}
	fflush(stdout);
out:
	free(targets);
	free(res);
	free(names);
	return rc;
}
