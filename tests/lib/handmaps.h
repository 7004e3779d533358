/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tests/lib/handmaps.h - the data plane's maps made by hand, no program
 * loaded (test_dataplane_unit, test_daemon), and the libraries' own
 * functions for a test that takes their place.
 */
#ifndef BSC_TEST_HANDMAPS_H
#define BSC_TEST_HANDMAPS_H

#include <dlfcn.h>

#include "dataplane/maps.h"

/* The data plane's maps, made by hand (root only, else the test is
 * skipped).  flow_gen is mmapable here, unlike the data plane's: a test
 * adds to it in place, as the data plane does. */
void maps_make(struct bsc_maps *m);

/* Calls into libbpf and libc seen on their way: the controller's objects
 * are linked into the test program, so a definition of the program's takes
 * the place of the library's for them, looks at what goes by and hands over
 * to REAL(fn), the library's (RTLD_NEXT). */
#define REAL(fn) ({                                                     \
	static __typeof__(&fn) real_;                                   \
	if (!real_)                                                     \
		real_ = (__typeof__(&fn))dlsym(RTLD_NEXT, #fn);         \
	real_;                                                          \
})

#endif
