/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tests/lib/runner.h - the cmocka runner every test binary shares: tests
 * added one at a time or one per row of a table (each row named in the
 * TAP output), in a list that grows as needed, run as one group.
 */
#ifndef BSC_TEST_RUNNER_H
#define BSC_TEST_RUNNER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* A test named NAME (not copied: a literal, or alive until t_run ends). */
void t_add(const char *name, CMUnitTestFunction fn, void *state);
/* The same, with a setup and a teardown of its own. */
void t_add_fixture(const char *name, CMUnitTestFunction fn, CMFixtureFunction setup,
		   CMFixtureFunction teardown, void *state);
/* A test named from FMT (printf), control characters shown as \xNN so
 * that a hostile row cannot break a TAP line; the name is the runner's. */
void t_add_row(CMUnitTestFunction fn, void *state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A test named "PREFIX: WHAT", or WHAT when PREFIX is NULL (escaped). */
void t_add_prefixed(CMUnitTestFunction fn, void *state, const char *prefix, const char *what);
/* Run what was added as the group GROUP; frees the list. Returns the
 * number of failed tests (cmocka's). */
int t_run(const char *group, CMFixtureFunction setup, CMFixtureFunction teardown);

#define T_ADD(fn) t_add(#fn, fn, NULL)
/* One test per row of TABLE (an array of structs with a `what` string). */
#define T_ADD_ROWS(prefix, table, fn)                                                   \
	do {                                                                            \
		size_t i_;                                                              \
		for (i_ = 0; i_ < ARRAY_SIZE(table); i_++)                              \
			t_add_prefixed(fn, (void *)&(table)[i_], prefix, (table)[i_].what); \
	} while (0)

#endif
