/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics/expo.h - the exposition's pieces the module's files share: a
 * family's header, a label value escaped, and the classes' families.
 */
#ifndef BSC_METRICS_EXPO_H
#define BSC_METRICS_EXPO_H

#include <stddef.h>
#include <stdio.h>
#include "dataplane/maps.h"

/* "# HELP name help" and "# TYPE name type". */
void bsc_expo_family(FILE *out, const char *name, const char *type, const char *help);
/* src (at most slen bytes) as a label value: backslash, double quote and
 * newline escaped, into dst. */
void bsc_expo_escape(char *dst, size_t dlen, const char *src, size_t slen);
/* The traffic classes (classes.c): per class and uplink, from the maps. */
void bsc_expo_classes(FILE *out, const struct bsc_maps *maps);

#endif
