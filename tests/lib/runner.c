// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tests/lib/runner.c - see runner.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static struct CMUnitTest *tests;
static char **owned;
static size_t ntests, cap, nowned;

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, n * size);

	if (!q) {
		fprintf(stderr, "test runner: out of memory\n");
		exit(2);
	}
	return q;
}

void t_add_fixture(const char *name, CMUnitTestFunction fn, CMFixtureFunction setup,
		   CMFixtureFunction teardown, void *state)
{
	if (ntests == cap) {
		cap = cap ? 2 * cap : 64;
		tests = grow(tests, cap, sizeof(*tests));
		owned = grow(owned, cap, sizeof(*owned));
	}
	tests[ntests++] = (struct CMUnitTest){ name, fn, setup, teardown, state };
}

void t_add(const char *name, CMUnitTestFunction fn, void *state)
{
	t_add_fixture(name, fn, NULL, NULL, state);
}

void t_add_row(CMUnitTestFunction fn, void *state, const char *fmt, ...)
{
	char *raw, *name, *o;
	const unsigned char *c;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "test runner: out of memory\n");
		exit(2);
	}
	name = grow(NULL, 4 * (size_t)n + 1, 1);
	for (c = (const unsigned char *)raw, o = name; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			o += sprintf(o, "\\x%02x", *c);
		else
			*o++ = (char)*c;
	}
	*o = 0;
	free(raw);
	t_add(name, fn, state);
	owned[nowned++] = name; /* nowned <= ntests <= cap */
}

void t_add_prefixed(CMUnitTestFunction fn, void *state, const char *prefix, const char *what)
{
	if (prefix)
		t_add_row(fn, state, "%s: %s", prefix, what);
	else
		t_add_row(fn, state, "%s", what);
}

int t_run(const char *group, CMFixtureFunction setup, CMFixtureFunction teardown)
{
	int failed = _cmocka_run_group_tests(group, tests, ntests, setup, teardown);
	size_t i;

	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(tests);
	tests = NULL;
	owned = NULL;
	ntests = cap = nowned = 0;
	return failed;
}
