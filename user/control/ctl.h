/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control/ctl.h - the daemon's control socket (Unix stream, root or one configured
 * group only): one request line in, one reply, close.
 */
#ifndef BSC_CTL_H
#define BSC_CTL_H

#include <stdio.h>
#include <systemd/sd-event.h>

/* Handles one request: writes the reply to out. */
typedef void (*bsc_ctl_handler)(void *data, const char *request, FILE *out);

struct bsc_ctl;
struct bsc_ctl *bsc_ctl_listen(sd_event *ev, const char *path, const char *group,
			       bsc_ctl_handler h, void *data, char *err, size_t errlen);
void bsc_ctl_close(struct bsc_ctl *c);
/* For requests answered over time (a drill): called first; returns 1 when
 * it took the connection `fd` (it then writes to it and closes it itself),
 * 0 to leave the request to the plain handler. */
typedef int (*bsc_ctl_taker)(void *data, const char *request, int fd);
void bsc_ctl_set_taker(struct bsc_ctl *c, bsc_ctl_taker t);

/* Client side: send request, copy the reply to out.  0, or -errno. */
int bsc_ctl_request(const char *path, const char *request, FILE *out);

#endif
