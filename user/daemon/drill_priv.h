/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon/drill_priv.h - a drill's state, shared by its parts: the phases
 * (drill.c), the synthetic flow that measures the cut-over (drill_flow.c)
 * and the service checks over the backup (drill_checks.c).
 */
#ifndef BSC_DRILL_PRIV_H
#define BSC_DRILL_PRIV_H

#include <stdint.h>
#include <systemd/sd-event.h>

#include "daemon/state.h"

#define DEADMAN_NS      2000000000ull   /* a dead daemon's drill ends by this */
#define BASELINE_NEED   5               /* replies through the primary first */
#define BASELINE_NS     3000000000ull
#define VERIFY_NS       3000000000ull
#define HEARTBEAT_NS    1000000000ull
#define SEQ_RING        4096
#define PAYLOAD         "bascule-drill-synthetic-flow-------------------------------"
#define PAYLOAD_LEN     56

enum phase { BASELINE, OUTAGE, CHECKS, RESTORE, VERIFY, DONE };


/* A check is answered by any of its attempts: one datagram lost on a
 * mobile link (0.5 % each way is ordinary) is not a service down.  Attempt k
 * (k = 0, 1, 2) goes out at k/3 of check_timeout_ms, and every attempt ends
 * at check_timeout_ms; a definite answer (refused, a wrong status) ends the
 * check at once. */
#define CHECK_ATTEMPTS 3

struct check_res {
	int done, ok;
	int sent, failed;       /* attempts sent, and failed so far */
	int attempt;            /* 1-based: the one that answered, or the last */
	uint64_t t0;            /* first attempt sent (monotonic ns) */
	double ms;
	char why[128];
};


struct bsc_drill {
	struct daemon *d;
	/* the [drill] section as it was when the drill started (a reload is
	 * refused while a drill runs) */
	struct bsc_drill_cfg dc;
	int client;
	sd_event_source *client_io, *send_timer, *raw_io;
	enum phase ph;
	uint32_t primary, backup, target;
	uint32_t lan_ifindex, lan_addr;
	uint8_t lan_mac[6];
	int prog_fd, raw;
	uint16_t id, verify_id, seq;
	uint64_t sent_at[SEQ_RING];
	/* instants, CLOCK_MONOTONIC ns (0 = not yet) */
	uint64_t t_start, t_phase, t_fault, t_detect, t_flip, t_cut, t_restore, t_failback,
		 t_verified, t_heartbeat;
	uint64_t real_start;
	uint64_t sent, answered, via_primary, via_backup, send_errors;
	double rtt_backup_ms;
	struct bsc_prober *prober;
	int checks_pending;
	struct check_res check[BSC_MAX_CHECKS];
	/* the primary's flap-damping penalty before the drill: the outage
	 * the drill makes is no flap, and is not charged as one */
	double penalty;
	uint64_t penalty_ns;
	int forgiven;
	int exit_code;
	char result[16];
	char reason[256];
};

/* drill.c */
void bsc_drill_say(struct bsc_drill *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *bsc_drill_uname(struct bsc_drill *x, uint32_t i);
double bsc_drill_ms_between(uint64_t a, uint64_t b);
/* drill_flow.c: the synthetic flow */
void bsc_drill_send_echo(struct bsc_drill *x);
int bsc_drill_flow_open(struct bsc_drill *x, char *why, size_t len);
/* drill_checks.c: the service checks over the backup */
int bsc_drill_checks_start(struct bsc_drill *x);
void bsc_drill_checks_retry(struct bsc_drill *x, uint64_t now);

#endif
