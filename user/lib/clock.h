/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lib/clock.h - the controller's clocks.  Owns: reading CLOCK_MONOTONIC (the
 * clock of bpf_ktime_get_ns, so the data plane's timestamps compare with it)
 * and CLOCK_REALTIME, in nanoseconds.
 */
#ifndef BSC_LIB_CLOCK_H
#define BSC_LIB_CLOCK_H

#include <stdint.h>

uint64_t bsc_now_ns(void);      /* CLOCK_MONOTONIC */
uint64_t bsc_real_ns(void);     /* CLOCK_REALTIME */

#endif
